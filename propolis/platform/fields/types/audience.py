"""``audience`` (发布范围): who a record is sent to, ``{"all", "users",
"departments"}`` (a missing key is false / empty). On an object shared by
audience (``sharing: audience``) the record is readable by everyone it names: the
users, the members of the departments and of the departments below them, or
everyone with ``all`` (``records/audience.py`` keeps the index the access policy
reads). With ``superior: true`` the author's superior is among them too."""

from __future__ import annotations

from typing import Any

from propolis.metadata.expressions.typecheck import (
    BOOL,
    STRING,
    CelType,
    list_of,
    map_of,
)
from propolis.platform.errors import _
from propolis.platform.fields.base import Field, Schema
from propolis.platform.fields.cells import json_cell, json_text
from propolis.platform.fields.structured import JsonStored

ID_LIST = {"type": "array", "uniqueItems": True, "maxItems": 1000,
           "items": {"type": "string", "minLength": 1, "maxLength": 32}}


def members(value: Any) -> tuple[bool, list[str], list[str]]:
    """``(all, users, departments)`` of an audience value (None: nobody)."""
    if not value:
        return False, [], []
    return (bool(value.get("all")), list(value.get("users") or ()),
            list(value.get("departments") or ()))


class Audience(JsonStored):
    name = "audience"
    description = _("Audience: everyone, or the users and departments (and the "
                    "departments below) it is sent to")
    value_kind = "audience"
    # superior: the author's superior is always among the audience (a log's)
    keys = {"superior": {"type": "boolean"}}

    def normalize(self, field: dict[str, Any]) -> None:
        field.setdefault("superior", False)

    def cel_type(self, field: Field) -> CelType:
        return map_of({"all": BOOL, "users": list_of(STRING),
                       "departments": list_of(STRING)})

    def value_schema(self, field: Field) -> Schema:
        return {"type": "object", "additionalProperties": False,
                "properties": {"all": {"type": "boolean"}, "users": ID_LIST,
                               "departments": ID_LIST}}

    def parse(self, field: Field, value: Any) -> Any:
        everyone, users, departments = members(value)
        if not (everyone or users or departments):
            return None
        return {"all": everyone, "users": users, "departments": departments}

    def from_column(self, field: Field, value: Any) -> Any:
        return None if value is None else self.parse(field, value)

    def to_cell(self, field: Field, value: Any, lang: str) -> Any:
        return json_text(value)

    def from_cell(self, field: Field, text: str, tz: str) -> Any:
        return json_cell(
            text, dict, _("must be a JSON object such as {\"all\": true}"))
