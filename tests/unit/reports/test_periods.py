"""Period maths: labels, ranges, the period before and a year before."""

from __future__ import annotations

import datetime as dt

import pytest

from propolis.platform.db.dialects import _python_date_label
from propolis.platform.errors import AppError
from propolis.reports.periods import label_of, parse_period, period_of


@pytest.mark.parametrize(("text", "unit", "start", "end"), [
    ("2026-03-05", "day", "2026-03-05", "2026-03-06"),
    ("2026-W10", "week", "2026-03-02", "2026-03-09"),
    ("2026-03", "month", "2026-03-01", "2026-04-01"),
    ("2026-12", "month", "2026-12-01", "2027-01-01"),
    ("2026-Q4", "quarter", "2026-10-01", "2027-01-01"),
    ("2026", "year", "2026-01-01", "2027-01-01"),
])
def test_a_period_is_a_range_of_days(text: str, unit: str, start: str,
                                     end: str) -> None:
    period = parse_period(text)
    assert (period.unit, period.start.isoformat(), period.end.isoformat()) == (
        unit, start, end)
    assert period.label == text


def test_the_period_before_and_a_year_before() -> None:
    assert parse_period("2026-01").previous().label == "2025-12"
    assert parse_period("2026-Q1").previous().label == "2025-Q4"
    assert parse_period("2026-W01").previous().label == "2025-W52"
    assert parse_period("2024-02-29").year_before().label == "2023-02-28"
    assert parse_period("2026-W53").year_before().label == "2025-W52"
    assert parse_period("2026-W10").year_before().label == "2025-W10"
    assert parse_period("2026-03").year_before().label == "2025-03"


def test_iso_weeks_cross_years() -> None:
    assert label_of(dt.date(2027, 1, 1), "week") == "2026-W53"
    assert period_of(dt.date(2027, 1, 1), "week").start == dt.date(2026, 12, 28)


@pytest.mark.parametrize("text", ["2026-13", "2026-W60", "March", "2026-02-30", 7,
                                  None])
def test_a_bad_period_is_a_400_naming_the_field(text: object) -> None:
    with pytest.raises(AppError) as caught:
        parse_period(text, "period")
    assert caught.value.status == 400 and "period" in caught.value.fields


def test_only_the_units_asked_for() -> None:
    with pytest.raises(AppError):
        parse_period("2026-03", "period", ("day",))


def test_sqlite_labels_datetimes_in_the_time_zone() -> None:
    _sqlite_label = _python_date_label(label_of)
    assert _sqlite_label("2026-03-31 16:30:00.000000", "month",
                         "Asia/Shanghai") == "2026-04"
    assert _sqlite_label("2026-03-31 15:30:00", "month", "Asia/Shanghai") == "2026-03"
    assert _sqlite_label("2026-03-31", "quarter", "Asia/Shanghai") == "2026-Q1"
    assert _sqlite_label(None, "day", "UTC") is None
