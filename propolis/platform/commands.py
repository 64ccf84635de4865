"""Handlers of the ``propolis`` command's subcommands, registered by name, and what
they share: the settings and the Database made on first use, the one-line error."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from typing import Any

import plaster
from sqlalchemy import select

from propolis.settings import resolve


class CommandError(Exception):
    """A failure to report in one line."""


def load_settings(ini: str) -> dict[str, Any]:
    if not os.path.exists(ini):
        raise CommandError(f"config file {ini} not found (give -c INI or set "
                           "PROPOLIS_CONFIG)")
    loader = plaster.get_loader(ini, protocols=["wsgi"])
    loader.setup_logging({})
    return resolve(loader.get_settings("app:main"))


class Context:
    """What a command needs, made on first use: settings, the Database, the
    application (its registry: the services, subscribers and extensions the web
    application has, which ``service_request`` serves from)."""

    def __init__(self, ini: str) -> None:
        self.ini = ini
        self._settings: dict[str, Any] | None = None
        self._database: Any = None
        self._registry: Any = None

    @property
    def settings(self) -> dict[str, Any]:
        if self._settings is None:
            self._settings = load_settings(self.ini)
        return self._settings

    def close(self) -> None:
        if self._database is not None:
            self._database.dispose()
            self._database = None
        if self._registry is not None:
            self._registry.database.dispose()
            self._registry = None

    @property
    def registry(self) -> Any:
        if self._registry is None:
            self.settings  # noqa: B018 - a missing ini is a CommandError
            loader = plaster.get_loader(self.ini, protocols=["wsgi"])
            self._registry = loader.get_wsgi_app("main").registry
        return self._registry

    @property
    def database(self) -> Any:
        if self._database is None:
            from propolis.platform.db import Database

            self._database = Database(self.settings["propolis.database_url"],
                                      self.settings.get("propolis.tenant_dir"))
        return self._database


Handler = Callable[[Context, argparse.Namespace], int | None]
COMMANDS: dict[str, Handler] = {}


def command(name: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        COMMANDS[name] = fn
        return fn

    return register


def print_json(value: Any) -> None:
    print(json.dumps(value, ensure_ascii=False, indent=2, default=str))


@command("initdb")
def initdb(ctx: Context, args: argparse.Namespace) -> None:
    from propolis.platform.tenancy.migrate import initdb as upgrade

    upgrade(ctx.database)
    print("propolis: system database is up to date")


@command("tenant list")
def tenant_list(ctx: Context, args: argparse.Namespace) -> None:
    from propolis.platform.storage.system import Enterprise

    with ctx.database.system_sessionmaker() as session:
        rows = session.execute(
            select(Enterprise).order_by(Enterprise.account)).scalars()
        for e in rows:
            print(f"{e.account}\t{e.name}\t{','.join(e.extensions or []) or '-'}"
                  f"\t{e.status}")


@command("metadata validate")
def metadata_validate(ctx: Context, args: argparse.Namespace) -> None:
    from propolis.metadata import load_paths, validate_documents

    documents = load_paths(args.paths)
    validate_documents(documents)
    print(f"propolis: {len(documents)} document(s) valid")


@command("metadata schema")
def metadata_schema(ctx: Context, args: argparse.Namespace) -> None:
    from propolis.metadata import KINDS, kind_schema

    if args.kind is None:
        print_json({kind: kind_schema(kind) for kind in KINDS})
        return
    if args.kind not in KINDS:
        raise CommandError(f"unknown kind {args.kind!r}; kinds: {', '.join(KINDS)}")
    print(json.dumps(kind_schema(args.kind), ensure_ascii=False, indent=2))


@command("worker")
def worker(ctx: Context, args: argparse.Namespace) -> None:
    from propolis.platform.tasks import configure

    app = configure(ctx.settings, ctx.registry)
    argv = ["worker", "--loglevel=INFO", f"--concurrency={args.concurrency}"]
    if args.beat:
        argv += ["--beat", f"--schedule={_schedule_file(ctx)}"]
    app.worker_main(argv)


@command("beat")
def beat(ctx: Context, args: argparse.Namespace) -> None:
    from propolis.platform.tasks import configure

    configure(ctx.settings, ctx.registry).start(["beat", "--loglevel=INFO",
                                   f"--schedule={_schedule_file(ctx)}"])


def _schedule_file(ctx: Context) -> str:
    import os

    path = ctx.settings["propolis.beat_schedule"]
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    return path


@command("tenant create")
def tenant_create(ctx: Context, args: argparse.Namespace) -> None:
    from propolis.platform.tenancy.services import create_enterprise

    created = create_enterprise(
        ctx.database, account=args.account, name=args.name,
        admin_phone=args.admin_phone, admin_password=args.admin_password,
        admin_name=args.admin_name, extensions=args.extension)
    print(f"propolis: enterprise {created.account} created; admin user "
          f"{created.admin_id} logs in with {args.admin_phone}")


def _apply(ctx: Context, args: argparse.Namespace, dry_run: bool) -> None:
    from propolis.metadata import load_paths
    from propolis.platform.tenancy.services import apply_metadata

    applied = apply_metadata(ctx.database, args.tenant, load_paths(args.paths),
                             comment="propolis metadata apply", dry_run=dry_run)
    steps = applied.plan.describe("en")
    what = "plan for" if dry_run else "applied"
    print(f"propolis: {what} version {applied.version}: {len(steps)} change(s)")
    for step in steps:
        print(f"  - {step}")
    _run_backfills(ctx, args.tenant, applied.jobs)


@command("metadata plan")
def metadata_plan(ctx: Context, args: argparse.Namespace) -> None:
    _apply(ctx, args, dry_run=True)


@command("metadata apply")
def metadata_apply(ctx: Context, args: argparse.Namespace) -> None:
    _apply(ctx, args, dry_run=False)


@command("metadata export")
def metadata_export(ctx: Context, args: argparse.Namespace) -> None:
    import os

    from ruamel.yaml import YAML

    from propolis.platform.meta.services import exportable
    from propolis.platform.tenancy.services import current_version, effective_for

    effective = effective_for(ctx.database, args.tenant,
                              current_version(ctx.database, args.tenant))
    os.makedirs(args.dir, exist_ok=True)
    yaml = YAML()
    yaml.default_flow_style = False
    yaml.allow_unicode = True
    for name, obj in sorted(effective.objects.items()):
        if obj.doc.get("generated_by"):
            continue  # made from another document (a report's entries)
        doc = exportable({"kind": "object", **{
            k: v for k, v in obj.doc.items() if k not in ("kind", "archived_fields")}})
        with open(os.path.join(args.dir, f"{name}.yaml"), "w", encoding="utf-8") as out:
            yaml.dump(doc, out)
    named = {"approval": effective.approvals, "report": effective.reports,
             "chart": effective.charts, "dashboard": effective.dashboards}
    for kind, documents in named.items():
        for name, doc in sorted(documents.items()):
            # an approval usually has its form's name
            path = os.path.join(args.dir, f"{name}.{kind}.yaml")
            with open(path, "w", encoding="utf-8") as out:
                yaml.dump(exportable(doc), out)
    counts = ", ".join(f"{len(docs)} {kind}(s)" for kind, docs in named.items())
    objects = sum(1 for o in effective.objects.values()
                  if not o.doc.get("generated_by"))
    print(f"propolis: wrote {objects} object(s), {counts} to {args.dir}")


@command("demo")
def demo(ctx: Context, args: argparse.Namespace) -> None:
    from propolis.platform.tenancy.demo import create_demo

    password = create_demo(ctx.registry)
    if password is None:
        print("propolis: the demo enterprise exists already (account demo, login "
              "13800000000)")
    else:
        print("propolis: demo enterprise created — account: demo, login: 13800000000, "
              f"password: {password}  (shown once)")


def _export_spec(text: str | None) -> Any:
    from propolis.platform.exchange.services import ExportSpec

    if text is None:
        return ExportSpec()
    try:
        given = json.loads(text)
    except ValueError as exc:
        raise CommandError(f"--filter is not valid JSON: {exc}") from None
    if isinstance(given, list):
        given = {"filters": given}
    if not isinstance(given, dict):
        raise CommandError('--filter must be a JSON list of filters or an object '
                           'with "filters", "sort", "q", "columns"')
    return ExportSpec.from_body(given)


@command("export")
def export_records(ctx: Context, args: argparse.Namespace) -> None:
    import os

    from propolis.platform.exchange.interfaces import IExportService
    from propolis.platform.exchange.sheets import file_format
    from propolis.platform.web.offline import service_request

    fmt = file_format(args.file)
    spec = _export_spec(args.filter)
    # as the enterprise itself (no user: every record, every field)
    with service_request(ctx.registry, args.tenant, lang=args.lang) as request:
        service = request.find_service(IExportService)
        export = service.prepare(args.object, spec)
        try:
            with open(args.file, "wb") as out:
                count = service.write(export, out, fmt)
        except BaseException:
            if os.path.exists(args.file):
                os.remove(args.file)  # no half-written file left behind
            raise
    print(f"propolis: exported {count} record(s) of {args.object} to {args.file}")


@command("import")
def import_records(ctx: Context, args: argparse.Namespace) -> int:
    import os

    from propolis.platform.exchange.imports import ImportOptions
    from propolis.platform.exchange.interfaces import IImportService
    from propolis.platform.web.offline import service_request

    if not os.path.isfile(args.file):
        raise CommandError(f"file {args.file} not found")
    options = ImportOptions.from_params({"mode": args.mode, "key": args.key,
                                         "duplicates": args.duplicates})

    def progress(done: int) -> None:
        print(f"propolis: {done:,} row(s) gone through…", file=sys.stderr, flush=True)

    # as the enterprise itself (no user: every record, every field)
    with service_request(ctx.registry, args.tenant, lang=args.lang) as request:
        service = request.find_service(IImportService)
        with open(args.file, "rb") as source:
            report = service.run(args.object, source, os.path.basename(args.file),
                                 options, progress)
    print_json(report)
    if report["failed"]:
        # the good rows are imported (committed above); the exit code says not all
        print(f"propolis: {report['failed']} row(s) not imported (see the report); "
              f"{report['created']} created, {report['updated']} updated",
              file=sys.stderr)
        return 1
    return 0


@command("schedule run")
def schedule_run(ctx: Context, args: argparse.Namespace) -> None:
    import datetime as dt
    from zoneinfo import ZoneInfo

    from propolis.platform.actions.interfaces import IScheduleService
    from propolis.platform.web.offline import service_request

    at = None
    if args.at is not None:
        try:
            at = dt.datetime.fromisoformat(args.at)
        except ValueError:
            raise CommandError(f"--at {args.at!r} is not an ISO date-time, e.g. "
                               "2026-12-01T09:00:00") from None
    with service_request(ctx.registry, args.tenant) as request:
        if at is not None and at.tzinfo is None:
            at = at.replace(tzinfo=ZoneInfo(request.tz))
        results = request.find_service(IScheduleService).run(at, args.schedules)
    for result in results:
        name = f"{result['object']}.{result['schedule']}"
        if "error" in result:
            print(f"propolis: schedule {name} not run: {result['error']['en']}",
                  file=sys.stderr)
            continue
        failed = f", {result['failed']} failed" if result["failed"] else ""
        print(f"propolis: schedule {name} ({result['period']}) changed "
              f"{result['changed']} record(s){failed}")
    if not results:
        print(f"propolis: {args.tenant} has no schedules")
    if any("error" in result for result in results):
        raise CommandError("some schedules could not run (see above)")


@command("extension list")
def extension_list(ctx: Context, args: argparse.Namespace) -> None:
    from propolis.metadata.extensions import builtin_extensions
    from propolis.platform.tenancy.packages import installed

    if args.tenant:
        for found in installed(ctx.database, args.tenant):
            label = found["label"]
            print(f"{found['api_name']}\t{found['version']}\t{label['zh']} / "
                  f"{label.get('en') or label['zh']}\tinstalled\t{found['source']}")
            for path, choice in found["pending_resolutions"].items():
                print(f"  resolve {path}: {choice}")
    for name, ext in sorted(builtin_extensions().items()):
        print(f"{name}\t{ext.version}\t{ext.label['zh']} / {ext.label['en']}"
              "\tavailable")


def _package(ctx: Context, args: argparse.Namespace, verb: str) -> None:
    from propolis.platform.tenancy import packages

    if getattr(args, "restore", False):
        outcome = packages.restore_package(ctx.database, args.tenant, args.name,
                                           dry_run=args.dry_run)
    else:
        source = packages.open_package(args.name,
                                       packages.Trust.from_settings(ctx.settings))
        act = (packages.install_package if verb == "install"
               else packages.upgrade_package)
        outcome = act(ctx.registry, args.tenant, source, dry_run=args.dry_run)
    steps = outcome.applied.plan.describe("en")
    previous = f" from {outcome.previous}" if outcome.previous else ""
    if args.dry_run:
        print(f"propolis: plan to {verb} {outcome.name} {outcome.version}{previous} "
              f"in {args.tenant}: metadata version {outcome.applied.version}, "
              f"{len(steps)} change(s)")
    else:
        print(f"propolis: extension {outcome.name} {outcome.version} "
              f"{'installed' if verb == 'install' else 'upgraded'}"
              f"{previous} in {args.tenant}: metadata version "
              f"{outcome.applied.version}, {len(steps)} change(s), "
              f"{outcome.records} record(s) written")
    for step in steps:
        print(f"  - {step}")
    for conflict in outcome.conflicts:
        print(f"  conflict {conflict.path}: {conflict.message().en}")
    if not args.dry_run:
        _run_backfills(ctx, args.tenant, outcome.applied.jobs)


def _run_backfills(ctx: Context, account: str, job_ids: list[str]) -> None:
    from propolis.platform.tenancy.jobs import run_backfill

    for job_id in job_ids:
        # the command line waits for its backfills instead of needing a worker
        run_backfill(ctx.registry, account, job_id)
        print(f"  backfilled (job {job_id})")


@command("extension install")
def extension_install(ctx: Context, args: argparse.Namespace) -> None:
    _package(ctx, args, "install")


@command("extension upgrade")
def extension_upgrade(ctx: Context, args: argparse.Namespace) -> None:
    _package(ctx, args, "upgrade")


@command("extension resolve")
def extension_resolve(ctx: Context, args: argparse.Namespace) -> None:
    from propolis.platform.tenancy.packages import resolve

    for path in args.paths:
        resolve(ctx.database, args.tenant, args.name, path, args.take)
        print(f"propolis: {args.name} {path}: the next upgrade takes {args.take}")


@command("extension uninstall")
def extension_uninstall(ctx: Context, args: argparse.Namespace) -> None:
    from propolis.platform.tenancy.packages import uninstall_package

    applied = uninstall_package(ctx.database, args.tenant, args.name)
    print(f"propolis: extension {args.name} uninstalled from {args.tenant}: "
          f"metadata version {applied.version}; its records are archived (bring "
          "them back with extension install --restore)")


@command("extension purge")
def extension_purge(ctx: Context, args: argparse.Namespace) -> None:
    from propolis.platform.tenancy.packages import purge_archive

    dropped = purge_archive(ctx.database, args.tenant, args.name)
    print(f"propolis: the archive of {args.name} is deleted from {args.tenant}: "
          f"{', '.join(dropped) or 'no'} object(s) dropped with their records")


@command("extension export")
def extension_export(ctx: Context, args: argparse.Namespace) -> None:
    from propolis.platform.tenancy.packages import export_package

    written = export_package(ctx.database, args.tenant, args.api_name,
                             args.version, args.dir)
    print(f"propolis: wrote {args.api_name} {args.version} ({len(written)} "
          f"file(s)) to {args.dir}")


@command("extension sign")
def extension_sign(ctx: Context, args: argparse.Namespace) -> None:
    from propolis.metadata.packages import signing

    if not os.path.isfile(args.key):
        raise CommandError(f"key file {args.key} not found")
    with open(args.key, "rb") as source:
        key = signing.load_private_key(source.read())
    signing.sign(args.path, key)
    print(f"propolis: signed {args.path} with the key "
          f"{signing.fingerprint(key.public_key())}; its public key (for "
          f"propolis.extensions.trusted_keys): {signing.public_key_text(key)}")


@command("extension keygen")
def extension_keygen(ctx: Context, args: argparse.Namespace) -> None:
    from propolis.metadata.packages import signing

    if os.path.exists(args.file):
        raise CommandError(f"{args.file} exists; give a new file")
    key = signing.generate_key()
    # readable by its owner only
    with open(os.open(args.file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600),
              "w", encoding="ascii") as out:
        out.write(signing.private_key_text(key) + "\n")
    print(f"propolis: wrote the private key {signing.fingerprint(key.public_key())} "
          f"to {args.file}; its public key: {signing.public_key_text(key)}")
