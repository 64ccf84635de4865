"""Approval statistics: by type (definition), by the submitter's department, or by
approver, over a period of submission dates (days of the enterprise's time zone) —
counts, response time, pass rate — as JSON rows or an XLSX workbook.

By type and department the unit is an instance: ``submitted``, how many ended
``approved`` / ``rejected`` / ``withdrawn`` or are still ``pending``, the pass rate
(approved among approved + rejected) and ``avg_hours`` from submission to outcome.
By person the unit is a task given to the approver: ``approved`` / ``rejected`` /
``returned`` / ``pending``, the pass rate of their decisions and ``avg_hours``
from being asked to acting (their response time).
"""

from __future__ import annotations

import datetime as dt
import io
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from sqlalchemy import Connection, select

from propolis.platform.errors import _, _c, translate
from propolis.platform.meta.effective import Effective
from propolis.platform.storage.platform_tables import approval_instances, approval_tasks
from propolis.platform.workflow.engine import invalid

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
BY = ("type", "department", "person")
INSTANCE_COLUMNS = ("submitted", "approved", "rejected", "withdrawn", "pending",
                    "pass_rate", "avg_hours")
TASK_COLUMNS = ("handled", "approved", "rejected", "returned", "pending",
                "pass_rate", "avg_hours")
HEADINGS = {
    "label": _("Name"), "submitted": _("Submitted"), "handled": _("Handled"),
    "approved": _c("platform.workflow.stats", "Approved"),
    "rejected": _c("platform.workflow.stats", "Rejected"),
    "withdrawn": _c("platform.workflow.stats", "Withdrawn"),
    "returned": _("Returned"), "pending": _("Pending"),
    "pass_rate": _("Pass rate"), "avg_hours": _("Average hours"),
}
BY_LABEL = {"type": _("By type"),
            "department": _("By department"),
            "person": _("By approver")}


@dataclass(frozen=True)
class StatsQuery:
    by: str
    start: dt.date | None
    end: dt.date | None
    tz: str  # the enterprise's: periods are its calendar days

    @classmethod
    def parse(cls, by: str, start: str | None, end: str | None, tz: str
              ) -> StatsQuery:
        """``by`` one of ``BY``; ``from`` and ``to`` dates (inclusive), optional,
        days in the time zone ``tz``."""
        if by not in BY:
            raise invalid("by", _("must be one of ${by}",
                                  mapping={"by": ' | '.join(BY)}))
        dates: dict[str, dt.date | None] = {}
        for key, raw in (("from", start), ("to", end)):
            try:
                dates[key] = dt.date.fromisoformat(raw) if raw else None
            except ValueError:
                raise invalid(key, _("a date looks like 2026-11-28")) from None
        if dates["from"] and dates["to"] and dates["to"] < dates["from"]:
            raise invalid("to", _("is before from"))
        return cls(by, dates["from"], dates["to"], tz)

    def bounds(self) -> tuple[dt.datetime | None, dt.datetime | None]:
        """The period as UTC moments; None for an end left open, or one beyond
        what a datetime holds (``from=0001-01-01``, ``to=9999-12-31``: every
        instance is inside)."""
        zone = ZoneInfo(self.tz)

        def moment(day: dt.date | None, after: bool) -> dt.datetime | None:
            if day is None or (after and day == dt.date.max):
                return None
            if after:
                day += dt.timedelta(days=1)
            try:
                return dt.datetime.combine(day, dt.time(), zone).astimezone(dt.UTC)
            except OverflowError:
                return None

        return moment(self.start, False), moment(self.end, True)


def _hours(start: dt.datetime, end: dt.datetime | None) -> float | None:
    return None if end is None else (end - start).total_seconds() / 3600


def _finish(rows: Mapping[str, dict[str, Any]], names: Mapping[str, Any]
            ) -> list[dict[str, Any]]:
    out = []
    for key, row in rows.items():
        decided = row["approved"] + row["rejected"]
        durations = row.pop("_hours")
        out.append({
            "key": key, "label": names.get(key, key), **row,
            "pass_rate": round(row["approved"] / decided, 4) if decided else None,
            "avg_hours": (round(sum(durations) / len(durations), 2)
                          if durations else None),
        })
    return sorted(out, key=lambda r: (-r.get("submitted", r.get("handled", 0)),
                                      str(r["key"])))


def compute(conn: Connection, effective: Effective, query: StatsQuery
            ) -> list[dict[str, Any]]:
    """The statistics rows, busiest first."""
    low, high = query.bounds()
    if query.by == "person":
        c = approval_tasks.c
        stmt = select(c.assignee, c.status, c.created_at, c.acted_at)
        created = c.created_at
    else:
        i = approval_instances.c
        key = i.definition_name if query.by == "type" else i.submitter_department
        stmt = select(key.label("key"), i.status, i.created_at, i.finished_at,
                      i.definition)
        created = i.created_at
    if low is not None:
        stmt = stmt.where(created >= low)
    if high is not None:
        stmt = stmt.where(created < high)
    empty = dict.fromkeys(TASK_COLUMNS if query.by == "person"
                          else INSTANCE_COLUMNS[:-2], 0)
    rows: dict[str, dict[str, Any]] = defaultdict(lambda: {**empty, "_hours": []})
    names: dict[str, Any] = {}
    for r in conn.execute(stmt):
        if query.by == "person":
            row = rows[r.assignee]
            if r.status in ("approved", "rejected", "returned"):
                row["handled"] += 1
                row[r.status] += 1
                row["_hours"].append(_hours(r.created_at, r.acted_at))
            elif r.status == "pending":
                row["pending"] += 1
            continue
        group = r.key or ""
        row = rows[group]
        row["submitted"] += 1
        row[r.status] += 1
        if r.finished_at is not None:
            row["_hours"].append(_hours(r.created_at, r.finished_at))
        if query.by == "type":
            names[group] = r.definition["label"]
    if query.by != "type":
        table = effective.tables.main["user" if query.by == "person" else "department"]
        ids = [k for k in rows if k]
        if ids:
            names.update(conn.execute(select(table.c.id, table.c.name).where(
                table.c.id.in_(ids))).all())
    return _finish(rows, names)


def workbook(rows: list[dict[str, Any]], query: StatsQuery, lang: str) -> bytes:
    """The rows as an XLSX sheet with headings in ``lang``."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(translate(BY_LABEL[query.by], lang))
    columns = ("label", *(TASK_COLUMNS if query.by == "person"
                          else INSTANCE_COLUMNS))
    sheet.append([translate(HEADINGS[c], lang) for c in columns])
    for row in rows:
        label = translate(row["label"], lang)
        sheet.append([label or "-", *(row[c] for c in columns[1:])])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
