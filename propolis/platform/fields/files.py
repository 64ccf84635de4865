"""Types whose value is a list of uploaded files' ids (file, image), with the
limits a definition sets on what may be attached: ``max_size_mb``, ``max_count``
and ``accept`` (as an HTML file input reads it)."""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any, ClassVar

from propolis.metadata.expressions.typecheck import STRING, CelType, list_of
from propolis.platform.errors import Message, _
from propolis.platform.fields.base import Field, Schema
from propolis.platform.fields.cells import SPLIT_VALUES, json_cell
from propolis.platform.fields.structured import JsonList
from propolis.platform.ids import ID_LENGTH


def file_accepted(accept: Sequence[str], name: str, content_type: str) -> bool:
    """Whether a file matches a field's ``accept`` (empty: any file) as an HTML
    file input reads it: ``.pdf`` is a name ending, ``image/*`` any subtype,
    ``application/pdf`` one type. The content type is the one stored at upload
    (as the client declared it, else guessed from the name)."""
    if not accept:
        return True
    mime = content_type.split(";", 1)[0].strip().lower()
    for pattern in (p.strip().lower() for p in accept):
        if pattern.startswith("."):
            if name.lower().endswith(pattern):
                return True
        elif pattern in ("*", "*/*") or pattern == mime:
            return True
        elif pattern.endswith("/*") and mime.startswith(pattern[:-1]):
            return True
    return False


def file_problem(
    field: Mapping[str, Any], name: str, size: int, content_type: str
) -> Message | None:
    """Why an uploaded file may not be attached to ``field`` (a file or image
    field): larger than its ``max_size_mb`` or not of a type it ``accept``s."""
    limit = field.get("max_size_mb")
    if limit is not None and size > Decimal(str(limit)) * 1024 * 1024:
        shown = format(Decimal(str(limit)).normalize(), "f")
        return _("file '${name}' is larger than the ${shown} MB limit",
                 mapping={"name": name, "shown": shown})
    accept = field.get("accept") or []
    if not file_accepted(accept, name, content_type):
        listed = ", ".join(accept)
        return _("file '${name}' is not of an accepted type (${listed})",
                 mapping={"name": name, "listed": listed})
    return None


class Files(JsonList):
    """Uploaded files; ``limits``: the defaults of ``max_size_mb``,
    ``max_count`` and ``accept``."""

    value_kind = "files"
    holds_files = True
    keys = {
        "max_size_mb": {"type": "number", "exclusiveMinimum": 0, "maximum": 1024},
        "max_count": {"type": "integer", "minimum": 1, "maximum": 100},
        "accept": {"type": "array", "items": {"type": "string", "minLength": 1}},
    }
    limits: ClassVar[Mapping[str, Any]]

    def normalize(self, field: dict[str, Any]) -> None:
        for key, value in self.limits.items():
            field.setdefault(key, copy.copy(value))

    def cel_type(self, field: Field) -> CelType:
        return list_of(STRING)

    def value_schema(self, field: Field) -> Schema:
        schema: Schema = {
            "type": "array", "uniqueItems": True,
            "items": {"type": "string", "minLength": 1, "maxLength": ID_LENGTH}}
        if field.get("max_count"):
            schema["maxItems"] = field["max_count"]
        return schema

    def words(self, field: Field, value: Any) -> str:
        return ""

    def from_cell(self, field: Field, text: str, tz: str) -> Any:
        if text.startswith("["):
            return json_cell(text, list, _("must be a JSON array of file ids"))
        return [v for v in SPLIT_VALUES.split(text) if v]
