"""The CRM's rules 1–12 of issue 11 through the real application, on each
database: customers and their contacts, who sees what (peers, superiors, joint
followers), customers never deleted, the duplicate check (客户报备), statuses and
sorting, follow-ups on timelines, transfer with related records, opportunities'
stages, contracts and their payments, products and competitors."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import lxml.html
import pytest
from webtest import TestApp

from propolis.platform.db import Database
from tests.common.accounts import browser, web_login
from tests.common.api import Tenant, error
from tests.common.crm import (
    Sales,
    act,
    crm_app,
    customer,
    offered,
    record_path,
    sales_team,
)


@pytest.fixture(scope="module")
def app(database: Database, tmp_path_factory: pytest.TempPathFactory
        ) -> Iterator[TestApp]:
    yield from crm_app(database, str(tmp_path_factory.mktemp("files")))


@pytest.fixture(scope="module")
def sales(app: TestApp, database: Database) -> Sales:
    """One enterprise for the module: each test names its own records, and looks
    only at them."""
    return sales_team(app, database)


def test_rule1_customers_have_contacts_opportunities_and_products(sales: Sales
                                                                   ) -> None:
    acme = customer(sales.rep1, "华东建设集团", short_name="华东建设")
    contact = sales.rep1.create("contact", {"name": "周经理", "customer": acme["id"],
                                            "mobile": "13911112222"})
    assert contact["customer_name"] == "华东建设集团"
    product = sales.crm_admin.create("product", {"name": "智能门锁", "price": 1299})
    competitor = sales.rep1.create("competitor", {"name": "某友商"})
    deal = sales.rep1.create("opportunity", {
        "name": "年度采购", "customer": acme["id"], "amount": 10000,
        "products": [{"product": product["id"], "qty": 2, "price": 1299}],
        "competitors": [{"competitor": competitor["id"]}]})
    assert deal["products"][0]["product"] == product["id"]
    read = sales.rep1.read("customer", acme["id"])
    assert (read["contact_count"], read["opportunity_count"]) == (1, 1)
    contacts = sales.rep1.query("contact", filters=[
        {"field": "customer", "op": "eq", "value": acme["id"]}])["records"]
    assert [c["id"] for c in contacts] == [contact["id"]]
    # a contact and an opportunity always have a customer
    for obj, body in (("contact", {"name": "无主"}), ("opportunity", {"name": "无主"})):
        refused = error(sales.rep1.post(f"/objects/{obj}/records", body, status=400))
        assert "customer" in refused["fields"]


def crm_records(client: Any, name: str) -> dict[str, dict[str, Any]]:
    """One record of every CRM object that has an owner, made by ``client``."""
    acme = customer(client, name)
    contact = client.create("contact", {"name": "联系人", "customer": acme["id"]})
    deal = client.create("opportunity", {"name": "商机", "customer": acme["id"]})
    contract = client.create("contract", {
        "name": "合同", "number": f"HT-{name}", "customer": acme["id"],
        "amount": 1000})
    plan = client.create("payment_plan", {"title": "第一期", "contract": contract["id"],
                                          "due_date": "2026-12-31", "amount": 500})
    payment = client.create("payment", {"contract": contract["id"],
                                        "plan": plan["id"], "amount": 100})
    invoice = client.create("invoice", {"title": "发票", "contract": contract["id"],
                                        "amount": 100})
    follow_up = client.create("follow_up", {"content": "电话沟通",
                                            "customer": acme["id"]})
    return {"customer": acme, "contact": contact, "opportunity": deal,
            "contract": contract, "payment_plan": plan, "payment": payment,
            "invoice": invoice, "follow_up": follow_up}


def test_rule2_peers_do_not_see_each_other_and_superiors_see_all_below(
        sales: Sales) -> None:
    made = crm_records(sales.rep1, "张敏的客户")
    for obj, record in made.items():
        path = record_path(obj, record)
        assert sales.rep2.get(path, status=404)  # a peer: as if it did not exist
        assert record["id"] not in {r["id"] for r in sales.rep2.query(
            obj, limit=200)["records"]}
        # the manager (one up) and the director (two up) see and change it
        for boss in (sales.manager, sales.director):
            assert boss.get(path, status=200).json["id"] == record["id"]
        assert sales.crm_admin.get(path, status=200)
    changed = sales.director.patch(record_path("customer", made["customer"]),
                                   {"level": "A"}, status=200).json
    assert changed["level"] == "A"
    # the rep does not see the manager's records
    boss_customer = customer(sales.manager, "经理的客户")
    sales.rep1.get(record_path("customer", boss_customer), status=404)


def test_rule3_a_customer_is_never_deleted(sales: Sales) -> None:
    acme = customer(sales.rep1, "永不删除")
    for client in (sales.admin, sales.crm_admin, sales.rep1):
        refused = error(client.delete(record_path("customer", acme), status=403))
        assert refused["code"] == "not_deletable"
    assert sales.rep1.read("customer", acme["id"])["name"] == "永不删除"
    described = sales.rep1.get("/objects/customer", status=200).json
    assert described["deletable"] is False
    assert "delete" not in described["access"]["verbs"]


def test_rule4_joint_followers(sales: Sales) -> None:
    made = crm_records(sales.rep1, "共同跟进")
    for obj in ("customer", "contact", "opportunity", "contract"):
        path = record_path(obj, made[obj])
        sales.rep2.get(path, status=404)
        sales.rep1.post(path + "/team", {"user": sales.ids["rep2"], "access": "read"},
                        status=201)
        assert sales.rep2.get(path, status=200).json["id"] == made[obj]["id"]


def test_rule5_duplicates_are_refused_naming_the_owner(sales: Sales) -> None:
    acme = customer(sales.rep1, "上海建工集团有限公司", short_name="上海建工")
    # the same name written otherwise: full-width, spaces, case
    for body in ({"name": " 上海建工集团有限公司 "},
                 {"name": "上海建工", "short_name": "别名"},
                 {"name": "新公司", "short_name": "上海建工集团有限公司"},
                 {"name": "ＳＨＪＧ", "short_name": "上海建工"}):
        response = sales.rep2.post("/objects/customer/records", body, status=409)
        body_json = response.json["error"]
        assert body_json["code"] == "duplicate", body
        assert "负责人：张敏" in body_json["message"]
        # rep2 may not read rep1's customer: no id, no other data
        assert [set(d) for d in body_json["duplicates"]] == [
            {"name", "owner_name", "field"}]
        assert body_json["duplicates"][0]["owner_name"] == "张敏"
    refused = sales.rep2.in_language("en").post(
        "/objects/customer/records", {"name": "上海建工集团有限公司"}, status=409)
    assert "owner: 张敏" in refused.json["error"]["message"]
    assert "name" in refused.json["error"]["fields"]
    # full-width Latin letters equal half-width ones, case does not count
    latin = customer(sales.rep1, "Acme Trading")
    sales.rep2.post("/objects/customer/records", {"name": "ＡＣＭＥ  trading"},
                    status=409)
    # the superior may read the match: its id is given
    found = sales.manager.post("/objects/customer/duplicates",
                               {"name": "acme trading"}, status=200).json
    assert found["duplicates"] == [{"name": "Acme Trading", "owner_name": "张敏",
                                    "field": "name", "id": latin["id"]}]
    tool = sales.rep2.post("/objects/customer/duplicates",
                           {"short_name": "上海建工"}, status=200).json
    assert tool["duplicates"] == [{"name": "上海建工", "owner_name": "张敏",
                                   "field": "short_name"}]
    assert sales.rep2.post("/objects/customer/duplicates", {"name": "全新客户"},
                           status=200).json == {"duplicates": []}
    # an update to another customer's name is refused too; keeping one's own is not
    other = customer(sales.rep2, "另一家")
    sales.rep2.patch(record_path("customer", other), {"name": "上海建工"}, status=409)
    sales.rep1.patch(record_path("customer", acme), {"level": "B",
                                                     "name": "上海建工集团有限公司"},
                     status=200)
    # contacts are checked on the mobile number
    sales.rep1.create("contact", {"name": "甲", "customer": acme["id"],
                                  "mobile": "13912345678"})
    dup = sales.rep2.post("/objects/contact/records", {
        "name": "乙", "customer": other["id"], "mobile": "13912345678"}, status=409)
    assert dup.json["error"]["fields"] == {"mobile": [dup.json["error"]["message"]]}


def test_rule6_status_tags_filters_and_sorting(sales: Sales) -> None:
    first = customer(sales.rep1, "甲公司", status="intent", tags=["vip"])
    second = customer(sales.rep1, "乙公司", status="deal")
    third = customer(sales.rep1, "丙公司")
    assert third["status"] == "potential"
    mine = {"field": "name", "op": "in", "value": ["甲公司", "乙公司", "丙公司"]}
    found = sales.rep1.query("customer", filters=[
        mine, {"field": "tags", "op": "contains", "value": "vip"}])["records"]
    assert [r["id"] for r in found] == [first["id"]]
    for sort, expected in ((["created_at"], [first, second, third]),
                           (["-created_at"], [third, second, first]),
                           (["status", "created_at"], [second, first, third])):
        page = sales.rep1.query("customer", filters=[mine], sort=sort)["records"]
        assert [r["id"] for r in page] == [r["id"] for r in expected], sort
    sales.rep1.patch(record_path("customer", first), {"status": "deal"}, status=200)
    page = sales.rep1.query("customer", filters=[mine],
                            sort=["-updated_at"])["records"]
    assert page[0]["id"] == first["id"]


def timeline(client: Any, obj: str, record: dict[str, Any], status: int = 200,
             **params: Any) -> Any:
    return client.get(record_path(obj, record, "timeline"), params=params,
                      status=status)


def test_rule7_follow_ups_on_timelines(sales: Sales) -> None:
    acme = customer(sales.rep1, "时间线客户")
    contact = sales.rep1.create("contact", {"name": "周", "customer": acme["id"]})
    deal = sales.rep1.create("opportunity", {"name": "商机", "customer": acme["id"]})
    contract = sales.rep1.create("contract", {"name": "合同", "number": "TL-1",
                                              "customer": acme["id"], "amount": 1})
    photo = sales.rep1.upload("site.png", b"\x89PNG\r\n\x1a\n", "image/png")
    voice = sales.rep1.upload("note.m4a", b"voice", "audio/mp4")
    on_customer = sales.rep1.create("follow_up", {
        "content": "上门拜访", "action": "visit", "customer": acme["id"],
        "contact": contact["id"], "images": [photo["id"]], "voice": [voice["id"]]})
    on_deal = sales.rep1.create("follow_up", {"content": "报价", "action": "email",
                                              "opportunity": deal["id"]})
    on_contract = sales.rep1.create("follow_up", {"content": "催款",
                                                  "contract": contract["id"]})
    lines = timeline(sales.rep1, "customer", acme).json
    assert [i["id"] for i in lines["items"]] == [
        on_contract["id"], on_deal["id"], on_customer["id"]]
    # the customer's last follow-up: the newest, whichever record it was on
    assert sales.rep1.read("customer", acme["id"])["last_follow_up_at"] == \
        on_contract["created_at"]
    other = customer(sales.rep1, "联系人跟进客户")
    via_contact = sales.rep1.create("contact", {"name": "吴", "customer": other["id"]})
    assert sales.rep1.read("customer", other["id"])["last_follow_up_at"] is None
    note = sales.rep1.create("follow_up", {"content": "微信沟通", "action": "wechat",
                                           "contact": via_contact["id"]})
    assert sales.rep1.read("customer", other["id"])["last_follow_up_at"] == \
        note["created_at"]
    first = lines["items"][-1]
    assert first["object"] == "follow_up" and first["name"] == "上门拜访"
    assert first["record"]["images"] == [photo["id"]]
    assert first["created_by"] == sales.ids["rep1"]
    assert lines["next_cursor"] is None
    # the contact's, the opportunity's and the contract's own
    assert [i["id"] for i in timeline(sales.rep1, "contact", contact).json["items"]
            ] == [on_customer["id"]]
    assert [i["id"] for i in timeline(sales.rep1, "opportunity", deal).json["items"]
            ] == [on_deal["id"]]
    # pages of it
    page = timeline(sales.rep1, "customer", acme, limit=2).json
    assert len(page["items"]) == 2 and page["next_cursor"]
    rest = timeline(sales.rep1, "customer", acme, cursor=page["next_cursor"]).json
    assert [i["id"] for i in rest["items"]] == [on_customer["id"]]
    assert error(timeline(sales.rep1, "customer", acme, status=400,
                          cursor="nonsense"))["fields"]["cursor"]
    # the manager sees it; a peer may not read the customer at all
    assert len(timeline(sales.manager, "customer", acme).json["items"]) == 3
    timeline(sales.rep2, "customer", acme, status=404)
    # a follow-up the reader may not see is left out: the peer follows the
    # customer, but not rep1's follow-ups
    sales.rep1.post(record_path("customer", acme, "team"),
                    {"user": sales.ids["rep2"], "access": "edit"}, status=201)
    own = sales.rep2.create("follow_up", {"content": "我也跟进",
                                          "customer": acme["id"]})
    assert [i["id"] for i in timeline(sales.rep2, "customer", acme).json["items"]
            ] == [own["id"]]
    # a follow-up names what it follows up
    refused = error(sales.rep1.post("/objects/follow_up/records", {"content": "无"},
                                    status=400))
    assert refused["code"] == "invalid"


def test_rule8_transfer_takes_contacts_opportunities_and_contracts(
        sales: Sales) -> None:
    made = crm_records(sales.rep1, "转移客户")
    offered_to_rep = offered(sales.rep1, "customer", made["customer"])
    assert "transfer" in offered_to_rep
    # a peer may not; the owner may
    sales.rep2.post(record_path("customer", made["customer"], "actions", "transfer"),
                    {"owner": sales.ids["rep2"]}, status=404)
    moved = act(sales.rep1, "customer", made["customer"], "transfer",
                {"owner": sales.ids["rep2"]}).json
    assert moved["owner"] == sales.ids["rep2"]
    for obj in ("customer", "contact", "opportunity", "contract"):
        assert sales.rep2.read(obj, made[obj]["id"])["owner"] == sales.ids["rep2"]
        sales.rep1.get(record_path(obj, made[obj]), status=404)
    # the manager (above both) transfers it back; a bad owner is a 400
    refused = act(sales.manager, "customer", made["customer"], "transfer",
                  {"owner": "nobody"}, status=400)
    assert "owner" in error(refused)["fields"]
    act(sales.manager, "customer", made["customer"], "transfer",
        {"owner": sales.ids["rep1"]})
    assert sales.rep1.read("contract", made["contract"]["id"])["owner"] == \
        sales.ids["rep1"]


def test_rule10_opportunity_stages_probability_won_and_lost(sales: Sales) -> None:
    acme = customer(sales.rep1, "商机客户")
    deal = sales.rep1.create("opportunity", {"name": "项目", "customer": acme["id"],
                                             "amount": 20000,
                                             "close_date": "2026-12-31"})
    assert (deal["stage"], deal["probability"], deal["expected"]) == ("lead", 10, 2000)
    stages = {o["value"]: o["attributes"] for o in next(
        f for f in sales.rep1.get("/objects/opportunity", status=200).json["fields"]
        if f["api_name"] == "stage")["options"]}
    assert stages["won"] == {"probability": 100, "closed": True, "won": True}
    deal = sales.rep1.patch(record_path("opportunity", deal), {"stage": "proposal"},
                            status=200).json
    assert deal["probability"] == 60
    # lost asks for a reason
    assert error(act(sales.rep1, "opportunity", deal, "lose", {}, status=400)
                 )["fields"]["reason"]
    sales.rep1.patch(record_path("opportunity", deal), {"stage": "lost"}, status=400)
    lost = act(sales.rep1, "opportunity", deal, "lose", {"reason": "价格太高"}).json
    assert (lost["stage"], lost["probability"], lost["lost_reason"]) == (
        "lost", 0, "价格太高")
    assert "lose" not in offered(sales.rep1, "opportunity", lost)
    other = sales.rep1.create("opportunity", {"name": "二期", "customer": acme["id"]})
    won = act(sales.rep1, "opportunity", other, "win").json
    assert (won["stage"], won["probability"]) == ("won", 100)
    assert won["won_at"]
    act(sales.rep1, "opportunity", won, "win", status=409)
    history = sales.rep1.get(record_path("opportunity", deal, "history"),
                             status=200).json["history"]
    assert [h["changes"]["stage"] for h in history if "stage" in h["changes"]] == [
        [None, "lead"], ["lead", "proposal"], ["proposal", "lost"]]


def test_rule11_contracts_payments_and_plans(sales: Sales) -> None:
    acme = customer(sales.rep1, "合同客户")
    deal = sales.rep1.create("opportunity", {"name": "项目", "customer": acme["id"]})
    contract = sales.rep1.create("contract", {
        "name": "年度合同", "number": "HT-0001", "customer": acme["id"],
        "opportunity": deal["id"], "amount": 1000, "start_date": "2026-01-01",
        "end_date": "2026-12-31"})
    assert (contract["received"], contract["unreceived"]) == (0, 1000)
    # one contract per opportunity, a unique number, end >= start
    for body, field in (({"number": "HT-0002", "opportunity": deal["id"]},
                         "opportunity"),
                        ({"number": "HT-0001"}, "number"),
                        ({"number": "HT-0003", "start_date": "2026-06-01",
                          "end_date": "2026-05-31"}, "end_date")):
        refused = error(sales.rep1.post("/objects/contract/records", {
            "name": "另一份", "customer": acme["id"], "amount": 1, **body},
            status=400))
        assert field in refused["fields"], (body, refused)
    plan = sales.rep1.create("payment_plan", {
        "title": "首期", "contract": contract["id"], "due_date": "2026-12-10",
        "amount": 600})
    assert plan["status"] == "pending"
    first = sales.rep1.create("payment", {"contract": contract["id"],
                                          "plan": plan["id"], "amount": 200,
                                          "paid_on": "2026-12-01"})
    assert first["number"].startswith("HK-")
    assert sales.rep1.read("payment_plan", plan["id"])["status"] == "partial"
    read = sales.rep1.read("contract", contract["id"])
    assert (read["received"], read["unreceived"]) == (200, 800)
    sales.rep1.create("payment", {"contract": contract["id"], "plan": plan["id"],
                                  "amount": 400})
    assert sales.rep1.read("payment_plan", plan["id"])["status"] == "done"
    read = sales.rep1.read("contract", contract["id"])
    assert (read["received"], read["unreceived"]) == (600, 400)
    sales.rep1.create("invoice", {"title": "上海建工", "contract": contract["id"],
                                  "amount": 600})
    assert sales.rep1.read("contract", contract["id"])["invoiced"] == 600
    # a follow-up on the contract shows on the customer
    note = sales.rep1.create("follow_up", {"content": "回款确认",
                                           "contract": contract["id"]})
    assert [i["id"] for i in timeline(sales.rep1, "customer", acme).json["items"]
            ] == [note["id"]]


def test_rule12_products_and_competitors_are_everyones(sales: Sales) -> None:
    product = sales.crm_admin.create("product", {"name": "全屋智能", "price": 19800})
    for client in (sales.rep1, sales.rep2, sales.director):
        assert client.read("product", product["id"])["name"] == "全屋智能"
    sales.rep1.post("/objects/product/records", {"name": "私货"}, status=403)
    sales.rep1.patch(record_path("product", product), {"price": 1}, status=403)
    rival = sales.rep1.create("competitor", {"name": "友商甲"})
    updated = sales.rep2.patch(record_path("competitor", rival), {
        "updates": [{"note": "降价 10%", "noted_on": "2026-12-01"}]}, status=200).json
    assert updated["updates"][0]["note"] == "降价 10%"
    assert sales.director.read("competitor", rival["id"])["updates"]


def test_rule9_customers_and_contacts_import_and_export(sales: Sales) -> None:
    existing = customer(sales.rep1, "已有客户有限公司")
    sheet = ("客户全称 (name),客户简称 (short_name),level\n"
             "导入客户一,导入一,A\n导入客户二,,B\n已有客户有限公司,,C\n")
    imported = sales.crm_admin.app.post(
        "/api/v1/objects/customer/import", headers=sales.crm_admin.headers(),
        upload_files=[("file", "客户.csv", sheet.encode("utf-8-sig"), "text/csv")],
        status=200).json
    assert (imported["created"], imported["failed"]) == (2, 1)
    # the duplicate row is refused, naming its owner
    assert "张敏" in str(imported["errors"])
    made = {c["name"]: c for c in sales.crm_admin.query("customer", filters=[
        {"field": "name", "op": "startswith", "value": "导入客户"}])["records"]}
    contacts = (f"name,customer,mobile\n甲,{made['导入客户一']['id']},13900001111\n"
                f"乙,{existing['id']},13900002222\n")
    result = sales.crm_admin.app.post(
        "/api/v1/objects/contact/import", headers=sales.crm_admin.headers(),
        upload_files=[("file", "联系人.csv", contacts.encode(), "text/csv")],
        status=200).json
    assert result["created"] == 2
    exported = sales.crm_admin.post("/objects/customer/export", {
        "filters": [{"field": "name", "op": "startswith", "value": "导入客户"}],
        "columns": ["name", "short_name", "level"], "sort": ["name"]}, status=200)
    lines = exported.body.decode("utf-8-sig").splitlines()
    assert len(lines) == 3 and "导入客户一,导入一,A" in lines
    # an export of contacts holds contacts only (follow-ups are their own object)
    contact_sheet = sales.crm_admin.post("/objects/contact/export", {
        "columns": ["name", "mobile"]}, status=200).body.decode("utf-8-sig")
    assert "13900001111" in contact_sheet and "跟进" not in contact_sheet


def test_duplicates_count_the_recycle_bin_and_rules_added_later(sales: Sales
                                                                 ) -> None:
    acme = customer(sales.rep1, "回收站客户")
    gone = sales.rep1.create("contact", {"name": "甲", "customer": acme["id"],
                                         "mobile": "13700000001"})
    sales.rep1.delete(record_path("contact", gone), status=204)
    sales.rep1.post("/objects/contact/records", {
        "name": "乙", "customer": acme["id"], "mobile": "13700000001"}, status=409)
    # a rule added to an object that has records applies to them at once
    sales.admin.define("lead", {"kind": "object", "api_name": "lead",
                                "fields": [{"api_name": "company", "type": "text"}]})
    sales.admin.create("lead", {"company": "Old Lead Ltd"})
    sales.admin.define("lead", {"kind": "object", "api_name": "lead",
                                "fields": [{"api_name": "company", "type": "text"}],
                                "duplicates": [{"fields": ["company"]}]})
    refused = sales.admin.post("/objects/lead/records", {"company": "old lead ltd"},
                               status=409).json["error"]
    assert refused["duplicates"][0]["name"] == "Old Lead Ltd"


def test_the_openapi_document_has_the_timeline_and_the_duplicate_check(
        sales: Sales) -> None:
    paths = sales.rep1.get("/openapi.json", status=200).json["paths"]
    assert "post" in paths["/objects/customer/duplicates"]
    assert "get" in paths["/objects/follow_up/records/{id}/timeline"]
    assert "/objects/follow_up/duplicates" not in paths  # no rule there


def test_the_generated_pages_show_the_crm(app: TestApp, sales: Sales) -> None:
    acme = customer(sales.rep1, "页面客户")
    sales.rep1.create("follow_up", {"content": "页面跟进", "customer": acme["id"]})
    client = browser(app)
    web_login(client, Tenant(sales.tenant.account, 0, "", "", phone="13900000003"))
    page = client.get(f"/o/customer/r/{acme['id']}", status=200)
    html = lxml.html.fromstring(page.text)
    buttons = html.xpath("//form[contains(@action, '/actions/')]//button/text()")
    assert {"退回公海", "更换负责人"} <= {b.strip() for b in buttons}
    # a customer can never be deleted: no delete button, even for the admin,
    # who has one on a contact
    admin = browser(app)
    web_login(admin, sales.tenant)
    delete = "//a[contains(@href, '/delete')]"
    assert not lxml.html.fromstring(admin.get(
        f"/o/customer/r/{acme['id']}", status=200).text).xpath(delete)
    contact = sales.rep1.create("contact", {"name": "页面联系人",
                                            "customer": acme["id"]})
    assert lxml.html.fromstring(admin.get(
        f"/o/contact/r/{contact['id']}", status=200).text).xpath(delete)
    for path in ("/o/customer", "/o/follow_up", "/o/opportunity", "/o/pool"):
        client.get(path, status=200)
    # a pool's lists of users and departments show on its pages
    pool = sales.crm_admin.create("pool", {"name": "页面公海",
                                           "members": [sales.ids["rep1"]],
                                           "member_departments": [sales.ids["east"]]})
    for path in (f"/o/pool/r/{pool['id']}", f"/o/pool/r/{pool['id']}/edit",
                 "/o/pool/new", "/o/pool"):
        assert admin.get(path, status=200)
