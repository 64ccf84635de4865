"""The ``propolis`` command (CONTRACT §3): ``propolis [-c INI] COMMAND``.

Every failure exits non-zero with a one-line reason on stderr."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

import plaster

from propolis.settings import SettingsError, resolve


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
    """What a command needs, made on first use: settings, the Database."""

    def __init__(self, ini: str) -> None:
        self.ini = ini
        self._settings: dict[str, Any] | None = None
        self._database: Any = None

    @property
    def settings(self) -> dict[str, Any]:
        if self._settings is None:
            self._settings = load_settings(self.ini)
        return self._settings

    def close(self) -> None:
        if self._database is not None:
            self._database.dispose()
            self._database = None

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
        p.add_argument("file", help="FILE.csv or FILE.xlsx")
    ext = sub.add_parser("extension", help="extensions").add_subparsers(
        dest="action", required=True)
    listing = ext.add_parser("list", help="the built-in extensions (and, with "
                             "--tenant, which the enterprise has)")
    listing.add_argument("--tenant")
    for name in ("install", "upgrade"):
        p = ext.add_parser(name)
        p.add_argument("--tenant", required=True)
        p.add_argument("name")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    name = args.command + (f" {args.action}" if getattr(args, "action", None) else "")
    # importing the command modules registers their handlers
    from propolis.platform import commands  # noqa: F401

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


def print_json(value: Any) -> None:
    print(json.dumps(value, ensure_ascii=False, indent=2, default=str))
