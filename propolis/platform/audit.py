"""The admin audit log: who changed which configuration, when, from where.

Rows are only ever inserted. The storage refuses UPDATE and DELETE on the table
(triggers created with the table, in platform_tables), so not even a bug or a
hand-written query in the application can rewrite the past."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, insert, select

from propolis.platform.storage.platform_tables import audit_log


def record_event(
    conn: Connection,
    *,
    actor_id: str | None,
    action: str,
    target: str | None = None,
    details: Mapping[str, Any] | None = None,
    ip: str | None = None,
) -> None:
    """Appends one entry, in the caller's transaction: the change and its record
    commit or roll back together. ``action`` is a dotted name such as
    ``metadata.apply``, ``role.update``, ``department.move``."""
    conn.execute(insert(audit_log).values(
        at=dt.datetime.now(dt.UTC), actor_id=actor_id, action=action, target=target,
        details=dict(details or {}), ip=ip))


def entries(conn: Connection, *, limit: int = 100, before_id: int | None = None
            ) -> list[dict[str, Any]]:
    """The newest entries first, a page at a time."""
    stmt = select(audit_log).order_by(audit_log.c.id.desc()).limit(limit)
    if before_id is not None:
        stmt = stmt.where(audit_log.c.id < before_id)
    return [dict(row._mapping) for row in conn.execute(stmt)]
