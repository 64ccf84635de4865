"""``multiselect``: several of the field's options, as a list of their values
(``;`` between them in a sheet). ``contains`` finds the records that have a
value among theirs."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, or_

from propolis.metadata.expressions.typecheck import STRING, CelType, list_of
from propolis.platform.db import Dialect
from propolis.platform.errors import _
from propolis.platform.fields.base import Field, Schema
from propolis.platform.fields.cells import SPLIT_VALUES
from propolis.platform.fields.choices import (
    OPTIONS_KEYS,
    Choice,
    matching_options,
    option_cell,
)
from propolis.platform.fields.structured import JsonList


class Multiselect(Choice, JsonList):
    name = "multiselect"
    description = _("Multi-select: several options")
    value_kind = "multiselect"
    keys = {**OPTIONS_KEYS,
            "default": {"type": "array", "items": {"type": "string"},
                        "uniqueItems": True}}
    filter_ops = frozenset({"contains", "isnull"})
    multiple = True

    def cel_type(self, field: Field) -> CelType:
        return list_of(STRING)

    def value_schema(self, field: Field) -> Schema:
        return {"type": "array", "uniqueItems": True,
                "items": {"enum": [o["value"] for o in field.get("options", ())]}}

    def compare(self, field: Field, op: str, column: Any, operand: Any,
                dialect: Dialect) -> ColumnElement[bool]:
        return dialect.json_contains(column, operand)  # contains: the only one

    def words(self, field: Field, value: Any) -> str:
        return self.chosen_words(field, set(value))

    def keyword_match(self, column: Any, field: Field, term: str, dialect: Dialect
                      ) -> ColumnElement[bool] | None:
        values = matching_options(field, term)
        return or_(*[dialect.json_contains(column, v) for v in values]) \
            if values else None

    def to_cell(self, field: Field, value: Any, lang: str) -> Any:
        return ";".join(str(v) for v in value)

    def from_cell(self, field: Field, text: str, tz: str) -> Any:
        return list(dict.fromkeys(option_cell(field, v)
                                  for v in SPLIT_VALUES.split(text) if v))
