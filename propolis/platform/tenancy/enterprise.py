"""The enterprise's own settings (``ITenancyService``): what the system database
keeps about it besides its metadata, today its time zone.

The time zone is the enterprise's clock: every request reads it with the login
token (``request.tz``) and hands it to the services that read or write times —
``today()`` and ``now()`` in expressions, days and weeks of statistics and
filters, the times pages, exports and the API show."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any
from zoneinfo import available_timezones

from sqlalchemy import select, update
from sqlalchemy.orm import Session
from zope.interface import implementer

from propolis.platform.errors import AppError, _
from propolis.platform.storage.system import Enterprise
from propolis.platform.tenancy.interfaces import ITenancyService

KEYS = ("time_zone",)
Audit = Callable[[str, str | None, Mapping[str, Any]], None]


@functools.cache
def time_zones() -> list[str]:
    """The IANA zones an enterprise may choose, sorted: UTC and the
    ``Area/Location`` ones (not legacy aliases such as ``US/Pacific`` or
    ``PRC``)."""
    return sorted(z for z in available_timezones() if z == "UTC" or (
        "/" in z and not z.startswith(("Etc/", "SystemV/", "US/"))))


def _invalid(key: str, message: dict[str, str]) -> AppError:
    return AppError("invalid", _("Invalid settings"), {key: [message]})


@implementer(ITenancyService)
class EnterpriseService:
    """The settings of enterprise ``enterprise_id``, read and changed in the
    system database session ``sysdb`` (the caller's transaction); ``audit``
    writes the admin audit entry of a change."""

    def __init__(self, sysdb: Session, enterprise_id: int, audit: Audit) -> None:
        self.sysdb = sysdb
        self.enterprise_id = enterprise_id
        self.audit = audit

    def settings(self) -> dict[str, Any]:
        row = self.sysdb.execute(select(
            Enterprise.account, Enterprise.name, Enterprise.time_zone).where(
            Enterprise.id == self.enterprise_id)).one()
        return {"account": row.account, "name": row.name, "time_zone": row.time_zone}

    def time_zones(self) -> list[str]:
        return time_zones()

    def put_settings(self, data: Mapping[str, Any]) -> dict[str, Any]:
        unknown = sorted(set(data) - set(KEYS))
        if unknown:
            raise AppError("invalid", _("Invalid settings"),
                           {k: [_("unknown setting")]
                            for k in unknown})
        current = self.settings()
        zone = data.get("time_zone", current["time_zone"])
        if not isinstance(zone, str) or zone not in time_zones():
            raise _invalid("time_zone", _("must be an IANA time zone such as "
                                          "Asia/Shanghai or Europe/Berlin"))
        if zone != current["time_zone"]:
            self.sysdb.execute(update(Enterprise).where(
                Enterprise.id == self.enterprise_id).values(time_zone=zone))
            self.audit("enterprise.settings", None,
                       {"time_zone": [current["time_zone"], zone]})
        return {**current, "time_zone": zone}
