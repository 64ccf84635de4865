"""The key scenario, over HTTP through the real application: an admin defines
objects that use every field type, records go in and come back exactly, are found,
changed, deleted and restored; then the object, holding 10,000 rows, is changed
(new field, new formula backfilled by a job, relabelled, a field removed and
restored, rolled back) without losing a value."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session
from webtest import TestApp

from propolis.platform.db import Database
from propolis.platform.meta.effective import Effective
from propolis.platform.permissions.actor import Actor
from propolis.platform.records.services import RecordService
from propolis.platform.tenancy.services import current_version, effective_for
from tests.common.api import ApiClient, Tenant, error, login_admin
from tests.common.objects import PAYMENT, PRODUCT, order_doc

SHANGHAI = ZoneInfo("Asia/Shanghai")

@dataclass
class Defined:
    database: Database
    tenant: Tenant
    api: ApiClient
    products: list[dict[str, Any]]

    def engine(self) -> Any:
        return self.database.tenant_engine(self.tenant.account)

    def effective(self) -> Effective:
        return effective_for(self.database, self.tenant.account,
                             current_version(self.database, self.tenant.account))


@pytest.fixture
def defined(app: TestApp, database: Database, enterprise: Callable[..., Tenant]
            ) -> Defined:
    """An enterprise whose admin defined product, sales_order and payment over HTTP."""
    tenant = enterprise()
    api = login_admin(app, tenant)
    api.define("product", PRODUCT)
    first = api.define("sales_order", order_doc(without=("payment_count", "paid")))
    assert [(op["kind"], op["object"]) for op in first["plan"]["operations"]][:2] == [
        ("create_table", "sales_order"), ("create_child_table", "sales_order")]
    api.define("payment", PAYMENT)
    with_rollups = api.define("sales_order", order_doc())
    assert {op["field"] for op in with_rollups["plan"]["operations"]
            if op["kind"] == "add_column"} == {"payment_count", "paid"}
    assert with_rollups["version"] == first["version"] + 2
    for job_id in with_rollups["jobs"]:  # the rollups' backfill (of no rows)
        job = api.get(f"/jobs/{job_id}", status=200).json
        assert (job["status"], job["total"], job["error"]) == ("done", 0, None)
    products = [api.create("product", {"name": name, "price": price})
                for name, price in (("螺丝", 0.1), ("螺母", 0.2), ("扳手", 19.99))]
    return Defined(database, tenant, api, products)


def this_month() -> str:
    return dt.datetime.now(SHANGHAI).strftime("%Y%m")


def test_records_of_every_field_type_round_trip(defined: Defined) -> None:
    api, tenant = defined.api, defined.tenant
    screw, nut, wrench = defined.products
    contract = api.upload("合同.pdf", b"%PDF-1.4 contract", "application/pdf")
    photo = api.upload("photo.png", b"\x89PNG\r\n\x1a\n....", "image/png")
    assert contract["name"] == "合同.pdf" and contract["size"] == 17
    body = {
        "title": "上海浦东新区项目",
        "notes": "第一行\n第二行 😀",
        "body": '<p>Hello <b>世界</b></p><script>alert("x")</script>'
                '<a href="javascript:alert(1)" onclick="steal()">link</a>',
        "qty": 3,
        "amount": 12345678.91,
        "discount": 12.5,
        "due": "2026-12-31",
        "remind_at": "09:30",
        "signed_at": "2026-11-28T01:30:00Z",
        "urgent": True,
        "tags": ["vip", "repeat"],
        "product": wrench["id"],
        "items": [{"product": screw["id"], "qty": 1, "price": 0.1},
                  {"product": nut["id"], "qty": 1, "price": 0.2},
                  {"product": wrench["id"], "qty": 3, "price": 19.99}],
        "phone": "+86 138-0000-0000",
        "email": "buyer@example.cn",
        "site": "https://example.cn/订单?id=1",
        "contract": [contract["id"]],
        "photos": [photo["id"]],
        "place": {"lat": 31.2304, "lng": 121.4737, "address": "上海市人民广场"},
        "region": {"province": "广东省", "city": "深圳市", "district": "南山区"},
        "handler": tenant.admin_id,
        "dept": tenant.department_id,
    }
    month = this_month()
    created = api.create("sales_order", body)
    months = {month, this_month()}  # the autonumber counts per month
    expected = {
        **body,
        "body": '<p>Hello <b>世界</b></p><a rel="noopener noreferrer">link</a>',
        "signed_at": "2026-11-28T09:30:00+08:00",
        "stage": "new",  # the default
        "items": [{"id": row["id"], **item, "line": line}
                  for row, item, line in zip(created["items"], body["items"],
                                             (0.1, 0.2, 59.97), strict=True)],
        "code": created["code"],
        "total": 60.27,  # 0.1 + 0.2 + 3 × 19.99, exactly
        "product_price": 19.99,
        "payment_count": 0,  # counts and sums over no children are 0
        "paid": 0,
    }
    record_fields = {k: v for k, v in created.items() if k in expected}
    assert record_fields == expected
    assert re.fullmatch(r"SO-\d{6}-0001", created["code"])
    assert created["code"][3:9] in months
    assert len({row["id"] for row in created["items"]}) == 3
    system = {k: v for k, v in created.items() if k not in expected}
    assert set(system) == {"id", "owner", "owner_department", "created_by",
                           "created_at", "updated_by", "updated_at", "life_status",
                           "version"}
    assert system["owner"] == system["created_by"] == system["updated_by"] \
        == tenant.admin_id
    assert system["owner_department"] == tenant.department_id
    assert (system["life_status"], system["version"]) == ("normal", 1)
    assert system["created_at"].endswith("+08:00")

    # read back: the same, byte for byte
    assert api.read("sales_order", created["id"]) == created
    assert api.get(f"/files/{contract['id']}", status=200).body == b"%PDF-1.4 contract"

    # the decimals are exact in storage too, not only on the way out
    with Session(bind=defined.engine()) as session:
        table = defined.effective().tables.main["sales_order"]
        row = session.execute(select(table.c.amount, table.c.total, table.c.discount)
                              .where(table.c.id == created["id"])).one()
    assert tuple(row) == (Decimal("12345678.91"), Decimal("60.27"), Decimal("12.5"))

    # rollups follow the child records; the quote follows the product
    for amount in (100.5, 0.25):
        api.create("payment", {"sales_order": created["id"], "amount": amount})
    api.patch(f"/objects/product/records/{wrench['id']}", {"price": 21.5}, status=200)
    again = api.read("sales_order", created["id"])
    assert (again["payment_count"], again["paid"], again["product_price"]) == (
        2, 100.75, 21.5)
    assert again["version"] == 1  # rollups and quotes are not edits

    # empty values: lists come back empty, everything else null
    bare = api.create("sales_order", {"title": "空"})
    assert {k: bare[k] for k in ("items", "tags", "contract", "photos")} == {
        "items": [], "tags": [], "contract": [], "photos": []}
    assert [k for k, v in bare.items() if v is None] == [
        "notes", "body", "qty", "amount", "discount", "due", "remind_at",
        "signed_at", "urgent", "product", "product_price", "phone", "email",
        "site", "place", "region", "handler", "dept"]
    # a sum over no table rows is 0, like a rollup over no children
    assert (bare["total"], bare["payment_count"], bare["paid"]) == (0, 0, 0)
    assert bare["code"] == created["code"][:-4] + "0002"


def test_query_filters_sort_cursor_and_chinese_keywords(defined: Defined) -> None:
    api = defined.api
    rows = [
        ("上海浦东新区项目", 100, "won", ["vip"], "2026-01-05"),
        ("北京朝阳项目", 250.5, "new", ["repeat"], "2026-02-01"),
        ("深圳南山项目", 250.5, "won", ["vip", "repeat"], None),
        ("杭州西湖茶叶", 30, "lost", [], "2026-03-15"),
        ("广州天河项目", 999.99, "won", ["cold"], "2026-12-31"),
        ("成都高新小单", 0.01, "new", ["vip"], "2026-06-30"),
        ("南京鼓楼项目", 500, "lost", ["vip", "cold"], None),
    ]
    ids = {}
    for title, amount, stage, tags, due in rows:
        ids[title] = api.create("sales_order", {
            "title": title, "amount": amount, "stage": stage, "tags": tags,
            "due": due, "notes": f"{title}的备注"})["id"]

    def titles(records: list[dict[str, Any]]) -> list[str]:
        return [r["title"] for r in records]

    # keyset paging through a sort with ties: id breaks them, nothing is repeated
    seen, cursor, pages = [], None, 0
    while True:
        page = api.query("sales_order", sort=["-amount"], limit=3, cursor=cursor)
        seen.extend(page["records"])
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    tie = sorted([ids["北京朝阳项目"], ids["深圳南山项目"]])
    by_id = {v: k for k, v in ids.items()}
    assert pages == 3
    assert titles(seen) == ["广州天河项目", "南京鼓楼项目", by_id[tie[0]],
                            by_id[tie[1]], "上海浦东新区项目", "杭州西湖茶叶",
                            "成都高新小单"]

    result = api.query("sales_order", filters=[
        {"field": "amount", "op": "gte", "value": 100},
        {"field": "stage", "op": "in", "value": ["won", "new"]},
        {"field": "tags", "op": "contains", "value": "vip"}], sort=["amount"])
    assert titles(result["records"]) == ["上海浦东新区项目", "深圳南山项目"]
    assert result["next_cursor"] is None

    result = api.query("sales_order", filters=[
        {"field": "due", "op": "between", "value": ["2026-01-01", "2026-03-31"]}],
        sort=["due"])
    assert titles(result["records"]) == ["上海浦东新区项目", "北京朝阳项目",
                                         "杭州西湖茶叶"]
    result = api.query("sales_order", filters=[
        {"field": "due", "op": "isnull", "value": True}], sort=["title"])
    assert sorted(titles(result["records"])) == sorted(["深圳南山项目", "南京鼓楼项目"])
    result = api.query("sales_order", filters=[
        {"field": "stage", "op": "ne", "value": "won"},
        {"field": "title", "op": "startswith", "value": "杭州"}])
    assert titles(result["records"]) == ["杭州西湖茶叶"]
    result = api.query("sales_order", filters=[
        {"field": "amount", "op": "eq", "value": 0.01}])
    assert titles(result["records"]) == ["成都高新小单"]

    # keyword search in Chinese: two characters (LIKE), three or more (the index),
    # several terms (all must occur), in the title or the notes
    def search(q: str) -> list[str]:
        return sorted(titles(api.query("sales_order", q=q, limit=50)["records"]))

    assert search("浦东") == ["上海浦东新区项目"]
    assert search("朝阳项目") == ["北京朝阳项目"]
    assert search("项目") == sorted(["上海浦东新区项目", "北京朝阳项目", "深圳南山项目",
                                   "广州天河项目", "南京鼓楼项目"])
    assert search("南山 深圳") == ["深圳南山项目"]
    assert search("西湖茶叶的备注") == ["杭州西湖茶叶"]
    assert search("不存在的词") == []
    # keyword and filters together
    result = api.query("sales_order", q="项目", filters=[
        {"field": "stage", "op": "eq", "value": "lost"}])
    assert titles(result["records"]) == ["南京鼓楼项目"]


def test_update_conflict_delete_and_restore(defined: Defined) -> None:
    api = defined.api
    record = api.create("sales_order", {"title": "待改", "amount": 10, "qty": 1})
    path = f"/objects/sales_order/records/{record['id']}"

    changed = api.patch(path, {"amount": 20.05, "version": 1}, status=200).json
    assert (changed["amount"], changed["version"], changed["qty"]) == (20.05, 2, 1)
    stale = api.patch(path, {"amount": 30, "version": 1}, status=409)
    assert error(stale) == {
        "code": "conflict", "fields": {},
        "message": "记录已被他人修改，当前版本为 2，请刷新后重试"}
    assert api.read("sales_order", record["id"]) == changed  # nothing written
    # an edit that changes nothing is not a new version
    same = api.patch(path, {"amount": 20.05}, status=200).json
    assert same["version"] == 2

    api.delete(path, status=204)
    assert error(api.get(path, status=404))["code"] == "not_found"
    api.patch(path, {"amount": 1}, status=404)
    binned = api.get("/objects/sales_order/deleted", status=200).json
    assert [r["id"] for r in binned["records"]] == [record["id"]]
    assert binned["records"][0]["deleted_by"] == defined.tenant.admin_id
    assert binned["next_cursor"] is None
    assert api.query("sales_order", q="待改")["records"] == []

    restored = api.post(f"{path}/restore", status=200).json
    assert (restored["amount"], restored["version"]) == (20.05, 4)
    assert "deleted_at" not in restored
    assert api.read("sales_order", record["id"]) == restored
    assert api.get("/objects/sales_order/deleted", status=200).json["records"] == []
    api.post(f"{path}/restore", status=404)  # not in the bin any more

    history = api.get(f"{path}/history", status=200).json["history"]
    assert [(h["version"], h["action"]) for h in history] == [
        (1, "create"), (2, "update"), (3, "delete"), (4, "restore")]
    assert history[1]["changes"] == {"amount": [10, 20.05]}
    assert history[0]["changes"]["title"] == [None, "待改"]
    assert {h["changed_by"] for h in history} == {defined.tenant.admin_id}


# -- the object with 10,000 rows changes shape ----------------------------------

ROWS = 10_000
BATCH = 1_000


def load_rows(defined: Defined) -> None:
    """10,000 orders through the record service, a transaction per 1,000."""
    effective = defined.effective()
    tenant = defined.tenant
    actor = Actor(tenant.admin_id, tenant.department_id, frozenset({"admin"}))
    for start in range(0, ROWS, BATCH):
        with Session(bind=defined.engine()) as session, session.begin():
            records = RecordService(session, effective, actor)
            for i in range(start, start + BATCH):
                records.create("sales_order", {
                    "title": f"批量订单 {i:05d}", "qty": i % 100,
                    "amount": i + 0.25, "stage": ("new", "won", "lost")[i % 3]})


def column_values(defined: Defined, name: str) -> dict[str, Any]:
    """id → the stored value of a column of o_sales_order, whether or not the
    field is currently defined (archived columns are part of the table)."""
    table = defined.effective().tables.main["sales_order"]
    with Session(bind=defined.engine()) as session:
        rows = session.execute(select(table.c.id, table.c[name])
                               .where(table.c.deleted_at.is_(None)))
        return {row_id: value for row_id, value in rows}


def raw_count(defined: Defined, where: str) -> int:
    """A count straight from the table in SQL, knowing nothing of the metadata."""
    database = defined.database
    schema = "" if database.dialect.name == "sqlite" else f"t_{defined.tenant.account}."
    with defined.engine().connect() as conn:
        return conn.execute(text(
            f"SELECT count(*) FROM {schema}o_sales_order WHERE {where}")).scalar_one()


@pytest.mark.slow
def test_an_object_with_ten_thousand_rows_changes_shape(defined: Defined) -> None:
    api = defined.api
    load_rows(defined)
    amounts = column_values(defined, "amount")
    qtys = column_values(defined, "qty")
    assert len(amounts) == ROWS
    before_formula = api.get("/metadata/versions", status=200).json["current"]

    # a new field: the plan adds one column, every row is still there
    memo = {"api_name": "memo", "type": "text", "label": {"zh": "备忘", "en": "Memo"}}
    changed = api.define("sales_order", order_doc(memo))
    assert [(op["kind"], op["field"]) for op in changed["plan"]["operations"]] == [
        ("add_column", "memo")]
    assert changed["jobs"] == []
    assert column_values(defined, "amount") == amounts
    page = api.query("sales_order", filters=[
        {"field": "title", "op": "eq", "value": "批量订单 04321"}])["records"]
    assert (page[0]["amount"], page[0]["qty"], page[0]["memo"]) == (4321.25, 21, None)

    # a new formula: a backfill job, run at commit, fills every row
    double = {"api_name": "double_amount", "type": "formula", "returns": "currency",
              "expression": "amount * 2"}
    changed = api.define("sales_order", order_doc(memo, double))
    assert ["add_column", "backfill"] == [op["kind"] for op in
                                          changed["plan"]["operations"]]
    assert len(changed["jobs"]) == 1
    job = api.get(f"/jobs/{changed['jobs'][0]}", status=200).json
    assert (job["status"], job["error"]) == ("done", None)
    assert (job["total"], job["done"], job["progress"]) == (ROWS, ROWS, 1.0)
    assert job["payload"] == {"object": "sales_order", "fields": ["double_amount"]}
    assert column_values(defined, "double_amount") == {
        k: v * 2 for k, v in amounts.items()}
    assert raw_count(defined, "double_amount IS NULL") == 0
    page = api.query("sales_order", filters=[
        {"field": "double_amount", "op": "eq", "value": 8642.5}])["records"]
    assert [r["title"] for r in page] == ["批量订单 04321"]

    # a new label
    renamed = {"zh": "订单", "en": "Order"}
    api.define("sales_order", order_doc(memo, double, label=renamed))
    listed = {o["api_name"]: o["label"] for o in api.get("/objects").json["objects"]}
    assert listed["sales_order"] == renamed
    assert api.get("/objects/sales_order", status=200).json["label"] == renamed

    # a field removed: gone from the metadata and the records, not from the table
    changed = api.define("sales_order", order_doc(memo, double, label=renamed,
                                                  without=("qty",)))
    assert [(op["kind"], op["field"]) for op in changed["plan"]["operations"]] == [
        ("archive_field", "qty")]
    described = api.get("/objects/sales_order", status=200).json
    assert "qty" not in [f["api_name"] for f in described["fields"]]
    assert "archived_fields" not in described
    page = api.query("sales_order", limit=5)["records"]
    assert all("qty" not in r for r in page)
    assert "qty" not in api.read("sales_order", page[0]["id"])
    refused = api.post("/objects/sales_order/query", {"filters": [
        {"field": "qty", "op": "eq", "value": 1}]}, status=400)
    assert error(refused)["fields"] == {"qty": ["没有这个字段"]}
    assert raw_count(defined, "qty IS NOT NULL") == ROWS
    assert column_values(defined, "qty") == qtys

    # the field restored: every value is back
    changed = api.define("sales_order", order_doc(memo, double, label=renamed))
    assert [(op["kind"], op["field"]) for op in changed["plan"]["operations"]] == [
        ("restore_field", "qty")]
    assert column_values(defined, "qty") == qtys
    page = api.query("sales_order", filters=[
        {"field": "title", "op": "eq", "value": "批量订单 04321"}])["records"]
    assert page[0]["qty"] == 21

    # rolled back to before the formula: the formula's field goes (archived)
    rolled = api.post("/metadata/objects/sales_order/rollback",
                      {"version": before_formula}, status=200).json
    assert rolled["version"] > changed["version"]
    described = api.get("/objects/sales_order", status=200).json
    names = [f["api_name"] for f in described["fields"]]
    assert "double_amount" not in names and "memo" not in names
    assert "qty" in names
    assert described["label"] == {"zh": "销售订单", "en": "Sales order"}
    assert column_values(defined, "qty") == qtys
    assert len(column_values(defined, "amount")) == ROWS
    versions = api.get("/metadata/versions", status=200).json
    assert versions["current"] == rolled["version"]
    # the archived formula still holds its values
    assert raw_count(defined, "double_amount IS NULL") == 0
