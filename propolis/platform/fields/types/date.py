"""``date``: a calendar day, ``2026-11-28``; the default ``today`` is the day of
the save in the enterprise's time zone."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ColumnElement

from propolis.metadata.expressions import ExpressionError
from propolis.metadata.expressions.typecheck import DATE
from propolis.platform.db import Dialect
from propolis.platform.errors import _
from propolis.platform.fields.base import Field, Schema
from propolis.platform.fields.cells import date_cell
from propolis.platform.fields.temporal import Temporal
from propolis.platform.fields.values import ValueProblem, parse_date, zone

DATE_MESSAGE = _("a date looks like 2026-11-28")


def is_date(value: object) -> bool:
    if isinstance(value, str):
        try:
            parse_date(value)
        except ValueProblem:
            return False
    return True


class Date(Temporal):
    name = "date"
    description = _("Date")
    value_kind = "date"
    cel = DATE
    formula_result = True
    formats = {"date": (is_date, DATE_MESSAGE)}

    def read(self, value: Any) -> Any:
        return parse_date(value)

    def from_iso(self, text: str) -> Any:
        return dt.date.fromisoformat(text)

    def value_schema(self, field: Field) -> Schema:
        return {"type": "string", "format": "date"}

    def default_value(self, field: Field, now: Any, tz: str) -> Any:
        value = field.get("default")
        if value == "today":
            return now.astimezone(zone(tz)).date().isoformat()
        return value

    def from_expression(self, field: Field, result: Any) -> Any:
        if isinstance(result, dt.datetime) or not isinstance(result, dt.date):
            raise ExpressionError(f"the result {result!r} is not a date")
        return result

    def result_schema(self) -> Schema:
        return {"type": "string", "format": "date"}

    def keyword_match(self, column: Any, field: Field, term: str, dialect: Dialect
                      ) -> ColumnElement[bool] | None:
        try:
            return column == parse_date(term)
        except ValueProblem:
            return None

    def from_cell(self, field: Field, text: str, tz: str) -> Any:
        return date_cell(text)
