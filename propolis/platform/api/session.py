"""Login and logout: ``POST /api/v1/session`` → ``{"token"}``; ``DELETE`` revokes it.

After a few failures the next attempt must carry a solved captcha (``captcha_id``
from ``GET /api/v1/captcha`` and the ``captcha`` answer); after more, attempts are
refused with 429 and ``Retry-After`` (see ``propolis.platform.accounts.throttle``).
``"remember": false`` asks for a short-lived token (12 hours instead of 30 days)."""

from __future__ import annotations

from typing import Any

from pyramid.request import Request
from pyramid.response import Response
from pyramid.view import view_config

from propolis.platform.accounts.interfaces import IAccountService
from propolis.platform.auth import AUTHENTICATED
from propolis.platform.auth.tokens import BROWSER_LIFETIME, SESSION_LIFETIME
from propolis.platform.errors import AppError, _
from propolis.platform.web.api import json_object


def _required_text(body: dict[str, Any], key: str) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not value.strip():
        raise AppError("invalid", _("${key} is required", mapping={"key": key}),
                       {key: [_("required")]})
    return value.strip()


def _optional_text(body: dict[str, Any], key: str) -> str | None:
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise AppError("invalid", _("${key} must be a string", mapping={"key": key}),
                       {key: [_("must be a string")]})
    return value.strip() or None


@view_config(route_name="api.session", request_method="POST", renderer="json")
def login_view(request: Request) -> dict[str, Any]:
    body = json_object(request)
    account = _required_text(body, "account").lower()
    login_name = _required_text(body, "login")
    password = body.get("password")
    if not isinstance(password, str):
        raise AppError("invalid", _("password is required"),
                       {"password": [_("required")]})
    remember = body.get("remember", True)
    if not isinstance(remember, bool):
        raise AppError("invalid", _("remember must be true or false"),
                       {"remember": [_("must be a boolean")]})
    done = request.find_service(IAccountService).login(
        account=account, login=login_name, password=password,
        captcha_id=_optional_text(body, "captcha_id"),
        captcha_answer=_optional_text(body, "captcha"),
        lifetime=SESSION_LIFETIME if remember else BROWSER_LIFETIME,
    )
    return {"token": done.token, "user_id": done.user_id, "account": done.account}


@view_config(route_name="api.session", request_method="DELETE",
             permission=AUTHENTICATED)
def logout(request: Request) -> Response:
    request.find_service(IAccountService).logout(request.identity.token_hash)
    return Response(status=204)
