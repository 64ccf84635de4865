"""The accounts part of the JSON API: registration, captchas, passwords, the
caller's sessions and personal tokens, and the admin's view of every session."""

from __future__ import annotations

from typing import Any

from pyramid.request import Request
from pyramid.response import Response
from pyramid.view import exception_view_config, view_config, view_defaults
from sqlalchemy import select

from propolis.platform.accounts import services
from propolis.platform.accounts.services import Throttled, client_of
from propolis.platform.audit import record_event
from propolis.platform.auth import AUTHENTICATED, tokens
from propolis.platform.errors import AppError, Forbidden, NotFound, t
from propolis.platform.web.api import error_response, json_object


@exception_view_config(Throttled)
def throttled_view(exc: Throttled, request: Request) -> Response:
    response = error_response(request, exc)
    response.headers["Retry-After"] = str(exc.retry_after)
    return response


@view_config(route_name="api.captcha", request_method="GET", renderer="json")
def captcha_view(request: Request) -> dict[str, Any]:
    services.limit_rate(request, "captcha")
    made = services.new_captcha(request.registry.database,
                                request.registry.settings["propolis.secret"],
                                request.now)
    request.response.headers["Cache-Control"] = "no-store"
    return {"id": made.id, "image": made.image}


@view_config(route_name="api.enterprises", request_method="POST", renderer="json")
def register_view(request: Request) -> dict[str, Any]:
    services.limit_rate(request, "register")
    body = json_object(request)
    unknown = set(body) - {"account", "name", "admin_name", "phone", "password"}
    if unknown:
        raise AppError("invalid", t("注册信息有误", "Invalid registration details"),
                       {k: [t("不支持的参数", "unknown key")] for k in sorted(unknown)})
    created = services.register(request.registry.database, body)
    request.response.status = 201
    return {"account": created.account, "admin_id": created.admin_id}


def require_session(request: Request) -> tokens.Identity:
    """Changing credentials needs a login session: a personal API token, if it
    leaked, must not be able to mint more tokens or change the password."""
    identity = request.identity
    if identity.kind == tokens.PERSONAL:
        raise Forbidden("session_required", t("请使用登录会话进行此操作",
                                              "This needs a login session, not an "
                                              "API token"))
    return identity


def require_admin(request: Request) -> tokens.Identity:
    if "admin" not in request.actor.roles:
        raise Forbidden("admin_only", t("仅企业管理员可操作", "Enterprise admins only"))
    return request.identity


@view_defaults(renderer="json", permission=AUTHENTICATED)
class AccountViews:
    def __init__(self, request: Request) -> None:
        self.request = request
        self.identity: tokens.Identity = request.identity

    @view_config(route_name="api.password", request_method="POST")
    def change_password(self) -> Response:
        identity = require_session(self.request)
        body = json_object(self.request)
        ended = services.change_password(
            self.request.db, self.request.sysdb, self.request.effective, identity,
            body.get("old_password"), body.get("new_password"), self.request.now,
            database=self.request.registry.database, client=client_of(self.request))
        return Response(json_body={"ended_sessions": ended}, status=200)

    @view_config(route_name="api.sessions", request_method="GET")
    def my_sessions(self) -> dict[str, Any]:
        found = tokens.list_tokens(self.request.sysdb, self.identity.enterprise_id,
                                   user_ids=[self.identity.user_id],
                                   kinds=tokens.LOGIN_KINDS, now=self.request.now)
        return {"sessions": [services.token_json(item, self.identity.token_hash)
                             for item in found]}

    @view_config(route_name="api.sessions", request_method="DELETE")
    def logout_everywhere(self) -> Response:
        """Every token of the caller ends, this one and personal tokens included."""
        tokens.revoke_user_tokens(self.request.sysdb, self.identity.enterprise_id,
                                  self.identity.user_id)
        return Response(status=204)

    @view_config(route_name="api.session.one", request_method="DELETE")
    def end_session(self) -> Response:
        if not tokens.revoke_by_id(self.request.sysdb, self.identity.enterprise_id,
                                   self.request.matchdict["id"],
                                   user_id=self.identity.user_id,
                                   kinds=tokens.LOGIN_KINDS):
            raise NotFound("not_found", t("未找到该会话", "No such session"))
        return Response(status=204)

    @view_config(route_name="api.tokens", request_method="GET")
    def list_tokens(self) -> dict[str, Any]:
        found = tokens.list_tokens(self.request.sysdb, self.identity.enterprise_id,
                                   user_ids=[self.identity.user_id],
                                   kinds=[tokens.PERSONAL], now=self.request.now)
        return {"tokens": [services.token_json(item) for item in found]}

    @view_config(route_name="api.tokens", request_method="POST")
    def create_token(self) -> dict[str, Any]:
        identity = require_session(self.request)
        issued, label = services.create_personal_token(
            self.request.sysdb, identity, json_object(self.request),
            client_of(self.request), self.request.now)
        self.request.response.status = 201
        self.request.response.headers["Cache-Control"] = "no-store"
        return {"id": issued.public_id, "token": issued.token, "label": label,
                "expires_at": issued.expires_at}

    @view_config(route_name="api.token", request_method="DELETE")
    def revoke_token(self) -> Response:
        if not tokens.revoke_by_id(self.request.sysdb, self.identity.enterprise_id,
                                   self.request.matchdict["id"],
                                   user_id=self.identity.user_id,
                                   kinds=[tokens.PERSONAL]):
            raise NotFound("not_found", t("未找到该令牌", "No such token"))
        return Response(status=204)


@view_defaults(renderer="json", permission=AUTHENTICATED)
class AdminViews:
    """What an enterprise admin sees of everyone's access; every change audited."""

    def __init__(self, request: Request) -> None:
        self.request = request
        self.identity = require_admin(request)

    def _audit(self, action: str, target: str, details: dict[str, Any]) -> None:
        record_event(self.request.db.connection(), actor_id=self.identity.user_id,
                     action=action, target=target, details=details,
                     ip=self.request.remote_addr)

    @view_config(route_name="api.user.password", request_method="POST")
    def reset_password(self) -> Response:
        body = json_object(self.request)
        revoked = services.reset_password(
            self.request.db, self.request.sysdb, self.request.effective, self.identity,
            self.request.matchdict["id"], body.get("password"), self.request.now,
            self.request.remote_addr)
        return Response(json_body={"revoked_tokens": revoked}, status=200)

    @view_config(route_name="api.admin.sessions", request_method="GET")
    def sessions(self) -> dict[str, Any]:
        return security_overview(self.request)

    @view_config(route_name="api.admin.session", request_method="DELETE")
    def revoke(self) -> Response:
        public_id = self.request.matchdict["id"]
        owner = tokens.token_owner(self.request.sysdb, self.identity.enterprise_id,
                                   public_id)
        if owner is None:
            raise NotFound("not_found", t("未找到该会话", "No such session"))
        tokens.revoke_by_id(self.request.sysdb, self.identity.enterprise_id, public_id)
        self._audit("session.revoke", f"user:{owner[0]}",
                    {"session": public_id, "kind": owner[1]})
        return Response(status=204)

    @view_config(route_name="api.admin.user.sessions", request_method="DELETE")
    def revoke_user(self) -> Response:
        user_id = self.request.matchdict["id"]
        users = self.request.effective.tables.main["user"]
        if self.request.db.execute(select(users.c.id).where(users.c.id == user_id)
                                   ).first() is None:
            raise NotFound("not_found", t("未找到该员工", "No such user"))
        count = tokens.revoke_user_tokens(self.request.sysdb,
                                          self.identity.enterprise_id, user_id)
        self._audit("session.revoke_all", f"user:{user_id}", {"revoked_tokens": count})
        return Response(json_body={"revoked_tokens": count}, status=200)


def security_overview(request: Request) -> dict[str, Any]:
    """Each user's sessions, devices and personal tokens with their flags, and the
    recent abnormal logins (the admin's security page and API)."""
    identity = request.identity
    found = tokens.list_tokens(request.sysdb, identity.enterprise_id, now=request.now)
    events = services.login_events(request.sysdb, identity.enterprise_id,
                                   flagged_only=True, limit=200)
    ids = {item["user_id"] for item in found} | {e["user_id"] for e in events}
    users = request.effective.tables.main["user"]
    names = {row.id: {"name": row.name, "phone": row.phone, "status": row.status}
             for row in request.db.execute(
                 select(users.c.id, users.c.name, users.c.phone, users.c.status)
                 .where(users.c.id.in_(sorted(ids))))} if ids else {}
    by_user: dict[str, dict[str, Any]] = {}
    for item in found:
        entry = by_user.setdefault(item["user_id"], {
            "id": item["user_id"], **names.get(item["user_id"], {}), "sessions": []})
        entry["sessions"].append(services.token_json(item, identity.token_hash))
    for event in events:
        event["user"] = names.get(event["user_id"], {}).get("name")
    ordered = sorted(by_user.values(), key=lambda u: (u.get("name") or "", u["id"]))
    return {"users": ordered,
            "abnormal_logins": events}
