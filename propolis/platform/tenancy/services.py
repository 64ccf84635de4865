"""Enterprises: creating one, and changing its metadata.

An enterprise's storage and the system database cannot share a transaction, so each
change commits the enterprise's side first and then points the enterprise row at the
new metadata version (see ``propolis.platform.meta.services``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update
from sqlalchemy.orm import Session

from propolis.metadata import Document, validate_documents
from propolis.metadata.extensions import (
    APPLIED_KINDS,
    builtin_extensions,
    extension_documents,
)
from propolis.metadata.layering import merge_layers
from propolis.metadata.validation import load_system_objects
from propolis.platform.db import ACCOUNT_RE, Database
from propolis.platform.errors import AppError, Conflict, NotFound, _
from propolis.platform.ids import new_id
from propolis.platform.meta import services as meta
from propolis.platform.meta.effective import Effective, effective_cache, load_effective
from propolis.platform.records.duplicates import rebuild_keys, rules_of
from propolis.platform.storage.plan import Plan
from propolis.platform.storage.platform_tables import extension_installs, jobs
from propolis.platform.storage.system import Enterprise


@dataclass(frozen=True)
class CreatedEnterprise:
    enterprise_id: int
    account: str
    admin_id: str
    department_id: str


@dataclass
class Applied:
    """The outcome of a metadata change: its version, plan and the backfill jobs
    (ids) that fill computed values of existing rows."""

    version: int
    plan: Plan
    jobs: list[str] = field(default_factory=list)


def enterprise_row(conn: Session | Connection, account: str) -> Enterprise:
    session = conn if isinstance(conn, Session) else Session(bind=conn)
    found = session.execute(
        select(Enterprise).where(Enterprise.account == account)
    ).scalar_one_or_none()
    if found is None:
        raise NotFound("no_such_enterprise",
                       _("There is no enterprise '${account}'",
                         mapping={"account": account}))
    return found


def current_version(database: Database, account: str) -> int:
    with database.system_sessionmaker() as session:
        return enterprise_row(session, account).metadata_version


def effective_for(database: Database, account: str, version: int) -> Effective:
    def load() -> Effective:
        # read-only: inside a request whose own session holds the SQLite file's
        # write lock, a second writer would wait for it until the busy timeout
        with database.tenant_engine(account).connect().execution_options(
                readonly=True) as conn:
            return load_effective(conn, version)

    return effective_cache.get(account, version, load)


def lower_layers(conn: Connection, extensions: Sequence[str],
                  replaced: Mapping[str, list[dict[str, Any]]] | None = None,
                  ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The system objects, and the documents (objects and approvals) of the
    enterprise's extensions in the order they were installed: the layer stored
    for each (``extension_installs``), or, for a built-in extension installed
    before extensions were recorded, its documents in the catalogue.
    ``replaced``: layers about to be stored, by extension."""
    # only documents are read here, never an extension's code
    stored = {row.api_name: row.layer
              for row in conn.execute(select(extension_installs.c.api_name,
                                             extension_installs.c.layer))}
    stored.update(replaced or {})
    return load_system_objects(), [
        doc for name in extensions
        for doc in (stored[name] if name in stored else extension_documents(name))]


def validate_for(
    conn: Connection, effective: Effective,
    documents: Iterable[Document | dict[str, Any]], extensions: Sequence[str] = (),
) -> list[dict[str, Any]]:
    """Validates an enterprise's own documents against what it already has: other
    objects may be referred to; an object of a lower layer (system, extension) is
    extended, not replaced; the enterprise's own earlier document is replaced.
    Objects, approval definitions, reports, charts and dashboards are applied
    here; the other kinds (roles, extensions) where they are managed."""
    docs = [d if isinstance(d, Document) else Document(dict(d)) for d in documents]
    names = {d.api_name for d in docs if d.kind in (None, "object")}
    system, ext = lower_layers(conn, extensions)
    lower = merge_layers(system, [d for d in ext if d["kind"] == "object"], [])
    existing = {n: o.doc for n, o in effective.objects.items() if n not in names}
    existing.update({n: lower[n] for n in names if n in lower})
    others = [d for d in docs if d.kind not in (None, *APPLIED_KINDS)]
    if others:
        raise AppError("not_an_object", _("Only object, approval, report, chart and "
                                          "dashboard documents (kind: object, "
                                          "approval, report, chart, dashboard) can "
                                          "be applied here"),
            {d.source: [_("kind is ${kind}; submit it where that kind is managed",
                          mapping={"kind": d.kind})]
             for d in others})
    batch = {d.api_name for d in docs if d.kind == "chart"}
    charts = {n: c for n, c in effective.charts.items() if n not in batch}
    return validate_documents(docs, existing=existing, charts=charts)


def apply_metadata(
    database: Database,
    account: str,
    documents: Iterable[Document | dict[str, Any]],
    *,
    session: Session | None = None,
    sysdb: Session | None = None,
    user_id: str | None = None,
    comment: str | None = None,
    dry_run: bool = False,
) -> Applied:
    """Validates, plans and applies an enterprise's object documents.

    With ``session``/``sysdb`` (a web request's, joined to its transaction) the work
    happens in them and the caller's transaction commits it; without, this function
    commits the enterprise's storage, then the system row. Backfill jobs are recorded
    here; the caller runs or enqueues them after the commit."""

    def change(conn: Connection, enterprise: Enterprise, effective: Effective,
               ) -> tuple[int, Plan]:
        normalized = validate_for(conn, effective, documents, enterprise.extensions)
        system, ext = lower_layers(conn, enterprise.extensions)
        return meta.apply_documents(
            conn, account=account, current_version=enterprise.metadata_version,
            documents=normalized, system_objects=system, extension_objects=ext,
            user_id=user_id, comment=comment, dry_run=dry_run)

    return change_metadata(database, account, change, session, sysdb, user_id, dry_run)


def rollback_metadata(
    database: Database,
    account: str,
    object_name: str,
    to_version: int,
    *,
    session: Session | None = None,
    sysdb: Session | None = None,
    user_id: str | None = None,
    dry_run: bool = False,
) -> Applied:
    """A new version in which ``object_name`` is as the enterprise had it at
    ``to_version``; fields added since are archived with their data."""

    def change(conn: Connection, enterprise: Enterprise, effective: Effective,
               ) -> tuple[int, Plan]:
        system, ext = lower_layers(conn, enterprise.extensions)
        return meta.rollback_object(
            conn, account=account, object_name=object_name, to_version=to_version,
            current_version=enterprise.metadata_version, system_objects=system,
            extension_objects=ext, user_id=user_id, dry_run=dry_run)

    return change_metadata(database, account, change, session, sysdb, user_id, dry_run)


Change = Callable[[Connection, Enterprise, Effective], tuple[int, Plan]]


def change_metadata(
    database: Database,
    account: str,
    change: Change,
    session: Session | None = None,
    sysdb: Session | None = None,
    user_id: str | None = None,
    dry_run: bool = False,
    add_extension: str | None = None,
    remove_extension: str | None = None,
) -> Applied:
    """Runs ``change`` (which applies a new metadata version in the enterprise's
    storage and returns it with its plan) in ``session`` and ``sysdb`` (or sessions
    of its own, committed here), records its backfill jobs and points the
    enterprise at the new version (appending ``add_extension`` to its
    extensions)."""
    own_sys = sysdb is None
    sysdb = sysdb or database.system_sessionmaker()
    own_tenant = session is None
    tenant = session or database.tenant_session(account)
    try:
        enterprise = enterprise_row(sysdb, account)
        version = enterprise.metadata_version
        conn = tenant.connection()
        effective = effective_cache.get(account, version,
                                        lambda: load_effective(conn, version))
        new_version, plan = change(conn, enterprise, effective)
        applied = Applied(new_version, plan)
        if dry_run:
            if own_tenant:
                tenant.rollback()
            return applied
        applied.jobs = _record_backfills(conn, plan, user_id)
        _rekey_duplicates(conn, effective, effective_cache.get(
            account, new_version, lambda: load_effective(conn, new_version)))
        if own_tenant:
            tenant.commit()
        values: dict[str, Any] = {"metadata_version": new_version}
        if add_extension is not None or remove_extension is not None:
            kept = [n for n in enterprise.extensions
                    if n not in (add_extension, remove_extension)]
            values["extensions"] = kept + ([add_extension] if add_extension else [])
        sysdb.execute(update(Enterprise).where(Enterprise.id == enterprise.id)
                      .values(**values))
        if own_sys:
            sysdb.commit()
        return applied
    finally:
        if own_tenant:
            tenant.close()
        if own_sys:
            sysdb.close()


def _rekey_duplicates(conn: Connection, old: Effective, new: Effective) -> None:
    """Rewrites the compared keys of the objects whose ``duplicates:`` rules
    changed (records made before a rule are checked against too)."""
    for name, obj in new.objects.items():
        before = old.object(name)
        if rules_of(obj.doc) != (rules_of(before.doc) if before is not None else []):
            rebuild_keys(conn, new, name)


def _record_backfills(conn: Connection, plan: Plan, user_id: str | None) -> list[str]:
    """One job per object whose new computed fields need values on existing rows."""
    by_object: dict[str, list[str]] = {}
    for obj, fname in plan.backfills:
        by_object.setdefault(obj, []).append(fname)
    now = dt.datetime.now(dt.UTC)
    ids = []
    for obj, fields in by_object.items():
        job_id = new_id()
        conn.execute(insert(jobs).values(
            id=job_id, kind="backfill", status="pending", total=0, done=0,
            payload={"object": obj, "fields": fields}, created_by=user_id,
            created_at=now, updated_at=now))
        ids.append(job_id)
    return ids


def create_enterprise(
    database: Database,
    *,
    account: str,
    name: str,
    admin_phone: str,
    admin_password: str,
    admin_name: str = "管理员",
    extensions: Sequence[str] = (),
) -> CreatedEnterprise:
    """A new enterprise: its storage, the system objects, a head-office department
    and its first user, the enterprise admin. Nothing is left behind on failure."""
    from propolis.platform.permissions.actor import Actor
    from propolis.platform.records.services import RecordService

    account = account.strip().lower()
    problems = {}
    if not ACCOUNT_RE.match(account):
        problems["account"] = [_("The account must be 2–31 lower-case letters, "
                                 "digits or underscores, starting with a letter")]
    if not name.strip():
        problems["name"] = [_("The enterprise name is required")]
    if len(admin_password) < 8:
        problems["admin_password"] = [_("The password needs at least 8 characters")]
    unknown = [n for n in extensions if n not in builtin_extensions()]
    if unknown:
        problems["extension"] = [
            _("there is no extension '${n}'", mapping={"n": n}) for n in unknown]
    if problems:
        raise AppError("invalid", _("Invalid enterprise details"),
                       problems)

    with database.system_sessionmaker() as sysdb, sysdb.begin():
        taken = sysdb.execute(select(Enterprise.id).where(Enterprise.account == account)
                              ).first()
        if taken:
            raise Conflict("account_taken", _("The account '${account}' is taken",
                                              mapping={"account": account}),
                           {"account": [_("already taken")]})
        enterprise_id = sysdb.execute(insert(Enterprise).values(
            account=account, name=name.strip(), status="pending",
            extensions=list(extensions), metadata_version=0).returning(Enterprise.id)
        ).scalar_one()
    try:
        meta.create_tenant_storage(database, account)
        applied = apply_metadata(database, account, [], comment="system objects")
        effective = effective_for(database, account, applied.version)
        with database.tenant_session(account) as session, session.begin():
            records = RecordService(session, effective,
                                    Actor(user_id=None, roles=frozenset({"admin"})))
            department = records.create("department", {"name": "总部"})
            admin_id = records.create("user", {
                "name": admin_name, "phone": admin_phone,
                "password": admin_password,
                "main_department": department["id"],
                "roles": ["admin", "employee"], "status": "active",
            })["id"]
            # the first user owns what was created before there was a user
            records.adopt_unowned(admin_id)
        with database.system_sessionmaker() as sysdb, sysdb.begin():
            sysdb.execute(update(Enterprise).where(Enterprise.id == enterprise_id)
                          .values(status="active"))
    except BaseException:
        database.drop_tenant_storage(account)
        with database.system_sessionmaker() as sysdb, sysdb.begin():
            sysdb.execute(delete(Enterprise).where(Enterprise.id == enterprise_id))
        raise
    return CreatedEnterprise(enterprise_id, account, admin_id, department["id"])
