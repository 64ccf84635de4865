"""The CRM at 375 px (issue 11, "Must show"): a sales rep adds a customer, is
refused a duplicate naming its owner, logs a follow-up with a photo from the
customer's page, advances an opportunity to won, records a payment against a
contract's plan; their manager sees all of it, another rep none of it. No page
scrolls sideways. Screenshots in tests/browser/artifacts/."""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable, Iterator

import pytest
from pyramid.router import Router
from webtest import TestApp

from propolis import main
from propolis.platform import tasks
from propolis.platform.db import Database
from tests.browser.conftest import PHONE, serve
from tests.browser.helpers import log_in
from tests.common.api import PASSWORD, Tenant
from tests.common.app import app_settings
from tests.common.crm import Sales, customer, sales_team


@pytest.fixture(scope="module")
def crm_router(live_database: Database, tmp_path_factory: pytest.TempPathFactory
               ) -> Iterator[Router]:
    settings = app_settings(live_database, str(tmp_path_factory.mktemp("crm-files")),
                            secret="browser-tests")
    settings["propolis.extensions"] = "crm"
    app = main({}, **settings)
    tasks.configure(app.registry.settings, app.registry)
    yield app


@pytest.fixture(scope="module")
def crm_server(crm_router: Router) -> Iterator[str]:
    yield from serve(crm_router)


def png() -> bytes:
    """A 1×1 picture."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(
            ">I", zlib.crc32(body) & 0xFFFFFFFF)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2,
                                                               0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00"))
            + chunk(b"IEND", b""))


def phone_page(browser, base: str):  # noqa: ANN001, ANN201
    context = browser.new_context(base_url=base, locale="zh-CN", viewport=PHONE)
    context.set_default_timeout(15000)
    return context.new_page()


def fits(page) -> bool:  # noqa: ANN001
    return bool(page.evaluate("document.documentElement.scrollWidth")
                <= PHONE["width"])


def test_a_sales_rep_works_a_customer_on_a_phone(
        browser, crm_router: Router, crm_server: str,  # noqa: ANN001
        shot: Callable[..., object]) -> None:
    sales: Sales = sales_team(TestApp(crm_router), crm_router.registry.database)
    customer(sales.director, "宏达装饰工程有限公司", short_name="宏达装饰")
    tenant = sales.tenant
    rep = Tenant(tenant.account, 0, "", "", "13900000003", PASSWORD)
    page = phone_page(browser, crm_server)
    page.on("dialog", lambda dialog: dialog.accept())
    log_in(page, rep)

    # a new customer
    page.goto("/o/customer/new")
    page.get_by_label("客户全称").fill("星河家居有限公司")
    page.get_by_role("button", name="保存").click()
    page.wait_for_url("**/o/customer/r/**")
    customer_url = page.url
    assert fits(page)
    shot(page, "customer added")

    # a duplicate: refused, naming its owner (whom the rep may not see)
    page.goto("/o/customer/new")
    page.get_by_label("客户全称").fill("宏达装饰")
    page.get_by_role("button", name="保存").click()
    assert "王伟" in page.locator("body").inner_text()
    assert "/new" in page.url
    shot(page, "duplicate refused")

    # a follow-up with a photo, from the customer's page
    page.goto(customer_url)
    # open when the timeline is empty; a tap on its summary otherwise
    page.locator("details.quick-add").evaluate("d => { d.open = true; }")
    quick = page.locator("details.quick-add form")
    quick.get_by_label("跟进内容").fill("上门拜访，看了样板间")
    quick.get_by_label("跟进方式").select_option("visit")
    quick.locator("input[type=file][data-upload=images]").set_input_files(
        {"name": "site.png", "mimeType": "image/png", "buffer": png()})
    quick.locator("input[type=hidden][name=images]").wait_for(state="attached")
    assert fits(page)
    shot(page, "follow-up with a photo")
    quick.get_by_role("button", name="保存").click()
    page.wait_for_url(customer_url)
    entry = page.locator(".timeline .entry").first
    assert "上门拜访" in entry.inner_text() and "拜访" in entry.inner_text()
    assert entry.locator("img").count() == 1
    assert fits(page)
    shot(page, "timeline")

    # an opportunity advanced stage by stage, then won
    customer_id = customer_url.rsplit("/", 1)[1]
    deal = sales.rep1.create("opportunity", {"name": "全屋定制",
                                             "customer": customer_id, "amount": 88000})
    page.goto(f"/o/opportunity/r/{deal['id']}")
    for stage in ("需求确认", "方案报价", "谈判审核"):
        page.get_by_role("button", name=f"推进到 {stage}").click()
        page.wait_for_load_state()
        assert page.locator(".stage-bar [aria-current=step]").inner_text() == stage
    page.get_by_role("button", name="赢单").click()
    page.wait_for_load_state()
    assert page.locator(".stage-bar [aria-current=step]").inner_text() == "赢单"
    assert "¥88,000.00" in page.locator("body").inner_text()
    assert fits(page)
    shot(page, "opportunity won")

    # a payment against the contract's plan
    contract = sales.rep1.create("contract", {
        "name": "全屋定制合同", "number": "HT-B1", "customer": customer_id,
        "opportunity": deal["id"], "amount": 88000})
    plan = sales.rep1.create("payment_plan", {
        "title": "首付款", "contract": contract["id"], "due_date": "2030-01-10",
        "amount": 30000})
    page.goto(f"/o/contract/r/{contract['id']}")
    assert fits(page)
    shot(page, "contract")
    page.locator(f"li[data-id='{plan['id']}'] a[href*='/o/payment/new']").click()
    page.get_by_label("回款金额").fill("30000")
    page.get_by_role("button", name="保存").click()
    page.wait_for_url("**/o/payment/r/**")
    assert sales.rep1.read("payment_plan", plan["id"])["status"] == "done"
    shot(page, "payment recorded")

    # the manager sees all of it; another rep none of it
    manager = phone_page(browser, crm_server)
    log_in(manager, Tenant(tenant.account, 0, "", "", "13900000002", PASSWORD))
    manager.goto(customer_url)
    text = manager.locator("body").inner_text()
    assert "星河家居有限公司" in text and "上门拜访" in text and "全屋定制" in text
    assert fits(manager)
    shot(manager, "the manager's view")
    other = phone_page(browser, crm_server)
    log_in(other, Tenant(tenant.account, 0, "", "", "13900000004", PASSWORD))
    assert other.goto(customer_url).status == 404
    assert other.goto(f"/o/contract/r/{contract['id']}").status == 404
    other.goto("/o/customer")
    assert "星河家居有限公司" not in other.locator("body").inner_text()
    shot(other, "another rep sees nothing")
