"""Creating and upgrading the system database with Alembic."""

from __future__ import annotations

import os

from alembic import command
from alembic.config import Config

from propolis.platform.db import Database

MIGRATIONS = os.path.join(os.path.dirname(os.path.dirname(__file__)), "migrations")


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", MIGRATIONS)
    return cfg


def initdb(database: Database) -> None:
    """Creates or upgrades the system database to the newest revision."""
    cfg = alembic_config()
    with database.system_engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
