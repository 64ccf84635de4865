"""The department tree and employees through /api/v1/org (admin only, except
reading the tree)."""

from __future__ import annotations

from collections.abc import Callable

from webtest import TestApp

from tests.common.api import Tenant, error, login_admin
from tests.common.org import add_user, login_as


def test_tree_moves_and_cycle_refusal(app: TestApp,
                                      enterprise: Callable[..., Tenant]) -> None:
    tenant = enterprise()
    admin = login_admin(app, tenant)
    sales = admin.post("/org/departments", {"name": "销售部",
                                            "parent": tenant.department_id},
                       status=201).json
    east = admin.post("/org/departments", {"name": "华东", "parent": sales["id"]},
                      status=201).json
    # an employee reads the tree, but changes nothing
    add_user(admin, "小王", "13900000001", departments=[east["id"]])
    clerk = login_as(app, tenant.account, "13900000001")
    tree = clerk.get("/org/departments/tree", status=200).json["departments"]
    assert [(n["name"], n["employees"]) for n in tree] == [("总部", 1)]
    assert tree[0]["children"][0]["children"][0] | {"children": []} == {
        "id": east["id"], "name": "华东", "parent": sales["id"], "head": None,
        "disabled": False, "sort_order": 0, "employees": 1, "children": []}
    for method, path in (("post", "/org/departments"),
                         ("post", f"/org/departments/{east['id']}/move"),
                         ("post", f"/org/departments/{east['id']}/disable"),
                         ("patch", f"/org/departments/{east['id']}")):
        response = getattr(clerk, method)(path, {"name": "x", "parent": None},
                                          status=403)
        assert error(response)["code"] == "admin_only"
    # a cycle is a 400 naming parent, in the caller's language
    response = admin.in_language("en").post(
        f"/org/departments/{tenant.department_id}/move", {"parent": east["id"]},
        status=400)
    body = error(response)
    assert body["code"] == "department_cycle"
    assert body["fields"] == {"parent": [
        "cannot be the department itself or one of its sub-departments"]}
    response = admin.post(f"/org/departments/{sales['id']}/move",
                          {"parent": sales["id"]}, status=400)
    assert list(error(response)["fields"]) == ["parent"]
    admin.post(f"/org/departments/{sales['id']}/move", {}, status=400)
    # a move to the top, then back
    moved = admin.post(f"/org/departments/{east['id']}/move", {"parent": None},
                       status=200).json
    assert moved["parent"] is None
    tree = admin.get("/org/departments/tree").json["departments"]
    assert [n["name"] for n in tree] == ["华东", "总部"] or \
        [n["name"] for n in tree] == ["总部", "华东"]
    history = admin.get(f"/objects/department/records/{east['id']}/history").json
    assert history["history"][-1]["changes"] == {"parent": [sales["id"], None]}
    # renaming through the org route
    renamed = admin.patch(f"/org/departments/{east['id']}", {"name": "华东区"},
                          status=200).json
    assert renamed["name"] == "华东区"


def test_disable_rules_say_how_many(app: TestApp,
                                    enterprise: Callable[..., Tenant]) -> None:
    tenant = enterprise()
    admin = login_admin(app, tenant)
    sales = admin.post("/org/departments", {"name": "销售部",
                                            "parent": tenant.department_id},
                       status=201).json
    admin.post("/org/departments", {"name": "华东", "parent": sales["id"]},
               status=201)
    worker = add_user(admin, "小王", "13900000001", departments=[sales["id"]])
    response = admin.post(f"/org/departments/{sales['id']}/disable", {}, status=400)
    body = error(response)
    assert body["code"] == "department_not_empty"
    assert body["message"] == "部门下还有 1 名员工、1 个未停用的下级部门，不能停用"
    assert list(body["fields"]) == ["disabled"]
    response = admin.in_language("en").post(
        f"/org/departments/{sales['id']}/disable", {}, status=400)
    assert error(response)["message"] == (
        "The department still has 1 employee and 1 enabled sub-department; it "
        "cannot be disabled")
    # move the employee out and disable the child: then it may go
    admin.patch(f"/org/users/{worker['id']}",
                {"departments": [tenant.department_id]}, status=200)
    east = admin.get("/org/departments/tree").json["departments"][0]["children"][0][
        "children"][0]
    admin.post(f"/org/departments/{east['id']}/disable", {}, status=200)
    done = admin.post(f"/org/departments/{sales['id']}/disable", {}, status=200).json
    assert done["disabled"] is True
    active = admin.get("/org/departments/tree?include_disabled=false").json
    assert [n["name"] for n in active["departments"][0]["children"]] == []
    # nobody may be put in a disabled department
    response = admin.patch(f"/org/users/{worker['id']}",
                           {"departments": [sales["id"]]}, status=400)
    assert list(error(response)["fields"]) == ["departments"]


def test_employee_placement_and_settings(app: TestApp,
                                         enterprise: Callable[..., Tenant]) -> None:
    tenant = enterprise()
    admin = login_admin(app, tenant)
    sales = admin.post("/org/departments", {"name": "销售部",
                                            "parent": tenant.department_id},
                       status=201).json
    assert admin.get("/org/settings").json == {"default_roles": ["employee"],
                                               "default_department": None}
    admin.put("/org/settings", {"default_roles": ["employee", "crm_admin"],
                                "default_department": sales["id"]}, status=200)
    response = admin.put("/org/settings", {"default_roles": ["admin"]}, status=400)
    assert list(error(response)["fields"]) == ["default_roles"]
    boss = add_user(admin, "老板", "13900000001", position="总经理")
    assert boss["roles"] == ["employee", "crm_admin"]
    assert boss["main_department"] == sales["id"]
    assert "password" not in boss
    mate = add_user(admin, "同事", "13900000002", superior=boss["id"],
                    departments=[tenant.department_id, sales["id"]])
    assert mate["main_department"] == tenant.department_id
    response = admin.patch(f"/org/users/{boss['id']}", {"superior": mate["id"]},
                           status=400)
    assert error(response)["code"] == "superior_cycle"
    response = admin.patch(f"/org/users/{mate['id']}", {
        "main_department": sales["id"], "departments": [tenant.department_id]},
        status=400)
    assert list(error(response)["fields"]) == ["main_department"]
    mate = admin.patch(f"/org/users/{mate['id']}", {"main_department": sales["id"]},
                       status=200).json
    assert mate["main_department"] == sales["id"]
    # the colleague logs in with the password set by the admin, and is no admin
    clerk = login_as(app, tenant.account, "13900000002")
    clerk.get("/org/settings", status=403)
    clerk.get("/org/summary", status=403)
