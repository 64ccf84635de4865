import io
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from propolis.platform.audit import entries
from propolis.platform.auth.passwords import verify_password
from propolis.platform.errors import AppError, both
from propolis.platform.org.imports import Importer
from propolis.platform.org.services import OrgService
from propolis.platform.storage.platform_tables import org_imports
from tests.common.org import ADMIN_PHONE, OrgTenant, filled_template, twenty_rows


@pytest.fixture
def depts(org: OrgService, tenant: OrgTenant) -> dict[str, str]:
    sales = org.create_department({"name": "销售部", "parent": tenant.head_office})
    rnd = org.create_department({"name": "研发部", "parent": tenant.head_office})
    east = org.create_department({"name": "华东", "parent": sales["id"]})
    org.create_department({"name": "华东", "parent": rnd["id"]})  # same name
    old = org.create_department({"name": "旧部门", "parent": tenant.head_office})
    org.disable_department(old["id"])
    return {"sales": sales["id"], "rnd": rnd["id"], "east": east["id"]}


def user_count(org: OrgService) -> int:
    return org.conn.execute(select(func.count()).select_from(org.users)).scalar_one()


def by_phone(org: OrgService, phone: str) -> dict[str, Any]:
    u = org.users
    user_id = org.conn.execute(select(u.c.id).where(u.c.phone == phone)).scalar_one()
    return org.records.get("user", user_id)


def test_import_of_twenty_rows_with_superiors_further_down(
        org: OrgService, tenant: OrgTenant, depts: dict[str, str]) -> None:
    result = Importer(org).run(filled_template(twenty_rows()), "员工.xlsx")
    assert result["errors"] == []
    assert (result["status"], result["total"], result["imported"]) == \
        ("imported", 20, 20)
    assert len(result["users"]) == 20
    ids = {by_phone(org, f"1390000{i:04d}")["id"]: i for i in range(20)}
    for i in range(20):
        user = by_phone(org, f"1390000{i:04d}")
        assert user["name"] == f"员工{i:02d}"
        superior = user["superior"]
        if i < 19:
            assert ids[superior] == i + 1
        else:
            assert superior == tenant.admin_id
        expected = [depts["sales"]] if i % 2 else [depts["rnd"], depts["sales"]]
        assert [r["department"] for r in user["departments"]] == expected
        assert user["main_department"] == expected[0]
        assert user["roles"] == (["employee"] if i % 3 else ["employee", "crm_admin"])
        assert user["status"] == ("pending" if i == 7 else "active")
        assert user["position"] == ("工程师" if i % 2 == 0 else "销售")
        # the superior was set through the record service: it is in the history
        assert [h["action"] for h in org.records.history("user", user["id"])] == \
            ["create", "update"]
    u = org.users
    stored = org.conn.execute(select(u.c.password).where(
        u.c.phone == "13900000000")).scalar_one()
    assert verify_password(stored, "passw0rd-ok")
    event = entries(org.conn, limit=1)[0]
    assert (event["action"], event["target"]) == ("user.import", result["id"])
    assert event["details"]["count"] == 20


def test_example_row_and_header_rows_are_skipped(org: OrgService,
                                                 depts: dict[str, str]) -> None:
    data = filled_template([{"name": "新人", "phone": "13900001111",
                             "departments": "销售部/华东", "status": "disabled"}],
                           keep_example=True)
    result = Importer(org).run(data, None)
    assert result["status"] == "imported" and result["total"] == 1
    user = by_phone(org, "13900001111")
    # the end of a path is enough when it is unambiguous
    assert user["main_department"] == depts["east"]
    assert user["status"] == "disabled"  # created, then disabled


def test_bad_file_reports_every_row_and_imports_nothing(
        org: OrgService, depts: dict[str, str]) -> None:
    before = user_count(org)
    rows = [
        {"name": "好人", "phone": "13900000001", "superior": "13900000002"},
        {"name": None, "phone": "13900000002"},  # 4: no name
        {"name": "重复", "phone": "13900000001"},  # 5: phone repeats row 3
        {"name": "老板", "phone": ADMIN_PHONE},  # 6: an employee's phone
        {"name": "迷路", "phone": "13900000006", "departments": "总部/不存在"},  # 7
        {"name": "歧义", "phone": "13900000007", "departments": "华东"},  # 8
        {"name": "停用", "phone": "13900000008", "departments": "旧部门"},  # 9
        {"name": "状态", "phone": "13900000009", "status": "休假"},  # 10
        {"name": "角色", "phone": "13900000010", "roles": "员工,老板"},  # 11
        {"name": "孤儿", "phone": "13900000011", "superior": "13999999999"},  # 12
        {"name": "自己", "phone": "13900000012", "superior": "13900000012"},  # 13
        {"name": "甲", "phone": "13900000013", "superior": "13900000014"},  # 14
        {"name": "乙", "phone": "13900000014", "superior": "13900000013"},  # 15
        {"name": "短", "phone": "13900000015", "password": "short"},  # 16
        {"name": "邮箱", "phone": "13900000016", "email": "not-an-email"},  # 17
        {"name": "电话", "phone": "abc"},  # 18
    ]
    result = Importer(org).run(filled_template(rows), "bad.xlsx")
    assert (result["status"], result["total"], result["imported"]) == \
        ("rejected", 16, 0)
    assert "users" not in result
    found = {(e["row"], e["column"]) for e in result["errors"]}
    assert found == {
        (4, "name"), (5, "phone"), (6, "phone"), (7, "departments"),
        (8, "departments"), (9, "departments"), (10, "status"), (11, "roles"),
        (12, "superior"), (13, "superior"), (14, "superior"), (15, "superior"),
        (16, "password"), (17, "email"), (18, "phone")}
    messages = {(e["row"], e["column"]): e["message"] for e in result["errors"]}
    assert messages[(5, "phone")] == {"zh": "与第 3 行重复", "en": "repeats row 3"}
    assert "完整路径" in messages[(8, "departments")]["zh"]
    assert "13999999999" in messages[(12, "superior")]["en"]
    assert all(set(e["message"]) == {"zh", "en"} for e in result["errors"])
    assert result["errors"][0]["label"] == {"zh": "姓名", "en": "Name"}
    assert [e["row"] for e in result["errors"]] == \
        sorted(e["row"] for e in result["errors"])
    # nothing was imported, not even the good row
    assert user_count(org) == before
    assert org.conn.execute(select(func.count()).select_from(org.users).where(
        org.users.c.phone == "13900000001")).scalar_one() == 0
    run = org.conn.execute(select(org_imports).where(
        org_imports.c.id == result["id"])).one()
    assert (run.status, run.total, run.imported) == ("rejected", 16, 0)
    # the report as a workbook: every row, an error column, bad cells marked
    sheet = load_workbook(io.BytesIO(Importer(org).report(result["id"]))).worksheets[0]
    assert sheet.cell(row=1, column=sheet.max_column).value == "错误"
    by_row = {sheet.cell(row=r, column=1).value: r for r in range(3, sheet.max_row + 1)}
    assert sorted(by_row) == list(range(3, 19))
    assert sheet.cell(row=by_row[3], column=sheet.max_column).value is None
    assert "与第 3 行重复" in sheet.cell(row=by_row[5], column=sheet.max_column).value
    assert sheet.cell(row=by_row[5], column=3).fill.start_color.rgb == "FFFFC7CE"


def test_a_file_without_the_required_columns_is_refused(org: OrgService) -> None:
    from openpyxl import Workbook

    book = Workbook()
    book.active.append(["名字", "电话"])
    book.active.append(["张三", "13900000001"])
    out = io.BytesIO()
    book.save(out)
    with pytest.raises(AppError) as info:
        Importer(org).run(out.getvalue(), None)
    assert list(info.value.fields) == ["file"]
    assert "姓名" in both(info.value.message)["zh"]
    with pytest.raises(AppError):
        Importer(org).run(filled_template([]), None)  # no data rows
