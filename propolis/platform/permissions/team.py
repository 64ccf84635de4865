"""A record's joint followers (联合跟进人): users who see it, or also change it,
whoever owns it. Who may list or change a team is the record service's to say
(``RecordService.check``); these functions only store it."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Connection, delete, select

from propolis.platform.db import dialect_for
from propolis.platform.errors import AppError, Message, NotFound, _
from propolis.platform.meta.effective import Effective
from propolis.platform.storage.platform_tables import record_team

ACCESS = ("read", "edit")


def members(
    conn: Connection, effective: Effective, object: str, record_id: str
) -> list[dict[str, Any]]:
    """The record's team with the users' names, in the order they were added."""
    users = effective.tables.main["user"]
    rows = conn.execute(
        select(record_team.c.user_id, users.c.name, record_team.c.access,
               record_team.c.added_by, record_team.c.added_at)
        .join(users, users.c.id == record_team.c.user_id, isouter=True)
        .where(record_team.c.object == object, record_team.c.record_id == record_id)
        .order_by(record_team.c.added_at, record_team.c.user_id))
    return [{"user": r.user_id, "name": r.name, "access": r.access,
             "added_by": r.added_by, "added_at": r.added_at} for r in rows]


def parse_member(body: Any) -> tuple[str, str]:
    """``{"user", "access"}`` of a request body (access defaults to read)."""
    errors: dict[str, list[Message]] = {}
    user = body.get("user")
    access = body.get("access", "read")
    if not isinstance(user, str) or not user:
        errors["user"] = [_("must be a user id")]
    if access not in ACCESS:
        errors["access"] = [_("must be read or edit")]
    for key in set(body) - {"user", "access"}:
        errors[str(key)] = [_("unknown key")]
    if errors:
        raise AppError("invalid", _("Invalid team member"),
                       errors)
    return user, access


def put_member(
    conn: Connection,
    object: str,
    record_id: str,
    user_id: str,
    access: str,
    added_by: str | None,
) -> None:
    """Adds ``user_id`` to the record's team, or changes their access."""
    conn.execute(dialect_for(conn).upsert(
        record_team,
        {"object": object, "record_id": record_id, "user_id": user_id,
         "access": access, "added_by": added_by, "added_at": dt.datetime.now(dt.UTC)},
        keys=[record_team.c.object, record_team.c.record_id, record_team.c.user_id],
        set_={"access": access}))


def remove_member(conn: Connection, object: str, record_id: str, user_id: str
                  ) -> None:
    """Takes ``user_id`` off the record's team; 404 when they are not on it."""
    c = record_team.c
    result = conn.execute(delete(record_team).where(
        c.object == object, c.record_id == record_id, c.user_id == user_id))
    if result.rowcount == 0:
        raise NotFound("not_found", _("The user is not on the record's team"))
