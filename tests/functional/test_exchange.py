"""Export and import of records through the API: CSV and XLSX round trips of a
record with many field types, what an export shows to whom, and the refusals."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

import pytest
from openpyxl import Workbook, load_workbook
from webtest import TestApp, TestResponse

from propolis.platform.audit import entries
from propolis.platform.db import Database
from tests.common.api import ApiClient, Tenant, error, login, login_admin, url

CLIENT = {"label": {"zh": "客户", "en": "Client"}, "fields": [
    {"api_name": "name", "type": "text", "label": {"zh": "客户名称", "en": "Name"},
     "required": True, "unique": True}]}
DEAL = {
    "label": {"zh": "商机", "en": "Deal"},
    "fields": [
        {"api_name": "name", "type": "text", "label": {"zh": "名称", "en": "Name"},
         "required": True, "searchable": True},
        {"api_name": "notes", "type": "textarea"},
        {"api_name": "body", "type": "richtext"},
        {"api_name": "amount", "type": "currency", "precision": 2,
         "label": {"zh": "金额", "en": "Amount"}},
        {"api_name": "rate", "type": "percent", "precision": 1},
        {"api_name": "qty", "type": "number", "precision": 0},
        {"api_name": "start", "type": "date"},
        {"api_name": "at", "type": "time"},
        {"api_name": "due", "type": "datetime"},
        {"api_name": "done", "type": "boolean"},
        {"api_name": "level", "type": "select", "options": [
            {"value": "A", "label": {"zh": "甲级", "en": "Class A"}},
            {"value": "B", "label": {"zh": "乙级", "en": "Class B"}}]},
        {"api_name": "tags", "type": "multiselect", "options": ["vip", "new", "old"]},
        {"api_name": "client", "type": "lookup", "to": "client",
         "label": {"zh": "客户", "en": "Client"}},
        {"api_name": "manager", "type": "user"},
        {"api_name": "dept", "type": "department"},
        {"api_name": "phone", "type": "phone"},
        {"api_name": "email", "type": "email"},
        {"api_name": "site", "type": "url"},
        {"api_name": "code", "type": "autonumber", "format": "D-{seq:4}"},
        {"api_name": "total", "type": "formula", "returns": "currency",
         "expression": "amount * 2"},
        {"api_name": "items", "type": "table", "fields": [
            {"api_name": "product", "type": "text"},
            {"api_name": "qty", "type": "number", "precision": 0},
            {"api_name": "price", "type": "currency", "precision": 2},
            {"api_name": "line", "type": "formula", "returns": "currency",
             "expression": "qty * price"}]},
        {"api_name": "area", "type": "area"},
        {"api_name": "spot", "type": "location"},
        {"api_name": "files", "type": "file"},
        {"api_name": "secret", "type": "text"},
    ],
    "permissions": {
        "employee": {"verbs": ["create", "read", "edit"], "scope": "own",
                     "fields": {"secret": "hidden", "phone": "read"}},
        "crm_admin": {"verbs": ["create", "read", "edit", "import", "export"],
                      "scope": "own", "fields": {"secret": "hidden",
                                                 "phone": "read"}},
    },
}
CSV_TYPE = "text/csv"


def export(client: ApiClient, obj: str = "deal", status: int = 200, **body: Any
           ) -> TestResponse:
    return client.post(f"/objects/{obj}/export", body, status=status)


def read_csv(response: TestResponse) -> list[list[str]]:
    assert response.body.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(response.body.decode("utf-8-sig"),
                                       newline="")))


def to_csv(rows: list[list[Any]]) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return ("\ufeff" + out.getvalue()).encode()


def read_xlsx(response: TestResponse) -> list[list[Any]]:
    book = load_workbook(io.BytesIO(response.body), read_only=True)
    return [list(r) for r in book.worksheets[0].iter_rows(values_only=True)]


def to_xlsx(rows: list[list[Any]]) -> bytes:
    """The sheet as Excel saves it: text that looks like a formula stays text."""
    book = Workbook()
    for row in rows:
        book.active.append(row)
    for line in book.active.iter_rows():
        for cell in line:
            if isinstance(cell.value, str):
                cell.data_type = "s"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def upload(client: ApiClient, data: bytes, name: str = "deals.csv", obj: str = "deal",
           status: int = 200) -> dict[str, Any]:
    return client.app.post(url(f"/objects/{obj}/import"), headers=client.headers(),
                           upload_files=[("file", name, data)], status=status).json


def by_key(header: list[Any]) -> dict[str, int]:
    """Column positions by the api_name in the header's parentheses."""
    return {str(h).rsplit("(", 1)[1].rstrip(")"): i for i, h in enumerate(header)}


@pytest.fixture
def crm(app: TestApp, enterprise: Callable[..., Tenant]) -> dict[str, Any]:
    tenant = enterprise()
    admin = login_admin(app, tenant)
    admin.define("client", CLIENT)
    admin.define("deal", DEAL)
    clients = [admin.create("client", {"name": n})["id"] for n in ("华为", "腾讯")]
    file_id = admin.upload("合同.txt", b"contract")["id"]
    record = admin.create("deal", {
        "name": "=SUM(A1)", "notes": "第一行\n第二行, 带逗号", "body": "<p>好</p>",
        "amount": 1234.5, "rate": 12.5, "qty": 3, "start": "2026-11-28",
        "at": "09:30", "due": "2026-11-28T09:30:00+08:00", "done": True,
        "level": "A", "tags": ["vip", "new"], "client": clients[0],
        "manager": tenant.admin_id, "dept": tenant.department_id,
        "phone": "13800000001", "email": "a@b.cn", "site": "https://example.com",
        "items": [{"product": "门锁", "qty": 2, "price": 10.25}],
        "area": {"province": "广东省", "city": "深圳市", "district": "南山区"},
        "spot": {"lat": 22.5, "lng": 113.9, "address": "科技园"},
        "files": [file_id], "secret": "机密"})
    return {"tenant": tenant, "admin": admin, "clients": clients, "record": record}


def edit(rows: list[list[Any]], changes: dict[str, Any]) -> list[list[Any]]:
    keys = by_key(rows[0])
    for key, value in changes.items():
        old = rows[1][keys[key]]
        rows[1][keys[key]] = value(old) if callable(value) else value
    return rows


# the edits of the round trips, and what the record holds afterwards
CHANGES = {"name": "新名称", "amount": "2000.75", "done": "否", "level": "B",
           "tags": "old;vip", "client.name": "腾讯", "start": "2027-01-02",
           "items": lambda old: old.replace('"qty":2', '"qty":5'),
           "area": "广东省/广州市"}


def check_changed(admin: ApiClient, crm: dict[str, Any]) -> None:
    before = crm["record"]
    after = admin.read("deal", before["id"])
    assert after["version"] == before["version"] + 1
    expected = {**before, "name": "新名称", "amount": 2000.75, "done": False,
                "level": "B", "tags": ["old", "vip"], "client": crm["clients"][1],
                "start": "2027-01-02", "total": 4001.5,
                "area": {"province": "广东省", "city": "广州市", "district": None}}
    assert after["items"][0]["id"] == before["items"][0]["id"]
    assert after["items"][0]["qty"] == 5 and after["items"][0]["line"] == 51.25
    for name in ("version", "updated_at", "items"):
        expected.pop(name), after.pop(name)
    assert after == expected


def test_csv_round_trip(crm: dict[str, Any]) -> None:
    admin = crm["admin"]
    response = export(admin)
    assert response.content_type == CSV_TYPE
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="deal-')
    assert unquote(disposition.split("UTF-8''")[1]).startswith("商机-")
    rows = read_csv(response)
    keys = by_key(rows[0])
    assert rows[0][keys["name"]] == "名称 (name)"
    assert rows[0][keys["client.name"]] == "客户 (client.name)"
    assert rows[0][keys["client"]] == "客户 ID (client)"
    row = rows[1]
    cell = {k: row[i] for k, i in keys.items()}
    assert cell["id"] == crm["record"]["id"]
    assert cell["name"] == "'=SUM(A1)"  # no formula for Excel
    assert cell["notes"] == "第一行\n第二行, 带逗号"
    assert (cell["amount"], cell["rate"], cell["qty"]) == ("1234.5", "12.5", "3")
    assert (cell["start"], cell["at"]) == ("2026-11-28", "09:30")
    assert cell["due"] == "2026-11-28T09:30:00+08:00"
    assert (cell["done"], cell["level"], cell["tags"]) == ("是", "A", "vip;new")
    assert (cell["client.name"], cell["client"]) == ("华为", crm["clients"][0])
    assert cell["manager.name"] == "管理员" and cell["dept"]
    assert cell["area"] == '{"province":"广东省","city":"深圳市","district":"南山区"}'
    assert cell["total"] == "2469" and cell["code"] == "D-0001"
    assert cell["owner"] == crm["tenant"].admin_id
    assert "secret" in keys  # the admin sees everything
    # unchanged, the file changes nothing
    assert upload(admin, to_csv(rows)) == {
        "created": 0, "updated": 0, "unchanged": 1, "skipped": 0, "failed": 0,
        "errors": [], "rolled_back": [], "error_file": None,
        "skipped_columns": [rows[0][i] for k, i in keys.items() if k in (
            "code", "total", "owner.name", "owner", "owner_department.name",
            "owner_department", "created_at", "updated_at")]}
    assert admin.read("deal", crm["record"]["id"]) == crm["record"]
    # edited, the changes land
    report = upload(admin, to_csv(edit(rows, CHANGES)))
    assert (report["updated"], report["errors"]) == (1, [])
    check_changed(admin, crm)


def test_xlsx_round_trip(crm: dict[str, Any]) -> None:
    admin = crm["admin"]
    response = export(admin, format="xlsx")
    assert response.content_type.startswith("application/vnd.openxmlformats")
    rows = read_xlsx(response)
    keys = by_key(rows[0])
    cell = {k: rows[1][i] for k, i in keys.items()}
    assert cell["name"] == "=SUM(A1)"  # text, not a formula
    assert cell["amount"] == 1234.5 and cell["qty"] == 3  # numbers for Excel
    assert cell["phone"] == "13800000001"
    assert upload(admin, to_xlsx(rows), "deals.xlsx")["unchanged"] == 1
    assert admin.read("deal", crm["record"]["id"]) == crm["record"]
    # Excel turns typed dates and numbers into its own types
    import datetime as dt

    changes = {**CHANGES, "start": dt.datetime(2027, 1, 2), "amount": 2000.75}
    report = upload(admin, to_xlsx(edit(rows, changes)), "deals.xlsx")
    assert (report["updated"], report["errors"]) == (1, [])
    check_changed(admin, crm)


def test_new_rows_are_created_and_bad_rows_reported(crm: dict[str, Any],
                                                    database: Database) -> None:
    admin = crm["admin"]
    rows = [["名称 (name)", "金额 (amount)", "客户 (client.name)", "done", "start"],
            ["甲", "1,000", "华为", "yes", "2026/1/5"],
            ["乙", "很多", "", "", ""],
            ["丙", "5", "阿里", "", ""],
            ["", "5", "", "", ""],
            ["丁", "", "", "", ""]]
    report = upload(admin.in_language("en"), to_csv(rows))
    assert (report["created"], report["failed"]) == (2, 3)
    assert [(e["row"], e["field"], e["column"]) for e in report["errors"]] == [
        (3, "amount", "Amount (amount)"), (4, "client", "Client (client.name)"),
        (5, "name", "Name (name)")]
    assert report["errors"][0]["message"] == "'很多' is not a number"
    created = {r["name"]: r for r in admin.query("deal", limit=10)["records"]}
    assert set(created) == {"=SUM(A1)", "甲", "丁"}
    assert created["甲"]["amount"] == 1000 and created["甲"]["done"] is True
    assert created["甲"]["client"] == crm["clients"][0]
    assert created["甲"]["start"] == "2026-01-05"
    with database.tenant_engine(crm["tenant"].account).connect() as conn:
        [entry] = [e for e in entries(conn) if e["action"] == "records.import"]
    assert entry["target"] == "deal" and entry["details"]["created"] == 2


def test_a_bad_file_writes_nothing(crm: dict[str, Any]) -> None:
    admin = crm["admin"]
    good = ["甲"]
    cases = [
        ("deals.txt", b"name\n\xe7\x94\xb2\n", "file"),
        ("deals.xlsx", b"not a workbook", "file"),
        ("deals.csv", to_csv([["名称 (name)", "nope (nope)"], good + ["x"]]),
         "nope (nope)"),
        ("deals.csv", to_csv([["名称 (name)", "name"], good + ["x"]]), "name"),
        ("deals.csv", to_csv([["名称 (name)"]]), "file"),
        ("deals.csv", b"", "file"),
    ]
    for name, data, field in cases:
        refused = error(admin.app.post(
            url("/objects/deal/import"), headers=admin.headers(),
            upload_files=[("file", name, data)], status=400))
        assert field in refused["fields"], (name, refused)
    stray = error(admin.app.post(
        url("/objects/deal/import"), headers=admin.headers(),
        upload_files=[("file", "d.csv", to_csv([["名称 (name)", ""], ["甲", "x"]]))],
        status=400))
    assert "B2" in stray["message"] or "B2" in stray["fields"]["file"][0]
    assert [r["name"] for r in admin.query("deal")["records"]] == ["=SUM(A1)"]
    # no file at all
    refused = admin.post("/objects/deal/import", {}, status=400).json
    assert refused["error"]["fields"] == {"file": ["必填"]}


def test_what_an_export_shows_follows_the_permissions(
        app: TestApp, crm: dict[str, Any]) -> None:
    admin, tenant = crm["admin"], crm["tenant"]
    people = {}
    for i, roles in enumerate((["employee", "crm_admin"], ["employee"])):
        phone = f"1390000000{i}"
        admin.create("user", {"name": f"员工{i}", "phone": phone,
                              "password": "pass-word-1",
                              "main_department": tenant.department_id,
                              "roles": roles})
        people[i] = login(app, tenant.account, phone, "pass-word-1")
    seller, clerk = people[0], people[1]
    mine = [seller.create("deal", {"name": f"我的{n}", "amount": n})["id"]
            for n in (1, 2, 3)]
    clerk.create("deal", {"name": "别人的"})
    rows = read_csv(export(seller, sort=["amount"]))
    keys = by_key(rows[0])
    assert "secret" not in keys and "secret" not in rows[0][0]
    assert [r[keys["id"]] for r in rows[1:]] == mine  # own scope, sorted
    filtered = read_csv(export(seller, filters=[
        {"field": "amount", "op": "gte", "value": 2}], q="我的"))
    assert [r[by_key(filtered[0])["id"]] for r in filtered[1:]] == mine[1:]
    only = read_csv(export(seller, columns=["name", "client"]))
    assert only[0] == ["名称 (name)", "客户 (client.name)", "客户 ID (client)"]
    # hidden and unknown columns are refused by name
    refused = error(export(seller, columns=["name", "secret", "nope"], status=400))
    assert refused["fields"] == {"secret": ["没有这个字段"], "nope": ["没有这个字段"]}
    refused = error(export(seller, filters=[{"field": "secret", "op": "eq",
                                             "value": "x"}], status=400))
    assert refused["fields"] == {"secret": ["没有这个字段"]}
    assert error(export(seller, format="pdf", status=400))["fields"] == {
        "format": ["应为 csv 或 xlsx"]}
    assert error(export(seller, limit=5, status=400))["fields"] == {
        "limit": ["不支持的参数"]}
    # without the verbs: a bare 403
    forbidden = {"code": "forbidden", "message": "没有权限", "fields": {}}
    assert error(export(clerk, status=403)) == forbidden
    assert error(clerk.app.post(url("/objects/deal/import"), headers=clerk.headers(),
                                upload_files=[("file", "d.csv", b"name\nx\n")],
                                status=403)) == forbidden
    # a hidden field cannot be imported: as unknown as a missing one
    refused = error(seller.app.post(
        url("/objects/deal/import"), headers=seller.headers(),
        upload_files=[("file", "d.csv", to_csv([["name", "secret"], ["x", "y"]]))],
        status=400))
    assert list(refused["fields"]) == ["secret"]
    # a read-only field may be exported and re-imported unchanged, not changed
    rows = read_csv(export(seller))
    assert upload(seller, to_csv(rows))["unchanged"] == 3
    report = upload(seller, to_csv(edit(rows, {"phone": "13900000009"})))
    assert [(e["field"], e["message"]) for e in report["errors"]] == [
        ("phone", "没有修改该字段的权限")]
    # another's record by id: not found, like a missing one
    other = read_csv(export(admin, q="别人的", columns=["id", "name"]))
    report = upload(seller, to_csv([other[0], other[1]]))
    assert [(e["row"], e["field"], e["message"]) for e in report["errors"]] == [
        (2, "id", "记录不存在或已删除")]


def test_a_stale_version_is_refused(crm: dict[str, Any]) -> None:
    admin = crm["admin"]
    rows = read_csv(export(admin))
    admin.patch(f"/objects/deal/records/{crm['record']['id']}", {"qty": 4})
    report = upload(admin, to_csv(edit(rows, {"qty": "5"})))
    assert report["failed"] == 1 and report["errors"][0]["field"] == "id"
    assert admin.read("deal", crm["record"]["id"])["qty"] == 4


def test_references_by_name(crm: dict[str, Any]) -> None:
    admin = crm["admin"]
    admin.define("client", {**CLIENT, "fields": [{**CLIENT["fields"][0],
                                                  "unique": False}]})
    twin = admin.create("client", {"name": "华为"})["id"]
    rows = [["名称 (name)", "客户 (client.name)", "客户 ID (client)"],
            ["甲", "华为", ""], ["乙", "华为", twin], ["丙", "腾讯", twin],
            ["丁", "", twin]]
    report = upload(admin, to_csv(rows))
    assert [(e["row"], e["field"]) for e in report["errors"]] == [(2, "client")]
    assert "ID" in report["errors"][0]["message"]
    made = {r["name"]: r["client"] for r in admin.query("deal")["records"]}
    assert (made["乙"], made["丙"], made["丁"]) == (twin, crm["clients"][1], None)


def test_exports_are_audited(crm: dict[str, Any], database: Database) -> None:
    admin = crm["admin"]
    export(admin, filters=[{"field": "level", "op": "eq", "value": "A"}],
           format="xlsx")
    with database.tenant_engine(crm["tenant"].account).connect() as conn:
        [entry] = [e for e in entries(conn) if e["action"] == "records.export"]
    assert (entry["actor_id"], entry["target"]) == (crm["tenant"].admin_id, "deal")
    assert entry["details"] == {
        "format": "xlsx", "rows": 1, "q": None, "sort": [], "columns": None,
        "filters": [{"field": "level", "op": "eq", "value": "A"}]}


def test_a_big_export_comes_in_pages(crm: dict[str, Any]) -> None:
    admin = crm["admin"]
    for n in range(450):
        admin.create("client", {"name": f"客户{n:03d}"})
    rows = read_csv(export(admin, obj="client", sort=["name"]))
    names = [r[by_key(rows[0])["name"]] for r in rows[1:]]
    assert len(names) == 452 and names == sorted(names)
    refused = error(admin.post("/objects/nope/export", {}, status=404))
    assert refused["code"] == "no_such_object"


def test_another_enterprise_is_out_of_reach(
        app: TestApp, crm: dict[str, Any], enterprise: Callable[..., Tenant]) -> None:
    other = login_admin(app, enterprise("乙公司"))
    other.define("client", CLIENT)
    other.define("deal", DEAL)
    theirs = other.create("client", {"name": "阿里"})["id"]
    admin, mine = crm["admin"], crm["record"]
    # their ids and names find nothing here, and nothing there is touched
    rows = read_csv(export(other, filters=[
        {"field": "id", "op": "in", "value": [mine["id"]]}]))
    assert rows[1:] == []
    report = upload(other, to_csv([["id", "name"], [mine["id"], "偷改"]]))
    assert [(e["field"], e["message"]) for e in report["errors"]] == [
        ("id", "记录不存在或已删除")]
    for sheet in ([["name", "客户 (client.name)"], ["甲", "阿里"]],
                  [["name", "client"], ["乙", theirs]]):
        report = upload(admin, to_csv(sheet))
        assert [(e["row"], e["field"]) for e in report["errors"]] == [
            (2, "client")]
    assert admin.read("deal", mine["id"]) == mine
