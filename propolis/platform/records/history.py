"""Field-level history: one ``record_history`` row per create, update, delete and
restore, with ``changes = {field: [old, new]}`` in JSON values."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, insert, select

from propolis.platform.fields.values import to_json_value
from propolis.platform.storage.platform_tables import record_history

_insert = insert(record_history)


def diff(
    old: Mapping[str, Any], new: Mapping[str, Any], names: list[str]
) -> dict[str, list[Any]]:
    """``{name: [old, new]}`` (JSON values) for the names whose JSON value differs;
    ``old`` and ``new`` already hold JSON values."""
    return {n: [old.get(n), new.get(n)] for n in names if old.get(n) != new.get(n)}


def write(
    conn: Connection,
    *,
    object: str,
    record_id: str,
    version: int,
    action: str,
    actor_id: str | None,
    at: dt.datetime,
    changes: Mapping[str, list[Any]],
) -> None:
    """Stores one history row."""
    conn.execute(_insert, {"object": object, "record_id": record_id,
                           "version": version, "action": action, "changed_at": at,
                           "changed_by": actor_id, "changes": dict(changes)})


def write_many(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """Stores many history rows in one statement (executemany); each row holds
    the keyword arguments of ``write``."""
    if rows:
        conn.execute(_insert, [
            {"object": r["object"], "record_id": r["record_id"],
             "version": r["version"], "action": r["action"], "changed_at": r["at"],
             "changed_by": r["actor_id"], "changes": dict(r["changes"])}
            for r in rows])


def read(
    conn: Connection, object: str, record_id: str, tz: str
) -> list[dict[str, Any]]:
    """A record's history, oldest first, as JSON-ready dicts."""
    rows = conn.execute(
        select(record_history.c.version, record_history.c.action,
               record_history.c.changed_at, record_history.c.changed_by,
               record_history.c.changes)
        .where(record_history.c.object == object,
               record_history.c.record_id == record_id)
        .order_by(record_history.c.id)
    )
    return [
        {"version": r.version, "action": r.action,
         "changed_at": to_json_value(r.changed_at, tz), "changed_by": r.changed_by,
         "changes": r.changes}
        for r in rows
    ]
