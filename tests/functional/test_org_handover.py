"""Disabling an employee hands everything they own to a colleague; the admin
console's numbers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from webtest import TestApp

from tests.common.api import ApiClient, Tenant, error, login_admin
from tests.common.org import LEAD, PROJECT, add_user, login_as


def define(admin: ApiClient, doc: dict[str, Any]) -> None:
    admin.define(doc["api_name"], {k: v for k, v in doc.items()
                                   if k not in ("kind", "api_name")})


def test_disable_with_handover(app: TestApp,
                               enterprise: Callable[..., Tenant]) -> None:
    tenant = enterprise()
    admin = login_admin(app, tenant)
    define(admin, PROJECT)
    define(admin, LEAD)
    leaver = add_user(admin, "离职者", "13900000001",
                      departments=[tenant.department_id])
    heir = add_user(admin, "接手人", "13900000002",
                    departments=[tenant.department_id])
    waiting = add_user(admin, "待激活", "13900000003", status="pending")
    client = login_as(app, tenant.account, "13900000001")
    projects = [client.create("project", {"title": f"项目{i}", "tasks": [
        {"what": "设计"}]}) for i in range(3)]
    leads = [client.create("lead", {"company": f"公司{i}"}) for i in range(2)]
    admin.delete(f"/objects/project/records/{projects[2]['id']}", status=204)
    mine = admin.create("lead", {"company": "管理员的"})
    assert admin.get(f"/org/users/{leaver['id']}/owned").json == {
        "owned": {"lead": 2, "project": 3}}

    path = f"/org/users/{leaver['id']}/disable"
    for target in (waiting["id"], leaver["id"], tenant.admin_id + "x"):
        response = admin.post(path, {"handover_to": target}, status=400)
        assert list(error(response)["fields"]) == ["handover_to"]
    response = admin.in_language("en").post(path, {}, status=400)
    assert error(response)["fields"]["handover_to"] == [
        "the user owns 5 records: choose who takes them over"]
    client.get("/objects", status=200)  # nothing happened yet

    done = admin.post(path, {"handover_to": heir["id"]}, status=200).json
    assert done["transferred"] == {"lead": 2, "project": 3}
    assert done["tokens_revoked"] == 1
    assert done["user"]["status"] == "disabled"
    # the leaver is out at once: the token is gone, and so is the login
    assert error(client.get("/objects", status=401))["code"] == "unauthenticated"
    app.post_json("/api/v1/session", {"account": tenant.account,
                                      "login": "13900000001",
                                      "password": "correct-horse-9"}, status=401)
    # the heir owns and sees it all, each record with a history entry
    successor = login_as(app, tenant.account, "13900000002")
    seen = successor.query("project")["records"]
    assert sorted(r["id"] for r in seen) == sorted(p["id"] for p in projects[:2])
    assert {r["owner"] for r in seen} == {heir["id"]}
    assert sorted(r["id"] for r in successor.query("lead")["records"]) == \
        sorted(r["id"] for r in leads)
    binned = admin.get("/objects/project/deleted").json["records"]
    assert [(r["id"], r["owner"]) for r in binned] == [(projects[2]["id"], heir["id"])]
    moved = [("project", p) for p in projects] + [("lead", r) for r in leads]
    for obj, record in moved:
        entries = admin.get(f"/objects/{obj}/records/{record['id']}/history"
                            ).json["history"]
        assert entries[-1]["action"] == "transfer"
        assert entries[-1]["changes"]["owner"] == [leaver["id"], heir["id"]]
        assert entries[-1]["changed_by"] == tenant.admin_id
    assert admin.read("lead", mine["id"])["owner"] == tenant.admin_id
    assert admin.read("project", projects[0]["id"])["tasks"][0]["what"] == "设计"
    # once is enough
    response = admin.post(path, {"handover_to": heir["id"]}, status=400)
    assert error(response)["code"] == "already_disabled"
    enabled = admin.post(f"/org/users/{leaver['id']}/enable", {}, status=200).json
    assert enabled["status"] == "active"


def test_console_summary(app: TestApp, enterprise: Callable[..., Tenant]) -> None:
    tenant = enterprise()
    admin = login_admin(app, tenant)
    assert admin.get("/org/summary").json == {
        "employees": 1, "pending_join_requests": 0, "without_department": 0,
        "never_activated": 0, "logged_in_today": 1}
    add_user(admin, "无部门", "13900000001")
    add_user(admin, "有部门", "13900000002", departments=[tenant.department_id])
    add_user(admin, "待激活", "13900000003", status="pending")
    login_as(app, tenant.account, "13900000002")
    token = admin.post("/org/invitations", {}, status=201).json["token"]
    app.post_json("/api/v1/org/join", {"token": token, "name": "申请人",
                                       "phone": "13900000004",
                                       "password": "applicant-1"}, status=201)
    assert admin.get("/org/summary").json == {
        "employees": 3, "pending_join_requests": 1, "without_department": 1,
        "never_activated": 2, "logged_in_today": 2}
    # another enterprise counts only its own
    other = login_admin(app, enterprise())
    assert other.get("/org/summary").json["employees"] == 1
