"""The caller as the services see them: ``request.actor`` (the user, their main
department and roles, read fresh on every request so a change of role or status
applies at once) and ``request.records`` (the record service for this request)."""

from __future__ import annotations

from pyramid.config import Configurator
from pyramid.request import Request
from sqlalchemy import select

from propolis.platform.errors import AppError, t
from propolis.platform.records.interfaces import Actor
from propolis.platform.records.services import RecordService


def _actor(request: Request) -> Actor:
    identity = request.identity
    users = request.effective.tables.main["user"]
    row = request.db.execute(
        select(users.c.id, users.c.main_department, users.c.roles, users.c.status)
        .where(users.c.id == identity.user_id, users.c.deleted_at.is_(None))
    ).first()
    if row is None or row.status != "active":
        raise AppError("unauthenticated", t("请先登录", "Log in first"), status=401)
    return Actor(user_id=row.id, department_id=row.main_department,
                 roles=frozenset(row.roles or ()) | {"employee"})


def _records(request: Request) -> RecordService:
    return RecordService(request.db, request.effective, request.actor, lang=request.lang)


def includeme(config: Configurator) -> None:
    config.add_request_method(_actor, "actor", reify=True)
    config.add_request_method(_records, "records", reify=True)
