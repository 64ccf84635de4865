"""The inbox's one writer for what happens to records (a mention, a reply, a
score, an instruction, a reminder): a row of ``notifications`` per user, naming
the record, in the caller's transaction. ``GET /notifications`` lists them with
the approvals' own."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy import Connection, insert

from propolis.platform.errors import Message, both
from propolis.platform.ids import new_id
from propolis.platform.storage.platform_tables import notifications


def notify(conn: Connection, users: Iterable[str], kind: str, message: Message, *,
           object: str | None = None, record_id: str | None = None) -> int:
    """Tells each of ``users`` (once each); returns how many were told."""
    now = dt.datetime.now(dt.UTC)
    rows = [{"id": new_id(), "user_id": u, "kind": kind, "object": object,
             "record_id": record_id, "message": both(message), "created_at": now}
            for u in dict.fromkeys(users) if u]
    if rows:
        conn.execute(insert(notifications), rows)
    return len(rows)
