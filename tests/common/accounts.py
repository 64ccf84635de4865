"""Accounts tests' helpers: a clock the tests move by hand, captchas whose answer
the test knows, tokens issued directly, and browsers (each its own cookie jar and
address) that use the pages the way a person does."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from webtest import TestApp, TestResponse
from webtest.forms import Form

from propolis.platform.accounts import services
from propolis.platform.auth.tokens import SESSION, SESSION_LIFETIME, Executor, issue
from tests.common.api import ApiClient, Tenant

CHROME = "Mozilla/5.0 (X11; Linux x86_64) Chrome/130.0 Safari/537.36"


class Clock:
    """Stands in for ``registry.clock``: time moves only when the test says."""

    def __init__(self) -> None:
        self.now = dt.datetime(2026, 11, 28, 9, 0, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


@pytest.fixture
def clock(app: TestApp) -> Iterator[Clock]:
    registry = app.app.registry
    before = registry.clock
    fake = Clock()
    registry.clock = fake
    try:
        yield fake
    finally:
        registry.clock = before


def solved_captcha(app: TestApp) -> tuple[str, str]:
    """A captcha made the way ``GET /api/v1/captcha`` makes one, with its answer."""
    registry = app.app.registry
    made = services.new_captcha(registry.database, registry.settings["propolis.secret"],
                                registry.clock())
    return made.id, made.answer


def answer_captcha(app: TestApp, form: Form) -> None:
    """Fills in a page form's captcha with one whose answer the test knows."""
    captcha_id, answer = solved_captcha(app)
    form["captcha_id"].force_value(captcha_id)
    form["captcha"] = answer


def browser(app: TestApp, ip: str | None = "203.0.113.7",
            user_agent: str = CHROME) -> TestApp:
    """A separate browser: its own cookies, address and user agent."""
    environ = {"HTTP_USER_AGENT": user_agent}
    if ip:
        environ["REMOTE_ADDR"] = ip
    return TestApp(app.app, extra_environ=environ)


def api_login(app: TestApp, tenant: Tenant, password: str | None = None,
              status: Any = 200, headers: dict[str, str] | None = None,
              **extra: Any) -> TestResponse:
    """``POST /api/v1/session`` as the tenant's admin; ``extra`` goes into the body
    (``captcha_id``, ``captcha``, ``remember``)."""
    return app.post_json("/api/v1/session", {
        "account": tenant.account, "login": tenant.phone,
        "password": tenant.password if password is None else password, **extra},
        headers=headers or {}, status=status)


def form_of(response: TestResponse, action: str) -> Form:
    for form in response.forms.values():
        if form.action == action:
            return form
    raise AssertionError(f"no form posting to {action} on {response.request.path}")


def web_login(client: TestApp, tenant: Tenant, password: str | None = None,
              remember: bool = False, next_path: str | None = None) -> TestResponse:
    page = client.get("/login" + (f"?next={next_path}" if next_path else ""))
    form = form_of(page, "/login")
    form["account"] = tenant.account
    form["login"] = tenant.phone
    form["password"] = tenant.password if password is None else password
    form["remember"] = remember
    return form.submit(status="*")


def web_step_up(client: TestApp, password: str, status: Any = 303) -> TestResponse:
    page = client.get("/admin/verify?next=/admin")
    form = form_of(page, "/admin/verify")
    form["password"] = password
    return form.submit(status=status)


def bearer(app: TestApp, token: str) -> ApiClient:
    return ApiClient(app, token)


def issue_token(
    sysdb: Executor,
    enterprise_id: int,
    user_id: str,
    *,
    kind: str = SESSION,
    label: str | None = None,
    lifetime: dt.timedelta | None = SESSION_LIFETIME,
    **device: Any,
) -> str:
    """A new token (the string to hand out) for ``user_id``."""
    return issue(sysdb, enterprise_id, user_id, kind=kind, label=label,
                 lifetime=lifetime, **device).token
