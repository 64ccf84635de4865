"""What every HTML page of the platform shares: the Jinja2 renderer for ``.html``
(autoescaped, with Babel-extracted ``{% trans %}``/``_()``), the language (a
cookie set by the language switch, else Accept-Language, else Chinese), the
static files, the logged-in user of the page, and HTML answers for the errors a
page can meet (a stale form, a refused page)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from jinja2 import pass_context
from pyramid.config import Configurator
from pyramid.csrf import get_csrf_token
from pyramid.exceptions import BadCSRFToken
from pyramid.httpexceptions import HTTPSeeOther
from pyramid.i18n import TranslationStringFactory
from pyramid.renderers import render_to_response
from pyramid.request import Request
from pyramid.response import Response
from pyramid.view import exception_view_config, view_config
from sqlalchemy import select

from propolis.platform.api.errors import error_response
from propolis.platform.errors import AppError, t
from propolis.platform.web import LANG_COOKIE, LANGUAGES

_ = TranslationStringFactory("propolis")

def negotiate_locale(request: Request) -> str:
    return request.lang


def safe_next(target: str | None, default: str) -> str:
    """Only a path on this site: never ``//host`` or ``https://host`` (no open
    redirect through ``?next=``)."""
    if not target or not target.startswith("/") or target.startswith("//") \
            or "\\" in target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    return target


@dataclass(frozen=True)
class PageUser:
    id: str
    name: str
    phone: str | None
    roles: frozenset[str]

    @property
    def is_admin(self) -> bool:
        return "admin" in self.roles


def _page_user(request: Request) -> PageUser | None:
    """The user logged in through the session cookie, if still active. A bearer
    token does not make a page logged in: the pages are the browser's."""
    identity = request.identity
    if identity is None or identity.via != "cookie":
        return None
    users = request.effective.tables.main["user"]
    row = request.db.execute(
        select(users.c.id, users.c.name, users.c.phone, users.c.roles, users.c.status)
        .where(users.c.id == identity.user_id, users.c.deleted_at.is_(None))).first()
    if row is None or row.status != "active":
        return None
    return PageUser(row.id, row.name, row.phone,
                    frozenset(row.roles or ()) | {"employee"})


def _translate(request: Request, value: Any) -> str:
    """A TranslationString in the page's language, or an ``{"zh","en"}`` message
    (an AppError's) in it."""
    if isinstance(value, dict):
        return (value.get(request.locale_name) or value.get("en") or value.get("zh")
                or "")
    return request.localizer.translate(value)


def render_page(request: Request, template: str, values: dict[str, Any],
                status: int = 200) -> Response:
    response = render_to_response(template, values, request=request)
    response.status = status
    return response


def error_page(request: Request, title: Any, message: Any, status: int) -> Response:
    return render_page(request, "propolis.platform:templates/error.html", {
        "title": _translate(request, title), "message": _translate(request, message),
    }, status)


@pass_context
def localtime(context: Any, value: dt.datetime | None, fmt: str = "%Y-%m-%d %H:%M"
              ) -> str:
    """A stored (UTC) time as the enterprise's clock shows it (``propolis.timezone``,
    Asia/Shanghai by default)."""
    if value is None:
        return ""
    settings = context["request"].registry.settings
    zone = ZoneInfo(settings.get("propolis.timezone", "Asia/Shanghai"))
    return value.astimezone(zone).strftime(fmt)


@exception_view_config(BadCSRFToken)
def bad_csrf_view(exc: BadCSRFToken, request: Request) -> Response:
    if request.path.startswith("/api/"):
        return error_response(request, AppError(
            "bad_csrf_token", t("缺少或无效的 CSRF 令牌（X-CSRF-Token）",
                                "Missing or invalid CSRF token (X-CSRF-Token)"),
            status=400))
    return error_page(request, _("This form has expired"),
                      _("Go back, reload the page and try again."), 400)


@view_config(route_name="accounts.lang")
def switch_language(request: Request) -> Response:
    lang = request.matchdict["lang"]
    target = safe_next(request.params.get("next"), "/login")
    response = HTTPSeeOther(location=target)
    if lang in LANGUAGES:
        response.set_cookie(LANG_COOKIE, lang, max_age=dt.timedelta(days=365),
                            samesite="Lax", httponly=True)
    return response


def includeme(config: Configurator) -> None:
    settings = config.get_settings()
    settings.setdefault("jinja2.i18n.domain", "propolis")
    settings.setdefault("jinja2.newstyle", "true")
    settings.setdefault("jinja2.undefined", "strict")
    settings.setdefault("jinja2.autoescape", "true")
    config.add_jinja2_renderer(".html")

    def add_filters() -> None:
        config.get_jinja2_environment(".html").filters["localtime"] = localtime

    # after pyramid_jinja2 has made the environment (its own documented pattern)
    config.action(None, add_filters, order=999)
    config.add_translation_dirs("propolis:locale")
    config.set_locale_negotiator(negotiate_locale)
    config.add_static_view("static", "propolis.platform:static", cache_max_age=3600)
    config.add_request_method(_page_user, "page_user", reify=True)
    config.add_request_method(lambda r: get_csrf_token(r), "csrf_token", reify=True)
    config.add_request_method(_translate, "translate")
