"""The settings the tests run the application with."""

from __future__ import annotations

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
