"""Shared set-up: a throw-away system database and enterprise per database kind."""

from __future__ import annotations

import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from propolis.platform.db import Database
from propolis.platform.tenancy.migrate import initdb
from propolis.platform.tenancy.services import create_enterprise

PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@dataclass
class Setup:
    kind: str
    database: Database
    account: str
    admin_id: str


def postgres_url() -> str | None:
    url = os.environ.get("PROPOLIS_BENCH_DATABASE_URL", PG_DEFAULT)
    try:
        engine = create_engine(url)
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        engine.dispose()
        return url
    except Exception:
        return None


@contextmanager
def setup(kind: str, extensions: tuple[str, ...] = ()) -> Iterator[Setup]:
    """A fresh system database and one enterprise (with ``extensions``),
    removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="propolis-bench-") as tmp:
        if kind == "sqlite":
            url = f"sqlite:///{tmp}/system.sqlite"
            admin = None
            name = None
        else:
            base = postgres_url()
            assert base is not None
            name = f"propolis_bench_{uuid.uuid4().hex[:8]}"
            admin = create_engine(base, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            url = make_url(base).set(database=name).render_as_string(
                hide_password=False)
        database = Database(url, f"{tmp}/tenants")
        try:
            initdb(database)
            # a new account each time: the process's metadata cache is keyed by
            # account and version, and every setup starts again at version 1
            account = f"bench{uuid.uuid4().hex[:8]}"
            created = create_enterprise(
                database, account=account, name="Bench", admin_phone="13800000000",
                admin_password="bench-password-1", extensions=extensions,
            )
            yield Setup(kind, database, account, created.admin_id)
        finally:
            database.dispose()
            if admin is not None:
                with admin.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                admin.dispose()


def timed(fn: Callable[[], object], repeat: int) -> list[float]:
    """Seconds per call of ``fn``, ``repeat`` times."""
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return samples


def p50(samples: list[float]) -> float:
    return statistics.median(samples)
