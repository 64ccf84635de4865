"""The employee import through the API: the template, a good file, a bad one."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

from openpyxl import load_workbook
from webtest import TestApp

from propolis.platform.exchange.xlsx import CONTENT_TYPE
from tests.common.api import ApiClient, Tenant, error, login_admin, url
from tests.common.org import filled_template, login_as, twenty_rows


def upload(admin: ApiClient, data: bytes, status: int = 200) -> dict[str, Any]:
    response = admin.app.post(url("/org/import"), headers=admin.headers(),
                              upload_files=[("file", "员工.xlsx", data, CONTENT_TYPE)],
                              status=status)
    return response.json


def departments(admin: ApiClient, tenant: Tenant) -> None:
    for name in ("销售部", "研发部"):
        admin.post("/org/departments", {"name": name, "parent": tenant.department_id},
                   status=201)


def test_template_download_is_a_workbook(app: TestApp,
                                         enterprise: Callable[..., Tenant]) -> None:
    tenant = enterprise()
    admin = login_admin(app, tenant)
    response = admin.get("/org/import/template", status=200)
    assert response.content_type == CONTENT_TYPE
    assert "attachment" in response.headers["Content-Disposition"]
    book = load_workbook(io.BytesIO(response.body))
    sheet = book.worksheets[0]
    assert sheet["A1"].value == "姓名*" and sheet["A2"].value == "Name"
    assert sheet.data_validations.dataValidation
    # an employee may not have it
    clerk_phone = "13900000009"
    admin.post("/org/users", {"name": "员工", "phone": clerk_phone,
                              "password": "clerk-pass-1"}, status=201)
    login_as(app, tenant.account, clerk_phone, "clerk-pass-1").get(
        "/org/import/template", status=403)


def test_import_twenty_employees(app: TestApp,
                                 enterprise: Callable[..., Tenant]) -> None:
    tenant = enterprise()
    admin = login_admin(app, tenant)
    departments(admin, tenant)
    result = upload(admin, filled_template(twenty_rows()))
    assert (result["status"], result["imported"], result["errors"]) == \
        ("imported", 20, [])
    users = admin.query("user", limit=100)["records"]
    assert len(users) == 21
    by_phone = {u["phone"]: u for u in users}
    for i in range(19):
        assert by_phone[f"1390000{i:04d}"]["superior"] == \
            by_phone[f"1390000{i + 1:04d}"]["id"]
    assert by_phone["13900000019"]["superior"] == tenant.admin_id
    # the one row with a password can log in
    login_as(app, tenant.account, "13900000000", "passw0rd-ok")
    summary = admin.get("/org/summary").json
    assert summary["employees"] == 20  # 19 active imported + the admin
    # the admin and the imported employee who just logged in are activated
    assert summary["never_activated"] == 19


def test_bad_file_reports_rows_and_imports_nothing(
        app: TestApp, enterprise: Callable[..., Tenant]) -> None:
    tenant = enterprise()
    admin = login_admin(app, tenant)
    departments(admin, tenant)
    rows = twenty_rows()
    # row 7 repeats row 5 (and row 6's superior, the old phone of row 7, is gone)
    rows[4]["phone"] = rows[2]["phone"]
    rows[10]["departments"] = "总部/市场部"  # row 13: no such department
    rows[15]["status"] = "离职"  # row 18
    rows[19]["superior"] = "13911112222"  # row 22: nobody has that phone
    result = upload(admin, filled_template(rows))
    assert (result["status"], result["imported"]) == ("rejected", 0)
    cells = [(e["row"], e["column"]) for e in result["errors"]]
    assert cells == [(6, "superior"), (7, "phone"), (13, "departments"),
                     (18, "status"), (22, "superior")]
    # every message in both languages
    assert result["errors"][1]["message"] == {"zh": "与第 5 行重复",
                                              "en": "repeats row 5"}
    assert admin.query("user")["records"][0]["id"] == tenant.admin_id
    assert len(admin.query("user")["records"]) == 1
    report = admin.get(result["report_url"], status=200)
    assert report.content_type == CONTENT_TYPE
    sheet = load_workbook(io.BytesIO(report.body)).worksheets[0]
    last = sheet.max_column
    assert (sheet.cell(row=1, column=last).value,
            sheet.cell(row=2, column=last).value) == ("错误", "Errors")
    errors = {sheet.cell(row=r, column=1).value: sheet.cell(row=r, column=last).value
              for r in range(3, sheet.max_row + 1)}
    assert len(errors) == 20
    assert errors[7] == "手机号：与第 5 行重复 / Mobile phone: repeats row 5"
    assert "市场部" in errors[13] and errors[3] is None
    # not a workbook at all, or no file
    response = upload(admin, b"not a workbook", status=400)
    assert list(response["error"]["fields"]) == ["file"]
    response = admin.post("/org/import", {}, status=400)
    assert list(error(response)["fields"]) == ["file"]
    admin.get("/org/import/01M8G8GSZQNQVV21PHH07GT5K9/report", status=404)
