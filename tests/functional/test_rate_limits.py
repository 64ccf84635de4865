"""The public routes' rate limits (issue 3): captchas, registration and joining,
per client address, with the default budgets; beyond them 429 with Retry-After,
through the API and the pages alike."""

from __future__ import annotations

import pathlib
import uuid
from collections.abc import Callable, Iterator

import pytest
from webtest import TestApp

from propolis import main
from propolis.platform.accounts.services import rate_limits
from propolis.platform.db import Database
from propolis.settings import DEFAULTS, SettingsError
from tests.common.accounts import Clock, answer_captcha, browser, clock, form_of
from tests.common.api import Tenant, error, login_admin

__all__ = ["clock"]  # the fixture


@pytest.fixture
def default_limits(app: TestApp) -> Iterator[None]:
    """The budgets a site gets without settings of its own (the suite's app runs
    with generous ones)."""
    registry = app.app.registry
    before = registry.rate_limits
    registry.rate_limits = rate_limits(DEFAULTS)
    try:
        yield
    finally:
        registry.rate_limits = before


def address() -> str:
    number = uuid.uuid4().int
    return f"10.{number % 250}.{number // 250 % 250}.{number // 62500 % 250 + 1}"


def test_the_captcha_route(app: TestApp, default_limits: None, clock: Clock):
    client = browser(app, address())
    for _ in range(30):
        client.get("/api/v1/captcha", status=200)
    clock.advance(seconds=20)
    refused = client.get("/api/v1/captcha", status=429)
    assert refused.headers["Retry-After"] == "40"
    assert error(refused) == {"code": "rate_limited",
                              "message": "请求过于频繁，请 40 秒后再试",
                              "fields": {}}
    english = client.get("/api/v1/captcha", headers={"Accept-Language": "en"},
                         status=429)
    assert error(english)["message"] == "Too many requests; try again in 40 s"
    # another address is not held back; a new minute starts afresh
    browser(app, address()).get("/api/v1/captcha", status=200)
    clock.advance(seconds=40)
    client.get("/api/v1/captcha", status=200)


def test_registration_api_and_page_share_a_budget(app: TestApp, default_limits: None,
                                                  clock: Clock):
    ip = address()
    client = browser(app, ip)
    for _ in range(4):  # refused registrations count too
        client.post_json("/api/v1/enterprises", {"account": "9bad"}, status=400)
    page = client.get("/register")
    form = form_of(page, "/register")
    form["account"] = "9bad"
    form.submit(status=400)  # the 5th
    refused = client.post_json("/api/v1/enterprises", {"account": "9bad"},
                               status=429)
    assert refused.headers["Retry-After"] == "3600"
    form = form_of(client.get("/register"), "/register")
    form["account"] = "ok_name"
    refused = form.submit(status=429)
    assert refused.headers["Retry-After"] == "3600"
    assert "请求过于频繁，请 3600 秒后再试" in refused.text
    assert 'src="data:image/png;base64,' in refused.text  # the form stays usable
    other = browser(app, address())
    form = form_of(other.get("/register"), "/register")
    form["account"] = "9bad"
    form.submit(status=400)
    clock.advance(hours=1)
    client.post_json("/api/v1/enterprises", {"account": "9bad"}, status=400)


def test_joining_api_and_page_share_a_budget(app: TestApp, default_limits: None,
                                             enterprise: Callable[..., Tenant],
                                             clock: Clock):
    tenant = enterprise()
    admin = login_admin(app, tenant)
    token = admin.post("/org/invitations", {}, status=201).json["token"]
    ip = address()
    client = browser(app, ip)
    for _ in range(10):
        client.post_json("/api/v1/org/join", {"token": token}, status=400)
    refused = client.post_json("/api/v1/org/join", {"token": token}, status=429)
    assert refused.headers["Retry-After"] == "3600"
    assert error(refused)["code"] == "rate_limited"
    path = f"/join/{token}"
    page = client.get(path, status=200)  # reading the page is not limited
    form = form_of(page, path)
    form["name"], form["phone"] = "新同事", "13900000001"
    form["password"] = form["password_again"] = "new-colleague-1"
    answer_captcha(app, form)
    refused = form.submit(status=429)
    assert refused.headers["Retry-After"] == "3600"
    assert "请求过于频繁" in refused.text
    assert admin.get("/org/join-requests").json["requests"] == []
    # from elsewhere the same form goes through
    other = browser(app, address())
    form = form_of(other.get(path), path)
    form["name"], form["phone"] = "新同事", "13900000001"
    form["password"] = form["password_again"] = "new-colleague-1"
    answer_captcha(app, form)
    assert form.submit(status=303).location.endswith("/join/sent")
    assert len(admin.get("/org/join-requests").json["requests"]) == 1


def test_a_bad_rate_setting_stops_the_start(database: Database,
                                            tmp_path: pathlib.Path):
    with pytest.raises(SettingsError, match="propolis.rate_limit.join"):
        main({}, **{"propolis.database_url": database.url,
                    "propolis.tenant_dir": database.tenant_dir,
                    "propolis.files_dir": str(tmp_path), "propolis.secret": "x",
                    "propolis.rate_limit.join": "ten per hour"})
