"""The approval engine below the API: who the approver specifications resolve to,
and the state machine's sign modes, each test in a rolled-back transaction."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from propolis.platform.db import Database
from propolis.platform.errors import AppError
from propolis.platform.permissions.actor import Actor
from propolis.platform.records.services import RecordService
from propolis.platform.storage.platform_tables import approval_tasks
from propolis.platform.workflow.events import ApprovalFinished, ApprovalStarted
from propolis.platform.workflow.resolve import Directory
from propolis.platform.workflow.services import ApprovalService
from tests.common.org import OrgTenant, drop_org_tenant, make_org_tenant

FORM = {"kind": "object", "api_name": "request", "label": "Request",
        "fields": [{"api_name": "title", "type": "text"},
                   {"api_name": "amount", "type": "currency"}]}


def flow(name: str, step: dict) -> dict:
    return {"kind": "approval", "api_name": name, "form": "request", "steps": [step]}


APPROVALS = [
    flow("pct", {"approver": {"position": "judge"}, "sign": "percentage",
                 "percentage": 60}),
    flow("big", {"approver": {"position": "judge"}, "when": "amount > 100"}),
]


@pytest.fixture(scope="module")
def tenant(database: Database) -> Iterator[OrgTenant]:
    made = make_org_tenant(database, [FORM, *APPROVALS])
    yield made
    drop_org_tenant(made)


@dataclass
class Org:
    session: Session
    tenant: OrgTenant
    ids: dict[str, str]

    def service(self, key: str) -> ApprovalService:
        actor = Actor(self.ids[key], None, frozenset({"employee"}))
        return ApprovalService(self.session, self.tenant.effective, actor)


@pytest.fixture
def org(tenant: OrgTenant) -> Iterator[Org]:
    """总部 (head: boss) > 研发部 (head: lead) with dev and dev2 under lead, lead
    under boss; three judges; an auditor by role; a disabled judge."""
    conn = tenant.database.tenant_engine(tenant.account).connect()
    outer = conn.begin()
    session = Session(bind=conn, join_transaction_mode="create_savepoint")
    records = RecordService(session, tenant.effective,
                            Actor(tenant.admin_id, None, frozenset({"admin"})))
    ids: dict[str, str] = {}

    def user(key: str, **data: object) -> None:
        ids[key] = records.create("user", {"name": key, "phone": f"1{len(ids):010d}",
                                           **data})["id"]

    user("boss", main_department=tenant.head_office)
    rd = records.create("department", {"name": "研发部", "parent": tenant.head_office})
    user("lead", main_department=rd["id"], superior=ids["boss"])
    user("dev", main_department=rd["id"], superior=ids["lead"])
    user("dev2", main_department=rd["id"], superior=ids["lead"])
    for key in ("judge1", "judge2", "judge3"):
        user(key, position="judge", main_department=tenant.head_office)
    user("gone", position="judge", status="disabled")
    user("auditor", roles=["employee", "approval_admin"])
    records.update("department", rd["id"], {"head": ids["lead"]})
    records.update("department", tenant.head_office, {"head": ids["boss"]})
    try:
        yield Org(session, tenant, ids)
    finally:
        session.close()
        outer.rollback()
        conn.close()


def test_approvers_resolve_from_the_organisation(org: Org):
    directory = Directory(org.session.connection(), org.tenant.effective)
    ids = org.ids

    def resolve(spec: dict, who: str = "dev", chosen: tuple[str, ...] = ()
                ) -> list[str]:
        found = directory.resolve(spec, ids[who], chosen)
        return sorted(k for k, v in ids.items() if v in found)

    assert resolve({"relation": "direct_superior"}) == ["lead"]
    assert resolve({"relation": "superior"}) == ["lead"]
    assert resolve({"relation": "nth_superior", "level": 2}) == ["boss"]
    assert resolve({"relation": "nth_superior", "level": 3}) == []
    assert resolve({"relation": "department_head"}) == ["lead"]
    # the head's own request goes to the head above
    assert resolve({"relation": "department_head"}, "lead") == ["boss"]
    assert resolve({"relation": "parent_department_head"}) == ["boss"]
    assert resolve({"relation": "department_head"}, "boss") == []
    assert resolve({"position": "judge"}) == ["judge1", "judge2", "judge3"]
    assert resolve({"role": "approval_admin"}) == ["auditor"]
    assert resolve({"users": [ids["gone"], ids["judge2"], "nobody"]}) == ["judge2"]
    assert resolve({"submitter_choice": True}, chosen=(ids["dev2"],)) == ["dev2"]


def test_percentage_sign_completes_at_its_share(org: Org):
    instance = org.service("dev").start({"definition": "pct",
                                         "data": {"title": "a", "amount": 1}})
    assert len(instance["steps"][0]["tasks"]) == 3
    instance = org.service("judge1").act(instance["id"], {"action": "approve"})
    assert instance["status"] == "pending"  # 1 of 3 < 60 %
    instance = org.service("judge2").act(instance["id"], {"action": "approve"})
    assert instance["status"] == "approved"  # 2 of 3 ≥ 60 %
    statuses = sorted(t["status"] for t in instance["steps"][0]["tasks"])
    assert statuses == ["approved", "approved", "cancelled"]


def test_percentage_sign_rejects_once_out_of_reach(org: Org):
    instance = org.service("dev").start({"definition": "pct",
                                         "data": {"title": "a", "amount": 1}})
    instance = org.service("judge1").act(instance["id"], {"action": "reject"})
    assert instance["status"] == "pending"  # 2 of 3 may still approve
    instance = org.service("judge2").act(instance["id"], {"action": "reject"})
    assert instance["status"] == "rejected"


def test_conditions_skip_steps_and_an_empty_flow_is_approved(org: Org):
    small = org.service("dev").start({"definition": "big",
                                      "data": {"title": "a", "amount": 50}})
    assert small["status"] == "approved"
    assert [s["status"] for s in small["steps"]] == ["skipped"]
    # an empty amount: the condition is null, the step does not apply
    empty = org.service("dev").start({"definition": "big", "data": {"title": "b"}})
    assert empty["status"] == "approved"
    big = org.service("dev").start({"definition": "big",
                                    "data": {"title": "c", "amount": 150}})
    assert big["status"] == "pending"


def test_an_outsider_neither_sees_nor_acts(org: Org):
    instance = org.service("dev").start({"definition": "big",
                                         "data": {"title": "c", "amount": 150}})
    for action in ({"action": "approve"}, {"action": "comment", "comment": "x"}):
        with pytest.raises(AppError) as caught:
            org.service("dev2").act(instance["id"], action)
        assert caught.value.status == 404
    with pytest.raises(AppError) as caught:
        org.service("dev2").get(instance["id"])
    assert caught.value.status == 404
    # the approval admin sees everything, but approves only with a task
    auditor = ApprovalService(org.session, org.tenant.effective, Actor(
        org.ids["auditor"], None, frozenset({"employee", "approval_admin"})))
    assert auditor.get(instance["id"])["id"] == instance["id"]
    with pytest.raises(AppError) as caught:
        auditor.act(instance["id"], {"action": "approve"})
    assert (caught.value.status, caught.value.code) == (403, "not_your_turn")
    pending = org.session.execute(select(approval_tasks.c.status).where(
        approval_tasks.c.instance_id == instance["id"])).scalars().all()
    assert sorted(pending) == ["pending"] * 3


def test_lifecycle_events_reach_the_hooks(org: Org):
    events: list[object] = []
    actor = Actor(org.ids["dev"], None, frozenset({"employee"}))
    service = ApprovalService(org.session, org.tenant.effective, actor,
                              notify=events.append)
    instance = service.start({"definition": "big",
                              "data": {"title": "c", "amount": 150}})
    judge = ApprovalService(org.session, org.tenant.effective, Actor(
        org.ids["judge3"], None, frozenset({"employee"})), notify=events.append)
    judge.act(instance["id"], {"action": "approve"})
    assert [type(e) for e in events] == [ApprovalStarted, ApprovalFinished]
    started, finished = events
    assert isinstance(started, ApprovalStarted)
    assert (started.definition, started.object, started.record_id) == (
        "big", "request", instance["record_id"])
    assert isinstance(finished, ApprovalFinished) and finished.status == "approved"
