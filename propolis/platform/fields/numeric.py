"""Numbers, kept exactly: a decimal column with ``precision`` places after the
point, Decimal values, exact cells. Number, currency and percent (and the stored
value of a rollup) share this."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar

from sqlalchemy import ColumnElement, Integer

from propolis.metadata.expressions import ExpressionError, to_decimal_places
from propolis.metadata.expressions.typecheck import NUMBER, CelType
from propolis.platform.db import Dialect
from propolis.platform.errors import _
from propolis.platform.fields.base import ORDERED, ColumnSpec, Field, FieldType, Schema
from propolis.platform.fields.cells import bad, number_cell
from propolis.platform.fields.values import ValueProblem, quantize, to_decimal

DEFAULT_PRECISION = 2
# beyond what any column holds exactly (see ``number_bound``): a filter operand
# this large is refused rather than left to overflow the driver
FILTER_NUMBER_LIMIT = 10**18
NUMBER_NOISE = re.compile(r"[,，\s]")
NUMBER_KEYS = {
    "precision": {"type": "integer", "minimum": 0, "maximum": 10},
    "min": {"type": "number"},
    "max": {"type": "number"},
    "default": {"type": "number"},
}


def precision(field: Field) -> int:
    """Decimal places a numeric field keeps (as its column does)."""
    return int(field.get("precision", DEFAULT_PRECISION))


def number_bound(places: int) -> int:
    """The largest magnitude a numeric column holds exactly on both databases
    (SQLite keeps a 64-bit count of the smallest unit): 18 digits in all,
    ``places`` of them after the point."""
    return 10 ** (18 - places) - 1


def cell_number(text: str) -> Decimal:
    """A number as people type it into a sheet: thousands separators, a leading
    ``¥``/``$`` and a trailing ``%`` are allowed."""
    cleaned = NUMBER_NOISE.sub("", text).lstrip("¥￥$").rstrip("%％")
    try:
        number = Decimal(cleaned)
    except InvalidOperation:
        number = None
    if number is None or not number.is_finite():
        raise bad(_("'${text}' is not a number", mapping={"text": text}))
    return number


class NumberLike(FieldType):
    """A number stored exactly. ``general``: a number of no particular unit,
    which other numbers may become and become without loss of meaning (currency
    and percent may not become each other)."""

    value_kind = "number"
    keys = NUMBER_KEYS
    numeric = True
    formula_result = True
    filter_ops = ORDERED
    sortable = True
    general: ClassVar[bool] = False

    def places(self, field: Field) -> int:
        return precision(field)

    def normalize(self, field: dict[str, Any]) -> None:
        field.setdefault("precision", DEFAULT_PRECISION)
        field.setdefault("min", None)
        field.setdefault("max", None)

    def cel_type(self, field: Field) -> CelType:
        return NUMBER

    def column(self, field: Field) -> ColumnSpec | None:
        return ColumnSpec("decimal", self.places(field))

    def plan_label(self, field: Field) -> str:
        return f"{self.name}({self.places(field)})"

    def converts_to(self, field: Field, new: FieldType, new_field: Field) -> bool:
        return new is self or (isinstance(new, NumberLike) and not new.computed
                               and (self.general or new.general))

    def value_schema(self, field: Field) -> Schema:
        bound = number_bound(self.places(field))
        low, high = field.get("min"), field.get("max")
        return {"type": "number",
                "minimum": -bound if low is None else max(low, -bound),
                "maximum": bound if high is None else min(high, bound)}

    def parse(self, field: Field, value: Any) -> Any:
        return quantize(to_decimal(value), self.places(field))

    def from_expression(self, field: Field, result: Any) -> Any:
        if isinstance(result, bool) or not isinstance(result, Decimal | int):
            raise ExpressionError(f"the result {result!r} is not a number")
        bound = number_bound(self.places(field))
        # checked before rounding too, which would spell out 1E+100000
        value = (to_decimal_places(result, self.places(field))
                 if abs(Decimal(result)) <= bound + 1 else None)
        if value is None or abs(value) > bound:
            raise ExpressionError(
                f"the result {result} is out of range: the field holds at "
                f"most {bound} in magnitude")
        return value

    def result_schema(self) -> Schema:
        return {"type": "number"}

    def cursor_value(self, field: Field, value: Any, column: Any) -> Any:
        number = Decimal(value)
        return int(number) if column.type.python_type is int else number

    def operand(self, field: Field, value: Any, column: Any) -> Any:
        number = to_decimal(value)
        if not number.is_finite() or abs(number) >= FILTER_NUMBER_LIMIT:
            raise ValueProblem(_("the number is out of range"))
        if isinstance(column.type, Integer):
            if number != number.to_integral_value():
                raise ValueProblem(_("must be an integer"))
            return int(number)
        return number

    def keyword_match(self, column: Any, field: Field, term: str, dialect: Dialect
                      ) -> ColumnElement[bool] | None:
        try:
            number = Decimal(term)
        except InvalidOperation:
            return None
        return column == number if number.is_finite() else None

    def to_cell(self, field: Field, value: Any, lang: str) -> Any:
        return number_cell(value)

    def from_cell(self, field: Field, text: str, tz: str) -> Any:
        return cell_number(text)

    def same_value(self, field: Field, new: Any, old: Any) -> bool:
        # numbers compared as numbers: 12.50 is no change of 12.5
        if old is not None and not isinstance(old, bool):
            return Decimal(new) == number_cell(old)
        return bool(new == old)
