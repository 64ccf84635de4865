"""Every answer carries the security headers and the pages run no inline script
(issue 10.5): a Content Security Policy that allows the site's own scripts only,
``nosniff``, no framing, a referrer policy."""

from __future__ import annotations

import pathlib
import re
from collections.abc import Callable

from webtest import TestApp, TestResponse

import propolis
from tests.common.accounts import browser, web_login
from tests.common.api import Tenant, login_admin

ROOT = pathlib.Path(propolis.__file__).parent


def assert_secured(response: TestResponse) -> None:
    headers = response.headers
    policy = dict(part.strip().split(" ", 1)
                  for part in headers["Content-Security-Policy"].split(";"))
    assert policy["script-src"] == "'self'"
    assert policy["frame-ancestors"] == "'none'"
    assert policy["object-src"] == "'none'"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


def test_every_kind_of_answer_is_secured(app: TestApp,
                                         enterprise: Callable[..., Tenant]) -> None:
    tenant = enterprise()
    client = browser(app)
    login_page = client.get("/login")
    web_login(client, tenant)
    api = login_admin(app, tenant)
    stylesheet = re.search(r'href="(/static[^"]+\.css[^"]*)"', login_page.text)
    assert stylesheet is not None
    for response in (login_page, client.get("/app", status=200),
                     client.get("/no/such/page", status=404),
                     client.get(stylesheet.group(1).split("?")[0], status=200),
                     api.get("/objects", status=200),
                     api.get("/objects/nosuch", status=404),
                     app.get("/api/v1/objects", status=401)):
        assert_secured(response)


SCRIPT = re.compile(r"<script\b([^>]*)>", re.IGNORECASE)
HANDLER = re.compile(r"""<[^>]*\son[a-z]+\s*=\s*["']""", re.IGNORECASE)


def test_no_template_holds_an_inline_script() -> None:
    templates = sorted(ROOT.rglob("templates/**/*.html"))
    assert templates
    for path in templates:
        text = path.read_text(encoding="utf-8")
        for match in SCRIPT.finditer(text):
            assert "src=" in match.group(1), f"{path}: inline <script>"
        assert not HANDLER.search(text), f"{path}: an inline event handler"
        assert "javascript:" not in text, f"{path}: a javascript: address"
