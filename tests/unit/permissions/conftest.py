"""An enterprise with a small organisation and objects with permissions, and record
services acting as its users inside a rolled-back transaction."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest
from sqlalchemy import Connection
from sqlalchemy.orm import Session

from propolis.platform.db import Database
from propolis.platform.permissions.actor import Actor
from propolis.platform.records.services import RecordService
from tests.common.records import Tenant, drop_tenant, make_tenant

LEAD = {
    "kind": "object", "api_name": "lead", "sharing": "private",
    "fields": [
        {"api_name": "name", "type": "text", "searchable": True},
        {"api_name": "budget", "type": "number", "precision": 0, "searchable": True},
        {"api_name": "stage", "type": "select", "searchable": True, "options": [
            {"value": "won", "label": {"zh": "赢单", "en": "Won"}},
            {"value": "lost", "label": {"zh": "输单", "en": "Lost"}}]},
        {"api_name": "secret", "type": "text", "searchable": True},
        {"api_name": "items", "type": "table", "fields": [
            {"api_name": "note", "type": "text", "searchable": True}]},
    ],
    "permissions": {
        "employee": {"verbs": ["create", "read", "edit"], "scope": "department",
                     "fields": {"secret": "hidden", "budget": "read"}},
        "closer": {"verbs": ["read", "edit", "delete", "transfer"],
                   "scope": "subordinates"},
    },
}
MEMO = {  # no permissions: the contract's defaults, hierarchy sharing
    "kind": "object", "api_name": "memo",
    "fields": [{"api_name": "title", "type": "text", "searchable": True},
               {"api_name": "lead", "type": "lookup", "to": "lead"},
               {"api_name": "lead_name", "type": "quote", "via": "lead",
                "field": "name"},
               {"api_name": "lead_secret", "type": "quote", "via": "lead",
                "field": "secret"}],
}


@dataclass
class Org:
    """The made enterprise: departments root ⊃ sales ⊃ east, and other; users
    boss (root) ⊃ mid (sales) ⊃ low (east, also in other), and stray (other)."""

    tenant: Tenant
    departments: dict[str, str] = field(default_factory=dict)
    users: dict[str, str] = field(default_factory=dict)
    main: dict[str, str] = field(default_factory=dict)  # user key -> department id

    def actor(self, key: str, *roles: str) -> Actor:
        return Actor(self.users[key], self.main[key], frozenset({"employee", *roles}))


@pytest.fixture(scope="module")
def org(database: Database) -> Iterator[Org]:
    tenant = make_tenant(database, [LEAD, MEMO])
    made = Org(tenant)
    with Session(bind=database.tenant_engine(tenant.account)) as session, \
            session.begin():
        system = RecordService(session, tenant.effective, Actor(None))
        made.departments["root"] = tenant.department_id
        for key, parent in (("sales", "root"), ("east", "sales"), ("other", "root")):
            made.departments[key] = system.create("department", {
                "name": key, "parent": made.departments[parent]})["id"]
        for i, (key, dept, superior) in enumerate((
                ("boss", "root", None), ("mid", "sales", "boss"),
                ("low", "east", "mid"), ("stray", "other", None))):
            made.main[key] = made.departments[dept]
            made.users[key] = system.create("user", {
                "name": key, "phone": f"1370000000{i}",
                "main_department": made.departments[dept],
                "superior": made.users[superior] if superior else None,
                "departments": [{"department": made.departments["other"]}]
                if key == "low" else []})["id"]
    yield made
    drop_tenant(tenant)


Services = Callable[[Actor], RecordService]


@pytest.fixture
def as_user(org: Org) -> Iterator[Services]:
    """Record services for any actor, sharing one transaction that is rolled back
    at the end of the test."""
    engine = org.tenant.database.tenant_engine(org.tenant.account)
    conn: Connection = engine.connect()
    outer = conn.begin()
    session = Session(bind=conn, join_transaction_mode="create_savepoint")

    def service(actor: Actor) -> RecordService:
        return RecordService(session, org.tenant.effective, actor)

    try:
        yield service
    finally:
        session.close()
        outer.rollback()
        conn.close()
