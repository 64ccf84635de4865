"""Roles, joint followers, handing records over, the explain route, and changes of
the organisation taking effect on the very next request (CONTRACT §5)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from webtest import TestApp

from propolis.platform.db import Database
from propolis.platform.ids import new_id
from propolis.platform.storage.platform_tables import audit_log
from tests.common.api import ApiClient, Tenant, error, login, login_admin

PASSWORD = "people-pass-1"
DEAL = {"kind": "object", "api_name": "deal", "sharing": "hierarchy",
        "fields": [{"api_name": "name", "type": "text", "searchable": True},
                   {"api_name": "amount", "type": "number"}]}


class People:
    """An enterprise's admin and the users made for a test, by key."""

    def __init__(self, app: TestApp, tenant: Tenant) -> None:
        self.app = app
        self.tenant = tenant
        self.admin = login_admin(app, tenant)
        self.ids: dict[str, str] = {}
        self.clients: dict[str, ApiClient] = {}

    def add(self, key: str, superior: str | None = None,
            roles: tuple[str, ...] = ("employee",), department: str | None = None
            ) -> ApiClient:
        phone = f"1391234{len(self.ids):04d}"
        self.ids[key] = self.admin.create("user", {
            "name": key, "phone": phone, "password": PASSWORD,
            "main_department": department or self.tenant.department_id,
            "superior": self.ids[superior] if superior else None,
            "roles": list(roles)})["id"]
        self.clients[key] = login(self.app, self.tenant.account, phone, PASSWORD)
        return self.clients[key]


def seen(client: ApiClient, obj: str = "deal") -> set[str]:
    return {r["name"] for r in client.query(obj, limit=200)["records"]}


def audit_actions(database: Database, tenant: Tenant) -> list[tuple[str, str]]:
    with database.tenant_engine(tenant.account).connect() as conn:
        return [(r.action, r.target) for r in conn.execute(
            select(audit_log.c.action, audit_log.c.target).order_by(audit_log.c.id))]


def test_a_new_superior_counts_on_the_next_request(
        app: TestApp, enterprise: Callable[..., Tenant]) -> None:
    people = People(app, enterprise())
    people.admin.define("deal", DEAL)
    boss, other = people.add("boss"), people.add("other")
    rep = people.add("rep", superior="boss")
    rep.create("deal", {"name": "rep's"})
    assert seen(boss) == {"rep's"} and seen(other) == set()
    people.admin.patch(f"/objects/user/records/{people.ids['rep']}",
                       {"superior": people.ids["other"]}, status=200)
    assert seen(boss) == set() and seen(other) == {"rep's"}
    # and back up a level: other's new superior sees rep's too, at depth 2
    people.admin.patch(f"/objects/user/records/{people.ids['other']}",
                       {"superior": people.ids["boss"]}, status=200)
    assert seen(boss) == {"rep's"}


def test_a_loop_of_superiors_is_refused_naming_the_field(
        app: TestApp, enterprise: Callable[..., Tenant]) -> None:
    people = People(app, enterprise())
    people.add("a")
    people.add("b", superior="a")
    people.add("c", superior="b")
    for whom in ("a", "c"):
        response = people.admin.patch(f"/objects/user/records/{people.ids['a']}",
                                      {"superior": people.ids[whom]}, status=400)
        assert list(error(response)["fields"]) == ["superior"]
    assert people.admin.read("user", people.ids["a"])["superior"] is None


def test_a_department_move_changes_department_scope_at_once(
        app: TestApp, enterprise: Callable[..., Tenant]) -> None:
    tenant = enterprise()
    people = People(app, tenant)
    admin = people.admin
    admin.define("deal", {**DEAL, "sharing": "private", "permissions": {
        "employee": {"verbs": ["create", "read", "edit"], "scope": "department"}}})
    north = admin.create("department", {"name": "north",
                                        "parent": tenant.department_id})["id"]
    city = admin.create("department", {"name": "city", "parent": north})["id"]
    south = admin.create("department", {"name": "south",
                                         "parent": tenant.department_id})["id"]
    lead = people.add("lead", department=north)
    clerk = people.add("clerk", department=city)
    clerk.create("deal", {"name": "city deal"})
    assert seen(lead) == {"city deal"}
    admin.patch(f"/objects/department/records/{city}", {"parent": south}, status=200)
    assert seen(lead) == set()
    response = admin.patch(f"/objects/department/records/{north}",
                           {"parent": north}, status=400)
    assert list(error(response)["fields"]) == ["parent"]


def test_joint_followers(app: TestApp, enterprise: Callable[..., Tenant]) -> None:
    people = People(app, enterprise())
    people.admin.define("deal", DEAL)
    owner, friend, stranger = people.add("owner"), people.add("friend"), \
        people.add("stranger")
    deal = owner.create("deal", {"name": "shared"})
    team = f"/objects/deal/records/{deal['id']}/team"
    # a stranger can neither see the team nor join anyone to it
    hidden = stranger.get(f"/objects/deal/records/{new_id()}/team", status=404).json
    assert stranger.get(team, status=404).json == hidden
    stranger.post(team, {"user": people.ids["stranger"]}, status=404)
    response = owner.post(team, {"user": new_id()}, status=400)
    assert list(error(response)["fields"]) == ["user"]
    response = owner.post(team, {"user": people.ids["friend"], "access": "all"},
                          status=400)
    assert list(error(response)["fields"]) == ["access"]
    listed = owner.post(team, {"user": people.ids["friend"]}, status=201).json
    assert [(m["user"], m["name"], m["access"]) for m in listed["team"]] == [
        (people.ids["friend"], "friend", "read")]
    assert seen(friend) == {"shared"}
    friend.patch(f"/objects/deal/records/{deal['id']}", {"name": "x"}, status=403)
    friend.post(team, {"user": people.ids["stranger"]}, status=403)
    owner.post(team, {"user": people.ids["friend"], "access": "edit"}, status=201)
    friend.patch(f"/objects/deal/records/{deal['id']}", {"amount": 5}, status=200)
    assert friend.get(team, status=200).json["team"][0]["access"] == "edit"
    owner.delete(f"{team}/{people.ids['friend']}", status=204)
    owner.delete(f"{team}/{people.ids['friend']}", status=404)
    assert seen(friend) == set()
    friend.get(f"/objects/deal/records/{deal['id']}", status=404)


def test_handing_a_record_over_needs_the_transfer_verb(
        app: TestApp, enterprise: Callable[..., Tenant]) -> None:
    tenant = enterprise()
    people = People(app, tenant)
    admin = people.admin
    admin.define("deal", DEAL)
    admin.put("/roles/mover", {"label": "mover", "grants": {"deal": {
        "verbs": ["create", "read", "edit", "transfer"], "scope": "own"}}},
        status=200)
    rep = people.add("rep")
    mover = people.add("mover", roles=("employee", "mover"))
    deal = rep.create("deal", {"name": "mine"})
    path = f"/objects/deal/records/{deal['id']}/transfer"
    assert error(rep.post(path, {"owner": people.ids["mover"]}, status=403)) == {
        "code": "forbidden", "message": "没有权限", "fields": {}}
    response = admin.post(path, {"owner": new_id()}, status=400)
    assert list(error(response)["fields"]) == ["owner"]
    moved = admin.post(path, {"owner": people.ids["mover"]}, status=200).json
    assert moved["owner"] == people.ids["mover"] and moved["version"] == 2
    assert seen(rep) == set() and seen(mover) == {"mine"}
    back = mover.post(path, {"owner": people.ids["rep"]}, status=200).json
    assert back["owner"] == people.ids["rep"]
    history = admin.get(f"/objects/deal/records/{deal['id']}/history").json
    assert [e["changes"].get("owner") for e in history["history"][1:]] == [
        [people.ids["rep"], people.ids["mover"]],
        [people.ids["mover"], people.ids["rep"]]]


def test_custom_roles(app: TestApp, enterprise: Callable[..., Tenant],
                      database: Database) -> None:
    tenant = enterprise()
    people = People(app, tenant)
    admin = people.admin
    admin.define("deal", DEAL)
    admin.create("deal", {"name": "admin's", "amount": 7})
    clerk = people.add("clerk")
    assert error(clerk.get("/roles", status=403))["code"] == "admin_only"
    clerk.put("/roles/auditor", {"label": "x"}, status=403)

    body: dict[str, Any] = {"label": {"zh": "审计", "en": "Auditor"}, "grants": {
        "deal": {"verbs": ["read", "export"], "scope": "all",
                 "fields": {"amount": "hidden"}}}}
    made = admin.put("/roles/auditor", body, status=200).json
    assert made["api_name"] == "auditor" and not made["builtin"]
    assert made["grants"]["deal"] == {"verbs": ["read", "export"], "scope": "all",
                                      "fields": {"amount": "hidden"},
                                      "default": False}
    listed = {r["api_name"]: r for r in admin.get("/roles").json["roles"]}
    assert set(listed) == {"admin", "crm_admin", "approval_admin",
                           "announcement_admin", "log_admin", "employee", "auditor"}
    assert listed["admin"]["everything"] and listed["admin"]["users"] == 1
    assert listed["employee"]["grants"]["deal"]["default"]
    # the role is a user option now: assigning it grants what it says
    admin.patch(f"/objects/user/records/{people.ids['clerk']}",
                {"roles": ["employee", "auditor"]}, status=200)
    records = clerk.query("deal")["records"]
    assert [r["name"] for r in records] == ["admin's"]
    # employee's default grant leaves amount open: the most open access wins
    assert records[0]["amount"] == 7

    for wrong, field in (
            ({"grants": {"deal": {"verbs": ["fly"]}}}, "grants.deal.verbs"),
            ({"grants": {"deal": {"verbs": [], "scope": "galaxy"}}},
             "grants.deal.scope"),
            ({"grants": {"deal": {"verbs": [], "fields": {"nope": "read"}}}},
             "grants.deal.fields.nope"),
            ({"grants": {"nothing": {"verbs": []}}}, "grants.nothing"),
            ({"label": 5}, "label")):
        response = admin.put("/roles/auditor", wrong, status=400)
        assert field in error(response)["fields"], (wrong, error(response))
    response = admin.put("/roles/Bad-Name", {"label": "x"}, status=400)
    assert list(error(response)["fields"]) == ["api_name"]
    response = admin.put("/roles/newbie", {"grants": {}}, status=400)
    assert list(error(response)["fields"]) == ["label"]
    assert error(admin.put("/roles/admin", {"grants": {}}, status=400))["code"] \
        == "admin_role"

    assert error(admin.delete("/roles/employee", status=400))["code"] == \
        "builtin_role"
    assert error(admin.delete("/roles/auditor", status=409))["code"] == "role_in_use"
    admin.delete("/roles/nobody", status=404)
    admin.patch(f"/objects/user/records/{people.ids['clerk']}",
                {"roles": ["employee"]}, status=200)
    admin.delete("/roles/auditor", status=204)
    assert "auditor" not in {r["api_name"] for r in admin.get("/roles").json["roles"]}
    assert "auditor" not in admin.get("/objects/deal").json["permissions"]
    response = admin.patch(f"/objects/user/records/{people.ids['clerk']}",
                           {"roles": ["auditor"]}, status=400)
    assert list(error(response)["fields"]) == ["roles"]
    assert [a for a in audit_actions(database, tenant) if a[0].startswith("role.")] \
        == [("role.update", "auditor"), ("role.delete", "auditor")]


def test_built_in_roles_take_grants_too(app: TestApp,
                                       enterprise: Callable[..., Tenant]) -> None:
    people = People(app, enterprise())
    admin = people.admin
    admin.define("deal", DEAL)
    admin.create("deal", {"name": "admin's"})
    crm = people.add("crm", roles=("employee", "crm_admin"))
    assert seen(crm) == set()
    admin.put("/roles/crm_admin", {"grants": {"deal": {
        "verbs": ["create", "read", "edit", "delete", "transfer"], "scope": "all"}}},
        status=200)
    assert seen(crm) == {"admin's"}
    listed = {r["api_name"]: r for r in admin.get("/roles").json["roles"]}
    assert listed["crm_admin"]["label"] == {"zh": "CRM 管理员",
                                            "en": "CRM administrator"}


def test_explain(app: TestApp, enterprise: Callable[..., Tenant]) -> None:
    people = People(app, enterprise())
    admin = people.admin
    admin.define("deal", DEAL)
    people.add("ceo")
    people.add("vp", superior="ceo")
    rep = people.add("rep", superior="vp")
    people.add("friend")
    stranger = people.add("stranger")
    deal = rep.create("deal", {"name": "explained"})
    access = f"/objects/deal/records/{deal['id']}/access"

    ceo = admin.get(f"{access}?user={people.ids['ceo']}").json
    assert ceo["user"] == {"id": people.ids["ceo"], "name": "ceo"}
    assert ceo["record"]["owner"] == people.ids["rep"]
    assert (ceo["read"], ceo["edit"], ceo["delete"]) == (True, True, False)
    chain = next(r for r in ceo["reasons"] if r["kind"] == "sharing")
    assert chain["sharing"] == "hierarchy"
    assert [p["name"] for p in chain["chain"]] == ["ceo", "vp", "rep"]
    denied = next(r for r in ceo["reasons"] if r.get("verb") == "delete")
    assert denied["kind"] == "verb_not_granted"

    owner = admin.get(f"{access}?user={people.ids['rep']}").json
    assert {r["kind"] for r in owner["reasons"]} >= {"scope"}
    assert next(r for r in owner["reasons"] if r["kind"] == "scope")["roles"] == [
        "employee"]

    nobody = admin.get(f"{access}?user={people.ids['stranger']}").json
    assert (nobody["read"], nobody["edit"]) == (False, False)
    assert {r["kind"] for r in nobody["reasons"]} == {"no_rule", "verb_not_granted"}

    rep.post(f"/objects/deal/records/{deal['id']}/team",
             {"user": people.ids["friend"], "access": "edit"}, status=201)
    friend = admin.in_language("en").get(f"{access}?user={people.ids['friend']}").json
    assert (friend["read"], friend["edit"]) == (True, True)
    team = next(r for r in friend["reasons"] if r["kind"] == "team")
    assert team["access"] == "edit" and "joint follower" in team["message"]

    assert error(stranger.get(f"{access}?user={people.ids['rep']}",
                              status=403))["code"] == "admin_only"
    assert list(error(admin.get(access, status=400))["fields"]) == ["user"]
    assert list(error(admin.get(f"{access}?user={new_id()}", status=400))[
        "fields"]) == ["user"]
    admin.get(f"/objects/deal/records/{new_id()}/access?user={people.ids['rep']}",
              status=404)


def test_objects_and_descriptions_follow_the_read_verb(
        app: TestApp, enterprise: Callable[..., Tenant]) -> None:
    people = People(app, enterprise())
    admin = people.admin
    admin.define("deal", DEAL)
    admin.define("secret_plan", {**DEAL, "api_name": "secret_plan", "permissions": {
        "employee": {"verbs": []}}})
    clerk = people.add("clerk")
    names = {o["api_name"] for o in clerk.get("/objects").json["objects"]}
    assert "deal" in names and "secret_plan" not in names
    assert error(clerk.get("/objects/secret_plan", status=403))["code"] == "forbidden"
    clerk.post("/objects/secret_plan/query", {}, status=403)
    clerk.post("/objects/secret_plan/records", {"name": "x"}, status=403)
    assert "secret_plan" in {o["api_name"]
                             for o in admin.get("/objects").json["objects"]}
    document = clerk.get("/openapi.json").json
    assert "secret_plan" not in document["components"]["schemas"]
    assert not [p for p in document["paths"] if p.startswith("/objects/secret_plan")]
    assert "secret_plan" in admin.get("/openapi.json").json["components"]["schemas"]
