"""The record service's events, one kind at a time (restore, owner change, the
bulk handover, life_status, a password, a backfill, an approval's end), with the
``object`` predicate; each test in a rolled-back transaction, the subscribers on
a registry of its own."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import pytest
from pyramid.config import Configurator
from sqlalchemy import update
from sqlalchemy.orm import Session

from propolis.platform.db import Database
from propolis.platform.permissions.actor import Actor
from propolis.platform.records.events import (
    ApprovalFinished,
    LifeStatusChanged,
    OwnerChanged,
    RecordCreated,
    RecordDeleted,
    RecordEvent,
    RecordRestored,
    RecordUpdated,
)
from propolis.platform.records.services import RecordService
from propolis.platform.workflow.services import ApprovalService
from tests.common.org import PROJECT, OrgTenant, drop_org_tenant, make_org_tenant

FORM = {"kind": "object", "api_name": "request", "label": "Request",
        "fields": [{"api_name": "title", "type": "text"},
                   {"api_name": "amount", "type": "currency"},
                   {"api_name": "double", "type": "formula", "returns": "currency",
                    "expression": "amount * 2"}]}
FLOW = {"kind": "approval", "api_name": "check", "form": "request",
        "rejected_status": "invalid",
        "steps": [{"approver": {"position": "judge"}}]}


@pytest.fixture(scope="module")
def tenant(database: Database) -> Iterator[OrgTenant]:
    made = make_org_tenant(database, [FORM, FLOW, PROJECT])
    yield made
    drop_org_tenant(made)


@dataclass
class Heard:
    """A rolled-back session, a request whose registry's subscriber keeps every
    record event, and record services on it."""

    session: Session
    tenant: OrgTenant
    request: Any
    events: list[RecordEvent]

    def records(self, user_id: str | None = None,
                roles: frozenset[str] = frozenset({"admin", "employee"}),
                ) -> RecordService:
        actor = Actor(user_id or self.tenant.admin_id, self.tenant.head_office, roles)
        return RecordService(self.session, self.tenant.effective, actor,
                             request=self.request)

    def kinds(self) -> list[tuple[str, str]]:
        return [(type(e).__name__, e.object) for e in self.events]


@pytest.fixture
def heard(tenant: OrgTenant) -> Iterator[Heard]:
    events: list[RecordEvent] = []
    config = Configurator()
    config.include("propolis.platform.records.events")
    config.add_subscriber(events.append, RecordEvent)
    config.commit()
    conn = tenant.database.tenant_engine(tenant.account).connect()
    outer = conn.begin()
    session = Session(bind=conn, join_transaction_mode="create_savepoint")
    try:
        yield Heard(session, tenant, SimpleNamespace(registry=config.registry),
                    events)
    finally:
        session.close()
        outer.rollback()
        conn.close()


def user(heard: Heard, name: str, phone: str, **data: Any) -> str:
    found: str = heard.records().create("user", {
        "name": name, "phone": phone, "main_department": heard.tenant.head_office,
        **data})["id"]
    return found


def test_delete_and_restore(heard: Heard) -> None:
    records = heard.records()
    project = records.create("project", {"title": "甲", "tasks": [{"what": "a"}]})
    records.delete("project", project["id"])
    records.restore("project", project["id"])
    assert heard.kinds() == [("RecordCreated", "project"),
                             ("RecordDeleted", "project"),
                             ("RecordRestored", "project")]
    created, deleted, restored = heard.events
    assert isinstance(created, RecordCreated)
    assert created.record["tasks"][0]["what"] == "a"
    assert isinstance(deleted, RecordDeleted) and isinstance(restored, RecordRestored)
    assert deleted.record["deleted_at"] is not None
    assert "deleted_at" not in restored.record
    assert restored.record["version"] == 3
    assert {e.record_id for e in heard.events} == {project["id"]}
    assert all(e.session is heard.session for e in heard.events)


def test_a_transfer_is_an_owner_change(heard: Heard) -> None:
    heir = user(heard, "接手人", "13700000002")
    records = heard.records()
    project = records.create("project", {"title": "甲"})
    heard.events.clear()
    records.transfer("project", project["id"], heir)
    [event] = heard.events
    assert isinstance(event, OwnerChanged) and isinstance(event, RecordUpdated)
    assert event.changes == {"owner": (heard.tenant.admin_id, heir)}
    assert event.record["owner"] == heir and event.record["version"] == 2
    records.transfer("project", project["id"], heir)  # the owner already
    assert len(heard.events) == 1


def test_the_bulk_handover_tells_of_every_record(heard: Heard) -> None:
    leaver = user(heard, "离职者", "13700000001")
    heir = user(heard, "接手人", "13700000002")
    mine = heard.records(leaver, frozenset({"employee"}))
    made = {mine.create("project", {"title": f"p{i}"})["id"] for i in range(3)}
    heard.records().delete("project", sorted(made)[0])  # the recycle bin's too
    heard.events.clear()
    moved = heard.records().hand_over(leaver, heir, heard.tenant.head_office)
    assert moved == {"project": 3}
    assert {e.record_id for e in heard.events} == made
    for event in heard.events:
        assert isinstance(event, OwnerChanged)
        assert event.changes == {"owner": (leaver, heir)}  # same department
        assert event.record["owner"] == heir


def test_life_status_changes(heard: Heard) -> None:
    records = heard.records()
    request = records.create("request", {"title": "报销"})
    heard.events.clear()
    records.set_life_status("request", request["id"], "in_review")
    records.set_life_status("request", request["id"], "in_review")  # no change
    records.set_life_status("request", "no such id", "normal")
    [event] = heard.events
    assert isinstance(event, LifeStatusChanged)
    assert event.changes == {"life_status": ("normal", "in_review")}
    assert event.record["life_status"] == "in_review"
    assert [h["changes"] for h in records.history("request", request["id"])][-1] == {
        "life_status": ["normal", "in_review"]}


def test_a_password_set_for_the_accounts_is_an_update(heard: Heard) -> None:
    someone = user(heard, "某人", "13700000003")
    heard.events.clear()
    records = heard.records()
    records.set_password(someone, "new-password-1")
    records.set_password(someone, "new-password-2")
    first, second = heard.events
    assert type(first) is RecordUpdated
    assert first.changes == {"password": (None, "******")}
    assert second.changes == {"password": ("******", "******")}
    assert "password" not in second.record and second.record["version"] == 3
    assert [h["changes"] for h in records.history("user", someone)][1:] == [
        {"password": [None, "******"]}, {"password": ["******", "******"]}]


def test_an_approval_ends_with_its_record(heard: Heard) -> None:
    judge = user(heard, "审批人", "13700000004", position="judge")
    submitter = user(heard, "申请人", "13700000005")
    engine_events: list[object] = []

    def approvals(user_id: str) -> ApprovalService:
        records = heard.records(user_id, frozenset({"employee"}))
        return ApprovalService(heard.session, heard.tenant.effective, records.actor,
                               records=records, notify=engine_events.append,
                               request=heard.request)

    for action, status, life in (("approve", "approved", "normal"),
                                 ("reject", "rejected", "invalid")):
        heard.events.clear()
        engine_events.clear()
        started = approvals(submitter).start({"definition": "check",
                                              "data": {"title": action}})
        approvals(judge).act(started["id"], {"action": action})
        assert heard.kinds() == [("RecordCreated", "request"),
                                 ("LifeStatusChanged", "request"),
                                 ("LifeStatusChanged", "request")]
        assert [e.changes for e in heard.events[1:]] == [  # type: ignore[attr-defined]
            {"life_status": ("normal", "in_review")},
            {"life_status": ("in_review", life)}]
        finished = engine_events[-1]
        assert isinstance(finished, ApprovalFinished)
        assert (finished.status, finished.instance_id, finished.definition,
                finished.submitter) == (status, started["id"], "check", submitter)
        assert finished.record_id == started["record_id"]
        assert finished.record["life_status"] == life
        assert finished.actor.user_id == judge


def test_a_backfill_tells_of_the_values_it_gives(heard: Heard) -> None:
    records = heard.records()
    request = records.create("request", {"title": "报销", "amount": 2})
    table = heard.tenant.effective.tables.main["request"]
    heard.session.execute(update(table).values(double=None))  # as if added since
    heard.events.clear()
    assert records.backfill("request", ["double"], after=None, limit=10) == (
        request["id"], 1)
    [event] = heard.events
    assert type(event) is RecordUpdated
    assert event.changes == {"double": (None, 4)}
    assert event.record["double"] == 4 and event.record["version"] == 1
    records.backfill("request", ["double"], after=None, limit=10)  # nothing new
    assert len(heard.events) == 1


def test_the_object_predicate() -> None:
    config = Configurator()
    config.include("propolis.platform.records.events")
    seen: list[str] = []
    config.add_subscriber(lambda e: seen.append(e.object), RecordCreated,
                          object="project")
    config.add_subscriber(lambda e: seen.append("both:" + e.object), RecordCreated,
                          object=["project", "request"])
    config.commit()
    for name in ("project", "request", "lead"):
        config.registry.notify(RecordCreated(
            request=None, session=None, actor=Actor(None), object=name,  # type: ignore[arg-type]
            record_id="x", record={}))
    assert seen == ["project", "both:project", "both:request"]
