"""Shared fixtures. Database tests run on SQLite and, when PROPOLIS_TEST_DATABASE_URL is
set, on PostgreSQL too: the ``database_url`` fixture is parametrized over both."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from propolis.platform.db import Database
from propolis.platform.tenancy.migrate import initdb

PG_URL = os.environ.get("PROPOLIS_TEST_DATABASE_URL")
REDIS_URL = os.environ.get("PROPOLIS_TEST_REDIS_URL")
REQUIRE = os.environ.get("PROPOLIS_TEST_REQUIRE_SERVICES") == "1"


def need(service: str, value: str | None, variable: str) -> str:
    """Skips (with the reason shown) when a server is not configured; in CI, where
    PROPOLIS_TEST_REQUIRE_SERVICES=1, a missing server fails the run instead."""
    if value:
        return value
    reason = f"{service} tests need {variable}"
    if REQUIRE:
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest,
                 tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("sqlite") / "system.sqlite"
        yield f"sqlite:///{path}"
        return
    base = need("PostgreSQL", PG_URL, "PROPOLIS_TEST_DATABASE_URL")
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    name = f"propolis_test_{worker}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(base).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def database(database_url: str, tmp_path_factory: pytest.TempPathFactory
             ) -> Iterator[Database]:
    db = Database(database_url, str(tmp_path_factory.mktemp("tenants")))
    initdb(db)
    yield db
    db.dispose()


@pytest.fixture(scope="session")
def redis_url() -> str:
    return need("Redis", REDIS_URL, "PROPOLIS_TEST_REDIS_URL")


def unique_account(prefix: str = "t") -> str:
    return f"{prefix}{uuid.uuid4().hex[:10]}"
