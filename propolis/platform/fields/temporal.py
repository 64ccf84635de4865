"""Types whose value is a point in time (date, time of day, moment): ordered, stored
in a column of their own kind, written as ISO 8601 text."""

from __future__ import annotations

from typing import Any, ClassVar

from propolis.metadata.expressions.typecheck import CelType
from propolis.platform.fields.base import ORDERED, ColumnSpec, Field, FieldType


class Temporal(FieldType):
    """The column's kind is the value's (``date``, ``time``, ``datetime``);
    ``cel``: the type expressions see."""

    keys = {"default": {"type": "string"}}
    filter_ops = ORDERED
    sortable = True
    cel: ClassVar[CelType]

    def read(self, value: Any) -> Any:
        """A written value as the Python value (ValueProblem when it is none)."""
        raise NotImplementedError

    def from_iso(self, text: str) -> Any:
        """The ISO text a page cursor holds as the Python value."""
        raise NotImplementedError

    def cel_type(self, field: Field) -> CelType:
        return self.cel

    def column(self, field: Field) -> ColumnSpec | None:
        return ColumnSpec(self.value_kind)

    def parse(self, field: Field, value: Any) -> Any:
        return self.read(value)

    def operand(self, field: Field, value: Any, column: Any) -> Any:
        return self.read(value)

    def cursor_value(self, field: Field, value: Any, column: Any) -> Any:
        return self.from_iso(value)
