"""Periodic approval work: the SLA pass (reminders, then escalation, for steps
past their time limit) over every active enterprise, run by Celery beat every
``propolis.approval_sla_seconds`` (see ``propolis.platform.tasks.configure``)."""

from __future__ import annotations

import logging

from sqlalchemy import select

from propolis.platform.db import Database
from propolis.platform.permissions.actor import Actor
from propolis.platform.storage.system import Enterprise
from propolis.platform.tasks import celery_app, worker_database
from propolis.platform.tenancy.services import current_version, effective_for
from propolis.platform.workflow.services import ApprovalService

log = logging.getLogger(__name__)
SYSTEM = Actor(user_id=None, roles=frozenset({"admin"}))
SLA_TASK = "propolis.approvals.sla"


@celery_app.task(name=SLA_TASK, acks_late=True)
def approval_sla() -> dict[str, int]:
    return run_sla(worker_database())


def run_sla(database: Database) -> dict[str, int]:
    """One SLA pass over every active enterprise, one transaction each (a failing
    enterprise is logged and does not stop the others). Running it twice is
    harmless: a reminder and an escalation happen once per step activation."""
    with database.system_sessionmaker() as sysdb:
        accounts = list(sysdb.execute(select(Enterprise.account).where(
            Enterprise.status == "active").order_by(Enterprise.account)).scalars())
    totals = {"reminded": 0, "escalated": 0}
    for account in accounts:
        try:
            effective = effective_for(database, account,
                                      current_version(database, account))
            with database.tenant_session(account) as session, session.begin():
                counts = ApprovalService(session, effective, SYSTEM).process_overdue()
        except Exception:
            log.exception("approval SLA pass of %s failed", account)
            continue
        for key, value in counts.items():
            totals[key] += value
    if any(totals.values()):
        log.info("approval SLA pass: %s", totals)
    return totals
