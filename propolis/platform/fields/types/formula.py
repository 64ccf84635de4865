"""``formula``: a value computed on save from a CEL ``expression`` over the
record's fields, of the type it ``returns`` (number, currency, percent, text,
date or boolean: the types a formula may return). Stored, so that it filters
and sorts; for everything else it is a value of the type it returns."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement

from propolis.metadata.errors import Text
from propolis.metadata.expressions.typecheck import DYN, CelType
from propolis.metadata.fieldtypes import Scope, definition, definitions, type_names
from propolis.platform.db import Dialect
from propolis.platform.errors import _
from propolis.platform.fields.base import (
    ApiSchemas,
    ColumnSpec,
    Field,
    FieldType,
    Schema,
)
from propolis.platform.fields.numeric import DEFAULT_PRECISION
from propolis.platform.fields.registry import type_named

if TYPE_CHECKING:
    from propolis.metadata.checks import Checks
    from propolis.metadata.errors import PathPart


class Formula(FieldType):
    name = "formula"
    description = _("Formula: computed from other fields (a CEL expression)")
    computed = True
    required_keys = ("returns", "expression")
    keys = {"returns": {"$ref": "#/$defs/formula_returns"},
            "expression": {"$ref": "#/$defs/expression"},
            "precision": {"type": "integer", "minimum": 0, "maximum": 10}}
    recomputed_keys = ("expression", "returns", "precision")

    def schema_defs(self) -> dict[str, Any]:
        # numbers first: the order the object manager offers them in
        results = sorted((d for d in definitions() if d.formula_result),
                         key=lambda d: not d.numeric)
        return {"formula_returns": {"title": "formula result type",
                                    "x-zh": {"title": "公式结果类型"},
                                    "enum": [d.name for d in results]}}

    def result(self, field: Field) -> tuple[FieldType, Field]:
        """The type of the value and the field as a field of that type."""
        returns = type_named(field["returns"])
        return returns, {**field, "type": returns.name}

    # -- definition ---------------------------------------------------------------

    def normalize(self, field: dict[str, Any]) -> None:
        numeric = definition(field["returns"]).numeric
        field["precision"] = (field.get("precision", DEFAULT_PRECISION) if numeric
                              else None)

    def value_type(self, field: Field) -> str:
        return str(field["returns"])

    def cel_type(self, field: Field) -> CelType:
        returns = field.get("returns", "")
        if returns not in type_names() or not definition(returns).formula_result:
            return DYN
        return definition(returns).cel_type({**field, "type": returns})

    def expression(self, field: Field) -> str | None:
        return str(field["expression"])

    def check(self, checks: Checks, field: Field, raw: Field,
              here: tuple[PathPart, ...], scope: Scope, owner: Text,
              object_name: str, *, in_record: bool) -> None:
        name = field["api_name"]
        returns, _other = self.result(field)
        checks.check_expression(
            field["expression"], (*here, "expression"),
            Text(f"formula '{name}'", f"公式 '{name}'"), scope, owner,
            # a row's formula sees the row, not the record
            system=in_record,
            # any result converts to text
            gives=None if returns.takes_text else self.cel_type(field))

    # -- the value: one of the type it returns -----------------------------------

    def kind_of(self, field: Field) -> str:
        returns, as_result = self.result(field)
        return returns.kind_of(as_result)

    def column(self, field: Field) -> ColumnSpec | None:
        returns, as_result = self.result(field)
        return returns.column(as_result)

    def plan_label(self, field: Field) -> str:
        returns, as_result = self.result(field)
        return f"formula({returns.plan_label(as_result)})"

    def converts_to(self, field: Field, new: FieldType, new_field: Field) -> bool:
        returns, as_result = self.result(field)
        return new is self or returns.converts_to(as_result, new, new_field)

    def parse(self, field: Field, value: Any) -> Any:
        returns, as_result = self.result(field)
        return returns.parse(as_result, value)

    def to_column(self, field: Field, value: Any) -> Any:
        returns, as_result = self.result(field)
        return returns.to_column(as_result, value)

    def from_column(self, field: Field, value: Any) -> Any:
        returns, as_result = self.result(field)
        return returns.from_column(as_result, value)

    def to_json(self, field: Field, value: Any, tz: str) -> Any:
        returns, as_result = self.result(field)
        return returns.to_json(as_result, value, tz)

    def compute(self, field: Field, result: Any) -> Any:
        """The expression's result as the field's value (None stays None)."""
        if result is None:
            return None
        returns, as_result = self.result(field)
        return returns.from_expression(as_result, result)

    def words(self, field: Field, value: Any) -> str:
        returns, as_result = self.result(field)
        return returns.words(as_result, value)

    def operators(self, field: Field) -> frozenset[str]:
        returns, as_result = self.result(field)
        return returns.operators(as_result)

    def orders(self, field: Field) -> bool:
        returns, as_result = self.result(field)
        return returns.orders(as_result)

    def groups(self, field: Field) -> bool:
        returns, as_result = self.result(field)
        return returns.groups(as_result)

    def cursor_value(self, field: Field, value: Any, column: Any) -> Any:
        returns, as_result = self.result(field)
        return returns.cursor_value(as_result, value, column)

    def operand(self, field: Field, value: Any, column: Any) -> Any:
        returns, as_result = self.result(field)
        return returns.operand(as_result, value, column)

    def compare(self, field: Field, op: str, column: Any, operand: Any,
                dialect: Dialect) -> ColumnElement[bool]:
        returns, as_result = self.result(field)
        return returns.compare(as_result, op, column, operand, dialect)

    def keyword_match(self, column: Any, field: Field, term: str, dialect: Dialect
                      ) -> ColumnElement[bool] | None:
        returns, as_result = self.result(field)
        return returns.keyword_match(column, as_result, term, dialect)

    def to_cell(self, field: Field, value: Any, lang: str) -> Any:
        returns, as_result = self.result(field)
        return returns.to_cell(as_result, value, lang)

    def from_cell(self, field: Field, text: str, tz: str) -> Any:
        returns, as_result = self.result(field)
        return returns.from_cell(as_result, text, tz)

    def same_value(self, field: Field, new: Any, old: Any) -> bool:
        returns, as_result = self.result(field)
        return returns.same_value(as_result, new, old)

    def api_schema(self, field: Field, siblings: Mapping[str, Field],
                   schemas: ApiSchemas, depth: int) -> Schema:
        returns, _other = self.result(field)
        schema = returns.result_schema()
        return {**schema, "type": [schema["type"], "null"]}
