"""What every HTML page shares: the Jinja2 renderer for ``.html`` (autoescaped,
with Babel-extracted ``{% trans %}``/``_()``), the page's locale (``request.lang``)
and clock (``request.tz``, the ``localtime`` filter), the static files, the
logged-in user of the page, the way to the login page, the admin console's gate
(an admin who entered their password in the last 30 minutes), a service call
undone when it refuses (``attempt``) and the error page (``error_page``;
``errors`` answers every failure of a page path with it)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlencode, urlsplit
from zoneinfo import ZoneInfo

from jinja2 import pass_context
from pyramid.config import Configurator
from pyramid.csrf import get_csrf_token
from pyramid.httpexceptions import HTTPSeeOther
from pyramid.i18n import TranslationStringFactory
from pyramid.renderers import render_to_response
from pyramid.request import Request
from pyramid.response import Response

from propolis.platform.errors import translate

_ = TranslationStringFactory("propolis")
T = TypeVar("T")


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
    row = request.user_row
    if row is None or row.status != "active":
        return None
    return PageUser(row.id, row.name, row.phone,
                    frozenset(row.roles or ()) | {"employee"})


def _translate(request: Request, value: Any) -> str:
    """A message (a TranslationString, or a label from metadata) in the page's
    language."""
    return translate(value, request.lang, request.localizer)


def render_page(request: Request, template: str, values: dict[str, Any],
                status: int = 200) -> Response:
    response = render_to_response(template, values, request=request)
    response.status = status
    return response


ERROR_PAGE = "propolis.platform:templates/error.html"


def error_page(request: Request, title: Any, message: Any, status: int, *,
               bare: bool = False) -> Response:
    """A page saying what went wrong, in the user's language, with the way home.
    ``bare``: without the logged-in user's header (after a failure that may have
    left the request's storage unusable)."""
    values = {"title": _translate(request, title),
              "message": _translate(request, message), "status": status}
    if bare:
        values["page_user"] = None
    return render_page(request, ERROR_PAGE, values, status)


@pass_context
def localtime(context: Any, value: dt.datetime | None, fmt: str = "%Y-%m-%d %H:%M"
              ) -> str:
    """A stored (UTC) time as the enterprise's clock shows it (``request.tz``)."""
    if value is None:
        return ""
    return value.astimezone(ZoneInfo(context["request"].tz)).strftime(fmt)


def attempt(request: Request, change: Callable[..., T], *args: Any,
            **kwargs: Any) -> T:
    """Runs one service call inside a savepoint: when it refuses, whatever it
    wrote before noticing is undone, and the page that shows the refusal is drawn
    from untouched data."""
    with request.db.begin_nested():
        return change(*args, **kwargs)


def redirect(location: str) -> Response:
    return HTTPSeeOther(location=location)


def to_login(request: Request) -> Response:
    return redirect("/login?" + urlencode({"next": request.path_qs}))


def no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


# an admin re-enters their password for the console every 30 minutes
STEP_UP = dt.timedelta(minutes=30)


def admin_user(request: Request) -> PageUser | Response:
    """The logged-in admin, or the login page, or a refusal."""
    user = request.page_user
    if user is None:
        return to_login(request)
    if not user.is_admin:
        return error_page(request, _("Not allowed"),
                          _("The admin console is for enterprise admins."), 403)
    return user


def console_user(request: Request) -> PageUser | Response:
    """The admin of a console page, or where to send the browser: the login page,
    a refusal, or the password prompt when the last one is over 30 minutes old."""
    user = admin_user(request)
    if isinstance(user, Response):
        return user
    at = request.session.get("stepup_at")
    token_of = request.session.get("stepup_token")
    now = request.now.timestamp()
    if (not isinstance(at, int | float) or token_of != request.identity.public_id
            or not 0 <= now - at <= STEP_UP.total_seconds()):
        return redirect("/admin/verify?" + urlencode({"next": request.path_qs}))
    return user


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
