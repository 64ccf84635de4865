"""``autonumber``: a number made on save from ``format`` (``KH-{YYYY}{MM}-{seq:5}``:
the sequence restarts in every period the format's date parts name); the record
service takes the next number (``records.compute.Autonumber``)."""

from __future__ import annotations

from typing import Any

from propolis.platform.errors import _
from propolis.platform.fields.base import ApiSchemas, ColumnSpec, Field, Schema
from propolis.platform.fields.textual import ShortText


class Autonumber(ShortText):
    name = "autonumber"
    description = _("Auto number: made on save from a format, e.g. KH-202611-00001")
    computed = True
    required_keys = ("format",)
    keys = {"format": {"$ref": "#/$defs/autonumber_format"}}
    defs = {"autonumber_format": {
        "title": "autonumber format",
        "description": "literal text with {YYYY} {YY} {MM} {DD} and exactly one "
                       "{seq:N} (N digits, 1 to 12), e.g. KH-{YYYY}{MM}-{seq:5}",
        "x-zh": {
            "title": "自动编号格式",
            "description": "由普通文字和 {YYYY} {YY} {MM} {DD} 组成、且恰好包含一个 "
                           "{seq:N}（N 为位数，1 到 12）的格式，"
                           "例如 KH-{YYYY}{MM}-{seq:5}",
        },
        "type": "string",
        "pattern": r"^(?:[^{}]|\{(?:YYYY|YY|MM|DD)\})*\{seq:(?:[1-9]|1[0-2])\}"
                   r"(?:[^{}]|\{(?:YYYY|YY|MM|DD)\})*$",
    }}
    length = 64

    def column(self, field: Field) -> ColumnSpec | None:
        return ColumnSpec("string", self.length, indexed=True)

    def value_schema(self, field: Field) -> Schema:
        raise ValueError("autonumber fields are not writable")

    def api_schema(self, field: Field, siblings: Any, schemas: ApiSchemas,
                   depth: int) -> Schema:
        return {"type": ["string", "null"]}
