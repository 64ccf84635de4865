"""The object manager in a real browser: a new admin makes 装修工地 with six fields
of different types, reorders them by drag and drop, and the record form follows."""

from __future__ import annotations

from tests.browser.conftest import PHONE
from tests.browser.helpers import add_field, apply_change, create_site_object, log_in
from tests.common.api import PASSWORD


def test_a_new_admin_makes_the_site_object(page, live_enterprise, shot):  # noqa: ANN001
    tenant = live_enterprise()
    log_in(page, tenant)
    page.goto("/admin/objects")
    page.get_by_label("密码").fill(PASSWORD)
    shot(page, "step up")
    page.get_by_role("button", name="继续").click()
    page.get_by_role("heading", name="对象管理").wait_for()
    shot(page, "objects")
    create_site_object(page, tenant, shot)
    shot(page, "site after reorder")
    names = page.locator("tr.item td:nth-child(3) code").all_inner_texts()
    assert names == ["name", "stage", "area", "start_date", "manager", "budget"]
    labels = page.locator("tr.item td:nth-child(2)").all_inner_texts()
    assert labels[1].startswith("阶段")

    # a bad formula: the problem is named on its input, nothing applied
    page.goto("/admin/objects/site/fields/_new?type=formula")
    page.get_by_label("API 名称", exact=True).fill("cost")
    page.get_by_label("表达式（CEL）").fill("aera * 2")
    page.get_by_role("button", name="预览修改").click()
    error = page.locator("#expression-error")
    assert "aera" in error.inner_text()
    assert page.get_by_label("表达式（CEL）").get_attribute("aria-invalid") == "true"
    shot(page, "formula error inline")

    # the keyboard way to reorder: the up button moves the row, the order is saved
    page.goto("/admin/objects/site")
    page.get_by_role("button", name="上移: 面积").focus()
    page.keyboard.press("Enter")
    page.get_by_role("button", name="保存顺序").click()
    apply_change(page)
    names = page.locator("tr.item td:nth-child(3) code").all_inner_texts()
    assert names[:3] == ["name", "area", "stage"]

    # the layout editor at a phone's width: nothing wider than the screen
    page.set_viewport_size(PHONE)
    page.goto("/admin/objects/site/layouts")
    shot(page, "layout editor on a phone")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.goto("/admin/objects/site")
    shot(page, "object page on a phone")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_options_rows_are_added_and_the_preview_can_be_cancelled(
        page, live_enterprise, shot):  # noqa: ANN001
    tenant = live_enterprise()
    log_in(page, tenant)
    page.goto("/admin/objects")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="继续").click()
    page.get_by_label("API 名称", exact=True).fill("visit")
    page.get_by_label("名称（中文）").fill("回访")
    page.get_by_role("button", name="预览修改").click()
    apply_change(page)
    add_field(page, "visit", "select", "result", "结果",
              options=[("ok", "满意"), ("so", "一般"), ("bad", "不满意")])
    page.goto("/admin/objects/visit/fields/result")
    assert page.get_by_label("选项 3 值", exact=True).input_value() == "bad"
    page.get_by_label("选项 3 标签（中文）", exact=True).fill("很不满意")
    page.get_by_role("button", name="预览修改").click()
    shot(page, "option label preview")
    page.get_by_role("link", name="取消").click()
    assert "/admin/objects/visit/fields/result" in page.url
    page.goto("/admin/objects/visit/fields/result")
    third = page.get_by_label("选项 3 标签（中文）", exact=True)
    assert third.input_value() == "不满意"
