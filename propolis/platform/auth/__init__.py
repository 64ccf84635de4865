"""Authentication: access tokens carried by ``Authorization: Bearer`` (the API) or
a browser session whose id the signed session cookie carries (the pages, and the
API calls they make); argon2 passwords; CSRF for cookies."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import Any

from pyramid.config import Configurator
from pyramid.request import Request, RequestLocalCache
from pyramid.security import Allowed, Denied

from propolis.platform.auth.session import COOKIE_NAME, SESSION_ID, session_factory
from propolis.platform.auth.tokens import (
    BROWSER,
    Identity,
    needs_touch,
    resolve_token,
    touch,
)
from propolis.platform.auth.tokens import utcnow as utcnow
from propolis.settings import as_bool

AUTHENTICATED = "authenticated"

log = logging.getLogger(__name__)


def bearer_token(request: Request) -> str | None:
    header = request.authorization
    if not header or header.authtype.lower() != "bearer" or not header.params:
        return None
    token = header.params if isinstance(header.params, str) else None
    return token.strip() if token and token.strip() else None


class TokenPolicy:
    """Pyramid security policy. An ``Authorization`` header decides alone (a wrong
    one is not rescued by a cookie); without one, the browser session whose id the
    cookie carries counts. Neither kind is taken for the other (``session``).
    Permissions beyond "logged in" are decided by the services' access checks."""

    def __init__(self) -> None:
        self._cache = RequestLocalCache(self._load)

    def _load(self, request: Request) -> Identity | None:
        database = request.registry.database
        if request.headers.get("Authorization"):
            token = bearer_token(request)
            identity = resolve_token(database, token, now=request.now) \
                if token else None
            if identity is not None and identity.kind == BROWSER:
                identity = None  # a browser session's id is no bearer token
        elif COOKIE_NAME in request.cookies:
            sid = request.session.get(SESSION_ID)
            identity = resolve_token(database, sid, now=request.now, via="cookie") \
                if isinstance(sid, str) and sid else None
            if identity is not None and identity.kind != BROWSER:
                identity = None
        else:
            identity = None
        if identity is not None and needs_touch(identity, request.now):
            request.add_finished_callback(_toucher(identity, request.now))
        return identity

    def identity(self, request: Request) -> Identity | None:
        return self._cache.get_or_create(request)

    def forget_cached(self, request: Request) -> None:
        """After a login or logout within the request."""
        self._cache.clear(request)

    def authenticated_userid(self, request: Request) -> str | None:
        identity = request.identity
        return identity.user_id if identity else None

    def permits(self, request: Request, context: Any, permission: str) -> Any:
        if permission == AUTHENTICATED:
            if request.identity is not None:
                return Allowed("authenticated")
            return Denied("not authenticated")
        return Denied(f"unknown permission {permission!r}")

    def remember(self, request: Request, userid: str, **kw: Any) -> list[Any]:
        return []

    def forget(self, request: Request, **kw: Any) -> list[Any]:
        return []


def _toucher(identity: Identity, now: dt.datetime) -> Callable[[Request], None]:
    # After the response and the request's own transaction: on SQLite a write
    # here can never wait behind the request's own write lock.
    def finished(request: Request) -> None:
        try:
            touch(request.registry.database, identity, now)
        except Exception:  # a missed "last used" must not fail anything
            log.warning("could not record the use of a token", exc_info=True)

    return finished


def csrf_applies(request: Request) -> bool:
    """CSRF is checked on every state-changing request a browser could be tricked
    into sending with its cookie: the pages' forms, and API calls authenticated by
    the cookie. A bearer token is proof enough, and the API's own login and
    registration (no cookie involved) need none."""
    if request.headers.get("Authorization"):
        return False
    if request.path.startswith("/api/"):
        identity = request.identity
        return identity is not None and identity.via == "cookie"
    return True


def _now(request: Request) -> dt.datetime:
    return request.registry.clock()


def includeme(config: Configurator) -> None:
    settings = config.get_settings()
    # Time comes from one injectable clock, so tests of back-off and expiry never
    # sleep: they replace ``registry.clock``.
    if not hasattr(config.registry, "clock"):
        config.registry.clock = utcnow
    config.add_request_method(_now, "now", reify=True)
    config.set_security_policy(TokenPolicy())
    config.set_session_factory(session_factory(
        settings["propolis.secret"],
        secure=as_bool(settings.get("propolis.secure_cookies", "false"))))
    config.set_default_csrf_options(require_csrf=True, callback=csrf_applies)
