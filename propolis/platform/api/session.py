"""Login and logout: ``POST /api/v1/session`` → ``{"token"}``; ``DELETE`` revokes it."""

from __future__ import annotations

from typing import Any

from pyramid.request import Request
from pyramid.response import Response
from pyramid.view import view_config
from sqlalchemy import or_, select

from propolis.platform.api.errors import json_object
from propolis.platform.auth import AUTHENTICATED
from propolis.platform.auth.passwords import verify_password
from propolis.platform.auth.tokens import issue_token, revoke_token
from propolis.platform.errors import AppError, t
from propolis.platform.meta.effective import effective_cache, load_effective
from propolis.platform.tenancy.models import Enterprise

WRONG = t("企业账号、登录名或密码错误", "Wrong enterprise account, login or password")


def _required_text(body: dict[str, Any], key: str) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not value.strip():
        raise AppError("invalid", t(f"请填写 {key}", f"{key} is required"),
                       {key: [t("必填", "required")]})
    return value.strip()


@view_config(route_name="api.session", request_method="POST", renderer="json")
def login(request: Request) -> dict[str, Any]:
    body = json_object(request)
    account = _required_text(body, "account").lower()
    login_name = _required_text(body, "login")
    password = body.get("password")
    if not isinstance(password, str):
        raise AppError("invalid", t("请填写密码", "password is required"),
                       {"password": [t("必填", "required")]})
    enterprise = request.sysdb.execute(
        select(Enterprise).where(Enterprise.account == account,
                                 Enterprise.status == "active")
    ).scalar_one_or_none()
    if enterprise is None:
        verify_password(None, password)  # same time as a real check
        raise AppError("login_failed", WRONG, status=401)
    database = request.registry.database
    with database.tenant_session(enterprise.account) as session, session.begin():
        effective = effective_cache.get(
            enterprise.account, enterprise.metadata_version,
            lambda: load_effective(session.connection(), enterprise.metadata_version))
        users = effective.tables.main["user"]
        row = session.execute(
            select(users.c.id, users.c.password, users.c.status).where(
                or_(users.c.phone == login_name, users.c.login_name == login_name),
                users.c.deleted_at.is_(None),
            )
        ).first()
    if row is None or not verify_password(row.password, password) \
            or row.status != "active":
        raise AppError("login_failed", WRONG, status=401)
    token = issue_token(request.sysdb, enterprise.id, row.id)
    return {"token": token, "user_id": row.id, "account": enterprise.account}


@view_config(route_name="api.session", request_method="DELETE",
             permission=AUTHENTICATED)
def logout(request: Request) -> Response:
    revoke_token(request.sysdb, request.identity.token_hash)
    return Response(status=204)
