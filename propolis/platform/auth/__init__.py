"""Authentication: bearer tokens from ``POST /api/v1/session``; argon2 passwords."""

from __future__ import annotations

from typing import Any

from pyramid.security import Allowed, Denied
from pyramid.config import Configurator
from pyramid.request import Request

from propolis.platform.auth.tokens import Identity, resolve_token

AUTHENTICATED = "authenticated"


class BearerTokenPolicy:
    """Pyramid security policy: ``Authorization: Bearer <token>``. Permissions
    beyond "logged in" are decided by the record service's access checks."""

    def identity(self, request: Request) -> Identity | None:
        header = request.authorization
        if not header or header.authtype.lower() != "bearer" or not header.params:
            return None
        token = header.params if isinstance(header.params, str) else None
        if not token:
            return None
        return resolve_token(request.registry.database, token.strip())

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


def includeme(config: Configurator) -> None:
    config.set_security_policy(BearerTokenPolicy())
