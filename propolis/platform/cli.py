"""The ``propolis`` command (CONTRACT §3): ``propolis [-c INI] COMMAND``.

Every failure exits non-zero with a one-line reason on stderr."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from propolis.platform.commands import COMMANDS, CommandError, Context
from propolis.settings import SettingsError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="propolis")
    parser.add_argument("-c", "--config", default=os.environ.get(
        "PROPOLIS_CONFIG", "development.ini"), help="the ini file")
    sub = parser.add_subparsers(dest="command", required=True)

    sub.add_parser("initdb", help="create or upgrade the system database")
    sub.add_parser("demo", help="create the demo enterprise with sample data")
    worker = sub.add_parser("worker", help="run a Celery worker")
    worker.add_argument("--beat", action="store_true", help="also run the scheduler")
    worker.add_argument("--concurrency", type=int, default=2)
    sub.add_parser("beat", help="run the Celery scheduler")

    tenant = sub.add_parser("tenant", help="enterprises").add_subparsers(
        dest="action", required=True)
    create = tenant.add_parser("create")
    create.add_argument("--account", required=True)
    create.add_argument("--name", required=True)
    create.add_argument("--admin-phone", required=True)
    create.add_argument("--admin-password", required=True)
    create.add_argument("--admin-name", default="管理员")
    create.add_argument("--extension", action="append", default=[])
    tenant.add_parser("list")

    meta = sub.add_parser("metadata", help="the metadata language").add_subparsers(
        dest="action", required=True)
    validate = meta.add_parser("validate")
    validate.add_argument("paths", nargs="+")
    for name in ("plan", "apply"):
        p = meta.add_parser(name)
        p.add_argument("--tenant", required=True)
        p.add_argument("paths", nargs="+")
    export = meta.add_parser("export")
    export.add_argument("--tenant", required=True)
    export.add_argument("dir")
    schema = meta.add_parser("schema")
    schema.add_argument("kind", nargs="?")

    for name, help_text in (("import", "import records from a CSV or XLSX file"),
                            ("export", "export records to a CSV or XLSX file")):
        p = sub.add_parser(name, help=help_text)
        p.add_argument("--tenant", required=True)
        p.add_argument("--object", required=True)
        p.add_argument("--lang", choices=("zh", "en"), default="zh",
                       help="the language of headers and messages")
        if name == "export":
            p.add_argument("--filter", help='JSON: a list of filters, or '
                           '{"filters", "sort", "q", "columns"}')
        else:
            p.add_argument("--mode", choices=("create", "update", "upsert"),
                           default="upsert", help="create only, update by the key "
                           "column, or both (default)")
            p.add_argument("--key", default="id", help="the column that names a "
                           "record to update (default: id)")
            p.add_argument("--duplicates", choices=("error", "skip", "update"),
                           default="error", help="in create mode, a row whose key "
                           "exists: an error (default), skipped or an update")
        p.add_argument("file", help="FILE.csv or FILE.xlsx")
    schedule = sub.add_parser("schedule", help="the objects' schedules"
                              ).add_subparsers(dest="action", required=True)
    run = schedule.add_parser("run", help="run the schedules once, due or not")
    run.add_argument("--tenant", required=True)
    run.add_argument("--at", help="ISO date-time now() and today() see (default: "
                     "now; without an offset: in the enterprise's time zone)")
    run.add_argument("--schedule", action="append", dest="schedules",
                     metavar="NAME", help="only this one (NAME or OBJECT.NAME); "
                     "may be repeated")
    ext = sub.add_parser("extension", help="extensions").add_subparsers(
        dest="action", required=True)
    listing = ext.add_parser("list", help="the built-in extensions (and, with "
                             "--tenant, which the enterprise has)")
    listing.add_argument("--tenant")
    for name in ("install", "upgrade"):
        p = ext.add_parser(name, help=f"{name} an extension: a built-in one by "
                           "name, or a package folder or .zip")
        p.add_argument("--tenant", required=True)
        p.add_argument("--dry-run", action="store_true",
                       help="print the plan (and an upgrade's conflicts); change "
                       "nothing")
        p.add_argument("name", metavar="NAME-or-PATH")
        if name == "install":
            p.add_argument("--restore", action="store_true",
                           help="bring back the archive of an earlier uninstall "
                           "(NAME: the extension's api_name)")
    remove = ext.add_parser("uninstall", help="remove an extension's metadata; "
                            "its records stay, archived")
    remove.add_argument("--tenant", required=True)
    remove.add_argument("name")
    purge = ext.add_parser("purge", help="delete the archive of an uninstalled "
                           "extension for good: its tables and records")
    purge.add_argument("--tenant", required=True)
    purge.add_argument("name")
    export = ext.add_parser("export", help="write the enterprise's own "
                            "customisations as an extension package")
    export.add_argument("--tenant", required=True)
    export.add_argument("--api-name", required=True)
    export.add_argument("--version", required=True)
    export.add_argument("dir")
    signing = ext.add_parser("sign", help="sign a package folder or .zip with an "
                             "Ed25519 private key")
    signing.add_argument("--key", required=True, help="the private key file "
                         "(base64, as keygen writes it, or PEM)")
    signing.add_argument("path", metavar="PATH")
    keygen = ext.add_parser("keygen", help="make an Ed25519 key for signing "
                            "packages; prints its public key")
    keygen.add_argument("file", help="where the private key is written (a new file)")
    resolve = ext.add_parser("resolve", help="settle conflicts of the next upgrade")
    resolve.add_argument("--tenant", required=True)
    resolve.add_argument("--take", required=True, choices=["mine", "theirs"],
                         help="mine: keep the enterprise's value; theirs: take "
                         "the package's")
    resolve.add_argument("name")
    resolve.add_argument("paths", nargs="+", metavar="OBJECT.FIELD.ATTRIBUTE")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    name = args.command + (f" {args.action}" if getattr(args, "action", None) else "")
    handler = COMMANDS.get(name)
    if handler is None:
        print(f"propolis: {name} is not available", file=sys.stderr)
        return 2
    ctx = Context(args.config)
    try:
        return handler(ctx, args) or 0
    except (CommandError, SettingsError) as exc:
        print(f"propolis: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # the contract: one line, non-zero, whatever failed
        from propolis.metadata.errors import MetadataError
        from propolis.platform.errors import AppError

        if isinstance(exc, MetadataError):
            print(str(exc), file=sys.stderr)
            return 1
        if isinstance(exc, AppError):
            error = exc.as_json("en")["error"]
            details = "; ".join(f"{name}: {', '.join(messages)}"
                                for name, messages in error["fields"].items())
            suffix = f" ({details})" if details else ""
            print(f"propolis: {error['message']}{suffix}", file=sys.stderr)
            return 1
        if os.environ.get("PROPOLIS_DEBUG"):
            raise
        print(f"propolis: {name} failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    finally:
        ctx.close()
