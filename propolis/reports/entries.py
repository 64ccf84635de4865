"""The data-reporting system (报数, ``kind: report``, CONTRACT §6): each assignee's
entry per period, the totals managers see, who is missing, and the due reminder.

Entries are records of the report's generated object
(``metadata.reporting.entry_object``), written through the record service with
the caller as owner, so the record service's rules decide who reads which entry
(their own and everyone's below them in the superior chain; the admin all) and the
summaries are charts over them (``ChartEngine``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, insert, select
from sqlalchemy.exc import IntegrityError
from zope.interface import implementer

from propolis.metadata.reporting import entry_object_name
from propolis.platform.errors import AppError, Conflict, Forbidden, _
from propolis.platform.fields.registry import field_type
from propolis.platform.inbox import notify
from propolis.platform.meta.effective import Effective
from propolis.platform.permissions.actor import Actor
from propolis.platform.records.interfaces import IRecordService
from propolis.platform.storage.platform_tables import (
    department_tree,
    schedule_runs,
    user_hierarchy,
)
from propolis.reports.engine import ChartEngine, ratio
from propolis.reports.events import ReportDue
from propolis.reports.interfaces import IReportService
from propolis.reports.periods import Period, parse_period, period_of
from propolis.reports.services import named

UNITS = {"daily": "day", "weekly": "week", "monthly": "month"}
BY = {"department": {"field": "owner_department", "rollup": "tree"},
      "user": {"field": "owner"}, "period": {"field": "period"}}
MAX_PERIODS = 400


@implementer(IReportService)
class ReportService:
    """The reports of one enterprise for one user: ``records`` writes entries
    (as the caller, with the right to), ``engine`` sums what the caller may
    read."""

    def __init__(self, conn: Connection, effective: Effective, actor: Actor,
                 records: IRecordService, engine: ChartEngine, tz: str,
                 notify: Callable[[object], None] | None = None) -> None:
        self.conn = conn
        self.effective = effective
        self.actor = actor
        self.records = records
        self.engine = engine
        self.tz = tz
        # the registry's: subscribers hear of each reminder (``events.ReportDue``)
        self.notify = notify

    def report(self, name: str) -> dict[str, Any]:
        return named(self.effective.reports, name, _("report"))

    def period(self, report: Mapping[str, Any], text: object,
               field: str = "period") -> Period:
        return parse_period(text, field, (UNITS[report["period"]],))

    # -- entries ---------------------------------------------------------------------

    def submit(self, name: str, period: str, data: Any) -> dict[str, Any]:
        report = self.report(name)
        span = self.period(report, period)
        me = self.actor.user_id
        if me is None or me not in self.assignees(report):
            raise Forbidden("not_assignee", _("You are not an assignee of this report"))
        if self.locked(report, span, self.today()):
            raise Conflict("report_locked", _("The entries of ${label} are locked",
                                              mapping={"label": span.label}))
        if not isinstance(data, dict):
            raise AppError("invalid", _("Invalid request"),
                           {"data": [_("must be an object")]})
        obj = entry_object_name(name)
        found = self._entry_id(name, span)
        values = {f["api_name"]: data.get(f["api_name"]) for f in report["fields"]}
        unknown = sorted(set(data) - set(values))
        if unknown:
            raise AppError("invalid", _("Unknown report fields"),
                           {n: [_("unknown field")] for n in unknown})
        if found is not None:
            return self.records.update(obj, found, values, version=None)
        return self.records.create(obj, {**values, "period": span.label,
                                         "entry_key": f"{span.label}:{me}"})

    def entry(self, name: str, period: str) -> dict[str, Any] | None:
        """The caller's entry of ``period`` (None: not filled)."""
        report = self.report(name)
        span = self.period(report, period)
        found = self._entry_id(name, span)
        return None if found is None else self.records.get(entry_object_name(name),
                                                            found)

    def _entry_id(self, name: str, span: Period) -> str | None:
        table = self.effective.tables.main[entry_object_name(name)]
        found: str | None = self.conn.execute(select(table.c.id).where(
            table.c.entry_key == f"{span.label}:{self.actor.user_id}",
            table.c.deleted_at.is_(None))).scalar()
        return found

    def mine(self) -> list[dict[str, Any]]:
        """The reports the caller fills, each with its current period and whether
        they have filled it (the home page's 今日待报)."""
        today = self.today()
        found = []
        for name, report in sorted(self.effective.reports.items()):
            if self.actor.user_id not in self.assignees(report):
                continue
            span = period_of(today, UNITS[report["period"]])
            found.append({"api_name": name, "label": report["label"],
                          "period": report["period"], "current": span.label,
                          "due": report["due"],
                          "filled": self._entry_id(name, span) is not None})
        return found

    def locked(self, report: Mapping[str, Any], span: Period, today: dt.date) -> bool:
        days = report.get("lock_after_days")
        return days is not None and today > span.last_day + dt.timedelta(days=days)

    def today(self) -> dt.date:
        return dt.datetime.now(ZoneInfo(self.tz)).date()

    # -- who fills it ----------------------------------------------------------------

    def assignees(self, report: Mapping[str, Any]) -> dict[str, str]:
        """The active users who fill ``report``: id → name."""
        who = report.get("assignees") or {}
        users = self.effective.tables.main["user"]
        rows = self.conn.execute(select(
            users.c.id, users.c.name, users.c.phone, users.c.position,
            users.c.roles, users.c.main_department).where(
            users.c.deleted_at.is_(None), users.c.status == "active"))
        departments: set[str] = set()
        if who.get("departments"):
            table = self.effective.tables.main["department"]
            named = select(table.c.id).where(table.c.name.in_(who["departments"]),
                                             table.c.deleted_at.is_(None))
            departments = set(self.conn.execute(
                select(department_tree.c.descendant).where(
                    department_tree.c.ancestor.in_(named))).scalars())
        found = {}
        for row in rows:
            if (who.get("all") or row.phone in who.get("users", [])
                    or row.position in who.get("positions", [])
                    or set(row.roles or []) & set(who.get("roles", []))
                    or row.main_department in departments):
                found[row.id] = row.name
        return found

    def missing(self, name: str, period: str) -> dict[str, Any]:
        report = self.report(name)
        span = self.period(report, period)
        assignees = self.assignees(report)
        table = self.effective.tables.main[entry_object_name(name)]
        filled = set(self.conn.execute(select(table.c.owner).where(
            table.c.period == span.label, table.c.deleted_at.is_(None))).scalars())
        seen = self.visible_users()
        return {"users": [{"id": i, "name": n} for i, n in sorted(
            assignees.items(), key=lambda item: (item[1], item[0]))
            if i not in filled and (seen is None or i in seen)]}

    def visible_users(self) -> set[str] | None:
        """The users whose entries the caller sees (None: everyone's)."""
        if "admin" in self.actor.roles or self.actor.user_id is None:
            return None
        return set(self.conn.execute(select(user_hierarchy.c.descendant).where(
            user_hierarchy.c.ancestor == self.actor.user_id)).scalars())

    # -- totals ----------------------------------------------------------------------

    def summary(self, name: str, start: Any, end: Any, by: Any) -> dict[str, Any]:
        report = self.report(name)
        if by not in BY:
            raise AppError("invalid", _("Invalid grouping"),
                           {"by": [_("must be department, user or period")]})
        first, last = self.period(report, start, "from"), self.period(report, end, "to")
        if last.start < first.start:
            raise AppError("invalid", _("Invalid periods"),
                           {"to": [_("must not be before from")]})
        numbers = [f["api_name"] for f in report["fields"]
                   if field_type(f).numeric]
        current = self._totals(report, numbers, by, first, last)
        if by == "period":
            everything = self._totals(report, numbers, by, _year_before(first), last)
            rows = []
            for key, row in current.items():
                span = self.period(report, key)
                rows.append(_compared(row, numbers, everything.get(
                    span.previous().label), everything.get(span.year_before().label)))
        else:
            length = len(_periods(first, last))
            before_last = first.previous()
            before_first = _back(before_last, length - 1)
            mom = self._totals(report, numbers, by, before_first, before_last)
            yoy = self._totals(report, numbers, by, first.year_before(),
                               last.year_before())
            rows = [_compared(row, numbers, mom.get(key), yoy.get(key))
                    for key, row in current.items()]
        return {"rows": rows}

    def _totals(self, report: Mapping[str, Any], numbers: Sequence[str], by: str,
                first: Period, last: Period) -> dict[str, dict[str, Any]]:
        periods = [p.label for p in _periods(first, last)]
        chart = {
            "object": entry_object_name(report["api_name"]),
            "measures": [{"api_name": n, "label": n, "function": "sum", "field": n,
                          "weight": None, "formula": None} for n in numbers]
            + [{"api_name": "entries", "label": "entries", "function": "count",
                "field": None, "weight": None, "formula": None}],
            "dimensions": [{**BY[by], "label": None, "bucket": None,
                            "rollup": BY[by].get("rollup")}],
            "filters": [{"field": "period", "op": "in", "value": periods}],
            "compare": [], "top": None, "date_field": None,
        }
        result = self.engine.run(chart)
        field = BY[by]["field"]
        found = {}
        for row in result["rows"]:
            key = row[field]
            found[key] = {"key": key, "label": row.get(f"{field}_name", key),
                          **{n: row[n] for n in numbers},
                          "entries": row["entries"]}
        return found

    # -- the due reminder ------------------------------------------------------------

    def remind(self, now: dt.datetime) -> list[dict[str, Any]]:
        """Tells, once per report and period, every assignee who has not filled
        the current period by its due time (the period's last day at ``due``)."""
        local = now.astimezone(ZoneInfo(self.tz))
        sent = []
        for name, report in sorted(self.effective.reports.items()):
            if not report.get("due"):
                continue
            span = period_of(local.date(), UNITS[report["period"]])
            hour, minute = (int(p) for p in report["due"].split(":"))
            if local.date() != span.last_day or (local.hour, local.minute) < (
                    hour, minute):
                continue
            try:
                with self.conn.begin_nested():
                    self.conn.execute(insert(schedule_runs).values(
                        object=entry_object_name(name), schedule="due",
                        period=span.label, ran_at=now, changed=0, failed=0))
            except IntegrityError:
                continue  # reminded already
            users = [u["id"] for u in self.missing(name, span.label)["users"]]
            label = report["label"]
            message = _("Please fill in ${label} (${label2})",
                        mapping={"label": label, "label2": span.label})
            notify(self.conn, users, "report_due", message)
            if self.notify is not None and users:
                self.notify(ReportDue(name, span.label, tuple(users), message))
            sent.append({"report": name, "period": span.label, "users": users})
        return sent


def _periods(first: Period, last: Period) -> list[Period]:
    found = [first]
    while found[-1].start < last.start:
        if len(found) > MAX_PERIODS:
            raise AppError("invalid", _("Too many periods"),
                           {"to": [_("at most ${max_periods} periods",
                                     mapping={"max_periods": MAX_PERIODS})]})
        found.append(period_of(found[-1].end, first.unit))
    return found


def _back(period: Period, count: int) -> Period:
    for _step in range(count):
        period = period.previous()
    return period


def _year_before(period: Period) -> Period:
    return min(period.previous(), period.year_before(), key=lambda p: p.start)


def _compared(row: dict[str, Any], numbers: Sequence[str],
              mom: Mapping[str, Any] | None, yoy: Mapping[str, Any] | None
              ) -> dict[str, Any]:
    out = dict(row)
    for n in numbers:
        out[f"{n}_mom"] = ratio(row[n], (mom or {}).get(n))
        out[f"{n}_yoy"] = ratio(row[n], (yoy or {}).get(n))
    return out
