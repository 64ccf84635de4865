"""Engines and sessions: the system database and each enterprise's own storage.

PostgreSQL: one database; the system tables in its default schema, each enterprise's
tables in a schema of its own (``t_<account>``). Generated tables are declared without
a schema and bound to the tenant's through ``schema_translate_map``, so one compiled
statement serves every tenant and no query can name another tenant's schema.

SQLite (the embedded default): the system database is one file and each enterprise
has a file of its own under ``propolis.tenant_dir``.
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
from typing import Any

from sqlalchemy import Engine, MetaData, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_name)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

ACCOUNT_RE = re.compile(r"^[a-z][a-z0-9_]{1,30}$")

# SQLite function giving a record's full-text row its rowid (see the planner's
# search tables): 63 bits of the id's SHA-1, stable across processes and VACUUM.
FTS_KEY = "propolis_fts_key"


def fts_key(record_id: str) -> int:
    return int.from_bytes(hashlib.sha1(record_id.encode()).digest()[:8], "big") >> 1


def new_metadata() -> MetaData:
    return MetaData(naming_convention=NAMING_CONVENTION)


def _sqlite_pragmas(engine: Engine) -> None:
    """WAL for concurrent readers, a busy timeout instead of instant "database is
    locked", and BEGIN IMMEDIATE so that a transaction that will write takes the write
    lock up front (a deferred BEGIN that upgrades later can fail with SQLITE_BUSY no
    matter how long the timeout is). Connections opened with the execution option
    ``readonly=True`` begin deferred and so never wait for writers."""

    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves, below
        dbapi_conn.create_function(FTS_KEY, 1, fts_key, deterministic=True)
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        # straight to the driver: this runs for every transaction, and SQLAlchemy's
        # statement machinery (events, result set-up) would cost more than BEGIN
        conn.connection.dbapi_connection.execute(
            "BEGIN" if conn.get_execution_options().get("readonly")
            else "BEGIN IMMEDIATE")


def make_engine(url: str, **kw: Any) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            os.makedirs(os.path.dirname(os.path.abspath(parsed.database)),
                        exist_ok=True)
        engine = create_engine(url, poolclass=NullPool if kw.pop("nullpool", False)
                               else None, **kw)
        _sqlite_pragmas(engine)
        return engine
    kw.pop("nullpool", None)
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20, **kw)


class Database:
    """The system engine and the per-enterprise engines, created once per process."""

    def __init__(self, url: str, tenant_dir: str | None = None) -> None:
        self.url = url
        self.is_sqlite = make_url(url).get_backend_name() == "sqlite"
        self.tenant_dir = os.path.abspath(tenant_dir or "var/tenants")
        self.system_engine = make_engine(url)
        # Single reads outside any transaction (the token every request shows): on
        # PostgreSQL in autocommit, one round trip instead of BEGIN, SELECT and
        # ROLLBACK. SQLite's connections already read without a write lock when
        # ``readonly``, and its driver's own transaction handling must stay off.
        self.system_reader = self.system_engine if self.is_sqlite else \
            self.system_engine.execution_options(isolation_level="AUTOCOMMIT")
        self._tenant_engines: dict[str, Engine] = {}
        self._lock = threading.Lock()
        self.system_sessionmaker = sessionmaker(bind=self.system_engine)

    @property
    def dialect(self) -> str:
        return "sqlite" if self.is_sqlite else self.system_engine.dialect.name

    def storage_name(self, account: str) -> str:
        if not ACCOUNT_RE.match(account):
            raise ValueError(f"invalid enterprise account {account!r}")
        if self.is_sqlite:
            return os.path.join(self.tenant_dir, f"{account}.sqlite")
        return f"t_{account}"

    def tenant_engine(self, account: str) -> Engine:
        engine = self._tenant_engines.get(account)
        if engine is not None:
            return engine
        with self._lock:
            engine = self._tenant_engines.get(account)
            if engine is None:
                name = self.storage_name(account)
                if self.is_sqlite:
                    engine = make_engine(f"sqlite:///{name}")
                else:
                    engine = self.system_engine.execution_options(
                        schema_translate_map={None: name}
                    )
                self._tenant_engines[account] = engine
        return engine

    def tenant_session(self, account: str) -> Session:
        return Session(bind=self.tenant_engine(account))

    def create_tenant_storage(self, account: str) -> None:
        name = self.storage_name(account)
        if self.is_sqlite:
            os.makedirs(self.tenant_dir, exist_ok=True)
            return
        with self.system_engine.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{name}"'))

    def drop_tenant_storage(self, account: str) -> None:
        """Removes an enterprise's storage entirely (tests, failed registrations)."""
        name = self.storage_name(account)
        engine = self._tenant_engines.pop(account, None)
        if self.is_sqlite:
            if engine is not None:
                engine.dispose()
            for suffix in ("", "-wal", "-shm"):
                if os.path.exists(name + suffix):
                    os.remove(name + suffix)
            return
        with self.system_engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))

    def dispose(self) -> None:
        if self.is_sqlite:  # on PostgreSQL they share the system engine's pool
            for engine in self._tenant_engines.values():
                engine.dispose()
        self._tenant_engines.clear()
        self.system_engine.dispose()
