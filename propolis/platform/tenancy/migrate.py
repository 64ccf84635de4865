"""Creating and upgrading the system database with Alembic."""

from __future__ import annotations

import os

from alembic import command
from alembic.config import Config
from sqlalchemy import select

from propolis.platform.db import Database

MIGRATIONS = os.path.join(os.path.dirname(os.path.dirname(__file__)), "migrations")


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", MIGRATIONS)
    return cfg


def initdb(database: Database) -> None:
    """Creates or upgrades the system database to the newest revision, then brings
    every enterprise's storage up to this release (``upgrade_tenant_storage``)."""
    cfg = alembic_config()
    with database.system_engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
    upgrade_tenants(database)


def upgrade_tenants(database: Database) -> None:
    from propolis.platform.meta.services import upgrade_tenant_storage
    from propolis.platform.storage.system import Enterprise

    with database.system_engine.connect() as conn:
        accounts = list(conn.execute(select(Enterprise.account)).scalars())
    for account in accounts:
        with database.tenant_engine(account).begin() as conn:
            upgrade_tenant_storage(conn)
