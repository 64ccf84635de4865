"""The metadata service (``IMetadataService``): an enterprise's metadata as its
admin changes it from the API, the object manager and the role routes.

Every change goes the one way ``apply_metadata`` and ``rollback_metadata`` go,
inside the caller's transaction; what follows an applied one is here, once, for
every entry point: its admin audit entry and the backfill jobs it needs, queued to
Celery after the commit. Roles are metadata too (``permissions.roles``): putting
or deleting one is a change of the enterprise's own layer."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.orm import Session
from zope.interface import implementer

from propolis.metadata import Document
from propolis.platform.audit import record_event
from propolis.platform.db import Database
from propolis.platform.errors import AppError, _
from propolis.platform.meta import services as meta
from propolis.platform.meta.effective import Effective, load_effective
from propolis.platform.meta.interfaces import IMetadataService
from propolis.platform.permissions import roles
from propolis.platform.permissions.grants import ADMIN
from propolis.platform.storage.platform_tables import jobs
from propolis.platform.tenancy.services import (
    Applied,
    apply_metadata,
    effective_for,
    rollback_metadata,
)

# queues the backfill job of an applied change, after the commit
Enqueue = Callable[[str], None]


def answer(applied: Applied, *, dry_run: bool, lang: str) -> dict[str, Any]:
    """What the API answers for a metadata change (in ``lang``)."""
    return {
        "version": applied.version,
        "dry_run": dry_run,
        "plan": applied.plan.as_json(),
        "steps": applied.plan.describe(lang),
        "jobs": applied.jobs,
    }


@implementer(IMetadataService)
class MetadataService:
    """The metadata of enterprise ``account`` (whose current effective metadata
    is ``effective``), changed as ``user_id`` in the sessions ``session`` (its
    storage) and ``sysdb``; ``enqueue`` queues a backfill job, ``ip`` goes into
    the audit entries, ``lang`` into the plans' descriptions."""

    def __init__(self, database: Database, account: str, effective: Effective,
                 session: Session, sysdb: Session, user_id: str | None, *,
                 enqueue: Enqueue, lang: str = "zh", ip: str | None = None) -> None:
        self.database = database
        self.account = account
        self.effective = effective
        self.session = session
        self.sysdb = sysdb
        self.user_id = user_id
        self.enqueue = enqueue
        self.lang = lang
        self.ip = ip

    @property
    def conn(self) -> Connection:
        return self.session.connection()

    def _audit(self, action: str, target: str | None, details: dict[str, Any]
               ) -> None:
        record_event(self.conn, actor_id=self.user_id, action=action, target=target,
                     details=details, ip=self.ip)

    def _applied(self, applied: Applied, action: str | None, target: str | None
                 ) -> Applied:
        if action is not None:
            self._audit(action, target, {"version": applied.version,
                                         "plan": applied.plan.describe("en")})
        for job_id in applied.jobs:
            self.enqueue(job_id)
        return applied

    def plan(self, documents: Sequence[Document]) -> Applied:
        return apply_metadata(self.database, self.account, documents,
                              session=self.session, sysdb=self.sysdb,
                              user_id=self.user_id, dry_run=True)

    def apply(self, documents: Sequence[Document], *, action: str | None,
              target: str | None, comment: str | None = None) -> Applied:
        applied = apply_metadata(self.database, self.account, documents,
                                 session=self.session, sysdb=self.sysdb,
                                 user_id=self.user_id, comment=comment)
        return self._applied(applied, action, target)

    def rollback(self, object: str, version: int, *, dry_run: bool = False
                 ) -> Applied:
        applied = rollback_metadata(self.database, self.account, object, version,
                                    session=self.session, sysdb=self.sysdb,
                                    user_id=self.user_id, dry_run=dry_run)
        return applied if dry_run else self._applied(applied, "metadata.rollback",
                                                     object)

    def answer(self, applied: Applied, *, dry_run: bool) -> dict[str, Any]:
        return answer(applied, dry_run=dry_run, lang=self.lang)

    def versions(self) -> list[meta.VersionInfo]:
        return meta.versions(self.session)

    def effective_at(self, version: int) -> Effective:
        return effective_for(self.database, self.account, version)

    def job(self, job_id: str) -> dict[str, Any] | None:
        row = self.conn.execute(select(jobs).where(jobs.c.id == job_id)).first()
        if row is None:
            return None
        progress = (row.done / row.total) if row.total else (
            1.0 if row.status == "done" else 0.0)
        return {"id": row.id, "kind": row.kind, "status": row.status,
                "total": row.total, "done": row.done,
                "progress": round(progress, 4), "error": row.error,
                "payload": row.payload, "created_at": row.created_at,
                "updated_at": row.updated_at}

    # -- roles ----------------------------------------------------------------------

    def roles(self) -> list[dict[str, Any]]:
        return roles.list_roles(self.conn, self.effective)

    def _apply_roles(self, documents: list[Any], comment: str) -> Effective:
        """Applies role documents; the new effective metadata (not cached: it is
        not committed yet)."""
        if not documents:
            return self.effective
        applied = self.apply(documents, action=None, target=None, comment=comment)
        return load_effective(self.conn, applied.version)

    def put_role(self, role: str, body: dict[str, Any]) -> dict[str, Any]:
        roles.check_role_name(role)
        if role == ADMIN:
            raise AppError("admin_role", _("The enterprise admin always has every "
                                           "permission; it cannot be changed"))
        label, grants = roles.parse_role(self.effective, role, body)
        documents = roles.role_documents(self.conn, self.effective, role, label,
                                         grants)
        effective = self._apply_roles(documents, f"role {role}")
        self._audit("role.update", role, {"label": label, "grants": grants,
                                          "version": effective.version})
        option = next(o for o in roles.role_options(effective) if o["value"] == role)
        return {**roles.describe_role(self.conn, effective, option),
                "version": effective.version}

    def delete_role(self, role: str) -> None:
        roles.check_deletable(self.conn, self.effective, role)
        documents = roles.role_documents(self.conn, self.effective, role, None, None)
        effective = self._apply_roles(documents, f"delete role {role}")
        self._audit("role.delete", role, {"version": effective.version})
