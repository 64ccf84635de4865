"""The due reminder of reports (报数): every few minutes
(``propolis.report_reminder_seconds``) beat tells, in every active enterprise, the
assignees who have not filled the current period of a report past its due time,
once per report and period (``ReportService.remind``)."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from pyramid.registry import Registry
from sqlalchemy import select

from propolis.platform.storage.system import Enterprise
from propolis.platform.tasks import celery_app, worker_registry
from propolis.platform.web.offline import service_request
from propolis.reports.interfaces import IReportService

log = logging.getLogger(__name__)
REMIND_TASK = "propolis.reports.remind"


@celery_app.task(name=REMIND_TASK, acks_late=True)
def remind_task() -> int:
    return len(remind(worker_registry()))


def remind(registry: Registry, now: dt.datetime | None = None
           ) -> list[dict[str, Any]]:
    """The reminders due now in every active enterprise, one transaction each (a
    failing enterprise is logged and does not stop the others)."""
    now = now or dt.datetime.now(dt.UTC)
    with registry.database.system_sessionmaker() as sysdb:
        accounts = list(sysdb.execute(select(Enterprise.account).where(
            Enterprise.status == "active").order_by(Enterprise.account)).scalars())
    sent: list[dict[str, Any]] = []
    for account in accounts:
        try:
            with service_request(registry, account) as request:
                found = request.find_service(IReportService).remind(now)
        except Exception:
            log.exception("the report reminders of %s failed", account)
            continue
        sent += [{"account": account, **item} for item in found]
    if sent:
        log.info("report reminders: %s", sent)
    return sent
