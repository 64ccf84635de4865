"""``users``: several employees, as a list of user ids (``;`` between them in a
sheet): the people @mentioned in a post, an event's attendees. On an object
shared by audience, the users named are among the record's audience."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement

from propolis.metadata.expressions.typecheck import STRING, CelType, list_of
from propolis.platform.db import Dialect
from propolis.platform.errors import _
from propolis.platform.fields.base import Field, Schema
from propolis.platform.fields.cells import SPLIT_VALUES
from propolis.platform.fields.structured import JsonList
from propolis.platform.fields.types.audience import ID_LIST


class Users(JsonList):
    name = "users"
    description = _("Users: several employees")
    value_kind = "multiselect"
    filter_ops = frozenset({"contains", "isnull"})

    def cel_type(self, field: Field) -> CelType:
        return list_of(STRING)

    def value_schema(self, field: Field) -> Schema:
        return dict(ID_LIST)

    def compare(self, field: Field, op: str, column: Any, operand: Any,
                dialect: Dialect) -> ColumnElement[bool]:
        return dialect.json_contains(column, operand)  # contains: the only one

    def to_cell(self, field: Field, value: Any, lang: str) -> Any:
        return ";".join(str(v) for v in value)

    def from_cell(self, field: Field, text: str, tz: str) -> Any:
        return list(dict.fromkeys(v for v in SPLIT_VALUES.split(text) if v))
