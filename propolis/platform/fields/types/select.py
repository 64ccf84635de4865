"""``select``: one of the field's options (the value is the option's value)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement

from propolis.metadata.expressions.typecheck import STRING, CelType
from propolis.platform.db import Dialect
from propolis.platform.errors import _
from propolis.platform.fields.base import ColumnSpec, Field, FieldType, Schema
from propolis.platform.fields.choices import (
    OPTIONS_KEYS,
    Choice,
    matching_options,
    option_cell,
)


class Select(Choice):
    name = "select"
    description = _("Select: one of a list of options")
    value_kind = "select"
    keys = {**OPTIONS_KEYS, "default": {"type": "string"}}
    filter_ops = frozenset({"eq", "ne", "in", "isnull"})
    sortable = True
    groupable = True
    length = 100

    def cel_type(self, field: Field) -> CelType:
        return STRING

    def column(self, field: Field) -> ColumnSpec | None:
        return ColumnSpec("string", self.length)

    def converts_to(self, field: Field, new: FieldType, new_field: Field) -> bool:
        return new is self or new.takes_text

    def value_schema(self, field: Field) -> Schema:
        return {"enum": [o["value"] for o in field.get("options", ())]}

    def words(self, field: Field, value: Any) -> str:
        return self.chosen_words(field, {value})

    def keyword_match(self, column: Any, field: Field, term: str, dialect: Dialect
                      ) -> ColumnElement[bool] | None:
        values = matching_options(field, term)
        return column.in_(values) if values else None

    def from_cell(self, field: Field, text: str, tz: str) -> Any:
        return option_cell(field, text)
