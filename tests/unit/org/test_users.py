from typing import Any

import pytest

from propolis.platform.audit import entries
from propolis.platform.errors import AppError
from propolis.platform.org.services import OrgService
from tests.common.org import OrgTenant


def refused(fn: Any, *args: Any) -> AppError:
    with pytest.raises(AppError) as info:
        fn(*args)
    return info.value


def depts(user: dict[str, Any]) -> list[str]:
    return [row["department"] for row in user["departments"]]


@pytest.fixture
def two(org: OrgService, tenant: OrgTenant) -> tuple[str, str]:
    sales = org.create_department({"name": "销售部", "parent": tenant.head_office})
    rnd = org.create_department({"name": "研发部", "parent": tenant.head_office})
    return sales["id"], rnd["id"]


def test_several_departments_one_main(org: OrgService, two: tuple[str, str]) -> None:
    sales, rnd = two
    user = org.create_user({"name": "甲", "phone": "13700000001",
                            "departments": [sales, rnd], "position": "销售经理"})
    assert (user["main_department"], depts(user)) == (sales, [sales, rnd])
    assert user["position"] == "销售经理"
    # the main one must be among them when both are given
    error = refused(org.update_user, user["id"], {"main_department": rnd,
                                                  "departments": [sales]})
    assert list(error.fields) == ["main_department"]
    # a new main one alone joins the list
    user = org.update_user(user["id"], {"main_department": rnd})
    assert (user["main_department"], depts(user)) == (rnd, [sales, rnd])
    # dropping the main one from the list makes the first the main one
    user = org.update_user(user["id"], {"departments": [sales]})
    assert (user["main_department"], depts(user)) == (sales, [sales])
    user = org.update_user(user["id"], {"departments": []})
    assert (user["main_department"], depts(user)) == (None, [])
    user = org.update_user(user["id"], {"main_department": rnd})
    assert (user["main_department"], depts(user)) == (rnd, [rnd])


def test_kept_rows_keep_their_ids(org: OrgService, two: tuple[str, str]) -> None:
    sales, rnd = two
    user = org.create_user({"name": "甲", "phone": "13700000001",
                            "departments": [sales]})
    row_id = user["departments"][0]["id"]
    user = org.update_user(user["id"], {"departments": [rnd, sales],
                                        "main_department": sales})
    assert user["departments"][1] == {"id": row_id, "department": sales}


def test_disabled_departments_are_refused(org: OrgService,
                                          two: tuple[str, str]) -> None:
    sales, rnd = two
    org.disable_department(rnd)
    error = refused(org.create_user, {"name": "甲", "phone": "13700000001",
                                      "departments": [sales, rnd]})
    assert list(error.fields) == ["departments"]
    error = refused(org.create_user, {"name": "甲", "phone": "13700000001",
                                      "main_department": rnd})
    assert list(error.fields) == ["main_department"]


def test_defaults_for_new_users(org: OrgService, two: tuple[str, str]) -> None:
    sales, _ = two
    assert org.settings() == {"default_roles": ["employee"],
                              "default_department": None}
    plain = org.create_user({"name": "甲", "phone": "13700000001"})
    assert (plain["roles"], plain["main_department"]) == (["employee"], None)
    saved = org.put_settings({"default_roles": ["employee", "crm_admin"],
                              "default_department": sales})
    assert saved == {"default_roles": ["employee", "crm_admin"],
                     "default_department": sales}
    assert org.settings() == saved
    assert entries(org.conn, limit=1)[0]["action"] == "org.settings"
    user = org.create_user({"name": "乙", "phone": "13700000002"})
    assert user["roles"] == ["employee", "crm_admin"]
    assert (user["main_department"], depts(user)) == (sales, [sales])
    chosen = org.create_user({"name": "丙", "phone": "13700000003", "roles": [],
                              "departments": []})
    assert (chosen["roles"], chosen["main_department"]) == ([], None)


@pytest.mark.parametrize(("body", "field"), [
    ({"default_roles": ["admin"]}, "default_roles"),
    ({"default_roles": ["boss"]}, "default_roles"),
    ({"default_roles": "employee"}, "default_roles"),
    ({"default_department": "nope"}, "default_department"),
    ({"default_department": 3}, "default_department"),
    ({"colour": "red"}, "colour"),
])
def test_settings_refused(org: OrgService, body: dict[str, Any], field: str) -> None:
    assert list(refused(org.put_settings, body).fields) == [field]
    assert org.settings()["default_roles"] == ["employee"]


def test_superior_rules(org: OrgService, tenant: OrgTenant) -> None:
    boss = org.create_user({"name": "老板", "phone": "13700000001"})
    mid = org.create_user({"name": "经理", "phone": "13700000002",
                           "superior": boss["id"]})
    low = org.create_user({"name": "员工", "phone": "13700000003",
                           "superior": mid["id"]})
    for superior in (low["id"], mid["id"]):  # below boss, or boss's direct report
        error = refused(org.update_user, boss["id"], {"superior": superior})
        assert error.code == "superior_cycle" and list(error.fields) == ["superior"]
    assert list(refused(org.update_user, boss["id"],
                        {"superior": boss["id"]}).fields) == ["superior"]
    assert org.update_user(low["id"], {"superior": boss["id"]})["superior"] == \
        boss["id"]
    top = org.create_user({"name": "董事长", "phone": "13700000005"})
    assert org.update_user(boss["id"], {"superior": top["id"]})["superior"] == \
        top["id"]
    error = refused(org.update_user, top["id"], {"superior": low["id"]})
    assert error.code == "superior_cycle"
    pending = org.create_user({"name": "待定", "phone": "13700000004",
                               "status": "pending"})
    assert org.update_user(pending["id"], {"superior": None})["superior"] is None


def test_status_changes_to_or_from_disabled_have_their_own_actions(
        org: OrgService) -> None:
    user = org.create_user({"name": "甲", "phone": "13700000001"})
    assert list(refused(org.update_user, user["id"],
                        {"status": "disabled"}).fields) == ["status"]
    assert list(refused(org.create_user, {"name": "乙", "phone": "13700000002",
                                          "status": "disabled"}).fields) == ["status"]
    assert org.update_user(user["id"], {"status": "pending"})["status"] == "pending"
    assert list(refused(org.update_user, user["id"],
                        {"salary": 1}).fields) == ["salary"]


def test_changes_are_audited(org: OrgService) -> None:
    user = org.create_user({"name": "甲", "phone": "13700000001",
                            "password": "secret-pass"})
    event = entries(org.conn, limit=1)[0]
    assert (event["action"], event["target"]) == ("user.create", user["id"])
    assert event["ip"] == "127.0.0.1"
    org.update_user(user["id"], {"position": "经理", "password": "another-pass"})
    event = entries(org.conn, limit=1)[0]
    assert event["action"] == "user.update"
    assert event["details"] == {"fields": ["position", "password"]}
    assert "another-pass" not in str(event)
