"""``quote``: shows a field of the record that a reference field beside it
(``via``) points to. It has no column: the record service reads it through the
reference, one query per reference for a whole page."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from propolis.metadata.checks import object_text
from propolis.metadata.errors import Text
from propolis.metadata.fieldtypes import Scope, definition_of
from propolis.platform.errors import _
from propolis.platform.fields.base import ApiSchemas, Field, FieldType, Schema
from propolis.platform.fields.cells import plain_cell

if TYPE_CHECKING:
    from propolis.metadata.checks import Checks
    from propolis.metadata.errors import PathPart

MAX_DEPTH = 3  # a quote of a quote … is described this deep in the OpenAPI document


def quotable(field: Field) -> bool:
    """Whether a quote may show the field: one holding a value of its own."""
    found = definition_of(field)
    return found.holds_value and not found.has_rows


class Quote(FieldType):
    name = "quote"
    description = _("Quote: shows a field of the looked-up record")
    value_kind = "quote"
    computed = True
    holds_value = False
    in_history = False
    required_keys = ("via", "field")
    keys = {"via": {"$ref": "#/$defs/api_name"},
            "field": {"$ref": "#/$defs/api_name"}}

    def to_cell(self, field: Field, value: Any, lang: str) -> Any:
        return plain_cell(value, lang)

    def api_schema(self, field: Field, siblings: Mapping[str, Field],
                   schemas: ApiSchemas, depth: int) -> Schema:
        found = schemas.quoted(field, siblings)
        if found is None or depth >= MAX_DEPTH:
            return {}  # any value: the quoted field is gone
        quoted, beside = found
        return schemas.value_schema(quoted, beside, depth + 1)

    def check(self, checks: Checks, field: Field, raw: Field,
              here: tuple[PathPart, ...], scope: Scope, owner: Text,
              object_name: str, *, in_record: bool) -> None:
        via = scope.get(field["via"])
        if via is None:
            references = sorted(n for n, f in scope.items()
                                if definition_of(f).reference_target(f) is not None)
            checks.unknown_field((*here, "via"), field["via"], references, owner)
            return
        target_name = definition_of(via).reference_target(via)
        if target_name is None:
            checks.wrong_type((*here, "via"), field["via"], via["type"],
                              Text("a lookup, master_detail, user or department field",
                                   "查找关系、主从关系、人员或部门字段"))
            return
        target = checks.objects.get(target_name)
        if target is None:  # unknown (reported at the lookup) or itself broken
            return
        names = sorted(f["api_name"] for f in target["fields"] if quotable(f))
        if field["field"] not in names:
            checks.unknown_field((*here, "field"), field["field"], names,
                                 object_text(target_name))
