"""Handing an employee's records over: every record they own, in every object, to
another user in one statement per object, with a history row per record (the bulk
path of ``RecordService.hand_over``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    Connection,
    String,
    cast,
    insert,
    literal,
    select,
    type_coerce,
    update,
)
from sqlalchemy.sql import ColumnElement

from propolis.platform.db import Dialect, dialect_for
from propolis.platform.meta.effective import Effective
from propolis.platform.storage.platform_tables import record_history
from propolis.platform.storage.types import UTCDateTime, json_type


def _json_pairs(
    dialect: Dialect, pairs: list[tuple[str, Any, Any]]
) -> ColumnElement[Any]:
    """``{key: [old, new], …}`` built by the database, for INSERT … SELECT (each
    value a column or a bound string)."""

    def text_value(value: Any) -> ColumnElement[Any]:
        if isinstance(value, ColumnElement):
            return value
        # typed, or PostgreSQL cannot tell what the parameters of *_build_* are
        return cast(literal(value, String()), String())

    args: list[Any] = []
    for key, old, new in pairs:
        args += [text_value(key), dialect.json_array(text_value(old), text_value(new))]
    return dialect.json_object(*args)


def transfer_records(
    conn: Connection,
    effective: Effective,
    *,
    from_user: str,
    to_user: str,
    to_department: str | None,
    actor_id: str | None,
) -> dict[str, list[tuple[str, str | None]]]:
    """Gives every record ``from_user`` owns, in every object (the recycle bin
    included), to ``to_user``, whose main department becomes the records'
    ``owner_department``. Per object: the rows are locked, one INSERT … SELECT
    writes a history row per record (action ``transfer``, changes ``owner`` and,
    where it differs, ``owner_department``) and one UPDATE moves them with a new
    version. Returns the records that moved, by object: ``(id, their
    owner_department before)``."""
    now = dt.datetime.now(dt.UTC)
    dialect = dialect_for(conn)
    moved = {}
    for name in sorted(effective.objects):
        table = effective.tables.main[name]
        mine = table.c.owner == from_user
        # Locks the rows (PostgreSQL; SQLite's write lock is already held) so the
        # versions the history rows name are the ones the UPDATE writes.
        found = [(row.id, row.owner_department) for row in conn.execute(
            select(table.c.id, table.c.owner_department).where(mine)
            .with_for_update())]
        if not found:
            continue
        same_department = table.c.owner_department.is_not_distinct_from(to_department)
        columns = ["object", "record_id", "version", "action", "changed_at",
                   "changed_by", "changes"]
        for changes, where in (
            (_json_pairs(dialect, [("owner", from_user, to_user)]), same_department),
            (_json_pairs(dialect, [("owner", from_user, to_user),
                                   ("owner_department", table.c.owner_department,
                                    to_department)]), ~same_department),
        ):
            conn.execute(insert(record_history).from_select(columns, select(
                literal(name, String()), table.c.id, table.c.version + 1,
                literal("transfer", String()), literal(now, UTCDateTime()),
                literal(actor_id, String()), type_coerce(changes, json_type()),
            ).where(mine, where)))
        conn.execute(update(table).where(mine).values(
            owner=to_user, owner_department=to_department,
            version=table.c.version + 1, updated_by=actor_id, updated_at=now))
        moved[name] = found
    return moved
