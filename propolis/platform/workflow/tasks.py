"""Periodic approval work: the SLA pass (reminders, then escalation, for steps
past their time limit) over every active enterprise, run by Celery beat every
``propolis.approval_sla_seconds`` (see ``propolis.platform.tasks.configure``)."""

from __future__ import annotations

import logging

from pyramid.registry import Registry
from sqlalchemy import select

from propolis.platform.storage.system import Enterprise
from propolis.platform.tasks import celery_app, worker_registry
from propolis.platform.web.offline import service_request
from propolis.platform.workflow.interfaces import IApprovalService

log = logging.getLogger(__name__)
SLA_TASK = "propolis.approvals.sla"


@celery_app.task(name=SLA_TASK, acks_late=True)
def approval_sla() -> dict[str, int]:
    return run_sla(worker_registry())


def run_sla(registry: Registry) -> dict[str, int]:
    """One SLA pass over every active enterprise of the application whose
    registry is given, one transaction each, as the system (a failing enterprise
    is logged and does not stop the others). Running it twice is harmless: a
    reminder and an escalation happen once per step activation."""
    with registry.database.system_sessionmaker() as sysdb:
        accounts = list(sysdb.execute(select(Enterprise.account).where(
            Enterprise.status == "active").order_by(Enterprise.account)).scalars())
    totals = {"reminded": 0, "escalated": 0}
    for account in accounts:
        try:
            with service_request(registry, account) as request:
                counts = request.find_service(IApprovalService).process_overdue()
        except Exception:
            log.exception("approval SLA pass of %s failed", account)
            continue
        for key, value in counts.items():
            totals[key] += value
    if any(totals.values()):
        log.info("approval SLA pass: %s", totals)
    return totals
