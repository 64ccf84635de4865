"""A date or datetime column as the label of its bucket (``2026-03``, ``2026-W10`` …,
see ``periods``), computed by the database so that a chart groups by it in SQL. A
datetime falls into the bucket of its calendar day in the enterprise's time zone.

PostgreSQL does it with ``to_char`` (and ``timezone()`` for datetimes); SQLite has
no time zones, so the connection is given a function that calls ``periods`` (the
same code that labels the periods in Python: both sides always agree). One class
per database, chosen by the connection's dialect."""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Connection, String, func, literal

from propolis.reports.periods import label_of

SQLITE_FUNCTION = "propolis_bucket"


class Buckets:
    """How one database labels buckets."""

    def prepare(self, conn: Connection) -> None:
        """Readies ``conn`` for ``label`` (once per statement)."""

    def label(self, column: Any, unit: str, tz: str, datetime: bool
              ) -> ColumnElement[str]:
        raise NotImplementedError


class PostgreSQLBuckets(Buckets):
    FORMATS: ClassVar[dict[str, str]] = {
        "day": "YYYY-MM-DD", "week": 'IYYY-"W"IW', "month": "YYYY-MM",
        "quarter": 'YYYY-"Q"Q', "year": "YYYY"}

    def label(self, column: Any, unit: str, tz: str, datetime: bool
              ) -> ColumnElement[str]:
        local = func.timezone(literal(tz), column) if datetime else column
        return func.to_char(local, literal(self.FORMATS[unit]), type_=String)


def _sqlite_label(value: str | None, unit: str, tz: str) -> str | None:
    if value is None:
        return None
    if len(value) > 10:  # a datetime, stored in UTC without its offset
        moment = dt.datetime.fromisoformat(value).replace(tzinfo=dt.UTC)
        day = moment.astimezone(ZoneInfo(tz)).date()
    else:
        day = dt.date.fromisoformat(value)
    return label_of(day, unit)


class SQLiteBuckets(Buckets):
    def prepare(self, conn: Connection) -> None:
        raw = conn.connection.driver_connection
        if raw is not None:
            raw.create_function(SQLITE_FUNCTION, 3, _sqlite_label, deterministic=True)

    def label(self, column: Any, unit: str, tz: str, datetime: bool
              ) -> ColumnElement[str]:
        return getattr(func, SQLITE_FUNCTION)(column, literal(unit), literal(tz),
                                              type_=String)


BUCKETS: dict[str, Buckets] = {"postgresql": PostgreSQLBuckets(),
                               "sqlite": SQLiteBuckets()}


def buckets_for(conn: Connection) -> Buckets:
    return BUCKETS[conn.dialect.name]
