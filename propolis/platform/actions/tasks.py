"""The schedules' periodic pass: every few minutes (``propolis.schedule_seconds``,
see ``propolis.platform.tasks.configure``) beat runs, in every active enterprise,
the schedules that are due and have not run in their period."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from pyramid.registry import Registry
from sqlalchemy import select

from propolis.platform.actions.interfaces import IScheduleService
from propolis.platform.storage.system import Enterprise
from propolis.platform.tasks import celery_app, worker_registry
from propolis.platform.web.offline import service_request

log = logging.getLogger(__name__)
SCHEDULES_TASK = "propolis.schedules.run"


@celery_app.task(name=SCHEDULES_TASK, acks_late=True)
def run_schedules() -> int:
    return len(run_due(worker_registry()))


def run_due(registry: Registry, now: dt.datetime | None = None
            ) -> list[dict[str, Any]]:
    """The due schedules of every active enterprise, one transaction each, as
    the system (a failing enterprise is logged and does not stop the others).
    Running it twice in a period is harmless: a period runs once."""
    with registry.database.system_sessionmaker() as sysdb:
        accounts = list(sysdb.execute(select(Enterprise.account).where(
            Enterprise.status == "active").order_by(Enterprise.account)).scalars())
    ran: list[dict[str, Any]] = []
    for account in accounts:
        try:
            with service_request(registry, account) as request:
                results = request.find_service(IScheduleService).run(
                    now, due_only=True)
        except Exception:
            log.exception("the schedules of %s failed", account)
            continue
        ran += [{"account": account, **result} for result in results]
    if ran:
        log.info("schedules run: %s", ran)
    return ran
