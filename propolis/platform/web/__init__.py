"""The web layer: the request as views and service factories see it, what every
HTML page shares (``pages``), what every JSON answer shares (``api``), the answers
to errors (``errors``: a page for page paths, JSON under /api), the registries of
navigation items and static assets (``nav``) and requests outside the web
(``offline``: the command line, Celery tasks, tests).

The request:

- ``request.tenant``: the caller's enterprise (``Tenant``), from the login token,
  never from the URL; None before a login.
- ``request.db`` / ``request.sysdb``: the enterprise's storage and the system
  database, each a session joined to the request's transaction.
- ``request.effective``: the enterprise's metadata at its current version.
- ``request.actor``: the user, their main department and roles, read fresh on every
  request so a change of role or status applies at once (401 when the user is gone
  or disabled).
- ``request.access``: what the actor may do, the one access policy every service of
  the request asks.
- ``request.client_ip``: the client's address (``client``: behind the proxies
  ``propolis.trusted_proxy`` names, from their ``X-Forwarded-For``).
- ``request.lang``: ``zh`` or ``en``; ``request.tz``: the enterprise's IANA time
  zone, given to every service that reads or writes times.
- the services: ``request.find_service(IRecordService)`` and the like, made by the
  factories each domain registers in its ``includeme`` (pyramid_services).

A request outside the web sets ``tenant`` and ``actor`` itself (``offline``);
everything else follows from them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pyramid.config import Configurator
from pyramid.events import ContextFound
from pyramid.request import Request
from sqlalchemy import Row, bindparam, select
from sqlalchemy.orm import Session
from zope.sqlalchemy.datamanager import STATUS_CHANGED, join_transaction

from propolis.platform.db import Database
from propolis.platform.errors import AppError, _
from propolis.platform.meta.effective import Effective, effective_cache, load_effective
from propolis.platform.permissions.actor import Actor
from propolis.platform.permissions.policy import AccessPolicy
from propolis.platform.storage.system import DEFAULT_TIME_ZONE

LANGUAGES = ("zh", "en")
# the language switch's choice; pages and the API calls they make follow it
LANG_COOKIE = "propolis_lang"
# the statement reading the caller's user row, built once per metadata version
USER_ROW_KEY = "web.user_row"


@dataclass(frozen=True)
class Tenant:
    """An enterprise as a request needs it."""

    id: int
    account: str
    name: str
    metadata_version: int
    time_zone: str = DEFAULT_TIME_ZONE


def _join(request: Request, session: Session) -> Session:
    # Generated tables are written with Core statements, which zope.sqlalchemy can't
    # see; "changed" from the start makes the request's transaction commit them.
    # The session lives for this one transaction, so it is joined to it directly:
    # zope.sqlalchemy's register() would attach seven event listeners per session
    # (about a third of a bare read's cost) only to join on the first statement.
    join_transaction(session, STATUS_CHANGED, transaction_manager=request.tm)
    return session


def _tenant(request: Request) -> Tenant | None:
    identity = request.identity
    if identity is None:
        return None
    return Tenant(identity.enterprise_id, identity.account, identity.enterprise_name,
                  identity.metadata_version, identity.time_zone)


def _sysdb(request: Request) -> Session:
    return _join(request, request.registry.database.system_sessionmaker())


def _db(request: Request) -> Session:
    """The enterprise's own storage."""
    tenant = request.tenant
    if tenant is None:
        raise RuntimeError("request.db needs the request's enterprise (a login)")
    return _join(request, request.registry.database.tenant_session(tenant.account))


def _effective(request: Request) -> Effective:
    tenant = request.tenant
    return effective_cache.get(
        tenant.account,
        tenant.metadata_version,
        lambda: load_effective(request.db.connection(), tenant.metadata_version),
    )


def _user_row(request: Request) -> Row[Any] | None:
    """The logged-in user's row (``id name phone main_department roles status``),
    read once for ``actor`` and ``page_user`` alike; None when it is gone."""
    identity = request.identity
    if identity is None:
        return None
    user = request.effective.objects["user"]
    stmt = user.cache.get(USER_ROW_KEY)
    if stmt is None:
        users = request.effective.tables.main["user"]
        stmt = user.cache[USER_ROW_KEY] = (
            select(users.c.id, users.c.name, users.c.phone, users.c.main_department,
                   users.c.roles, users.c.status)
            .where(users.c.id == bindparam("uid"), users.c.deleted_at.is_(None)))
    row: Row[Any] | None = request.db.execute(
        stmt, {"uid": identity.user_id}).first()
    return row


def _actor(request: Request) -> Actor:
    row = request.user_row
    if row is None or row.status != "active":
        raise AppError("unauthenticated", _("Log in first"), status=401)
    return Actor(user_id=row.id, department_id=row.main_department,
                 roles=frozenset(row.roles or ()) | {"employee"})


def _access(request: Request) -> AccessPolicy:
    return AccessPolicy(request.effective, request.actor)


def _lang(request: Request) -> str:
    """The cookie the language switch sets, else Accept-Language, else Chinese."""
    chosen = request.cookies.get(LANG_COOKIE)
    if chosen in LANGUAGES:
        return str(chosen)
    best = request.accept_language.lookup(["zh", "en"], default="zh")
    return best if best in LANGUAGES else "zh"


def _tz(request: Request) -> str:
    tenant = request.tenant
    return tenant.time_zone if tenant is not None else DEFAULT_TIME_ZONE


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
    settings = config.get_settings()
    config.registry.database = Database(
        settings["propolis.database_url"], settings.get("propolis.tenant_dir")
    )
    config.add_request_method(_tenant, "tenant", reify=True)
    config.add_request_method(_sysdb, "sysdb", reify=True)
    config.add_request_method(_db, "db", reify=True)
    config.add_request_method(_effective, "effective", reify=True)
    config.add_request_method(_user_row, "user_row", reify=True)
    config.add_request_method(_actor, "actor", reify=True)
    config.add_request_method(_access, "access", reify=True)
    config.add_request_method(_lang, "lang", reify=True)
    config.add_request_method(_tz, "tz", reify=True)
    config.add_subscriber(_active_users_only, ContextFound)
    config.include(".client")
    config.include(".headers")
    config.include(".pages")
    config.include(".nav")
    config.add_tween("propolis.platform.web.errors.body_limit_tween_factory")
    config.scan(".")
