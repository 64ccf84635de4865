"""Large imports as Celery jobs, with progress in the ``jobs`` table
(``GET /api/v1/jobs/{id}``).

The API keeps the uploaded file in the enterprise's file storage, records a job
(``kind`` ``import``: the object, the file, the options, who imports) and sends
the task after its commit. The worker imports the file as that user, in their
language, a batch per transaction: after each batch the job's ``done`` is
written and committed with the batch, so progress shows while it runs and what
was committed stays if the worker dies (a job found ``running`` when its task
is delivered again is failed, saying how many rows were kept, rather than run
twice). The report is the job's
``payload.report`` when it is ``done``; a file that turns out unreadable fails
the job (``error``), the batches before that kept (the report of a failed job is
not written: ``done`` says how many rows were gone through)."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any, BinaryIO

from pyramid.registry import Registry
from pyramid.request import Request
from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session
from zope.sqlalchemy.datamanager import STATUS_CHANGED, join_transaction

from propolis.platform.errors import AppError, _, translate
from propolis.platform.exchange.imports import ImportOptions
from propolis.platform.exchange.interfaces import IImportService
from propolis.platform.exchange.sheets import count_rows, file_format
from propolis.platform.ids import new_id
from propolis.platform.permissions.actor import Actor
from propolis.platform.records.interfaces import IFileService
from propolis.platform.storage.platform_tables import jobs
from propolis.platform.tasks import celery_app, worker_registry
from propolis.platform.web.offline import service_request

log = logging.getLogger(__name__)
# a file up to this size is imported in the request (the API's answer is the
# report); a larger one, or any with ``async``, as a job
SYNC_BYTES = 1024 * 1024
INTERRUPTED = _("The import was interrupted: the first {done} rows were gone through "
                "and kept; import only the rest")


def queue_import(request: Request, object: str, source: BinaryIO,
                 filename: str | None, options: ImportOptions) -> str:
    """Keeps the file, records the job and sends it after the commit; its id."""
    file_format(filename)  # a 400 now rather than a failed job
    stored = request.find_service(IFileService).store(
        filename or "import", "application/octet-stream", source)
    actor = request.actor
    now = dt.datetime.now(dt.UTC)
    job_id = new_id()
    request.db.execute(insert(jobs).values(
        id=job_id, kind="import", status="queued", total=0, done=0,
        payload={"object": object, "file": stored.id, "filename": filename,
                 "options": options.as_json(), "lang": request.lang,
                 "actor": {"user_id": actor.user_id,
                           "department_id": actor.department_id,
                           "roles": sorted(actor.roles)}},
        created_by=actor.user_id, created_at=now, updated_at=now))
    request.task(import_job).delay(request.tenant.account, job_id)
    return job_id


@celery_app.task(name="propolis.import", acks_late=True)
def import_job(account: str, job_id: str) -> None:
    run_import(worker_registry(), account, job_id)


def _set(session: Session, job_id: str, **values: Any) -> None:
    session.execute(update(jobs).where(jobs.c.id == job_id).values(
        updated_at=dt.datetime.now(dt.UTC), **values))


def _next_transaction(request: Request) -> None:
    """Commits what the request did so far and goes on in a new transaction."""
    request.tm.commit()
    request.tm.begin()
    join_transaction(request.db, STATUS_CHANGED, transaction_manager=request.tm)


def run_import(registry: Registry, account: str, job_id: str) -> None:
    """Runs the import job (see the module docstring); re-running a job that is
    done does nothing."""
    with service_request(registry, account) as request:
        job = request.db.execute(select(jobs).where(jobs.c.id == job_id)).first()
    if job is None or job.status in ("done", "failed"):
        return
    if job.status == "running":
        # the worker running it died (the task is delivered again): running it
        # again would create the committed batches' records twice
        _failed(registry, account, job_id, translate(
            INTERRUPTED, job.payload.get("lang") or "zh").format(done=job.done))
        return
    payload = dict(job.payload)
    who = payload["actor"]
    actor = Actor(user_id=who["user_id"], department_id=who["department_id"],
                  roles=frozenset(who["roles"]))
    options = ImportOptions(**payload["options"])
    try:
        with service_request(registry, account, actor,
                             lang=payload["lang"]) as request:
            stored = request.find_service(IFileService).get(payload["file"])
            fmt = file_format(payload["filename"])
            with open(stored.path, "rb") as source:
                total = max(count_rows(source, fmt) - 1, 0)
                _set(request.db, job_id, status="running", total=total, done=0)
                _next_transaction(request)

                def progress(done: int) -> None:
                    _set(request.db, job_id, done=min(done, total))
                    _next_transaction(request)

                report = request.find_service(IImportService).run(
                    payload["object"], source, payload["filename"], options,
                    progress)
            _set(request.db, job_id, status="done", done=total,
                 payload={**payload, "report": report})
    except AppError as error:
        message = translate(error.message, payload["lang"])
        _failed(registry, account, job_id, message)
    except Exception as exc:
        log.exception("import %s of %s failed", job_id, account)
        _failed(registry, account, job_id, str(exc)[:2000])
        raise


def _failed(registry: Registry, account: str, job_id: str, message: str) -> None:
    with service_request(registry, account) as request:
        _set(request.db, job_id, status="failed", error=message)

