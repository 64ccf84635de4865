"""Extension packages in an enterprise: installing one from a folder, a ``.zip`` or
the built-in catalogue, upgrading it with the 3-way merge, settling the merge's
conflicts.

The library (``propolis.metadata.packages``) reads, checks, merges and verifies
packages; this module keeps, per enterprise, what an upgrade needs later (the
tenant table ``extension_installs``): the installed version's manifest, its
documents (the merge's base) and the documents of the enterprise's extension
layer for it. An upgrade merges (base, new version, the enterprise's current
documents), stores the result as the extension layer and the new version's
documents as the next base, and takes the enterprise's own documents of those
objects out of its layer: they are in the merged documents now. A conflict
refuses the upgrade with nothing changed until ``resolve`` names a choice for it.

Metadata changes commit the enterprise's storage first and the system row after
(``services``); data sets are written afterwards through the record service, as
the enterprise itself (``service_request``).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, cast

from pyramid.settings import asbool
from sqlalchemy import Connection, insert, select, update

from propolis.metadata.errors import Text
from propolis.metadata.extensions import (
    APPLIED_KINDS,
    builtin_extensions,
    extension_documents,
)
from propolis.metadata.normalize import normalize_document
from propolis.metadata.packages.errors import fail
from propolis.metadata.packages.files import MANIFEST as MANIFEST_FILE
from propolis.metadata.packages.files import PackageFiles, read_files
from propolis.metadata.packages.manifest import Manifest
from propolis.metadata.packages.merge import MINE, THEIRS, Conflict, merge
from propolis.metadata.packages.package import Package, read_manifest, read_package
from propolis.metadata.packages.signing import parse_trusted_keys, verify
from propolis.metadata.packages.versions import (
    check_install,
    check_uninstall,
    check_upgrade,
)
from propolis.metadata.reporting import entry_object_name
from propolis.metadata.validation import validate_documents
from propolis.platform.db import Database
from propolis.platform.errors import AppError, _
from propolis.platform.ids import new_id
from propolis.platform.meta import services as meta
from propolis.platform.meta.effective import Effective
from propolis.platform.storage.plan import Plan
from propolis.platform.storage.platform_tables import (
    extension_archives,
    extension_installs,
    meta_versions,
    record_history,
    record_keys,
    record_team,
)
from propolis.platform.storage.system import Enterprise
from propolis.platform.tenancy.services import (
    Applied,
    change_metadata,
    enterprise_row,
    lower_layers,
)

Doc = dict[str, Any]
BUILTIN = "builtin"


@dataclass(frozen=True)
class Trust:
    """Which packages this installation accepts (the ini's
    ``propolis.extensions.require_signature`` and ``.trusted_keys``)."""

    require_signature: bool = False
    trusted_keys: tuple[Any, ...] = ()

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> Trust:
        return cls(
            asbool(settings.get("propolis.extensions.require_signature", False)),
            parse_trusted_keys(settings.get("propolis.extensions.trusted_keys", "")),
        )


@dataclass(frozen=True)
class Source:
    """A package read and verified: its files, where from, and the trusted key
    that signed it (None: unsigned or built-in)."""

    files: PackageFiles
    origin: str
    builtin: bool
    signer: str | None

    @property
    def may_run_code(self) -> bool:
        return self.builtin or self.signer is not None


@dataclass
class Outcome:
    """What an install or an upgrade did (or, dry, would do)."""

    name: str
    version: str
    previous: str | None
    applied: Applied
    conflicts: list[Conflict] = field(default_factory=list)
    records: int = 0


def open_package(name_or_path: str, trust: Trust) -> Source:
    """The package a command names: a folder or ``.zip`` (its signature checked as
    ``trust`` says), else a built-in extension by name."""
    if os.path.exists(name_or_path):
        files = read_files(name_or_path)
        signer = verify(files, trust.trusted_keys,
                        require_signature=trust.require_signature)
        return Source(files, os.path.abspath(name_or_path), False, signer)
    found = builtin_extensions().get(name_or_path)
    if found is None:
        names = ", ".join(sorted(builtin_extensions())) or "-"
        raise AppError("no_such_extension", _("There is no extension or package path "
                                              "'${name_or_path}' (built-in: ${names})",
                                              mapping={"name_or_path": name_or_path,
                                                       "names": names}))
    return Source(read_files(found.path), BUILTIN, True, None)


def installed_manifests(conn: Connection, enterprise: Enterprise
                        ) -> dict[str, Manifest]:
    """The manifests of the enterprise's extensions, by api_name (a built-in one
    installed before installs were recorded: its catalogue manifest)."""
    rows = {row.api_name: row.manifest
            for row in conn.execute(select(extension_installs.c.api_name,
                                           extension_installs.c.manifest))}
    found = {}
    for name in enterprise.extensions or []:
        if name in rows:
            found[name] = Manifest.from_document(rows[name])
        elif name in builtin_extensions():
            found[name] = read_manifest(read_files(builtin_extensions()[name].path))
    return found


def _install_row(conn: Connection, name: str) -> Any:
    return conn.execute(select(extension_installs)
                        .where(extension_installs.c.api_name == name)).first()


def _read(source: Source, conn: Connection, enterprise: Enterprise,
          manifest: Manifest) -> Package:
    """The package, its documents validated against the objects of the
    extensions it requires."""
    ext = lower_layers(conn, [n for n in enterprise.extensions or []
                              if n in manifest.requires])[1]
    existing = {d["api_name"]: d for d in ext if d.get("kind", "object") == "object"}
    return read_package(source.files, existing=existing,
                        allow_hooks=source.may_run_code)


def _applied_documents(package: Package) -> list[Doc]:
    return [d for d in package.documents if d["kind"] in APPLIED_KINDS]


def install_package(registry: Any, account: str, source: Source, *,
                    dry_run: bool = False, user_id: str | None = None) -> Outcome:
    """Installs a package in an enterprise: checks its requirements, applies its
    objects and approvals as its extension layer, records it and writes its data
    sets (not when ``dry_run``)."""
    database: Database = registry.database
    manifest = read_manifest(source.files)
    holder: dict[str, Any] = {}

    def change(conn: Connection, enterprise: Enterprise, effective: Effective,
               ) -> tuple[int, Plan]:
        check_install(manifest, installed_manifests(conn, enterprise))
        package = _read(source, conn, enterprise, manifest)
        holder["package"] = package
        documents = _applied_documents(package)
        name = manifest.api_name
        names = [*[n for n in enterprise.extensions if n != name], name]
        system, ext = lower_layers(conn, names, {name: documents})
        result = meta.apply_documents(
            conn, account=account, current_version=enterprise.metadata_version,
            documents=[], system_objects=system, extension_objects=ext,
            user_id=user_id, comment=f"extension {name} {manifest.version_text}",
            dry_run=dry_run)
        if not dry_run:
            _write_row(conn, manifest, documents, documents,
                       (source.origin, source.signer), new=True)
        return result

    applied = change_metadata(database, account, change, dry_run=dry_run,
                              user_id=user_id, add_extension=manifest.api_name)
    outcome = Outcome(manifest.api_name, manifest.version_text, None, applied)
    if not dry_run:
        outcome.records = write_data(registry, account, holder["package"],
                                     first=True)
    return outcome


def upgrade_package(registry: Any, account: str, source: Source, *,
                    dry_run: bool = False, user_id: str | None = None) -> Outcome:
    """Upgrades an installed extension to the package's version with the 3-way
    merge of (the installed base, the package's documents, the enterprise's
    current documents). Conflicts without a choice (``resolve``) refuse it with
    nothing changed; with ``dry_run`` they are returned with the plan."""
    database: Database = registry.database
    manifest = read_manifest(source.files)
    name = manifest.api_name
    holder: dict[str, Any] = {}

    def change(conn: Connection, enterprise: Enterprise, effective: Effective,
               ) -> tuple[int, Plan]:
        change_ = check_upgrade(manifest, installed_manifests(conn, enterprise))
        holder["previous"] = str(change_.previous)
        package = _read(source, conn, enterprise, manifest)
        holder["package"] = package
        new = _applied_documents(package)
        row = _install_row(conn, name)
        base = list(row.base) if row is not None else extension_documents(name)
        choices = dict(row.resolutions) if row is not None else {}
        result = merge(base, new, current_documents(effective, [*base, *new]),
                       {p: MINE if c == MINE else THEIRS
                        for p, c in choices.items()})
        holder["conflicts"] = list(result.conflicts)
        if result.conflicts and not dry_run:
            result.check(name)
        # validated again as written (no empty values, no generated views)
        layer = validate_documents([
            cast(Doc, meta.exportable(normalize_document(d)))
            for d in result.documents])
        system, ext = lower_layers(conn, enterprise.extensions, {name: layer})
        applied = meta.apply_documents(
            conn, account=account, current_version=enterprise.metadata_version,
            documents=[], system_objects=system, extension_objects=ext,
            user_id=user_id, comment=f"extension {name} {manifest.version_text}",
            dry_run=dry_run,
            without={(d["kind"], d["api_name"]) for d in layer})
        if not dry_run:
            _write_row(conn, manifest, new, layer, (source.origin, source.signer),
                       new=row is None)
        return applied

    applied = change_metadata(database, account, change, dry_run=dry_run,
                              user_id=user_id)
    outcome = Outcome(name, manifest.version_text, holder["previous"], applied,
                      holder["conflicts"])
    if not dry_run:
        outcome.records = write_data(registry, account, holder["package"],
                                     first=False)
    return outcome


def current_documents(effective: Effective, documents: Iterable[Doc]) -> list[Doc]:
    """The enterprise's current documents of the objects, approvals, reports,
    charts and dashboards named in ``documents`` (those it has), as the merge
    compares them: without the storage's archive of removed fields."""
    found: dict[tuple[str, str], Doc] = {}
    for doc in documents:
        kind, name = doc.get("kind", "object"), doc["api_name"]
        if (kind, name) in found:
            continue
        named = effective.data.get(meta.NAMED_KINDS.get(kind, ""), {})
        if kind == "object" and name in effective.objects:
            found[(kind, name)] = _unarchived(
                {"kind": "object", **effective.objects[name].doc})
        elif name in named:
            found[(kind, name)] = dict(named[name])
    return list(found.values())


def _unarchived(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _unarchived(v) for k, v in value.items() if k != "archived_fields"}
    if isinstance(value, list):
        return [_unarchived(v) for v in value]
    return value


def _write_row(conn: Connection, manifest: Manifest, base: list[Doc],
               layer: list[Doc], origin: tuple[str, str | None], *, new: bool
               ) -> None:
    """Records the installed version (``origin``: where from, and the signer)."""
    now = dt.datetime.now(dt.UTC)
    values = {"version": manifest.version_text, "manifest": manifest.document,
              "base": base, "layer": layer, "resolutions": {},
              "source": origin[0], "signer": origin[1], "updated_at": now}
    if new:
        position = len(conn.execute(select(extension_installs.c.api_name)).all())
        conn.execute(insert(extension_installs).values(
            api_name=manifest.api_name, position=position, installed_at=now,
            **values))
    else:
        conn.execute(update(extension_installs)
                     .where(extension_installs.c.api_name == manifest.api_name)
                     .values(**values))


def resolve(database: Database, account: str, name: str, path: str,
            choice: str) -> None:
    """Records the choice (``mine``: keep the enterprise's value, ``theirs``: take
    the package's) for the conflict at ``path`` of the next upgrade of ``name``."""
    if choice not in (MINE, THEIRS):
        raise AppError("invalid", _("Choose mine or theirs"),
                       {"take": [_("one of: mine, theirs")]})
    with database.tenant_session(account) as session, session.begin():
        conn = session.connection()
        row = _install_row(conn, name)
        if row is None:
            raise fail("not_installed", name,
                       Text(f"{name} is not installed from a package here",
                            f"{name} 未在本企业以扩展包安装"),
                       Text("see 'propolis extension list --tenant'",
                            "可用 'propolis extension list --tenant' 查看"))
        conn.execute(update(extension_installs)
                     .where(extension_installs.c.api_name == name)
                     .values(resolutions={**row.resolutions, path: choice}))


def write_data(registry: Any, account: str, package: Package, *,
               first: bool) -> int:
    """Writes the package's data sets through the record service, as the
    enterprise itself: seed records once (``first``: at install), reference
    records at install and every upgrade, matched by their key field (updated
    when there, created when not). Returns how many records were written."""
    from propolis.platform.records.interfaces import IRecordService
    from propolis.platform.web.offline import service_request

    sets = [s for s in package.data if first or s.spec.mode == "reference"]
    if not sets:
        return 0
    count = 0
    with service_request(registry, account) as request:
        records = request.find_service(IRecordService)
        for data in sets:
            key = data.spec.key
            for record in data.records:
                existing = None
                if data.spec.mode == "reference" and key is not None:
                    page = records.query(data.spec.object, filters=[
                        {"field": key, "op": "eq", "value": record[key]}], limit=1)
                    existing = page["records"][0] if page["records"] else None
                if existing is None:
                    records.create(data.spec.object, record)
                else:
                    records.update(data.spec.object, existing["id"], record)
                count += 1
    return count


def installed(database: Database, account: str) -> list[dict[str, Any]]:
    """The enterprise's extensions with their versions, in install order."""
    with database.system_sessionmaker() as sysdb:
        enterprise = enterprise_row(sysdb, account)
    with database.tenant_engine(account).connect() as conn:
        manifests = installed_manifests(conn, enterprise)
        rows = {row.api_name: row for row in conn.execute(select(extension_installs))}
    return [{"api_name": name, "version": m.version_text, "label": m.label,
             "source": rows[name].source if name in rows else BUILTIN,
             "signer": rows[name].signer if name in rows else None,
             "pending_resolutions": dict(rows[name].resolutions)
             if name in rows else {}}
            for name, m in manifests.items()]



def _keys(documents: Iterable[Doc]) -> set[tuple[str, str]]:
    return {(d.get("kind", "object"), d["api_name"]) for d in documents}


def _own_documents(conn: Connection, version: int) -> list[Doc]:
    """The enterprise's own layer at ``version``."""
    found = conn.execute(select(meta_versions.c.documents)
                         .where(meta_versions.c.version == version)).scalar()
    return list(found or [])


def _dependents(effective: Effective, objects: set[str],
                own: Iterable[Doc]) -> list[str]:
    """What refers to ``objects`` from outside them: fields of other objects
    (lookups, rollups, their tables' columns) and approvals of their forms."""
    found = []

    def fields(owner: str, items: Iterable[Mapping[str, Any]]) -> None:
        for f in items:
            target = f.get("to") or f.get("from")
            if target in objects:
                found.append(f"{owner}.{f['api_name']} → {target}")
            fields(f"{owner}.{f['api_name']}", f.get("fields") or [])

    for name, obj in effective.objects.items():
        if name not in objects:
            fields(name, obj.doc["fields"])
    for doc in own:
        if doc.get("kind") == "approval" and doc.get("form") in objects:
            found.append(f"approval:{doc['api_name']} → {doc['form']}")
    return found


def uninstall_package(database: Database, account: str, name: str, *,
                      user_id: str | None = None) -> Applied:
    """Uninstalls an extension: refused while another extension requires it or
    another object (or the enterprise's approval) refers to its objects; otherwise
    its documents and the enterprise's own documents of them leave the metadata,
    and its objects' tables and records stay, archived, with what ``install
    --restore`` needs kept in ``extension_archives``."""

    def change(conn: Connection, enterprise: Enterprise, effective: Effective,
               ) -> tuple[int, Plan]:
        check_uninstall(name, installed_manifests(conn, enterprise))
        row = _install_row(conn, name)
        layer = list(row.layer) if row is not None else extension_documents(name)
        # its objects, and those holding its reports' entries
        objects = {d["api_name"] for d in layer if d.get("kind", "object") == "object"}
        objects |= {entry_object_name(d["api_name"]) for d in layer
                    if d.get("kind") == "report"}
        keys = _keys(layer)
        own = _own_documents(conn, enterprise.metadata_version)
        mine = [d for d in own if (d.get("kind", "object"), d["api_name"]) in keys]
        dependents = _dependents(
            effective, objects, [d for d in own if d not in mine])
        if dependents:
            raise AppError("extension_in_use", _(
                    "${name}'s objects are still used: ${dependents}",
                    mapping={"name": name,
                             "dependents": {"zh": '；'.join(dependents),
                                            "en": '; '.join(dependents)}}),
                {"extension": [_("remove these references first")]})
        system, ext = lower_layers(conn, [n for n in enterprise.extensions
                                          if n != name])
        applied = meta.apply_documents(
            conn, account=account, current_version=enterprise.metadata_version,
            documents=[], system_objects=system, extension_objects=ext,
            user_id=user_id, comment=f"uninstall extension {name}",
            without=keys, archive=objects)
        manifest = (row.manifest if row is not None else read_manifest(
            read_files(builtin_extensions()[name].path)).document)
        conn.execute(insert(extension_archives).values(
            id=new_id(), api_name=name, version=manifest["version"],
            manifest=manifest, base=list(row.base) if row is not None else layer,
            layer=layer, tenant_documents=mine, objects=sorted(objects),
            source=row.source if row is not None else BUILTIN,
            signer=row.signer if row is not None else None,
            archived_at=dt.datetime.now(dt.UTC), archived_by=user_id))
        conn.execute(extension_installs.delete()
                     .where(extension_installs.c.api_name == name))
        return applied

    return change_metadata(database, account, change, user_id=user_id,
                           remove_extension=name)


def restore_package(database: Database, account: str, name: str, *,
                    dry_run: bool = False, user_id: str | None = None) -> Outcome:
    """Installs again the extension of the newest archive of ``name``: the same
    documents, the enterprise's own documents of them, and its objects' tables
    with every record as they were (same ids, same values)."""
    holder: dict[str, Any] = {}

    def change(conn: Connection, enterprise: Enterprise, effective: Effective,
               ) -> tuple[int, Plan]:
        row = conn.execute(select(extension_archives)
                           .where(extension_archives.c.api_name == name)
                           .order_by(extension_archives.c.archived_at.desc())
                           ).first()
        if row is None:
            raise AppError("no_archive", _("There is no archive of ${name}",
                                           mapping={"name": name}),
                {"name": [_("uninstall it first, or install it without --restore")]})
        manifest = Manifest.from_document(row.manifest)
        check_install(manifest, installed_manifests(conn, enterprise))
        holder["version"] = manifest.version_text
        names = [*enterprise.extensions, name]
        system, ext = lower_layers(conn, names, {name: list(row.layer)})
        applied = meta.apply_documents(
            conn, account=account, current_version=enterprise.metadata_version,
            documents=list(row.tenant_documents), system_objects=system,
            extension_objects=ext, user_id=user_id,
            comment=f"restore extension {name}", dry_run=dry_run)
        if not dry_run:
            _write_row(conn, manifest, list(row.base), list(row.layer),
                       (row.source, row.signer), new=True)
            conn.execute(extension_archives.delete()
                         .where(extension_archives.c.id == row.id))
        return applied

    applied = change_metadata(database, account, change, dry_run=dry_run,
                              user_id=user_id, add_extension=name)
    return Outcome(name, holder["version"], None, applied)


def export_package(database: Database, account: str, api_name: str, version: str,
                   directory: str) -> list[str]:
    """Writes the enterprise's own documents (its objects, its changes of the
    system's and extensions' objects, its approvals) as the extension
    ``api_name`` ``version`` in ``directory``, requiring the extensions it has
    (at their installed versions or later). Returns the files written."""
    from ruamel.yaml import YAML

    with database.system_sessionmaker() as sysdb:
        enterprise = enterprise_row(sysdb, account)
    with database.tenant_engine(account).connect() as conn:
        own = _own_documents(conn, enterprise.metadata_version)
        manifests = installed_manifests(conn, enterprise)
    manifest = {
        "kind": "extension", "api_name": api_name, "version": version,
        "label": {"zh": api_name, "en": api_name},
        "requires": {"extensions": {n: f">={m.version_text}"
                                    for n, m in manifests.items()}},
        "contents": sorted({f"{d.get('kind', 'object')}s/*.yaml" for d in own}),
    }
    Manifest.from_document(manifest)  # the name and the version as given
    yaml = YAML()
    yaml.default_flow_style = False
    yaml.allow_unicode = True
    written = []
    for doc in [manifest, *own]:
        kind = doc.get("kind", "object")
        path = (MANIFEST_FILE if kind == "extension"
                else f"{kind}s/{doc['api_name']}.yaml")
        target = os.path.join(directory, path)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, "w", encoding="utf-8") as out:
            yaml.dump(meta.exportable({"kind": kind, **doc}), out)
        written.append(path)
    return written


def purge_archive(database: Database, account: str, name: str, *,
                  user_id: str | None = None) -> list[str]:
    """Deletes the archives of ``name``'s uninstalls for good: the tables of its
    objects still archived, their records' history, duplicate keys and teams.
    Returns the objects dropped."""
    holder: dict[str, list[str]] = {}

    def change(conn: Connection, enterprise: Enterprise, effective: Effective,
               ) -> tuple[int, Plan]:
        rows = conn.execute(select(extension_archives.c.objects)
                            .where(extension_archives.c.api_name == name)).all()
        if not rows:
            raise AppError("no_archive", _("There is no archive of ${name}",
                                           mapping={"name": name}),
                {"name": [_("see extension list")]})
        archived = effective.data.get("archived_objects", {})
        objects = sorted({o for row in rows for o in row.objects if o in archived})
        holder["objects"] = objects
        system, ext = lower_layers(conn, enterprise.extensions)
        applied = meta.apply_documents(
            conn, account=account, current_version=enterprise.metadata_version,
            documents=[], system_objects=system, extension_objects=ext,
            user_id=user_id, comment=f"purge the archive of extension {name}",
            purge=objects)
        for table in (record_history, record_keys, record_team):
            conn.execute(table.delete().where(table.c.object.in_(objects)))
        conn.execute(extension_archives.delete()
                     .where(extension_archives.c.api_name == name))
        return applied

    change_metadata(database, account, change, user_id=user_id)
    return holder["objects"]
