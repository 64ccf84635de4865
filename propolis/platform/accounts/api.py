"""The accounts part of the JSON API: registration, captchas, passwords, the
caller's sessions and personal tokens, and the admin's view of every session."""

from __future__ import annotations

from typing import Any

from pyramid.request import Request
from pyramid.response import Response
from pyramid.view import exception_view_config, view_config, view_defaults

from propolis.platform.accounts import services
from propolis.platform.accounts.accounts import AccountService
from propolis.platform.accounts.interfaces import IAccountService
from propolis.platform.accounts.services import Throttled
from propolis.platform.auth import AUTHENTICATED, tokens
from propolis.platform.errors import AppError, Forbidden, NotFound, _
from propolis.platform.web.api import json_object
from propolis.platform.web.errors import failure


@exception_view_config(Throttled)
def throttled_view(exc: Throttled, request: Request) -> Response:
    response = failure(request, exc)
    response.headers["Retry-After"] = str(exc.retry_after)
    return response


def accounts_of(request: Request) -> AccountService:
    service: AccountService = request.find_service(IAccountService)
    return service


@view_config(route_name="api.captcha", request_method="GET", renderer="json")
def captcha_view(request: Request) -> dict[str, Any]:
    services.limit_rate(request, "captcha")
    made = accounts_of(request).new_captcha()
    request.response.headers["Cache-Control"] = "no-store"
    return {"id": made.id, "image": made.image}


@view_config(route_name="api.enterprises", request_method="POST", renderer="json")
def register_view(request: Request) -> dict[str, Any]:
    services.limit_rate(request, "register")
    body = json_object(request)
    unknown = set(body) - {"account", "name", "admin_name", "phone", "password"}
    if unknown:
        raise AppError("invalid", _("Invalid registration details"),
                       {k: [_("unknown key")] for k in sorted(unknown)})
    created = accounts_of(request).register(body)
    request.response.status = 201
    return {"account": created.account, "admin_id": created.admin_id}


def require_session(request: Request) -> tokens.Identity:
    """Changing credentials needs a login session: a personal API token, if it
    leaked, must not be able to mint more tokens or change the password."""
    identity = request.identity
    if identity.kind == tokens.PERSONAL:
        raise Forbidden("session_required", _("This needs a login session, not an "
                                              "API token"))
    return identity


def require_admin(request: Request) -> tokens.Identity:
    if "admin" not in request.actor.roles:
        raise Forbidden("admin_only", _("Enterprise admins only"))
    return request.identity


@view_defaults(renderer="json", permission=AUTHENTICATED)
class AccountViews:
    def __init__(self, request: Request) -> None:
        self.request = request
        self.identity: tokens.Identity = request.identity
        self.accounts = accounts_of(request)

    @view_config(route_name="api.password", request_method="POST")
    def change_password(self) -> Response:
        require_session(self.request)
        body = json_object(self.request)
        ended = self.accounts.change_password(body.get("old_password"),
                                              body.get("new_password"))
        return Response(json_body={"ended_sessions": ended}, status=200)

    @view_config(route_name="api.sessions", request_method="GET")
    def my_sessions(self) -> dict[str, Any]:
        return {"sessions": self.accounts.sessions(self.identity.user_id)}

    @view_config(route_name="api.sessions", request_method="DELETE")
    def logout_everywhere(self) -> Response:
        """Every token of the caller ends, this one and personal tokens included."""
        self.accounts.end_all(self.identity.user_id)
        return Response(status=204)

    @view_config(route_name="api.session.one", request_method="DELETE")
    def end_session(self) -> Response:
        if not self.accounts.end_session(self.request.matchdict["id"],
                                         self.identity.user_id):
            raise NotFound("not_found", _("No such session"))
        return Response(status=204)

    @view_config(route_name="api.tokens", request_method="GET")
    def list_tokens(self) -> dict[str, Any]:
        return {"tokens": self.accounts.personal_tokens(self.identity.user_id)}

    @view_config(route_name="api.tokens", request_method="POST")
    def create_token(self) -> dict[str, Any]:
        require_session(self.request)
        issued, label = self.accounts.create_personal_token(json_object(self.request))
        self.request.response.status = 201
        self.request.response.headers["Cache-Control"] = "no-store"
        return {"id": issued.public_id, "token": issued.token, "label": label,
                "expires_at": issued.expires_at}

    @view_config(route_name="api.token", request_method="DELETE")
    def revoke_token(self) -> Response:
        if not self.accounts.revoke_personal_token(self.request.matchdict["id"],
                                                   self.identity.user_id):
            raise NotFound("not_found", _("No such token"))
        return Response(status=204)


@view_defaults(renderer="json", permission=AUTHENTICATED)
class AdminViews:
    """What an enterprise admin sees of everyone's access; every change audited."""

    def __init__(self, request: Request) -> None:
        self.request = request
        self.identity = require_admin(request)
        self.accounts = accounts_of(request)

    @view_config(route_name="api.user.password", request_method="POST")
    def reset_password(self) -> Response:
        body = json_object(self.request)
        revoked = self.accounts.reset_password(self.request.matchdict["id"],
                                               body.get("password"))
        return Response(json_body={"revoked_tokens": revoked}, status=200)

    @view_config(route_name="api.admin.sessions", request_method="GET")
    def sessions(self) -> dict[str, Any]:
        return self.accounts.security_overview()

    @view_config(route_name="api.admin.session", request_method="DELETE")
    def revoke(self) -> Response:
        if self.accounts.revoke(self.request.matchdict["id"]) is None:
            raise NotFound("not_found", _("No such session"))
        return Response(status=204)

    @view_config(route_name="api.admin.user.sessions", request_method="DELETE")
    def revoke_user(self) -> Response:
        count = self.accounts.revoke_user(self.request.matchdict["id"])
        if count is None:
            raise NotFound("not_found", _("No such user"))
        return Response(json_body={"revoked_tokens": count}, status=200)
