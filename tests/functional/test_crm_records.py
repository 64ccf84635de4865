"""The CRM's rules 1–12 of issue 11 through the real application, on each
database: customers and their contacts, who sees what (peers, superiors, joint
followers), customers never deleted, the duplicate check (客户报备), statuses and
sorting, follow-ups on timelines, transfer with related records, opportunities'
stages, contracts and their payments, products and competitors."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from webtest import TestApp

from propolis.platform.db import Database
from tests.common.api import error
from tests.common.crm import (
    Sales,
    crm_app,
    customer,
    record_path,
    sales_team,
)


@pytest.fixture(scope="module")
def app(database: Database, tmp_path_factory: pytest.TempPathFactory
        ) -> Iterator[TestApp]:
    yield from crm_app(database, str(tmp_path_factory.mktemp("files")))


@pytest.fixture
def sales(app: TestApp, database: Database) -> Sales:
    return sales_team(app, database)


def test_rule1_customers_have_contacts_opportunities_and_products(sales: Sales
                                                                   ) -> None:
    acme = customer(sales.rep1, "上海建工集团", short_name="上海建工")
    contact = sales.rep1.create("contact", {"name": "周经理", "customer": acme["id"],
                                            "mobile": "13911112222"})
    assert contact["customer_name"] == "上海建工集团"
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
        assert sales.rep2.query(obj)["records"] == []
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
    found = sales.rep1.query("customer", filters=[
        {"field": "tags", "op": "contains", "value": "vip"}])["records"]
    assert [r["id"] for r in found] == [first["id"]]
    for sort, expected in ((["created_at"], [first, second, third]),
                           (["-created_at"], [third, second, first]),
                           (["status", "created_at"], [second, first, third])):
        page = sales.rep1.query("customer", sort=sort)["records"]
        assert [r["id"] for r in page] == [r["id"] for r in expected], sort
    sales.rep1.patch(record_path("customer", first), {"status": "deal"}, status=200)
    page = sales.rep1.query("customer", sort=["-updated_at"])["records"]
    assert page[0]["id"] == first["id"]
