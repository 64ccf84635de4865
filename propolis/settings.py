"""Settings: the ini's ``propolis.*`` keys, overridden by environment variables."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

# setting key -> environment variable that overrides it
ENVIRONMENT = {
    "propolis.database_url": "PROPOLIS_DATABASE_URL",
    "propolis.tenant_dir": "PROPOLIS_TENANT_DIR",
    "propolis.files_dir": "PROPOLIS_FILES_DIR",
    "propolis.broker_url": "PROPOLIS_BROKER_URL",
    "propolis.result_backend": "PROPOLIS_RESULT_BACKEND",
    "propolis.secret": "PROPOLIS_SECRET",
    "propolis.extensions": "PROPOLIS_EXTENSIONS",
    "propolis.celery_always_eager": "PROPOLIS_CELERY_ALWAYS_EAGER",
    "propolis.beat_schedule": "PROPOLIS_BEAT_SCHEDULE",
    "propolis.trusted_proxy": "PROPOLIS_TRUSTED_PROXY",
}

DEFAULTS = {
    "propolis.tenant_dir": "var/tenants",
    "propolis.files_dir": "var/files",
    "propolis.broker_url": "sqla+sqlite:///var/celery.sqlite",
    "propolis.result_backend": "",
    "propolis.extensions": "",
    "propolis.max_body_bytes": "5242880",
    "propolis.celery_always_eager": "false",
    "propolis.beat_schedule": "var/celerybeat-schedule",
    # Calls per client IP and window on the public routes (429 beyond); "off" lifts
    # a limit. The forms: 30/minute, 5/hour, 100/10minutes, 2/day.
    "propolis.rate_limit.captcha": "30/minute",
    "propolis.rate_limit.register": "5/hour",
    "propolis.rate_limit.join": "10/hour",
    # The reverse proxies (addresses or networks) whose X-Forwarded-For names the
    # client; empty: the peer is the client and the header is ignored.
    "propolis.trusted_proxy": "",
}


class SettingsError(Exception):
    """A required setting is missing or still a placeholder."""


def resolve(settings: Mapping[str, Any]) -> dict[str, Any]:
    """Defaults < ini < environment; ``env:NAME`` in the ini means "must come from
    the environment" and fails loudly when the variable is not set."""
    out: dict[str, Any] = dict(DEFAULTS)
    out.update(settings)
    for key, var in ENVIRONMENT.items():
        if var in os.environ:
            out[key] = os.environ[var]
    for key, value in out.items():
        if isinstance(value, str) and value.startswith("env:"):
            var = value[4:]
            if var not in os.environ:
                raise SettingsError(f"{key}: set the environment variable {var}")
            out[key] = os.environ[var]
    if not out.get("propolis.database_url"):
        raise SettingsError(
            "propolis.database_url: set it in the ini or PROPOLIS_DATABASE_URL")
    if not out.get("propolis.secret"):
        raise SettingsError("propolis.secret: set it in the ini or PROPOLIS_SECRET")
    return out


def as_bool(value: Any) -> bool:
    return str(value).strip().lower() in {"1", "true", "yes", "on"}


def as_list(value: Any) -> list[str]:
    if isinstance(value, list | tuple):
        return [str(v) for v in value]
    return [part for part in str(value or "").replace(",", " ").split() if part]
