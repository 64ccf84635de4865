"""A date or datetime column as the label of its bucket (``2026-03``, ``2026-W10`` …,
see ``periods``), computed by the database so that a chart groups by it in SQL. A
datetime falls into the bucket of its calendar day in the enterprise's time zone.
The connection's dialect writes the SQL (``Dialect.date_label``); where the database
has no time zones it calls ``periods.label_of``, the same code that labels the
periods in Python, so both sides always agree."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Connection

from propolis.platform.db import dialect_for
from propolis.reports.periods import label_of


def bucket_label(conn: Connection, column: Any, unit: str, tz: str, datetime: bool
                 ) -> ColumnElement[str]:
    return dialect_for(conn).date_label(conn, column, unit, tz, datetime, label_of)
