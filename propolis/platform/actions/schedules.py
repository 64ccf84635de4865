"""Running the objects' schedules (``schedules:``): for every live record of the
object whose ``where`` holds at the given moment, the schedule's ``set`` (or its
``action``, declared or registered) is applied through the record service, as
the system, each record in a savepoint of its own (a record the change does not
fit is counted as failed and left as it was; the others are changed).

``where`` is evaluated in Python, the record's values as expressions see them,
over the object's records read in id order a batch at a time: CEL has no
translation to SQL here, and a condition over formulas, tables and ``option()``
attributes would need one.

Celery beat runs the due ones every few minutes (``run(due_only=True)``): a
schedule is due once per period (hour, day, ISO week, month in the enterprise's
time zone) from its start, or from ``at`` in it, and each run is kept in
``schedule_runs`` so that a period is run once. ``propolis schedule run`` runs
them when told, due or not, and records the run the same way."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session
from zope.interface import implementer

from propolis.metadata.expressions import (
    ExpressionError,
    compile_expression,
    option_attributes,
)
from propolis.platform.actions.interfaces import IScheduleService
from propolis.platform.actions.services import Action, ActionService
from propolis.platform.errors import AppError, NotFound, _, both
from propolis.platform.fields.values import zone
from propolis.platform.meta.effective import Effective, ObjectMeta
from propolis.platform.records.interfaces import IRecordService
from propolis.platform.storage.platform_tables import schedule_runs

log = logging.getLogger(__name__)
BATCH = 200


def period_of(every: str, at: str | None, moment: dt.datetime
              ) -> tuple[str, dt.datetime]:
    """The period ``moment`` (local, aware) is in, as its key, and the moment
    from which a schedule running ``every`` hour/day/week/month (``at`` HH:MM
    into its first day) is due in it."""
    if every == "hour":
        return (f"{moment:%Y-%m-%dT%H}",
                moment.replace(minute=0, second=0, microsecond=0))
    day = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    if every == "day":
        key, start = f"{moment:%Y-%m-%d}", day
    elif every == "week":
        year, week, weekday = moment.isocalendar()
        key, start = f"{year}-W{week:02d}", day - dt.timedelta(days=weekday - 1)
    else:
        key, start = f"{moment:%Y-%m}", day.replace(day=1)
    if at:
        hours, minutes = at.split(":")
        start += dt.timedelta(hours=int(hours), minutes=int(minutes))
    return key, start


def schedule_action(obj: ObjectMeta, schedule: dict[str, Any]) -> Action:
    """A schedule's ``set`` as an action the system runs (no roles, no
    condition: ``where`` chose the records)."""
    return Action(
        name=schedule["api_name"], label=schedule["label"], roles=frozenset(),
        assignments=tuple((field, compile_expression(source))
                          for field, source in schedule["set"].items()),
        options=option_attributes(obj.fields.values()))


@implementer(IScheduleService)
class ScheduleService:
    """The schedules of one enterprise, run by the request's actor (the system,
    for beat and the command line) in the request's transaction."""

    def __init__(self, request: Any, session: Session, effective: Effective,
                 actions: ActionService, tz: str) -> None:
        self.request = request
        self.session = session
        self.effective = effective
        self.actions = actions
        self.tz = tz

    def schedules(self, names: Iterable[str] | None = None
                  ) -> list[tuple[ObjectMeta, dict[str, Any]]]:
        """Every schedule, or those ``names`` gives (``name`` or
        ``object.name``; 404 naming one that does not exist)."""
        found = [(obj, schedule) for _, obj in sorted(self.effective.objects.items())
                 for schedule in obj.doc.get("schedules", ())]
        if names is None:
            return found
        chosen = []
        for name in names:
            matches = [(o, s) for o, s in found
                       if name in (s["api_name"], f"{o.api_name}.{s['api_name']}")]
            if not matches:
                raise NotFound("no_such_schedule", _("There is no schedule '${name}'",
                                                     mapping={"name": name}))
            chosen += [m for m in matches if m not in chosen]
        return chosen

    def run(self, now: dt.datetime | None = None,
            names: Iterable[str] | None = None, *,
            due_only: bool = False) -> list[dict[str, Any]]:
        now = now or dt.datetime.now(dt.UTC)
        local = now.astimezone(zone(self.tz))
        self.actions.now = now
        results = []
        for obj, schedule in self.schedules(names):
            period, start = period_of(schedule["every"], schedule["at"], local)
            ran = self._ran(obj.api_name, schedule["api_name"], period)
            if due_only and (ran or local < start):
                continue
            try:
                changed, failed = self._run_one(obj, schedule, now)
            except NotFound as error:  # its action: neither declared nor registered
                log.error("schedule %s.%s: %s", obj.api_name, schedule["api_name"],
                          error)
                results.append({"object": obj.api_name,
                                "schedule": schedule["api_name"], "period": period,
                                "changed": 0, "failed": 0,
                                "error": both(error.message)})
                continue
            values = {"ran_at": now, "changed": changed, "failed": failed}
            key = {"object": obj.api_name, "schedule": schedule["api_name"],
                   "period": period}
            if ran:
                self.session.execute(update(schedule_runs).where(
                    *(schedule_runs.c[k] == v for k, v in key.items())).values(values))
            else:
                self.session.execute(insert(schedule_runs).values(**key, **values))
            results.append({"object": obj.api_name, "schedule": schedule["api_name"],
                            "period": period, "changed": changed, "failed": failed})
        return results

    def _ran(self, object: str, schedule: str, period: str) -> bool:
        return self.session.execute(select(schedule_runs.c.changed).where(
            schedule_runs.c.object == object, schedule_runs.c.schedule == schedule,
            schedule_runs.c.period == period)).first() is not None

    def _run_one(self, obj: ObjectMeta, schedule: dict[str, Any],
                 now: dt.datetime) -> tuple[int, int]:
        """How many records the schedule changed and how many it could not."""
        name = obj.api_name
        action = (schedule_action(obj, schedule) if schedule["set"] is not None
                  else self.actions.find(name, schedule["action"]))
        where = compile_expression(schedule["where"])
        options = option_attributes(obj.fields.values())
        records = self.request.find_service(IRecordService)
        changed = failed = 0
        after = None
        while batch := records.scan(name, after=after, limit=BATCH):
            after = batch[-1]["id"]
            for values in batch:
                try:
                    matched = where.evaluate(values, tz=self.tz, now=now,
                                             options=options) is True
                except ExpressionError:
                    matched = False
                if not matched:
                    continue
                try:
                    with self.session.begin_nested():
                        record = records.get(name, values["id"])
                        out = self.actions.perform(name, record, action, {})
                except AppError as error:
                    if error.code != "action_unavailable":
                        failed += 1
                        log.warning("schedule %s.%s left record %s: %s", name,
                                    schedule["api_name"], values["id"], error)
                    continue
                if out.get("version") != record["version"]:
                    changed += 1
        return changed, failed
