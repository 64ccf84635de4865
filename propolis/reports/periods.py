"""Period maths: the buckets of a date dimension and the periods of reports and
dashboards, written as CONTRACT §6 says (day ``2026-03-05``, week ``2026-W10``
(ISO), month ``2026-03``, quarter ``2026-Q1``, year ``2026``), each a half-open
range of calendar days in the enterprise's time zone, and the period before one
(month over month: the bucket before; year over year: the same bucket a year
before)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from propolis.platform.errors import AppError, _

UNITS = ("day", "week", "month", "quarter", "year")
_FORMS = (
    ("day", re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")),
    ("week", re.compile(r"^(\d{4})-W(\d{2})$")),
    ("month", re.compile(r"^(\d{4})-(\d{2})$")),
    ("quarter", re.compile(r"^(\d{4})-Q([1-4])$")),
    ("year", re.compile(r"^(\d{4})$")),
)


@dataclass(frozen=True)
class Period:
    """One bucket: its unit and the days ``start`` ≤ d < ``end``."""

    unit: str
    start: dt.date
    end: dt.date

    @property
    def label(self) -> str:
        return label_of(self.start, self.unit)

    @property
    def last_day(self) -> dt.date:
        return self.end - dt.timedelta(days=1)

    def previous(self) -> Period:
        """The bucket before this one (month over month)."""
        return period_of(self.start - dt.timedelta(days=1), self.unit)

    def year_before(self) -> Period:
        """The same bucket a year before (year over year)."""
        if self.unit == "week":
            year, week, _day = self.start.isocalendar()
            try:
                return period_of(dt.date.fromisocalendar(year - 1, week, 1), "week")
            except ValueError:  # a 53rd week
                return period_of(dt.date.fromisocalendar(year - 1, 52, 1), "week")
        return period_of(_minus_year(self.start), self.unit)


def _minus_year(day: dt.date) -> dt.date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


def label_of(day: dt.date, unit: str) -> str:
    """The bucket of ``day`` as written."""
    if unit == "day":
        return day.isoformat()
    if unit == "week":
        year, week, _day = day.isocalendar()
        return f"{year}-W{week:02d}"
    if unit == "month":
        return f"{day.year}-{day.month:02d}"
    if unit == "quarter":
        return f"{day.year}-Q{(day.month - 1) // 3 + 1}"
    return str(day.year)


def period_of(day: dt.date, unit: str) -> Period:
    """The bucket of ``unit`` holding ``day``."""
    if unit == "day":
        return Period(unit, day, day + dt.timedelta(days=1))
    if unit == "week":
        start = day - dt.timedelta(days=day.weekday())
        return Period(unit, start, start + dt.timedelta(days=7))
    if unit == "year":
        return Period(unit, dt.date(day.year, 1, 1), dt.date(day.year + 1, 1, 1))
    months = 1 if unit == "month" else 3
    first = day.month if unit == "month" else (day.month - 1) // 3 * 3 + 1
    start = dt.date(day.year, first, 1)
    month = first + months
    end = dt.date(day.year + (month > 12), (month - 1) % 12 + 1, 1)
    return Period(unit, start, end)


def parse_period(text: object, field: str = "period",
                 units: tuple[str, ...] = UNITS) -> Period:
    """A period as written (one of ``units``); 400 naming ``field`` otherwise."""
    if isinstance(text, str):
        for unit, form in _FORMS:
            match = form.match(text)
            if match is None or unit not in units:
                continue
            parts = [int(p) for p in match.groups()]
            try:
                if unit == "day":
                    day = dt.date(*parts)
                elif unit == "week":
                    day = dt.date.fromisocalendar(parts[0], parts[1], 1)
                elif unit == "month":
                    day = dt.date(parts[0], parts[1], 1)
                elif unit == "quarter":
                    day = dt.date(parts[0], parts[1] * 3 - 2, 1)
                else:
                    day = dt.date(parts[0], 1, 1)
            except ValueError:
                break
            return period_of(day, unit)
    examples = {"day": "2026-12-05", "week": "2026-W49", "month": "2026-12",
                "quarter": "2026-Q4", "year": "2026"}
    shown = ", ".join(examples[u] for u in units)
    raise AppError("invalid", _("Invalid period"),
                   {field: [_("must be a period such as ${shown}",
                              mapping={"shown": shown})]})


def parse_day(text: object, field: str) -> dt.date:
    """A calendar day ``YYYY-MM-DD``; 400 naming ``field`` otherwise."""
    return parse_period(text, field, ("day",)).start


def local_start(day: dt.date, tz: dt.tzinfo) -> dt.datetime:
    """The first moment of ``day`` in ``tz``, as an aware UTC datetime."""
    return dt.datetime.combine(day, dt.time(), tz).astimezone(dt.UTC)
