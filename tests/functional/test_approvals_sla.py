"""Time limits: a step past its ``sla_hours`` gets a reminder, then its approver is
replaced by the escalation target — once by calling the SLA pass at chosen
moments, and once fired by beat in a real Celery worker on Redis."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import time

import pytest
from sqlalchemy import select
from webtest import TestApp

from propolis.platform.db import Database
from propolis.platform.storage.platform_tables import approval_steps
from propolis.platform.web.offline import service_request
from propolis.platform.workflow.interfaces import IApprovalService
from propolis.platform.workflow.tasks import SLA_TASK, run_sla
from tests.common.approvals import (
    School,
    act,
    current_approvers,
    make_school,
    submit,
    todo,
)
from tests.functional.test_celery_worker import write_ini

# 0.0005 h = 1.8 s: past due by the time a worker's beat looks
LIMITED = {"form": "general_request", "steps": [
    {"approver": {"relation": "department_head"}, "sla_hours": 0.0005,
     "escalate_to": {"position": "principal"}, "escalate_after_hours": 0.0005},
    {"approver": {"position": "finance_director"}}]}


def limited(app: TestApp, database: Database) -> tuple[School, dict]:
    school = make_school(app, database)
    school.admin.put("/metadata/approvals/urgent", LIMITED, status=200)
    instance = submit(school.teacher, "urgent", {"title": "急", "content": "急事"})
    assert instance["steps"][0]["due_at"] is not None
    return school, instance


def steps(database: Database, account: str, instance_id: str) -> list:
    with database.tenant_engine(account).connect() as conn:
        return conn.execute(select(approval_steps).where(
            approval_steps.c.instance_id == instance_id)
            .order_by(approval_steps.c.seq)).all()


def test_reminder_then_escalation(app: TestApp, database: Database):
    school, instance = limited(app, database)
    first = steps(database, school.tenant.account, instance["id"])[0]
    account = school.tenant.account

    def sla_pass(at: dt.datetime) -> dict[str, int]:
        # the system's approval service, as the beat task gets it
        with service_request(app.app.registry, account) as request:
            return request.find_service(IApprovalService).process_overdue(at)

    # not yet due: nothing happens
    assert sla_pass(first.due_at - dt.timedelta(seconds=1)) == {
        "reminded": 0, "escalated": 0}
    assert sla_pass(first.due_at) == {"reminded": 1, "escalated": 0}
    assert sla_pass(first.due_at) == {"reminded": 0, "escalated": 0}
    kinds = [n["kind"] for n in school.head.get("/notifications").json["items"]]
    assert kinds == ["overdue", "task"]
    assert sla_pass(first.due_at + dt.timedelta(hours=1)) == {
        "reminded": 0, "escalated": 1}
    assert sla_pass(first.due_at + dt.timedelta(hours=2)) == {
        "reminded": 0, "escalated": 0}
    instance = school.teacher.get(f"/approvals/{instance['id']}").json
    assert current_approvers(instance) == [school.ids["principal"]]
    assert todo(school.head) == []
    assert [a["action"] for a in instance["timeline"]] == [
        "submit", "remind", "escalate"]
    # the escalated step goes on as usual
    instance = act(school.principal, instance["id"], "approve")
    assert current_approvers(instance) == [school.ids["finance"]]


@pytest.mark.redis
def test_beat_escalates_in_a_real_worker(app: TestApp, database: Database,
                                         database_url: str, redis_url: str,
                                         tmp_path: object) -> None:
    school, instance = limited(app, database)
    ini = os.path.join(str(tmp_path), "worker.ini")
    write_ini(ini, database, database_url, redis_url)
    with open(ini, "a") as out:
        out.write(f"propolis.approval_sla_seconds = 1\n"
                  f"propolis.beat_schedule = {tmp_path}/beat/schedule\n")
    worker = subprocess.Popen(
        [sys.executable, "-m", "propolis", "-c", ini, "worker", "--beat",
         "--concurrency", "1"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        escalated = None
        while time.monotonic() < deadline and escalated is None:
            escalated = steps(database, school.tenant.account,
                              instance["id"])[0].escalated_at
            time.sleep(0.5)
    finally:
        worker.terminate()
        try:
            output, _ = worker.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
            output, _ = worker.communicate()
    assert escalated is not None, output[-3000:]
    assert SLA_TASK in output, output[-3000:]
    instance = school.teacher.get(f"/approvals/{instance['id']}").json
    assert current_approvers(instance) == [school.ids["principal"]]
    assert [a["action"] for a in instance["timeline"]] == [
        "submit", "remind", "escalate"]
    # the pass is idempotent: run again, nothing more happens
    assert run_sla(app.app.registry)["escalated"] == 0
