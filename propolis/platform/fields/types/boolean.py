"""``boolean``: yes or no (是/否 in a sheet)."""

from __future__ import annotations

from typing import Any

from propolis.metadata.expressions import ExpressionError
from propolis.metadata.expressions.typecheck import BOOL, CelType
from propolis.platform.errors import _
from propolis.platform.fields.base import ColumnSpec, Field, FieldType, Schema
from propolis.platform.fields.cells import BOOLEAN_CELLS, bad
from propolis.platform.fields.values import ValueProblem

TRUE_WORDS = frozenset({"是", "true", "yes", "y", "1", "对", "√"})
FALSE_WORDS = frozenset({"否", "false", "no", "n", "0", "错", "×"})


class Boolean(FieldType):
    name = "boolean"
    description = _("Yes / no")
    value_kind = "boolean"
    keys = {"default": {"type": "boolean"}}
    formula_result = True
    filter_ops = frozenset({"eq", "ne", "isnull"})
    sortable = True
    groupable = True

    def cel_type(self, field: Field) -> CelType:
        return BOOL

    def column(self, field: Field) -> ColumnSpec | None:
        return ColumnSpec("boolean")

    def value_schema(self, field: Field) -> Schema:
        return {"type": "boolean"}

    def from_expression(self, field: Field, result: Any) -> Any:
        if not isinstance(result, bool):
            raise ExpressionError(f"the result {result!r} is not true or false")
        return result

    def result_schema(self) -> Schema:
        return {"type": "boolean"}

    def operand(self, field: Field, value: Any, column: Any) -> Any:
        if not isinstance(value, bool):
            raise ValueProblem(_("must be true or false"))
        return value

    def to_cell(self, field: Field, value: Any, lang: str) -> Any:
        return BOOLEAN_CELLS[lang][0 if value else 1]

    def from_cell(self, field: Field, text: str, tz: str) -> Any:
        word = text.strip().lower()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
        raise bad(_("'${text}' should be yes or no", mapping={"text": text}))
