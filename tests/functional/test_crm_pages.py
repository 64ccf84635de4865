"""The CRM's pages (issue 11, "Pages") through the real application, on each
database: the customer page's timeline, follow-up quick-add and actions that ask
for parameters (return to a pool, transfer), the opportunity's stage bar with
"advance" and "lose" with its reason, the contract's plans, payments and
invoices with a payment recorded against a plan, the pool page and the customer
list filtered on pool and status. Everything here is generated from metadata
(timeline:, option attributes, registered actions' parameters)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import lxml.html
import pytest
from webob.multidict import MultiDict
from webtest import TestApp
from webtest.response import TestResponse

from propolis.platform.db import Database
from tests.common.accounts import browser, web_login
from tests.common.api import Tenant
from tests.common.crm import Sales, act, crm_app, customer, sales_team


@pytest.fixture(scope="module")
def app(database: Database, tmp_path_factory: pytest.TempPathFactory
        ) -> Iterator[TestApp]:
    yield from crm_app(database, str(tmp_path_factory.mktemp("files")))


@pytest.fixture(scope="module")
def sales(app: TestApp, database: Database) -> Sales:
    return sales_team(app, database)


def signed_in(app: TestApp, sales: Sales, phone: str) -> TestApp:
    client = browser(app)
    web_login(client, Tenant(sales.tenant.account, 0, "", "", phone=phone))
    return client


@pytest.fixture(scope="module")
def rep1(app: TestApp, sales: Sales) -> TestApp:
    return signed_in(app, sales, "13900000003")


def doc(response: TestResponse) -> Any:
    return lxml.html.fromstring(response.text)


def post(client: TestApp, path: str, fields: list[tuple[str, str]],
         status: Any = 303) -> TestResponse:
    token = doc(client.get("/app")).xpath('//input[@name="csrf_token"]/@value')[0]
    return client.post(path, MultiDict([("csrf_token", token), *fields]),
                       status=status)


def flashes(page: TestResponse) -> str:
    return " ".join(doc(page).xpath("//*[contains(@class, 'flash')]//text()"))


def test_the_customer_page_timeline_quick_add_and_actions(
        app: TestApp, sales: Sales, rep1: TestApp) -> None:
    acme = customer(sales.rep1, "时间线页面客户")
    contact = sales.rep1.create("contact", {"name": "周工", "customer": acme["id"]})
    deal = sales.rep1.create("opportunity", {"name": "页面商机",
                                             "customer": acme["id"]})
    photo = sales.rep1.upload("site.png", b"\x89PNG\r\n\x1a\n", "image/png")
    sales.rep1.create("follow_up", {
        "content": "第一次拜访", "action": "visit", "customer": acme["id"],
        "contact": contact["id"], "images": [photo["id"]]})
    sales.rep1.create("follow_up", {"content": "发了报价", "action": "email",
                                    "opportunity": deal["id"]})
    path = f"/o/customer/r/{acme['id']}"
    page = doc(rep1.get(path, status=200))
    entries = page.xpath("//section[contains(@class, 'timeline')]//li[@class='entry']")
    # newest first; a follow-up on its opportunity shows on the customer too
    assert [e.xpath(".//p[@class='entry-text']/a/text()")[0] for e in entries] == [
        "发了报价", "第一次拜访"]
    visit = entries[1].text_content()
    assert "拜访" in visit and "周工" in visit and "张敏" in visit
    assert entries[1].xpath(f".//img[contains(@src, '{photo['id']}')]")
    # related lists: its contacts and opportunities
    related = page.xpath("//section[@aria-labelledby='related']")[0].text_content()
    assert "周工" in related and "页面商机" in related
    # the quick-add: text, way, photos; back to the customer page
    quick = page.xpath("//details[contains(@class, 'quick-add')]//form")[0]
    assert quick.get("action") == "/o/follow_up/new"
    names = set(quick.xpath(".//*[@name]/@name"))
    assert {"content", "action", "customer", "next"} <= names
    assert quick.xpath(".//input[@type='file'][@data-upload='images']")
    back = post(rep1, "/o/follow_up/new", [
        ("next", path), ("customer", acme["id"]), ("content", "电话回访"),
        ("action", "call"), ("images", photo["id"])])
    assert back.location.endswith(path)
    again = rep1.get(path, status=200)
    assert "电话回访" in doc(again).xpath(
        "//li[@class='entry']//p[@class='entry-text']/a/text()")[0]
    assert sales.rep1.read("customer", acme["id"])["last_follow_up_at"]
    # an empty quick-add is refused naming the field, not a 500
    refused = post(rep1, "/o/follow_up/new", [
        ("next", path), ("customer", acme["id"]), ("content", "")], status=400)
    assert doc(refused).xpath("//*[@id='content-errors']")
    # the actions asking for parameters: return needs a pool, transfer an owner
    params = {d.get("id"): d for d in page.xpath("//details[contains(@class, "
                                                 "'action-params')]")}
    assert {"action-return", "action-transfer"} <= set(params)
    # the CRM's transfer (with related records) replaces the plain one
    assert not page.xpath("//a[contains(@href, '/transfer')]")
    assert params["action-return"].xpath(".//*[@data-lookup='pool']")
    pool = sales.crm_admin.create("pool", {"name": "页面公海",
                                           "member_departments": [sales.ids["east"]],
                                           "admins": [sales.ids["manager"]]})
    missing = post(rep1, f"{path}/actions/return", [("pool", "")])
    assert "pool" in flashes(rep1.get(missing.location))
    post(rep1, f"{path}/actions/return", [("pool", pool["id"]), ("reason", "没预算")])
    returned = sales.rep2.read("customer", acme["id"])
    assert (returned["owner"], returned["pool"], returned["return_reason"]) == (
        None, pool["id"], "没预算")
    # in the pool: another member is offered claim (no parameter, a plain button)
    rep2 = signed_in(app, sales, "13900000004")
    pooled = doc(rep2.get(path, status=200))
    assert pooled.xpath("//form[contains(@action, '/actions/claim')]//button")
    post(rep2, f"{path}/actions/claim", [])
    assert sales.rep2.read("customer", acme["id"])["owner"] == sales.ids["rep2"]
    # transfer with its related records, through the page
    post(rep2, f"{path}/actions/transfer", [("owner", sales.ids["rep1"])])
    assert sales.rep1.read("opportunity", deal["id"])["owner"] == sales.ids["rep1"]


def test_the_opportunity_stage_bar_advance_and_lose(sales: Sales, rep1: TestApp
                                                    ) -> None:
    acme = customer(sales.rep1, "阶段页面客户")
    deal = sales.rep1.create("opportunity", {"name": "阶段商机", "customer": acme["id"],
                                             "amount": 1234.5})
    path = f"/o/opportunity/r/{deal['id']}"
    page = doc(rep1.get(path, status=200))
    stages = page.xpath("//section[contains(@class, 'stage-bar')]//li")
    assert [s.text_content() for s in stages] == [
        "初步接洽", "需求确认", "方案报价", "谈判审核", "赢单", "输单"]
    assert stages[0].get("aria-current") == "step"
    advance = page.xpath("//form[contains(@action, '/advance/stage')]")[0]
    assert "需求确认" in advance.text_content()
    version = advance.xpath(".//input[@name='version']/@value")[0]
    post(rep1, f"{path}/advance/stage", [("version", version)])
    moved = sales.rep1.read("opportunity", deal["id"])
    assert (moved["stage"], moved["probability"]) == ("needs", 30)
    # the same page posted again is stale: nothing changes, the page says why
    stale = post(rep1, f"{path}/advance/stage", [("version", version)])
    assert flashes(rep1.get(stale.location))
    assert sales.rep1.read("opportunity", deal["id"])["stage"] == "needs"
    # the stage is in the history
    assert "需求确认" in rep1.get(f"{path}/history", status=200).text
    # lose asks for a reason; without one nothing changes
    page = doc(rep1.get(path, status=200))
    assert page.xpath("//details[@id='action-lose']//textarea[@name='reason']")
    post(rep1, f"{path}/actions/lose", [("reason", "")])
    assert sales.rep1.read("opportunity", deal["id"])["stage"] == "needs"
    post(rep1, f"{path}/actions/lose", [("reason", "价格太高")])
    lost = sales.rep1.read("opportunity", deal["id"])
    assert (lost["stage"], lost["lost_reason"]) == ("lost", "价格太高")
    closed = doc(rep1.get(path, status=200))
    assert not closed.xpath("//form[contains(@action, '/advance/')]")
    post(rep1, f"{path}/advance/stage", [("version", str(lost["version"]))])
    assert sales.rep1.read("opportunity", deal["id"])["stage"] == "lost"
    # a field that is no stage bar is a 404 page
    post(rep1, f"{path}/advance/name", [], status=404)


def test_a_peer_sees_no_page_of_anothers_customer(app: TestApp, sales: Sales
                                                  ) -> None:
    mine = customer(sales.rep1, "同事看不到的客户")
    rep2 = signed_in(app, sales, "13900000004")
    rep2.get(f"/o/customer/r/{mine['id']}", status=404)
    manager = signed_in(app, sales, "13900000002")
    manager.get(f"/o/customer/r/{mine['id']}", status=200)
    act(sales.rep1, "customer", mine, "transfer", {"owner": sales.ids["rep1"]})


def test_the_contract_page_plans_payments_and_a_payment_against_a_plan(
        sales: Sales, rep1: TestApp) -> None:
    acme = customer(sales.rep1, "合同页面客户")
    contract = sales.rep1.create("contract", {"name": "年度合同", "number": "HT-P1",
                                              "customer": acme["id"], "amount": 3000})
    first = sales.rep1.create("payment_plan", {
        "title": "第一期", "contract": contract["id"], "due_date": "2030-01-10",
        "amount": 1234.5})
    sales.rep1.create("invoice", {"contract": contract["id"], "amount": 500,
                                  "title": "发票抬头"})
    path = f"/o/contract/r/{contract['id']}"
    page = doc(rep1.get(path, status=200))
    # money as ¥1,234.50, on the record and in its related lists
    assert "¥3,000.00" in page.xpath("//output[@id='amount']/text()")[0]
    lists = {d.xpath("./h3/text()")[0]: d for d in page.xpath(
        "//div[@class='related-list']")}
    assert {"回款计划 · 合同", "回款 · 合同", "开票 · 合同"} <= set(lists)
    tabs = page.xpath("//nav[contains(@class, 'related-tabs')]/a/@href")
    assert len(tabs) == len(lists)
    plan_row = lists["回款计划 · 合同"].xpath(f".//li[@data-id='{first['id']}']")[0]
    assert "¥1,234.50" in plan_row.text_content()
    assert "¥500.00" in lists["开票 · 合同"].text_content()
    # each plan offers "record a payment against it"
    link = plan_row.xpath(".//a[contains(@href, '/o/payment/new')]/@href")[0]
    assert f"plan={first['id']}" in link and f"contract={contract['id']}" in link
    form = doc(rep1.get(link, status=200))
    assert form.xpath(f"//input[@name='plan'][@value='{first['id']}']")
    assert form.xpath(f"//input[@name='contract'][@value='{contract['id']}']")
    post(rep1, "/o/payment/new", [("contract", contract["id"]), ("plan", first["id"]),
                                  ("amount", "1000"), ("paid_on", "2030-01-05")])
    plan = sales.rep1.read("payment_plan", first["id"])
    assert (plan["paid"], plan["status"]) == (1000, "partial")
    assert sales.rep1.read("contract", contract["id"])["received"] == 1000
    again = doc(rep1.get(path, status=200))
    assert len(again.xpath("//div[@class='related-list'][h3='回款 · 合同']//li")) == 1
    # a bad amount names the field (400), never a 500
    bad = post(rep1, "/o/payment/new", [("contract", contract["id"]),
                                        ("amount", "很多"), ("paid_on", "2030-01-05")],
               status=400)
    assert doc(bad).xpath("//*[@id='amount-errors']")


def test_the_pool_page_and_the_customer_list_filtered_on_pool_and_status(
        app: TestApp, sales: Sales, rep1: TestApp) -> None:
    pool = sales.crm_admin.create("pool", {"name": "列表公海",
                                           "member_departments": [sales.ids["east"]],
                                           "admins": [sales.ids["manager"]]})
    pooled = customer(sales.rep1, "公海里的客户", status="intent")
    act(sales.rep1, "customer", pooled, "return", {"pool": pool["id"],
                                                   "reason": "暂不需要"})
    customer(sales.rep1, "自己的意向客户", status="intent")
    # the pool's page lists its customers, each a link to claim or assign it
    rep2 = signed_in(app, sales, "13900000004")
    page = doc(rep2.get(f"/o/pool/r/{pool['id']}", status=200))
    rows = page.xpath("//div[@class='related-list'][h3='客户 · 所属公海']//li")
    assert [r.xpath("./a/text()")[0] for r in rows] == ["公海里的客户"]
    customer_page = doc(rep2.get(rows[0].xpath("./a/@href")[0], status=200))
    assert customer_page.xpath("//form[contains(@action, '/actions/claim')]")
    # a member claims from the pool's page, and is back on it
    claim = rows[0].xpath(".//form[contains(@action, '/actions/claim')]")[0]
    assert claim.xpath(".//button/text()") == ["领取"]
    back = post(rep2, claim.get("action"), [("next", f"/o/pool/r/{pool['id']}")])
    assert back.location.endswith(f"/o/pool/r/{pool['id']}")
    assert sales.rep2.read("customer", pooled["id"])["owner"] == sales.ids["rep2"]
    act(sales.rep2, "customer", pooled, "return", {"pool": pool["id"]})
    # who is not a member is offered nothing there
    director = signed_in(app, sales, "13900000001")
    assert not doc(director.get(f"/o/pool/r/{pool['id']}", status=200)).xpath(
        "//form[contains(@action, '/actions/claim')]")
    manager = signed_in(app, sales, "13900000002")
    admin_page = doc(manager.get(rows[0].xpath("./a/@href")[0], status=200))
    assert admin_page.xpath("//details[@id='action-assign']//*[@data-lookup='user']")
    # the customer list: pool and status filters in the URL
    listed = doc(rep1.get(f"/o/customer?f.pool={pool['id']}&f.status=intent"))
    assert [a.text for a in listed.xpath("//tbody//th//a | //tbody//td//a")
            if a.text] == ["公海里的客户"]
    mine = doc(rep1.get("/o/customer?f.status=intent&empty.pool=1"))
    assert "自己的意向客户" in mine.text_content()
    assert "公海里的客户" not in mine.text_content()
    assert rep1.get("/o/customer?view=in_pool", status=200)
