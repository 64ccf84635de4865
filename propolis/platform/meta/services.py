"""An enterprise's metadata versions: applying documents, listing the versions,
rolling one object back.

Each change is a new row of the tenant's ``meta_versions``: the tenant's own layer
of documents after the change, the effective metadata it produced and the storage
plan that was applied. The functions run in the caller's transaction on the
tenant's storage and never commit; a refused or failing change leaves no trace.

The enterprise row in the system database says which version is current
(``Enterprise.metadata_version``, which keys the effective-metadata cache). The two
databases cannot share a transaction, so the CALLER sets it to the returned version
after the tenant transaction has committed. Should that second step fail, the
tenant is ahead of the enterprise row and every change is refused as a conflict
until the row is set to ``latest_version``.

Metadata errors of the documents themselves (``MetadataError`` from layering) and
storage refusals (``PlanError``) propagate unchanged.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, func, insert, select
from sqlalchemy.orm import Session

from propolis.metadata.layering import merge_layers
from propolis.metadata.reporting import entry_object
from propolis.platform.db import Database, dialect_for
from propolis.platform.errors import Conflict, NotFound, _
from propolis.platform.storage.applier import (
    add_missing_columns,
    apply_plan,
    drop_object_tables,
    upgrade_recycle_bin_indexes,
)
from propolis.platform.storage.plan import Plan
from propolis.platform.storage.planner import plan_changes
from propolis.platform.storage.platform_tables import (
    meta_versions,
    notifications,
    platform_metadata,
)

Doc = dict[str, Any]


def create_tenant_storage(database: Database, account: str) -> None:
    """Creates an enterprise's storage (its schema or file), the platform tables
    in it and what its dialect prepares once (``Dialect.prepare_tenant``)."""
    database.create_tenant_storage(account)
    with database.tenant_engine(account).begin() as conn:
        platform_metadata.create_all(conn)
        database.dialect.prepare_tenant(conn)


def upgrade_tenant_storage(conn: Connection) -> None:
    """Brings an enterprise's storage made by an older release up to this one, in
    the caller's transaction (``propolis initdb``): the platform tables it lacks,
    and the recycle-bin index of every object table."""
    platform_metadata.create_all(conn)  # only what is missing
    add_missing_columns(conn, notifications, ("object", "record_id"))
    objects = _stored(conn, latest_version(conn)).effective.get("objects", {})
    upgrade_recycle_bin_indexes(conn, objects)


@dataclass(frozen=True)
class VersionInfo:
    """One metadata version as listed to admins; ``summary`` counts the storage
    operations of its plan by kind."""

    version: int
    created_at: dt.datetime
    created_by: str | None
    comment: str | None
    summary: dict[str, int]


@dataclass(frozen=True)
class _Stored:
    version: int
    documents: list[Doc]
    effective: Mapping[str, Any]


def _connection(target: Session | Connection) -> Connection:
    return target.connection() if isinstance(target, Session) else target


def _check_account(conn: Connection, account: str) -> None:
    """Refuses a connection to another enterprise's storage than ``account``'s."""
    dialect = dialect_for(conn)
    found = dialect.storage_of(conn)
    if found != dialect.storage_key(account):
        raise ValueError(f"connection is to {found!r}, not to {account!r}'s storage")


def latest_version(target: Session | Connection) -> int:
    """The newest stored metadata version (0 before the first change)."""
    conn = _connection(target)
    return int(conn.execute(select(func.max(meta_versions.c.version))).scalar() or 0)


def _stored(conn: Connection, version: int) -> _Stored:
    if version == 0:
        return _Stored(0, [], {"objects": {}})
    row = conn.execute(
        select(meta_versions.c.documents, meta_versions.c.effective).where(
            meta_versions.c.version == version
        )
    ).first()
    if row is None:
        raise NotFound(
            "version_not_found",
            _("There is no metadata version ${version}.", mapping={"version": version}),
        )
    return _Stored(version, list(row.documents), row.effective)


def _begin_change(
    conn: Connection, account: str, current_version: int, dry_run: bool
) -> _Stored:
    """Checks the connection, serialises changes of this enterprise and refuses
    documents prepared against an older version than the stored one."""
    _check_account(conn, account)
    if not dry_run:
        # readers go on; a second change waits here, then sees the new version and
        # is refused below instead of failing on the version's primary key
        dialect_for(conn).lock_table(conn, meta_versions.name)
    latest = latest_version(conn)
    if latest != current_version:
        raise Conflict(
            "metadata_version_conflict",
            _("The metadata changed meanwhile (now version ${latest}, the change was "
              "made on version ${current_version}); reload and submit again.",
              mapping={"latest": latest, "current_version": current_version}),
        )
    return _stored(conn, latest)


Layer = list[Doc]


def _kind(doc: Doc) -> str:
    return str(doc.get("kind", "object"))


def _objects(docs: Sequence[Doc]) -> list[Doc]:
    return [doc for doc in docs if _kind(doc) == "object"]


# the kinds taken whole by name (never merged), each kept under its key of the
# effective metadata
NAMED_KINDS = {"approval": "approvals", "report": "reports", "chart": "charts",
               "dashboard": "dashboards"}


def _named(extension_docs: Sequence[Doc], layer: Sequence[Doc]) -> dict[str, Any]:
    """Approval definitions, reports, charts and dashboards by kind and api_name:
    the enterprise's own replace an extension's of the same name (a definition is
    taken whole, never merged)."""
    found: dict[str, Any] = {key: {} for key in NAMED_KINDS.values()}
    for doc in [*extension_docs, *layer]:
        key = NAMED_KINDS.get(_kind(doc))
        if key is not None:
            found[key][doc["api_name"]] = dict(doc)
    return found


@dataclass(frozen=True)
class _Change:
    """What every metadata change shares: whose, on which version, the layers
    beneath the enterprise's own, who makes it and whether it is only a preview."""

    account: str
    current_version: int
    system_objects: Sequence[Doc]
    extension_objects: Sequence[Doc]
    user_id: str | None
    comment: str | None
    dry_run: bool
    archive: Collection[str] = ()
    purge: Collection[str] = ()

    def run(
        self,
        target: Session | Connection,
        new_layer: Callable[[Connection, Layer], Layer],
    ) -> tuple[int, Plan]:
        """Begins the change, makes the enterprise's new layer from its current
        one with ``new_layer``, plans it against the current effective objects,
        applies the plan and stores it as the next version."""
        conn = _connection(target)
        previous = _begin_change(conn, self.account, self.current_version, self.dry_run)
        layer = new_layer(conn, previous.documents)
        objects = merge_layers(list(self.system_objects),
                               _objects(self.extension_objects), _objects(layer))
        named = _named(self.extension_objects, layer)
        for report in named["reports"].values():
            entries = entry_object(report)
            objects[entries["api_name"]] = entries
        old, archived = _archiving(previous.effective, objects, self.archive)
        purged = {name: archived.pop(name) for name in self.purge if name in archived}
        plan = plan_changes(old, objects, dialect=dialect_for(conn).name)
        version = previous.version + 1
        if self.dry_run:
            return version, plan
        apply_plan(conn, plan)
        drop_object_tables(conn, purged)
        conn.execute(
            insert(meta_versions).values(
                version=version,
                created_at=dt.datetime.now(dt.UTC),
                created_by=self.user_id,
                comment=self.comment,
                documents=layer,
                effective={**previous.effective, "objects": plan.effective,
                           **named, "archived_objects": archived},
                plan=plan.as_json(),
            )
        )
        return version, plan


def _archiving(effective: Mapping[str, Any], objects: Mapping[str, Doc],
               archive: Collection[str]) -> tuple[dict[str, Doc], dict[str, Doc]]:
    """What the planner compares the new objects with, and the archived objects
    after the change. Objects in ``archive`` (an uninstalled extension's) leave
    the metadata while their tables and records stay where they are, kept with
    their last documents under ``archived_objects``; an archived object defined
    again is compared with that document, so it comes back with its records,
    as an archived field does."""
    current = dict(effective.get("objects", {}))
    archived = dict(effective.get("archived_objects", {}))
    for name in archive:
        if name in current and name not in objects:
            archived[name] = current.pop(name)
    for name in list(archived):
        if name in objects:
            current[name] = archived.pop(name)
    return current, archived


def apply_documents(
    target: Session | Connection,
    *,
    account: str,
    current_version: int,
    documents: Sequence[Doc],
    system_objects: Sequence[Doc],
    extension_objects: Sequence[Doc],
    user_id: str | None,
    comment: str | None = None,
    dry_run: bool = False,
    without: Collection[tuple[str, str]] = (),
    archive: Collection[str] = (),
    purge: Collection[str] = (),
) -> tuple[int, Plan]:
    """Applies object, approval, report, chart and dashboard documents to an
    enterprise and returns ``(version, plan)``.

    ``documents`` (validated, normalized) replace, by kind and api_name, the
    documents of the same objects (approvals …) in the enterprise's own layer; the
    others of that layer stay, but those ``without`` names (kind, api_name): an
    extension's upgrade folds the enterprise's changes of its documents into the
    extension layer. The objects named in ``archive`` may disappear: their tables
    stay, archived (an extension's uninstall, see ``_archiving``); the archived
    objects named in ``purge`` are dropped, tables and records.
    ``extension_objects`` may hold the extensions' approvals, reports, charts and
    dashboards too; the effective ones are theirs, replaced by name by the
    enterprise's own (``NAMED_KINDS``). Each report brings the object of its
    entries (``metadata.reporting.entry_object``).
    The effective objects are then merged from the layers (system < extensions <
    the enterprise's own, ``merge_layers``), planned against the current effective
    objects, applied, and stored as a new version. Removing a field is applying its
    object's document without it (the field is archived, its data kept); restoring
    it is applying the document with the field again.

    ``current_version`` is the version the documents were prepared on; an older one
    than the stored newest raises ``Conflict``. With ``dry_run`` nothing is changed:
    the result is the version the change would get and its plan (``propolis
    metadata plan``, the object manager's preview). The caller bumps
    ``Enterprise.metadata_version`` after the commit (see the module docstring).
    """

    def replaced(conn: Connection, own: Layer) -> Layer:
        # an approval usually shares its form object's api_name: documents are
        # keyed by kind and name
        by_key = {(_kind(doc), doc["api_name"]): dict(doc) for doc in documents}
        layer = [by_key.pop((_kind(doc), doc["api_name"]), doc) for doc in own
                 if (_kind(doc), doc["api_name"]) not in without]
        return layer + list(by_key.values())

    change = _Change(account, current_version, system_objects, extension_objects,
                     user_id, comment, dry_run, archive, purge)
    return change.run(target, replaced)


def rollback_object(
    target: Session | Connection,
    *,
    account: str,
    object_name: str,
    to_version: int,
    current_version: int,
    system_objects: Sequence[Doc],
    extension_objects: Sequence[Doc],
    user_id: str | None,
    comment: str | None = None,
    dry_run: bool = False,
) -> tuple[int, Plan]:
    """Makes a new version in which the enterprise's own document of ``object_name``
    is the one it had at ``to_version`` (absent then: the enterprise's document is
    removed, so only the system and extension layers define the object). Fields
    added since are archived with their data, never dropped; a change the storage
    cannot take back (a lowered max_length …) raises ``PlanError``. Arguments and
    result as for ``apply_documents``."""

    def rolled_back(conn: Connection, own: Layer) -> Layer:
        old = next(
            (
                doc
                for doc in _objects(_stored(conn, to_version).documents)
                if doc["api_name"] == object_name
            ),
            None,
        )
        names = [doc["api_name"] if _kind(doc) == "object" else None for doc in own]
        if old is None and object_name not in names:
            raise NotFound(
                "object_not_in_versions",
                _("Object ${object_name} is defined by this enterprise neither in "
                  "version ${to_version} nor now.",
                  mapping={"object_name": object_name, "to_version": to_version}),
            )
        # the object's document keeps its place in the layer (order matters to
        # merging)
        layer = [doc for doc in own
                 if _kind(doc) != "object" or doc["api_name"] != object_name]
        if old is not None:
            layer.insert(
                names.index(object_name) if object_name in names else len(layer), old
            )
        return layer

    change = _Change(account, current_version, system_objects, extension_objects,
                     user_id, comment or f"rollback {object_name} to version "
                     f"{to_version}", dry_run)
    return change.run(target, rolled_back)


def versions(target: Session | Connection) -> list[VersionInfo]:
    """The enterprise's metadata versions, newest first."""
    conn = _connection(target)
    rows = conn.execute(
        select(
            meta_versions.c.version,
            meta_versions.c.created_at,
            meta_versions.c.created_by,
            meta_versions.c.comment,
            meta_versions.c.plan,
        ).order_by(meta_versions.c.version.desc())
    )
    return [
        VersionInfo(
            version=row.version,
            created_at=row.created_at,
            created_by=row.created_by,
            comment=row.comment,
            summary=dict(Counter(op["kind"] for op in row.plan["operations"])),
        )
        for row in rows
    ]


def exportable(value: object) -> object:
    """A normalized document as a person would write it: no empty values, no
    generated default views or layouts, so that it validates again as it is."""
    if isinstance(value, dict):
        return {k: exportable(v) for k, v in value.items()
                if v is not None and k != "generated"}
    if isinstance(value, list):
        return [exportable(v) for v in value
                if not (isinstance(v, dict) and v.get("generated"))]
    return value
