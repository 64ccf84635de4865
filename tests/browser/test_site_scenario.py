"""Issue 4's scenario from end to end, as people do it: a new admin registers an
enterprise, creates the object 装修工地 with six fields of different types in the
object manager, then on a 375 px phone adds a record, meets an inline validation
error, fixes it, finds the record by filter and by keyword, edits it, and sees the
change in its history. Every step leaves a screenshot in
tests/browser/artifacts/<test>/."""

from __future__ import annotations

import re

from pyramid.router import Router

from tests.browser.conftest import PHONE, solve_captcha
from tests.browser.helpers import create_site_object, log_in
from tests.common.api import Tenant
from tests.conftest import unique_account


def register(page, live_app: Router, shot) -> Tenant:  # noqa: ANN001
    """The registration page, filled in like a new customer would."""
    account = unique_account("site")
    tenant = Tenant(account, 0, "", "", "13912345678", "装修-密码-2026")
    page.goto("/register")
    page.get_by_label("企业账号").fill(account)
    page.get_by_label("企业名称").fill("蜂巢装饰工程有限公司")
    page.get_by_label("您的姓名").fill("陈总")
    page.get_by_label("手机号").fill(tenant.phone)
    page.get_by_label("密码").fill(tenant.password)
    solve_captcha(page, live_app)
    shot(page, "registration")
    page.get_by_role("button", name="注册").click()
    page.wait_for_url(re.compile(r"/login"))
    return tenant


def test_new_admin_builds_a_site_object_and_uses_it_on_a_phone(
        page, live_app, shot):  # noqa: ANN001
    tenant = register(page, live_app, shot)
    log_in(page, tenant)
    create_site_object(page, tenant, shot)

    # a phone from here on
    page.set_viewport_size(PHONE)
    page.goto("/app/work")
    page.get_by_role("link", name="装修工地").click()
    page.get_by_role("link", name="新建").click()
    shot(page, "new site form on a phone")
    page.get_by_label("名称").fill("静安寺公寓翻新")
    page.get_by_label("面积").fill("-5")
    page.get_by_label("开工日期").fill("2026-12-01")
    page.get_by_label("阶段").select_option("build")
    page.get_by_role("button", name="保存").click()

    # the rule of the field (面积 ≥ 0) is said next to it, the input kept
    error = page.locator(".cell.invalid").filter(has_text="面积")
    error.wait_for()
    assert "不能小于 0" in error.inner_text()
    assert page.get_by_label("面积").get_attribute("aria-invalid") == "true"
    assert page.get_by_label("名称").input_value() == "静安寺公寓翻新"
    shot(page, "inline error")
    page.get_by_label("面积").fill("120")
    page.get_by_role("button", name="保存").click()
    page.wait_for_url(re.compile(r"/o/site/r/"))
    detail_url = page.url
    assert page.get_by_role("heading", name="静安寺公寓翻新").is_visible()
    # the formula field computed 120 × 1200
    assert "144,000" in page.content() or "144000" in page.content()
    shot(page, "saved record")

    # found by filter (阶段 = 施工, ticked in the filter panel) …
    page.goto("/o/site")
    page.get_by_text("筛选和显示列").click()
    stage = page.get_by_role("group", name="阶段")
    stage.get_by_label("完工").check()
    page.get_by_role("button", name="应用筛选").click()
    page.wait_for_url(re.compile(r"f\.stage=done"))
    assert page.get_by_role("link", name="静安寺公寓翻新").count() == 0
    if page.locator("details.filters").get_attribute("open") is None:
        page.get_by_text("筛选和显示列").click()
    stage = page.get_by_role("group", name="阶段")
    stage.get_by_label("完工").uncheck()
    stage.get_by_label("施工").check()
    page.get_by_role("button", name="应用筛选").click()
    page.wait_for_url(re.compile(r"f\.stage=build"))
    page.get_by_role("link", name="静安寺公寓翻新").wait_for()
    shot(page, "found by filter")
    # … and by keyword, typed in the list's search box
    page.goto("/o/site")
    search = page.get_by_role("searchbox").first
    search.fill("静安寺")
    search.press("Enter")
    page.wait_for_url(re.compile(r"q="))
    assert page.get_by_role("link", name="静安寺公寓翻新").is_visible()
    shot(page, "found by keyword")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    # edited …
    page.goto(detail_url)
    page.get_by_role("link", name="编辑").click()
    page.get_by_label("面积").fill("150")
    page.get_by_role("button", name="保存").click()
    page.wait_for_url(re.compile(r"/o/site/r/[^/]+$"))
    shot(page, "edited")
    # … and the change is in the history
    page.get_by_role("link", name="历史").click()
    history = page.locator("main")
    history.get_by_text("面积").first.wait_for()
    text = history.inner_text()
    assert "120" in text and "150" in text
    shot(page, "history")
