"""Two approvers of an ``any`` step deciding at the same moment, on two real
PostgreSQL connections: the first locks the instance and moves the flow on; the
second waits for that lock, then finds its task settled and gets a 409. Exactly
one transition happens."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import select, text
from webtest import TestApp

from propolis.platform.db import Database
from propolis.platform.errors import AppError
from propolis.platform.permissions.actor import Actor
from propolis.platform.storage.platform_tables import approval_actions, approval_tasks
from propolis.platform.tenancy.services import current_version, effective_for
from propolis.platform.workflow.services import ApprovalService
from tests.common.approvals import make_school, submit


def test_two_approvers_at_once_make_one_transition(app: TestApp, database: Database):
    if database.dialect.name == "sqlite":
        pytest.skip("SQLite serialises writers (BEGIN IMMEDIATE); the lock race "
                    "needs PostgreSQL")
    school = make_school(app, database)
    school.admin.put("/metadata/approvals/purchase", {
        "form": "general_request",
        "steps": [{"approver": {"users": [school.ids["finance"],
                                          school.ids["principal"]]}}]}, status=200)
    instance = submit(school.teacher, "purchase", {"title": "买书", "content": "图书"})
    account = school.tenant.account
    effective = effective_for(database, account, current_version(database, account))

    def service(session, key: str) -> ApprovalService:  # noqa: ANN001
        return ApprovalService(session, effective, Actor(
            school.ids[key], roles=frozenset({"employee"})))

    first = database.tenant_session(account)
    second = database.tenant_session(account)
    outcome: dict[str, object] = {}

    def late() -> None:
        try:
            with second.begin():
                service(second, "principal").act(instance["id"], {"action": "approve"})
            outcome["second"] = "approved"
        except AppError as exc:
            outcome["second"] = exc

    try:
        first.begin()
        service(first, "finance").act(instance["id"], {"action": "approve"})
        thread = threading.Thread(target=late)
        thread.start()
        # the second approver is now blocked on the instance's row lock
        with database.tenant_engine(account).connect() as watcher:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                waiting = watcher.execute(text(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE wait_event_type = 'Lock' AND datname = current_database()")
                ).scalar_one()
                if waiting:
                    break
                time.sleep(0.05)
        assert waiting == 1, "the second approver never waited for the lock"
        first.commit()
        thread.join(30)
    finally:
        first.close()
        second.close()
    error = outcome["second"]
    assert isinstance(error, AppError) and error.status == 409, error
    assert error.code in ("already_handled", "not_pending")

    with database.tenant_engine(account).connect() as conn:
        tasks = conn.execute(select(approval_tasks.c.assignee, approval_tasks.c.status)
                             .where(approval_tasks.c.instance_id == instance["id"])
                             ).all()
        actions = conn.execute(select(approval_actions.c.action).where(
            approval_actions.c.instance_id == instance["id"])
            .order_by(approval_actions.c.id)).scalars().all()
    assert sorted(tasks) == sorted([(school.ids["finance"], "approved"),
                                    (school.ids["principal"], "cancelled")])
    assert actions == ["submit", "approve", "approved"]
    assert school.teacher.get(f"/approvals/{instance['id']}").json[
        "status"] == "approved"
