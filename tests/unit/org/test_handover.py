from typing import Any

import pytest
from sqlalchemy import func, select

from propolis.platform.audit import entries
from propolis.platform.errors import AppError, both
from propolis.platform.org.services import OrgService
from propolis.platform.permissions.actor import Actor
from propolis.platform.records.services import RecordService
from propolis.platform.storage.platform_tables import record_history
from propolis.platform.storage.system import AccessToken
from tests.common.accounts import issue_token
from tests.common.org import OrgTenant


def refused(fn: Any, *args: Any) -> AppError:
    with pytest.raises(AppError) as info:
        fn(*args)
    return info.value


def as_user(org: OrgService, user_id: str, department: str | None) -> RecordService:
    """Saves as ``user_id`` (owning what it creates), with every right so that the
    test may also delete and make departments."""
    return RecordService(org.records.session, org.effective,
                         Actor(user_id, department, frozenset({"admin", "employee"})))


def row(org: OrgService, obj: str, id: str) -> Any:
    table = org.effective.tables.main[obj]
    return org.conn.execute(select(table).where(table.c.id == id)).one()


def tokens_of(org: OrgService, user_id: str) -> int:
    assert org.sysdb is not None
    return org.sysdb.execute(select(func.count()).select_from(AccessToken).where(
        AccessToken.user_id == user_id)).scalar_one()


@pytest.fixture
def people(org: OrgService, tenant: OrgTenant) -> dict[str, Any]:
    sales = org.create_department({"name": "销售部", "parent": tenant.head_office})
    rnd = org.create_department({"name": "研发部", "parent": tenant.head_office})
    leaver = org.create_user({"name": "离职者", "phone": "13700000001",
                              "departments": [rnd["id"]]})
    heir = org.create_user({"name": "接手人", "phone": "13700000002",
                            "departments": [sales["id"]]})
    other = org.create_user({"name": "旁人", "phone": "13700000003",
                             "departments": [rnd["id"]]})
    return {"sales": sales["id"], "rnd": rnd["id"], "leaver": leaver["id"],
            "heir": heir["id"], "other": other["id"]}


def test_handover_moves_every_owned_record_with_history(
        org: OrgService, people: dict[str, Any], tenant: OrgTenant) -> None:
    leaver = as_user(org, people["leaver"], people["rnd"])
    mine = {
        "project": [leaver.create("project", {"title": f"p{i}", "tasks": [
            {"what": "a"}, {"what": "b"}]})["id"] for i in range(3)],
        "lead": [leaver.create("lead", {"company": f"c{i}"})["id"] for i in range(2)],
    }
    # one already filed under the heir's department: only its owner changes
    same_dept = as_user(org, people["leaver"], people["sales"]).create(
        "lead", {"company": "same"})["id"]
    mine["lead"].append(same_dept)
    leaver.update("project", mine["project"][0], {"title": "p0 v2"})
    leaver.delete("project", mine["project"][2])  # in the recycle bin
    mine["department"] = [leaver.create("department", {
        "name": "兴趣小组", "parent": tenant.head_office})["id"]]
    others = [as_user(org, people["other"], people["rnd"]).create(
        "project", {"title": "not mine"})["id"],
        org.records.create("lead", {"company": "admin's"})["id"]]
    before = {(o, i): row(org, o, i).version for o, ids in mine.items() for i in ids}
    other_versions = [row(org, "project", others[0]).version,
                      row(org, "lead", others[1]).version]
    assert org.sysdb is not None
    for _ in range(2):
        issue_token(org.sysdb, tenant.enterprise_id, people["leaver"])
    issue_token(org.sysdb, tenant.enterprise_id, people["heir"])

    done = org.disable_user(people["leaver"], people["heir"])

    assert done["transferred"] == {"department": 1, "lead": 3, "project": 3}
    assert done["tokens_revoked"] == 2
    assert done["user"]["status"] == "disabled"
    assert org.records.get("user", people["leaver"])["status"] == "disabled"
    assert tokens_of(org, people["leaver"]) == 0
    assert tokens_of(org, people["heir"]) == 1
    for (obj, record_id), version in before.items():
        moved = row(org, obj, record_id)
        assert moved.owner == people["heir"], (obj, record_id)
        assert moved.owner_department == people["sales"]
        assert moved.version == version + 1
        assert moved.updated_by == tenant.admin_id
        last = org.records.history(obj, record_id)[-1]
        assert last["action"] == "transfer"
        assert last["version"] == version + 1
        assert last["changed_by"] == tenant.admin_id
        expected = {"owner": [people["leaver"], people["heir"]]}
        if record_id != same_dept:
            expected["owner_department"] = [people["rnd"], people["sales"]]
        assert last["changes"] == expected, (obj, record_id)
    assert row(org, "project", mine["project"][2]).deleted_at is not None
    # child rows go with their record, untouched
    assert len(org.records.get("project", mine["project"][0])["tasks"]) == 2
    assert [row(org, "project", others[0]).version,
            row(org, "lead", others[1]).version] == other_versions
    assert row(org, "project", others[0]).owner == people["other"]
    transfers = org.conn.execute(select(func.count()).select_from(record_history)
                                 .where(record_history.c.action == "transfer")
                                 ).scalar_one()
    assert transfers == 7
    event = entries(org.conn, limit=1)[0]
    assert (event["action"], event["target"]) == ("user.disable", people["leaver"])
    assert event["details"]["transferred"] == done["transferred"]
    assert org.owned_counts(people["leaver"]) == {}


def test_handover_refusals(org: OrgService, people: dict[str, Any]) -> None:
    as_user(org, people["leaver"], people["rnd"]).create("lead", {"company": "x"})
    pending = org.create_user({"name": "待激活", "phone": "13700000009",
                               "status": "pending"})["id"]
    gone = org.create_user({"name": "已走", "phone": "13700000008"})["id"]
    org.disable_user(gone, None)  # owns nothing: no handover needed
    for target in (None, people["leaver"], pending, gone, "nobody", 42):
        error = refused(org.disable_user, people["leaver"], target)
        assert list(error.fields) == ["handover_to"], target
    error = refused(org.disable_user, people["leaver"], None)
    assert "1 条数据" in both(error.message)["zh"] or "1 条数据" in \
        both(error.fields["handover_to"][0])["zh"]
    assert org.records.get("user", people["leaver"])["status"] == "active"
    assert list(refused(org.disable_user, gone, people["heir"]).fields) == ["status"]
    assert list(refused(org.disable_user, org.actor_id, people["heir"]).fields) == \
        ["id"]


def test_enable_again(org: OrgService, people: dict[str, Any]) -> None:
    org.disable_user(people["other"], None)
    assert org.enable_user(people["other"])["status"] == "active"
    assert entries(org.conn, limit=1)[0]["action"] == "user.enable"
