from typing import Any

import pytest
from sqlalchemy import select

from propolis.platform.audit import entries
from propolis.platform.errors import AppError, NotFound, both
from propolis.platform.org.services import OrgService
from tests.common.org import OrgTenant


def refused(fn: Any, *args: Any) -> AppError:
    with pytest.raises(AppError) as info:
        fn(*args)
    return info.value


def names(nodes: list[dict[str, Any]]) -> list[Any]:
    return [(n["name"], names(n["children"])) if n["children"] else n["name"]
            for n in nodes]


def test_tree_nests_and_orders(org: OrgService, tenant: OrgTenant) -> None:
    sales = org.create_department({"name": "销售部", "parent": tenant.head_office,
                                   "sort_order": 2})
    org.create_department({"name": "研发部", "parent": tenant.head_office,
                           "sort_order": 1})
    org.create_department({"name": "华东", "parent": sales["id"]})
    org.create_department({"name": "华北", "parent": sales["id"]})
    assert names(org.department_tree()) == [
        ("总部", ["研发部", ("销售部", ["华东", "华北"])])]
    root = org.department_tree()[0]
    assert root["employees"] == 1  # the admin
    assert root["children"][1]["parent"] == tenant.head_office


def test_move_changes_parent_with_history_and_audit(org: OrgService,
                                                    tenant: OrgTenant) -> None:
    sales = org.create_department({"name": "销售部", "parent": tenant.head_office})
    rnd = org.create_department({"name": "研发部", "parent": tenant.head_office})
    east = org.create_department({"name": "华东", "parent": sales["id"]})
    moved = org.move_department(east["id"], rnd["id"])
    assert moved["parent"] == rnd["id"]
    assert names(org.department_tree()) == [("总部", [("研发部", ["华东"]), "销售部"])]
    changes = org.records.history("department", east["id"])[-1]["changes"]
    assert changes == {"parent": [sales["id"], rnd["id"]]}
    event = entries(org.conn, limit=1)[0]
    assert (event["action"], event["target"]) == ("department.move", east["id"])
    assert event["details"] == {"from": sales["id"], "to": rnd["id"]}
    assert org.move_department(east["id"], None)["parent"] is None


def test_move_under_itself_or_a_descendant_is_a_cycle(org: OrgService,
                                                      tenant: OrgTenant) -> None:
    sales = org.create_department({"name": "销售部", "parent": tenant.head_office})
    east = org.create_department({"name": "华东", "parent": sales["id"]})
    shanghai = org.create_department({"name": "上海", "parent": east["id"]})
    for target in (sales["id"], east["id"], shanghai["id"]):
        error = refused(org.move_department, sales["id"], target)
        assert error.status == 400 and error.code == "department_cycle"
        assert list(error.fields) == ["parent"]
    error = refused(org.move_department, tenant.head_office, shanghai["id"])
    assert list(error.fields) == ["parent"]
    assert org.records.get("department", sales["id"])["parent"] == tenant.head_office
    assert org.records.get("department", tenant.head_office)["parent"] is None


def test_move_refuses_unknown_or_disabled_parent(org: OrgService,
                                                 tenant: OrgTenant) -> None:
    sales = org.create_department({"name": "销售部", "parent": tenant.head_office})
    old = org.create_department({"name": "旧部门", "parent": tenant.head_office})
    org.disable_department(old["id"])
    assert list(refused(org.move_department, sales["id"], old["id"]).fields) == \
        ["parent"]
    assert list(refused(org.move_department, sales["id"], "nope").fields) == ["parent"]
    assert list(refused(org.create_department,
                        {"name": "x", "parent": old["id"]}).fields) == ["parent"]
    with pytest.raises(NotFound):
        org.move_department("missing", None)


def test_disable_refused_while_it_has_employees(org: OrgService,
                                               tenant: OrgTenant) -> None:
    sales = org.create_department({"name": "销售部", "parent": tenant.head_office})
    for i in range(3):
        org.create_user({"name": f"u{i}", "phone": f"1370000000{i}",
                         "departments": [sales["id"]]})
    # also counted: a member through a secondary department, and pending users
    org.create_user({"name": "兼职", "phone": "13700000009", "status": "pending",
                     "departments": [tenant.head_office, sales["id"]]})
    error = refused(org.disable_department, sales["id"])
    assert error.code == "department_not_empty"
    assert list(error.fields) == ["disabled"]
    assert "4 名员工" in both(error.message)["zh"]
    assert "4 employees" in both(error.message)["en"]
    assert org.records.get("department", sales["id"])["disabled"] is False


def test_disable_refused_while_sub_departments_are_enabled(org: OrgService,
                                                           tenant: OrgTenant) -> None:
    sales = org.create_department({"name": "销售部", "parent": tenant.head_office})
    east = org.create_department({"name": "华东", "parent": sales["id"]})
    north = org.create_department({"name": "华北", "parent": sales["id"]})
    error = refused(org.disable_department, sales["id"])
    assert "2 个未停用的下级部门" in both(error.message)["zh"]
    assert "2 enabled sub-departments" in both(error.message)["en"]
    org.disable_department(east["id"])
    error = refused(org.disable_department, sales["id"])
    assert "1 enabled sub-department;" in both(error.message)["en"]
    org.disable_department(north["id"])
    assert org.disable_department(sales["id"])["disabled"] is True
    assert [e["action"] for e in entries(org.conn, limit=3)] == [
        "department.disable"] * 3
    # a disabled parent keeps its children disabled
    error = refused(org.enable_department, east["id"])
    assert list(error.fields) == ["parent"]
    org.enable_department(sales["id"])
    assert org.enable_department(east["id"])["disabled"] is False
    assert names(org.department_tree(include_disabled=False)) == [
        ("总部", [("销售部", ["华东"])])]


def test_rename_and_head(org: OrgService, tenant: OrgTenant) -> None:
    sales = org.create_department({"name": "销售部", "parent": tenant.head_office})
    renamed = org.update_department(sales["id"], {"name": "市场部",
                                                  "head": tenant.admin_id})
    assert (renamed["name"], renamed["head"]) == ("市场部", tenant.admin_id)
    event = entries(org.conn, limit=1)[0]
    assert event["action"] == "department.update"
    assert event["details"]["changes"]["name"] == ["销售部", "市场部"]
    org.update_department(sales["id"], {"name": "销售部"})
    assert entries(org.conn, limit=1)[0]["action"] == "department.rename"
    error = refused(org.update_department, sales["id"], {"parent": None})
    assert list(error.fields) == ["parent"]  # moving has its own rules
    error = refused(org.update_department, sales["id"], {"head": "nobody"})
    assert list(error.fields) == ["head"]
    d = org.departments
    assert org.conn.execute(select(d.c.name).where(d.c.id == sales["id"])
                            ).scalar_one() == "销售部"
