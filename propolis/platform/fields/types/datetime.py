"""``datetime``: a moment, ISO 8601 with its offset, kept in UTC and shown in the
enterprise's time zone; the default ``now`` is the moment of the save."""

from __future__ import annotations

import datetime as dt
from typing import Any

from propolis.metadata.expressions.typecheck import DATETIME
from propolis.platform.errors import _
from propolis.platform.fields.base import Field, Schema
from propolis.platform.fields.cells import DATE_LIKE, bad, date_cell
from propolis.platform.fields.temporal import Temporal
from propolis.platform.fields.values import ValueProblem, parse_datetime, zone

DATETIME_MESSAGE = _("a date-time is ISO 8601 with an offset, e.g. "
                     "2026-11-28T09:30:00+08:00")


def is_datetime(value: object) -> bool:
    if isinstance(value, str):
        try:
            parse_datetime(value)
        except ValueProblem:
            return False
    return True


class Datetime(Temporal):
    name = "datetime"
    description = _("Date and time")
    value_kind = "datetime"
    cel = DATETIME
    formats = {"date-time": (is_datetime, DATETIME_MESSAGE)}

    def read(self, value: Any) -> Any:
        return parse_datetime(value)

    def from_iso(self, text: str) -> Any:
        return dt.datetime.fromisoformat(text)

    def value_schema(self, field: Field) -> Schema:
        return {"type": "string", "format": "date-time"}

    def default_value(self, field: Field, now: Any, tz: str) -> Any:
        value = field.get("default")
        return now.isoformat() if value == "now" else value

    def from_cell(self, field: Field, text: str, tz: str) -> Any:
        """ISO 8601 with an offset; without one, the time is in the enterprise's
        zone (Excel keeps no zone with a date-time)."""
        if DATE_LIKE.match(text):
            text = date_cell(text) + "T00:00:00"
        text = text.replace("/", "-")
        try:
            parsed = dt.datetime.fromisoformat(text)
        except ValueError:
            parsed = None
        if parsed is not None and parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=zone(tz))
        if parsed is None:
            raise bad(_("a date-time looks like 2026-11-28 09:30, or "
                        "2026-11-28T09:30:00+08:00 with an offset"))
        iso = parsed.isoformat()
        parse_datetime(iso)  # the range check
        return iso
