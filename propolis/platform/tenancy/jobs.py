"""The backfill jobs of applied metadata changes (the metadata service queues
them: ``tenancy.metadata``).

After a metadata change adds a formula, autonumber or rollup field to an object
that already has rows, the values of the existing rows are computed in batches by
a Celery task, with progress in the ``jobs`` table
(``GET /api/v1/jobs/{id}``). Each batch is a request of its own, whose record
service (acting as the system) fills it. Re-running a job is harmless: formulas
and rollups are recomputed to the same values, autonumbers go only to rows that
have none."""

from __future__ import annotations

import datetime as dt
import logging

from pyramid.registry import Registry
from sqlalchemy import func, select, update

from propolis.platform.db import Database
from propolis.platform.records.interfaces import IRecordService
from propolis.platform.storage.platform_tables import jobs
from propolis.platform.tasks import celery_app, worker_registry
from propolis.platform.tenancy.services import current_version, effective_for
from propolis.platform.web.offline import service_request

log = logging.getLogger(__name__)
BATCH = 1000


@celery_app.task(name="propolis.backfill", acks_late=True)
def backfill(account: str, job_id: str) -> None:
    run_backfill(worker_registry(), account, job_id)


def _set(database: Database, account: str, job_id: str, **values: object) -> None:
    with database.tenant_engine(account).begin() as conn:
        conn.execute(update(jobs).where(jobs.c.id == job_id).values(
            updated_at=dt.datetime.now(dt.UTC), **values))


def run_backfill(registry: Registry, account: str, job_id: str,
                 batch: int = BATCH) -> None:
    """Fills the job's fields on every existing row, one transaction per batch so
    that progress is visible and a failure keeps what was done."""
    database: Database = registry.database
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
            with service_request(registry, account) as request:
                records = request.find_service(IRecordService)
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
