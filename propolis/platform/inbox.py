"""The inbox: notifications for users (``notifications``), the one way any domain
tells someone of something — an approval task, a report to fill … — in both
languages. ``GET /api/v1/notifications`` lists them (the workflow's route)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy import Connection, insert

from propolis.platform.errors import Message, both
from propolis.platform.ids import new_id
from propolis.platform.storage.platform_tables import notifications


def notify(conn: Connection, users: Iterable[str], kind: str,
           message: Message, instance_id: str | None = None) -> int:
    """One notification of ``kind`` (``message``: stored in both languages) for
    each of ``users``, in the caller's transaction; how many were written."""
    now = dt.datetime.now(dt.UTC)
    rows = [{"id": new_id(), "user_id": user, "kind": kind,
             "instance_id": instance_id, "message": both(message), "created_at": now}
            for user in sorted(set(users))]
    if rows:
        conn.execute(insert(notifications), rows)
    return len(rows)
