"""What the field types' values are made of: the parsing and formatting they share
(numbers, dates, times, moments), the JSON form of any Python value the services
produce, and the system fields as pseudo field documents. Each type's own
conversions are its ``FieldType`` methods (``fields/base.py``).

JSON numbers: every number is a ``Decimal`` inside; going out, an integral value
becomes a JSON integer and any other value a float whose ``repr`` is the shortest
text that reads back as the same double, so ``Decimal("0.1")`` is written ``0.1`` and
values of up to 15 significant digits are exact (larger non-integral values carry
what a JSON number / IEEE double can carry). Going in, floats are read through their
``repr`` (``0.1`` is ``Decimal("0.1")``, not the binary expansion).
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from propolis.platform.errors import Message, _, translate

# The system fields as pseudo field documents, so that output, filters and sorting
# treat them like any other field.
SYSTEM_FIELDS: dict[str, dict[str, Any]] = {
    "id": {"api_name": "id", "type": "lookup", "required": True},
    "owner": {"api_name": "owner", "type": "user"},
    "owner_department": {"api_name": "owner_department", "type": "department"},
    "created_by": {"api_name": "created_by", "type": "user"},
    "created_at": {"api_name": "created_at", "type": "datetime"},
    "updated_by": {"api_name": "updated_by", "type": "user"},
    "updated_at": {"api_name": "updated_at", "type": "datetime"},
    "life_status": {"api_name": "life_status", "type": "select",
                    "options": [{"value": v} for v in ("normal", "in_review",
                                                       "invalid")]},
    "version": {"api_name": "version", "type": "number", "precision": 0},
    "deleted_at": {"api_name": "deleted_at", "type": "datetime"},
    "deleted_by": {"api_name": "deleted_by", "type": "user"},
}
OUTPUT_SYSTEM_FIELDS = ("owner", "owner_department", "created_by", "created_at",
                        "updated_by", "updated_at", "life_status", "version")
TIME_RE = re.compile(r"^([01][0-9]|2[0-3]):([0-5][0-9])(?::([0-5][0-9]))?$")
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class ValueProblem(ValueError):
    """A value that cannot be taken, and the message saying why."""

    def __init__(self, message: Message) -> None:
        super().__init__(translate(message, "en"))
        self.message = message


@functools.lru_cache(maxsize=32)
def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def to_decimal(value: Any) -> Decimal:
    """A JSON number as an exact Decimal (floats through their shortest repr)."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise ValueProblem(_("must be a number"))
    result = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    if not result.is_finite():
        raise ValueProblem(_("must be a number"))
    return result


def quantize(value: Decimal, places: int) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def parse_date(value: Any) -> dt.date:
    if isinstance(value, str) and DATE_RE.match(value):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    raise ValueProblem(_("a date looks like 2026-11-28"))


def parse_time(value: Any) -> dt.time:
    match = TIME_RE.match(value) if isinstance(value, str) else None
    if match is None:
        raise ValueProblem(_("a time looks like 09:30"))
    return dt.time(int(match[1]), int(match[2]), int(match[3] or 0))


# The moments every time zone (at most 14 hours from UTC) can show as a date of
# years 1 to 9999: a datetime is shown in the enterprise's zone, and one that
# fell outside those years there could be stored but never read back.
ZONE_REACH = dt.timedelta(hours=14)
EARLIEST = dt.datetime.min.replace(tzinfo=dt.UTC) + ZONE_REACH
LATEST = dt.datetime.max.replace(tzinfo=dt.UTC) - ZONE_REACH


def parse_datetime(value: Any) -> dt.datetime:
    """ISO 8601 with an offset, as an aware UTC datetime; naive times are refused
    because the server cannot know which zone the client meant."""
    parsed = None
    if isinstance(value, str) and len(value) > 10 and value[10] in "T ":
        try:
            parsed = dt.datetime.fromisoformat(value)
        except ValueError:
            parsed = None
    if parsed is None or parsed.tzinfo is None:
        raise ValueProblem(_("a date-time is ISO 8601 with an offset, e.g. "
                             "2026-11-28T09:30:00+08:00"))
    try:
        moment = parsed.astimezone(dt.UTC)
    except OverflowError:  # 9999-12-31 late in the day west of UTC, and the like
        moment = None
    if moment is None or not EARLIEST <= moment <= LATEST:
        raise ValueProblem(_("the date-time is out of range (years 1 to 9999, in "
                             "any time zone)"))
    return moment


def decimal_json(value: Decimal) -> int | float:
    """A Decimal as a JSON number: integers exactly, others as the float whose repr
    is the shortest text for it (exact up to 15 significant digits)."""
    if value == value.to_integral_value():
        return int(value)
    return float(value)


def format_time(value: dt.time) -> str:
    return value.isoformat(timespec="minutes" if value.second == 0 else "seconds")


def format_datetime(value: dt.datetime, tz: str) -> str:
    """An aware datetime as RFC 3339 in ``tz``. Before the zones were standardised
    (Asia/Shanghai before 1901: +08:05:43, local mean time) an offset has seconds,
    which RFC 3339 cannot write: the moment is then given with the offset rounded
    to the minute."""
    local = value.astimezone(zone(tz))
    offset = local.utcoffset()
    if offset is not None and offset.seconds % 60:
        minutes = round(offset.total_seconds() / 60)
        local = value.astimezone(dt.timezone(dt.timedelta(minutes=minutes)))
    return local.isoformat()


def to_json_value(value: Any, tz: str = "Asia/Shanghai") -> Any:
    """Any Python value the services produce as a JSON-ready value: Decimals as
    numbers, dates ISO, aware datetimes ISO 8601 in ``tz`` with the offset."""
    if value is None or isinstance(value, str | bool | int):
        return value
    if isinstance(value, Decimal):
        return decimal_json(value)
    if isinstance(value, dt.datetime):
        return format_datetime(value, tz)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return format_time(value)
    if isinstance(value, Mapping):
        return {k: to_json_value(v, tz) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_json_value(v, tz) for v in value]
    if isinstance(value, float):
        return value
    raise TypeError(f"no JSON form for {type(value).__name__}")
