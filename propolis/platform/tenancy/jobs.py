"""What follows an applied metadata change: its audit entry and its backfill jobs.

After a metadata change adds a formula, autonumber or rollup field to an object
that already has rows, the values of the existing rows are computed in batches by
a Celery task, with progress in the ``jobs`` table
(``GET /api/v1/jobs/{id}``). Re-running a job is harmless: formulas and rollups are
recomputed to the same values, autonumbers go only to rows that have none."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from pyramid.request import Request
from sqlalchemy import func, select, update

from propolis.platform.audit import record_event
from propolis.platform.db import Database
from propolis.platform.permissions.actor import Actor
from propolis.platform.records.services import RecordService
from propolis.platform.storage.platform_tables import jobs
from propolis.platform.tasks import celery_app, worker_database
from propolis.platform.tenancy.services import Applied, current_version, effective_for

log = logging.getLogger(__name__)
BATCH = 1000
SYSTEM = Actor(user_id=None, roles=frozenset({"admin"}))


@celery_app.task(name="propolis.backfill", acks_late=True)
def backfill(account: str, job_id: str) -> None:
    run_backfill(worker_database(), account, job_id)


def _set(database: Database, account: str, job_id: str, **values: object) -> None:
    with database.tenant_engine(account).begin() as conn:
        conn.execute(update(jobs).where(jobs.c.id == job_id).values(
            updated_at=dt.datetime.now(dt.UTC), **values))


def run_backfill(database: Database, account: str, job_id: str,
                 batch: int = BATCH) -> None:
    """Fills the job's fields on every existing row, one transaction per batch so
    that progress is visible and a failure keeps what was done."""
    engine = database.tenant_engine(account)
    with engine.connect() as conn:
        job = conn.execute(select(jobs).where(jobs.c.id == job_id)).first()
    if job is None or job.status == "done":
        return
    obj, fields = job.payload["object"], job.payload["fields"]
    effective = effective_for(database, account, current_version(database, account))
    table = effective.tables.main[obj]
    with engine.connect() as conn:
        # records in the recycle bin too: restored, they must have their values
        total = conn.execute(select(func.count()).select_from(table)).scalar_one()
    _set(database, account, job_id, status="running", total=total, done=0)
    done, after = 0, None
    try:
        while True:
            with database.tenant_session(account) as session, session.begin():
                records = RecordService(session, effective, SYSTEM)
                after, count = records.backfill(obj, fields, after=after, limit=batch)
            done += count
            _set(database, account, job_id, done=min(done, total))
            if after is None:
                break
    except Exception as exc:
        log.exception("backfill %s of %s failed", job_id, account)
        _set(database, account, job_id, status="failed", error=str(exc)[:2000])
        raise
    _set(database, account, job_id, status="done", done=total)


def after_apply(request: Request, applied: Applied, dry_run: bool,
                action: str, target: str | None = None) -> dict[str, Any]:
    """What every applied metadata change does next, for the API and the object
    manager alike: the audit entry, the backfill tasks, the answer's body."""
    if not dry_run:
        record_event(request.db.connection(), actor_id=request.actor.user_id,
                     action=action, target=target or request.matchdict["object"],
                     details={"version": applied.version,
                              "plan": applied.plan.describe("en")},
                     ip=request.client_addr)
        for job_id in applied.jobs:
            request.task(backfill).delay(request.identity.account, job_id)
    return {
        "version": applied.version,
        "dry_run": dry_run,
        "plan": applied.plan.as_json(),
        "steps": applied.plan.describe(request.lang),
        "jobs": applied.jobs,
    }
