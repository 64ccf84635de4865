"""An organisation built through the API for permission tests, and an independent
model of CONTRACT §5 that says what each user should be able to do.

The model is written from the contract, not from the implementation: the superior
chain and the department tree are walked in Python, roles are unioned per verb,
and the test compares every answer of the API with it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from webtest import TestApp

from tests.common.api import ApiClient, Tenant, login, login_admin

USER_PASSWORD = "matrix-pass-1"
RECORD_VERBS = ("read", "edit", "delete", "transfer")
WRITE_VERBS = frozenset({"edit", "delete", "transfer"})
# The seller role writes; every user also has employee, which only reads.
SELLER_VERBS = frozenset({"create", "read", "edit", "delete", "transfer"})
EMPLOYEE_VERBS = frozenset({"read"})

# key: (name, department key, superior key, writer?)
PEOPLE: dict[str, tuple[str, str, str | None, bool]] = {
    "ceo": ("总裁", "hq", None, True),
    "vp": ("副总裁", "sales", "ceo", False),
    "director": ("销售总监", "sales", "vp", True),
    "manager": ("销售经理", "east", "director", False),
    "rep": ("销售代表甲", "east", "manager", True),
    "peer": ("销售代表乙", "east", "manager", True),
    "follower": ("跟进人", "other", None, True),
    "outsider": ("局外人", "other", None, False),
}
# key: parent key (hq is the enterprise's head office)
DEPARTMENTS: dict[str, str | None] = {"hq": None, "sales": "hq", "east": "sales",
                                      "other": "hq"}
# object api_name: (data scope of both roles, sharing)
OBJECTS: dict[str, tuple[str, str]] = {
    "deal_own": ("own", "private"),
    "deal_sub": ("subordinates", "private"),
    "deal_dept": ("department", "private"),
    "deal_all": ("all", "private"),
    "deal_hier": ("own", "hierarchy"),
    "deal_pubr": ("own", "public_read"),
    "deal_pubw": ("own", "public_write"),
}
# joint followers: (follower, owner of the record, access), on every object
TEAM = (("follower", "rep", "edit"), ("outsider", "director", "read"))


def object_document(name: str) -> dict[str, Any]:
    scope, sharing = OBJECTS[name]
    return {
        "kind": "object", "api_name": name, "label": {"zh": name, "en": name},
        "sharing": sharing,
        "fields": [
            {"api_name": "name", "type": "text", "searchable": True},
            {"api_name": "secret", "type": "text", "searchable": True},
            {"api_name": "note", "type": "text"},
            {"api_name": "ref", "type": "lookup", "to": name},
            {"api_name": "ref_name", "type": "quote", "via": "ref", "field": "name"},
            {"api_name": "ref_secret", "type": "quote", "via": "ref",
             "field": "secret"},
        ],
        "permissions": {
            "employee": {"verbs": sorted(EMPLOYEE_VERBS), "scope": scope,
                         "fields": {"secret": "hidden", "note": "read"}},
            "seller": {"verbs": sorted(SELLER_VERBS), "scope": scope,
                       "fields": {"note": "read"}},
        },
    }


@dataclass
class Org:
    """The organisation of one test enterprise."""

    tenant: Tenant
    admin: ApiClient
    users: dict[str, str] = field(default_factory=dict)  # key -> user id
    clients: dict[str, ApiClient] = field(default_factory=dict)
    departments: dict[str, str] = field(default_factory=dict)  # key -> id
    superiors: dict[str, str | None] = field(default_factory=dict)  # key -> key
    # object -> owner key -> record
    records: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)

    def key_of(self, user_id: str) -> str:
        return next(k for k, v in self.users.items() if v == user_id)

    def writer(self, key: str) -> bool:
        return PEOPLE[key][3]


def phone(i: int) -> str:
    return f"1390000{i:04d}"


def build_org(app: TestApp, tenant: Tenant, objects: Iterable[str] = OBJECTS
              ) -> Org:
    """Departments, users with their superiors and roles, the objects (with the
    ``seller`` role as a custom role), and in every object one record per user
    (created by the admin, handed over with the transfer route), each record's
    ``ref`` pointing at the next user's record, and the team entries."""
    admin = login_admin(app, tenant)
    org = Org(tenant, admin)
    org.departments["hq"] = tenant.department_id
    for key, parent in DEPARTMENTS.items():
        if parent is not None:
            org.departments[key] = admin.create("department", {
                "name": key, "parent": org.departments[parent]})["id"]
    objects = list(objects)
    for name in objects:
        admin.define(name, object_document(name))
    admin.put("/roles/seller", {"label": {"zh": "销售", "en": "Seller"}, "grants": {
        name: object_document(name)["permissions"]["seller"] for name in objects}},
        status=200)
    for i, (key, (person, dept, superior, writer)) in enumerate(PEOPLE.items()):
        org.superiors[key] = superior
        org.users[key] = admin.create("user", {
            "name": person, "phone": phone(i), "password": USER_PASSWORD,
            "main_department": org.departments[dept],
            "superior": org.users[superior] if superior else None,
            "roles": ["employee", "seller"] if writer else ["employee"]})["id"]
        org.clients[key] = login(app, tenant.account, phone(i), USER_PASSWORD)
    keys = list(PEOPLE)
    for name in objects:
        made = org.records[name] = {}
        for i, key in enumerate(keys):
            record = admin.create(name, {"name": f"{name} {key} common",
                                         "secret": f"hush{name[5:]}{i}",
                                         "note": f"note {key}"})
            made[key] = admin.post(
                f"/objects/{name}/records/{record['id']}/transfer",
                {"owner": org.users[key]}, status=200).json
        for i, key in enumerate(keys):
            target = made[keys[(i + 1) % len(keys)]]
            made[key] = admin.patch(f"/objects/{name}/records/{made[key]['id']}",
                                    {"ref": target["id"]}, status=200).json
        for follower, owner, access in TEAM:
            admin.post(f"/objects/{name}/records/{made[owner]['id']}/team",
                       {"user": org.users[follower], "access": access}, status=201)
    return org


# -- the model --------------------------------------------------------------------

def below(org: Org, key: str) -> set[str]:
    """The users at or below ``key`` in the superior chain."""
    found = {key}
    changed = True
    while changed:
        changed = False
        for other, superior in org.superiors.items():
            if superior in found and other not in found:
                found.add(other)
                changed = True
    return found


def department_subtree(key: str) -> set[str]:
    found = {key}
    changed = True
    while changed:
        changed = False
        for other, parent in DEPARTMENTS.items():
            if parent in found and other not in found:
                found.add(other)
                changed = True
    return found


def allowed(org: Org, obj: str, user: str, owner: str) -> dict[str, bool]:
    """What ``user`` may do to ``owner``'s record of ``obj`` (plus "visible": any
    rule reaches it, so a denial is 403 rather than 404)."""
    scope, sharing = OBJECTS[obj]
    verbs = EMPLOYEE_VERBS | (SELLER_VERBS if org.writer(user) else frozenset())
    owner_dept = PEOPLE[owner][1]
    in_scope = {
        "own": owner == user,
        "subordinates": owner in below(org, user),
        "department": owner_dept in department_subtree(PEOPLE[user][1]),
        "all": True,
    }[scope]
    reach: dict[str, bool] = dict.fromkeys(RECORD_VERBS, False)
    for verb in RECORD_VERBS:
        if in_scope and verb in verbs:
            reach[verb] = True
    shared = {"private": frozenset(), "public_read": frozenset({"read"}),
              "public_write": frozenset(RECORD_VERBS),
              "hierarchy": (frozenset(RECORD_VERBS) if owner in below(org, user)
                            else frozenset())}[sharing]
    for verb in shared:
        reach[verb] = True
    for follower, followed, access in TEAM:
        if follower == user and followed == owner:
            for verb in ({"read"} | (WRITE_VERBS if access == "edit" else set())):
                reach[verb] = True
    visible = any(reach.values())
    return {"visible": visible,
            **{verb: reach[verb] and verb in verbs for verb in RECORD_VERBS}}


def visible_records(org: Org, obj: str, user: str) -> set[str]:
    """Ids of the records of ``obj`` that ``user`` may read."""
    return {rec["id"] for owner, rec in org.records[obj].items()
            if allowed(org, obj, user, owner)["read"]}


def ids(records: Iterable[Mapping[str, Any]]) -> set[str]:
    return {r["id"] for r in records}
