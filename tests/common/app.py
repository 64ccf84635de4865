"""The settings the tests run the application with."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from propolis.platform.db import Database


def app_settings(database: Database, files_dir: str, secret: str = "test"
                 ) -> dict[str, Any]:
    """One process, no worker (tasks run eagerly), and public-route budgets far
    above what the suite spends (the rate limits' own tests set the real ones)."""
    return {
        "propolis.database_url": database.url,
        "propolis.tenant_dir": database.tenant_dir,
        "propolis.files_dir": files_dir,
        "propolis.secret": secret,
        "propolis.celery_always_eager": "true",
        "propolis.broker_url": "memory://",
        "tm.manager_hook": "pyramid_tm.explicit_manager",
        "retry.attempts": "3",
        "propolis.rate_limit.captcha": "10000/minute",
        "propolis.rate_limit.register": "10000/minute",
        "propolis.rate_limit.join": "10000/minute",
    }


def write_ini(path: Path, database: Database, extensions: str = "") -> str:
    """An ini for the command line over the test database (``path``: a file in
    a temporary directory); ``extensions``: the includes it names."""
    path.write_text(f"""[app:main]
use = egg:propolis
propolis.database_url = {database.url}
propolis.tenant_dir = {database.tenant_dir}
propolis.files_dir = {path.parent}/files
propolis.broker_url = memory://
propolis.secret = test
propolis.extensions = {extensions}
""")
    return str(path)
