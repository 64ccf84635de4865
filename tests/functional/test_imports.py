"""Imports at scale through the API: no row cap, batches that land or are taken
back whole, the modes, the error sheet, and large files as a job with progress."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import update
from sqlalchemy.exc import SQLAlchemyError
from webtest import TestApp

from propolis.platform.exchange import imports
from propolis.platform.exchange.jobs import run_import
from propolis.platform.records import bulk
from propolis.platform.storage.platform_tables import jobs
from propolis.platform.web.offline import service_request
from tests.common.accounts import browser, form_of, web_login
from tests.common.api import ApiClient, Tenant, login_admin, url

LEAD = {
    "label": {"zh": "线索", "en": "Lead"},
    "fields": [
        {"api_name": "name", "type": "text", "label": {"zh": "名称", "en": "Name"},
         "required": True, "searchable": True},
        {"api_name": "mobile", "type": "phone", "unique": True,
         "label": {"zh": "手机", "en": "Mobile"}},
        {"api_name": "amount", "type": "currency", "precision": 2},
        {"api_name": "code", "type": "autonumber", "format": "L-{seq:6}"},
    ],
}
HEADER = ["名称 (name)", "手机 (mobile)", "amount"]


def to_csv(rows: list[list[Any]]) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return ("\ufeff" + out.getvalue()).encode()


def upload(client: ApiClient, data: bytes, status: int = 200, name: str = "l.csv",
           **params: str) -> dict[str, Any]:
    return client.app.post(url("/objects/lead/import"), params,
                           headers=client.headers(),
                           upload_files=[("file", name, data)], status=status).json


def leads(n: int, start: int = 0) -> list[list[Any]]:
    return [[f"线索{i}", f"139{i:08d}", f"{i}.5"] for i in range(start, start + n)]


@pytest.fixture
def tenant(enterprise: Callable[..., Tenant]) -> Tenant:
    return enterprise()


@pytest.fixture
def admin(app: TestApp, tenant: Tenant) -> ApiClient:
    client = login_admin(app, tenant)
    client.define("lead", LEAD)
    return client


def all_records(client: ApiClient) -> list[dict[str, Any]]:
    found, cursor = [], None
    while True:
        body: dict[str, Any] = {"limit": 200, "sort": ["code"]}
        if cursor:
            body["cursor"] = cursor
        page = client.query("lead", **body)
        found += page["records"]
        cursor = page["next_cursor"]
        if cursor is None:
            return found


def test_six_thousand_rows_are_imported(admin: ApiClient) -> None:
    report = upload(admin, to_csv([HEADER, *leads(6000)]))
    assert (report["created"], report["failed"], report["errors"]) == (6000, 0, [])
    records = all_records(admin)
    assert len(records) == 6000
    # autonumbers reserved in blocks: consecutive, in the file's order
    assert [r["code"] for r in records[:2]] == ["L-000001", "L-000002"]
    assert records[-1]["code"] == "L-006000"
    assert records[5999]["name"] == "线索5999" and records[0]["amount"] == 0.5
    # each has its history row and its search text
    assert admin.get(f"/objects/lead/records/{records[0]['id']}/history"
                     ).json["history"][0]["action"] == "create"
    assert [r["name"] for r in admin.query("lead", q="线索5999")["records"]] == [
        "线索5999"]


def test_every_bad_row_is_reported_and_the_error_sheet_has_its_reason(
        admin: ApiClient) -> None:
    admin.create("lead", {"name": "已有", "mobile": "13900000001"})
    rows = [HEADER, ["甲", "13800000001", "1"], ["", "13800000002", "1"],
            ["乙", "13900000001", "1"], ["丙", "13800000001", "x"],
            ["丁", "13800000001", ""]]
    report = upload(admin, to_csv(rows))
    assert (report["created"], report["failed"]) == (1, 4)
    assert [(e["row"], e["field"]) for e in report["errors"]] == [
        (3, "name"), (4, "mobile"), (5, "amount"), (6, "mobile")]
    sheet = admin.get(f"/files/{report['error_file']}")
    got = list(csv.reader(io.StringIO(sheet.body.decode("utf-8-sig"))))
    assert got[0] == [*HEADER, "错误原因"]
    assert [r[:3] for r in got[1:]] == [r for r in rows[2:]]
    assert got[1][3].startswith("名称 (name): ")
    assert "已被其他记录使用" in got[2][3]
    # fixed and imported again as it is, the error column ignored
    got[1][0], got[2][1], got[4][1] = "戊", "13700000001", "13700000002"
    got[3][1:3] = ["13700000003", "3"]
    again = upload(admin, to_csv(got))
    assert (again["created"], again["failed"], again["error_file"]) == (4, 0, None)


def test_a_batch_that_fails_to_write_is_taken_back_whole(
        admin: ApiClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(imports, "BATCH_ROWS", 100)
    real = bulk.history.write_many
    calls = []

    def second_fails(conn: Any, rows: Any) -> None:
        calls.append(len(rows))
        if len(calls) == 2:
            raise SQLAlchemyError("the disk is full")
        real(conn, rows)

    monkeypatch.setattr(bulk.history, "write_many", second_fails)
    report = upload(admin.in_language("en"), to_csv([HEADER, *leads(250)]))
    assert (report["created"], report["failed"]) == (150, 100)
    assert report["rolled_back"] == [[102, 201]]
    assert report["errors"][0]["message"].startswith("this batch could not be "
                                                      "written")
    names = {r["name"] for r in all_records(admin)}
    assert len(names) == 150 and "线索100" not in names and "线索99" in names


def test_modes_key_and_duplicates(admin: ApiClient) -> None:
    upload(admin, to_csv([HEADER, *leads(3)]))
    changed = [HEADER, ["新名0", "13900000000", "9"], ["新", "13700000000", "1"]]
    # create: a duplicate is an error, skipped, or an update
    report = upload(admin, to_csv(changed), mode="create", key="mobile")
    assert (report["created"], report["failed"]) == (1, 1)
    assert report["errors"][0]["field"] == "mobile"
    report = upload(admin, to_csv(changed), mode="create", key="mobile",
                    duplicates="skip")
    assert (report["created"], report["skipped"], report["failed"]) == (0, 2, 0)
    # update by the key column: a row naming no record is an error
    report = upload(admin, to_csv([HEADER, ["新名0", "13900000000", "9"],
                                   ["无", "13600000000", "1"]]),
                    mode="update", key="mobile")
    assert (report["updated"], report["created"], report["failed"]) == (1, 0, 1)
    by_mobile = {r["mobile"]: r for r in all_records(admin)}
    assert by_mobile["13900000000"]["name"] == "新名0"
    assert by_mobile["13900000000"]["amount"] == 9
    # upsert: updates what exists, creates the rest; a key repeated in the file
    # is one record
    report = upload(admin, to_csv([HEADER, ["再改", "13900000001", "1"],
                                   ["新甲", "13500000000", "1"],
                                   ["新甲二", "13500000000", "2"]]),
                    mode="upsert", key="mobile")
    assert (report["updated"], report["created"], report["failed"]) == (2, 1, 0)
    by_mobile = {r["mobile"]: r for r in all_records(admin)}
    assert by_mobile["13500000000"]["name"] == "新甲二"
    assert by_mobile["13900000001"]["name"] == "再改"


def test_bad_options_are_400_naming_them(admin: ApiClient) -> None:
    data = to_csv([HEADER, *leads(1)])
    assert "mode" in upload(admin, data, 400, mode="merge")["error"]["fields"]
    assert "key" in upload(admin, data, 400, mode="update",
                           key="nope")["error"]["fields"]
    assert "duplicates" in upload(admin, data, 400,
                                  duplicates="x")["error"]["fields"]


def test_a_large_file_is_a_job_with_progress(admin: ApiClient, app: TestApp,
                                             tenant: Tenant,
                                             monkeypatch: pytest.MonkeyPatch
                                             ) -> None:
    monkeypatch.setitem(app.app.registry.settings, "propolis.import_sync_bytes",
                        "1000")
    monkeypatch.setattr(imports, "BATCH_ROWS", 500)
    answer = upload(admin, to_csv([HEADER, *leads(1200), ["", "1", "1"]]), 202)
    job = admin.get(f"/jobs/{answer['job']}").json
    assert job["error"] is None, job
    assert (job["kind"], job["status"], job["total"], job["done"]) == (
        "import", "done", 1201, 1201)
    assert job["progress"] == 1
    report = job["payload"]["report"]
    assert (report["created"], report["failed"]) == (1200, 1)
    assert report["error_file"]
    assert len(all_records(admin)) == 1200
    # delivered again while it runs (its worker died), it is not run twice
    with service_request(app.app.registry, tenant.account) as request:
        request.db.execute(update(jobs).where(jobs.c.id == answer["job"]).values(
            status="running", done=500))
    run_import(app.app.registry, tenant.account, answer["job"])
    job = admin.get(f"/jobs/{answer['job']}").json
    assert job["status"] == "failed" and "前 500 行" in job["error"]
    assert len(all_records(admin)) == 1200
    # asked for, a small file is a job too
    answer = upload(admin, to_csv([HEADER, *leads(2, 5000)]), 202, **{"async": "1"})
    assert admin.get(f"/jobs/{answer['job']}").json["payload"]["report"][
        "created"] == 2


def test_the_import_page_imports_with_its_options_and_shows_the_report(
        app: TestApp, tenant: Tenant, admin: ApiClient,
        monkeypatch: pytest.MonkeyPatch) -> None:
    upload(admin, to_csv([HEADER, *leads(2)]))
    client = browser(app)
    web_login(client, tenant)
    listing = client.get("/o/lead")
    link = listing.html.find("a", string="导入")
    assert link is not None and link["href"] == "/o/lead/import"
    form = form_of(client.get("/o/lead/import"), "/o/lead/import")
    form["mode"] = "create"
    form["key"] = "mobile"
    form["duplicates"] = "skip"
    form["file"] = ("l.csv", to_csv([HEADER, *leads(3), ["", "1", "1"]]))
    done = form.submit(status=200)
    summary = done.html.select_one('[role="status"]').text
    assert "新建 1 条" in summary and "跳过 2 条" in summary
    assert "未导入 1 条" in summary
    assert [td.text for td in done.html.select(".import-errors td")][:2] == [
        "5", "名称 (name)"]
    error_link = done.html.find("a", attrs={"download": True,
                                           "href": lambda h: h and "/files/" in h})
    sheet = client.get(error_link["href"]).body.decode("utf-8-sig")
    assert sheet.splitlines()[0].endswith(",错误原因")
    assert len(all_records(admin)) == 3
    # a bad option is named on the page, nothing written
    form["mode"].force_value("merge")
    refused = form.submit(status=400)
    assert "mode" in refused.html.select_one('[role="alert"]').text
    # a large file: the job's page, its progress and report
    monkeypatch.setitem(app.app.registry.settings, "propolis.import_sync_bytes",
                        "10")
    form = form_of(client.get("/o/lead/import"), "/o/lead/import")
    form["file"] = ("l.csv", to_csv([HEADER, *leads(2, 100)]))
    moved = form.submit(status=303)
    assert "/o/lead/import/jobs/" in moved.location
    page = client.get(moved.location)
    assert page.html.select_one("progress")["value"] == "2"
    assert "import-errors" not in page.text and "导入报告" in page.text
    other = browser(app)
    web_login(other, tenant)
    # another session of the same user sees it; a stranger's job id is a 404
    other.get(moved.location, status=200)
    client.get("/o/lead/import/jobs/nope", status=404)


def test_duplicate_rules_hold_against_the_stored_records_and_the_file(
        admin: ApiClient) -> None:
    admin.define("lead", {**LEAD, "fields": [*LEAD["fields"], {
        "api_name": "short", "type": "text"}],
        "duplicates": [{"fields": ["name", "short"]}]})
    admin.create("lead", {"name": "华为技术", "short": "华为"})
    rows = [["名称 (name)", "short"], ["ＡＣＭＥ 贸易", "acme"], ["华为", ""],
            ["acme 贸易", ""], ["腾讯", "鹅厂"]]
    report = upload(admin.in_language("en"), to_csv(rows))
    assert (report["created"], report["failed"]) == (2, 2)
    assert [(e["row"], e["field"]) for e in report["errors"]] == [
        (3, "name"), (4, "name")]
    assert "owner: " in report["errors"][0]["message"]
    assert report["errors"][1]["message"] == "duplicates an earlier row of this " \
        "import"
    # the keys of the imported records are stored: they count next time
    again = upload(admin, to_csv([["名称 (name)"], ["鹅厂"]]))
    assert (again["created"], again["failed"]) == (0, 1)
