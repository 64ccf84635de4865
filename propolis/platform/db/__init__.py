"""Engines and sessions: the system database and each enterprise's own storage, a
schema (PostgreSQL) or a file (SQLite) as the database's dialect says
(``propolis.platform.db.dialects``, re-exported here)."""

from __future__ import annotations

import os
import re
import threading
from typing import Any

from sqlalchemy import Engine, MetaData
from sqlalchemy.orm import Session, sessionmaker

from propolis.platform.db.dialects import (
    FTS_KEY,
    LIKE_ESCAPE,
    Dialect,
    dialect_by_name,
    dialect_for,
    dialect_of_url,
    fts_key,
    identifier,
    like_escape,
)

__all__ = [
    "ACCOUNT_RE", "FTS_KEY", "LIKE_ESCAPE", "NAMING_CONVENTION", "Database", "Dialect",
    "dialect_for", "dialect_by_name", "fts_key", "identifier", "like_escape",
    "make_engine", "new_metadata",
]

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_name)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

ACCOUNT_RE = re.compile(r"^[a-z][a-z0-9_]{1,30}$")


def new_metadata() -> MetaData:
    return MetaData(naming_convention=NAMING_CONVENTION)


def make_engine(url: str, **kw: Any) -> Engine:
    return dialect_of_url(url).make_engine(url, **kw)


class Database:
    """The system engine and the per-enterprise engines, created once per process."""

    def __init__(self, url: str, tenant_dir: str | None = None) -> None:
        self.url = url
        self.dialect: Dialect = dialect_of_url(url)
        self.tenant_dir = os.path.abspath(tenant_dir or "var/tenants")
        self.system_engine = self.dialect.make_engine(url)
        # Single reads outside any transaction (the token every request shows).
        self.system_reader = self.dialect.reader(self.system_engine)
        self._tenant_engines: dict[str, Engine] = {}
        self._lock = threading.Lock()
        self.system_sessionmaker = sessionmaker(bind=self.system_engine)

    def storage_name(self, account: str) -> str:
        if not ACCOUNT_RE.match(account):
            raise ValueError(f"invalid enterprise account {account!r}")
        return self.dialect.storage_name(self.tenant_dir, account)

    def tenant_engine(self, account: str) -> Engine:
        engine = self._tenant_engines.get(account)
        if engine is not None:
            return engine
        with self._lock:
            engine = self._tenant_engines.get(account)
            if engine is None:
                engine = self.dialect.tenant_engine(self.system_engine,
                                                    self.storage_name(account))
                self._tenant_engines[account] = engine
        return engine

    def tenant_session(self, account: str) -> Session:
        return Session(bind=self.tenant_engine(account))

    def create_tenant_storage(self, account: str) -> None:
        self.dialect.create_storage(self.system_engine, self.storage_name(account))

    def drop_tenant_storage(self, account: str) -> None:
        """Removes an enterprise's storage entirely (tests, failed registrations)."""
        name = self.storage_name(account)
        engine = self._tenant_engines.pop(account, None)
        self.dialect.drop_storage(self.system_engine, name, engine)

    def dispose(self) -> None:
        for engine in self._tenant_engines.values():
            self.dialect.dispose_tenant_engine(engine)
        self._tenant_engines.clear()
        self.system_engine.dispose()
