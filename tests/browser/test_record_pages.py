"""The record form and detail page in a real browser on a phone (375 px): filling
the form by keyboard, a lookup by typing, table rows added and removed, a file
uploaded, an inline error fixed, and the change in the history."""

from __future__ import annotations

from tests.browser.conftest import PHONE
from tests.browser.helpers import log_in
from tests.common.api import Tenant
from tests.common.objects import PRODUCT

ORDER = {
    "label": {"zh": "订单", "en": "Order"}, "name_field": "title",
    "fields": [
        {"api_name": "title", "type": "text", "label": {"zh": "标题", "en": "Title"},
         "required": True},
        {"api_name": "qty", "type": "number", "precision": 0,
         "label": {"zh": "数量", "en": "Quantity"}},
        {"api_name": "due", "type": "date", "label": {"zh": "交付日期", "en": "Due"}},
        {"api_name": "stage", "type": "select", "label": {"zh": "阶段", "en": "Stage"},
         "options": [{"value": "new", "label": {"zh": "新建", "en": "New"}},
                     {"value": "won", "label": {"zh": "赢单", "en": "Won"}}]},
        {"api_name": "product", "type": "lookup", "to": "product",
         "label": {"zh": "产品", "en": "Product"}},
        {"api_name": "contract", "type": "file",
         "label": {"zh": "合同", "en": "Contract"}, "accept": ["text/plain"],
         "max_size_mb": 1},
        {"api_name": "items", "type": "table", "label": {"zh": "明细", "en": "Items"},
         "fields": [
             {"api_name": "item", "type": "text",
              "label": {"zh": "品名", "en": "Item"}},
             {"api_name": "count", "type": "number", "precision": 0,
              "label": {"zh": "件数", "en": "Count"}}]},
    ],
    "validations": [{"rule": "qty == null || qty <= 100",
                     "message": {"zh": "数量不能超过 100", "en": "At most 100"}}],
}


def define(page, tenant: Tenant) -> None:  # noqa: ANN001
    """The objects, and a product to look up, through the API as the admin."""
    api = page.context.request
    token = api.post("/api/v1/session", data={
        "account": tenant.account, "login": tenant.phone,
        "password": tenant.password}).json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    for name, doc in (("product", PRODUCT), ("sales_order", ORDER)):
        assert api.put(f"/api/v1/metadata/objects/{name}", data=doc,
                       headers=headers).ok
    for name in ("螺丝刀", "扳手"):
        assert api.post("/api/v1/objects/product/records", data={"name": name},
                        headers=headers).ok


def test_a_record_filled_on_a_phone_by_keyboard(page, live_enterprise, shot,  # noqa: ANN001
                                                tmp_path):
    tenant = live_enterprise()
    define(page, tenant)
    page.set_viewport_size(PHONE)
    log_in(page, tenant)
    page.goto("/o/sales_order/new")
    shot(page, "empty form")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    # by keyboard: type, Tab to the next field
    page.get_by_label("标题").focus()
    page.keyboard.type("滨江花园订单")
    page.keyboard.press("Tab")
    page.keyboard.type("500")  # the rule allows at most 100
    page.get_by_label("交付日期").fill("2026-12-31")
    page.get_by_label("阶段").select_option("won")

    # the lookup: type, arrow down, Enter
    lookup = page.get_by_role("combobox", name="产品")
    lookup.focus()
    page.keyboard.type("扳")
    option = page.get_by_role("option", name="扳手")
    option.wait_for()
    shot(page, "lookup open")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    assert lookup.input_value() == "扳手"

    # table rows: add two, remove one
    add = page.get_by_role("button", name="添加一行")
    add.click()
    add.click()
    page.locator('input[name="items-0-item"]').fill("地板")
    page.locator('input[name="items-0-count"]').fill("3")
    page.locator('input[name="items-1-item"]').fill("不要的")
    page.get_by_role("button", name="删除此行").nth(1).click()
    assert page.locator("[data-row]").count() == 1

    # a file: too big is refused in the browser, a small one is uploaded
    big = tmp_path / "big.txt"
    big.write_bytes(b"x" * (1024 * 1024 + 1))
    upload = page.get_by_label("合同")
    upload.set_input_files(str(big))
    page.get_by_text("文件超过 1 MB 上限：big.txt").wait_for()
    small = tmp_path / "合同.txt"
    small.write_text("contract", encoding="utf-8")
    upload.set_input_files(str(small))
    page.get_by_role("link", name="合同.txt").wait_for()
    shot(page, "filled")

    # submit with Enter: the rule's message inline, the input kept
    page.get_by_label("标题").press("Enter")
    page.locator("#qty-errors").get_by_text("数量不能超过 100").wait_for()
    assert page.get_by_label("标题").input_value() == "滨江花园订单"
    assert page.get_by_role("combobox", name="产品").input_value() == "扳手"
    assert page.locator('input[name="items-0-item"]').input_value() == "地板"
    shot(page, "inline error")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    page.get_by_label("数量").fill("50")
    page.get_by_role("button", name="保存").click()
    page.get_by_text("记录已创建。").wait_for()
    assert page.get_by_role("link", name="扳手").is_visible()
    assert page.get_by_role("link", name="合同.txt").is_visible()
    shot(page, "detail")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    # edit, then the history tab shows the change
    page.get_by_role("link", name="编辑").click()
    page.get_by_label("数量").fill("60")
    page.get_by_role("button", name="保存").click()
    page.get_by_text("已保存修改。").wait_for()
    page.get_by_role("link", name="修改历史").click()
    row = page.locator("ol.history > li").first
    assert "修改了" in row.inner_text()
    assert "50" in row.inner_text() and "60" in row.inner_text()
    shot(page, "history")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
