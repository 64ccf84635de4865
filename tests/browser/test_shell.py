"""The site shell in a real browser: login, the phone width, the language switch."""

from __future__ import annotations

from tests.browser.conftest import PHONE
from tests.browser.helpers import log_in


def test_login_and_language_switch_on_a_phone(page, live_enterprise, shot):  # noqa: ANN001
    tenant = live_enterprise()
    page.set_viewport_size(PHONE)
    page.goto("/login")
    shot(page, "login page")
    # every field of the form is reachable by its label
    for label in ("企业账号", "手机号或登录名", "密码"):
        assert page.get_by_label(label).is_visible()
    log_in(page, tenant)
    shot(page, "logged in")
    # nothing wider than the phone: no sideways scrolling
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.get_by_role("link", name="English").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "en"
    shot(page, "english")
