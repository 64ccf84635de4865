"""The caller as the services see them: ``request.actor`` (the user, their main
department and roles, read fresh on every request so a change of role or status
applies at once), ``request.access`` (what they may do: the one access policy every
service of the request asks) and ``request.records`` (the record service for this
request)."""

from __future__ import annotations

from pyramid.config import Configurator
from pyramid.events import ContextFound
from pyramid.request import Request
from sqlalchemy import bindparam, select

from propolis.platform.accounts.services import end_sessions_after_password_set
from propolis.platform.errors import AppError, t
from propolis.platform.permissions.actor import Actor
from propolis.platform.permissions.policy import AccessPolicy
from propolis.platform.records.services import RecordService

# the statement reading the caller's user row, built once per metadata version
ACTOR_KEY = "api.actor"


def _actor(request: Request) -> Actor:
    identity = request.identity
    user = request.effective.objects["user"]
    stmt = user.cache.get(ACTOR_KEY)
    if stmt is None:
        users = request.effective.tables.main["user"]
        stmt = user.cache[ACTOR_KEY] = (
            select(users.c.id, users.c.main_department, users.c.roles, users.c.status)
            .where(users.c.id == bindparam("uid"), users.c.deleted_at.is_(None)))
    row = request.db.execute(stmt, {"uid": identity.user_id}).first()
    if row is None or row.status != "active":
        raise AppError("unauthenticated", t("请先登录", "Log in first"), status=401)
    return Actor(user_id=row.id, department_id=row.main_department,
                 roles=frozenset(row.roles or ()) | {"employee"})


def _access(request: Request) -> AccessPolicy:
    return AccessPolicy(request.effective, request.actor)


def _records(request: Request) -> RecordService:
    def password_set(user_id: str) -> None:
        end_sessions_after_password_set(request.sysdb, request.identity, user_id)

    return RecordService(request.db, request.effective, request.actor,
                         lang=request.lang, policy=request.access,
                         on_password_set=password_set)


def _active_users_only(event: ContextFound) -> None:
    """A token outlives a change of its user's status: every API call but logging
    in checks that the user still exists and is active, whether or not its view
    needs ``request.actor`` (listing objects, files, jobs, the OpenAPI document)."""
    request = event.request
    route = request.matched_route
    if (request.identity is not None and route is not None
            and route.name.startswith("api.") and route.name != "api.session"):
        request.actor  # noqa: B018 - raises the 401


def includeme(config: Configurator) -> None:
    config.add_request_method(_actor, "actor", reify=True)
    config.add_request_method(_access, "access", reify=True)
    config.add_request_method(_records, "records", reify=True)
    config.add_subscriber(_active_users_only, ContextFound)
