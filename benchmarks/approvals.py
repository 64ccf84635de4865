"""Approval benchmarks: approvals submitted and approved per second through the
engine (one transaction each, as two requests would), and the first page of an
approver's todo box among 100,000 instances, vs the same page by hand-written
SQL."""

from __future__ import annotations

import datetime as dt
import math
import os
import time

from sqlalchemy import insert, select

from benchmarks.common import Setup, p50, timed
from propolis.platform.ids import new_id
from propolis.platform.permissions.actor import Actor
from propolis.platform.records.services import RecordService
from propolis.platform.storage.platform_tables import (
    approval_instances,
    approval_steps,
    approval_tasks,
)
from propolis.platform.tenancy.services import (
    apply_metadata,
    current_version,
    effective_for,
)
from propolis.platform.workflow.services import ApprovalService

Row = tuple[str, float, float, str]
APPROVERS = 100
CHUNK = 5000


def _people(s: Setup) -> tuple[str, list[str]]:
    effective = effective_for(s.database, s.account,
                              current_version(s.database, s.account))
    with s.database.tenant_session(s.account) as session, session.begin():
        records = RecordService(session, effective,
                                Actor(s.admin_id, None, frozenset({"admin"})))
        submitter = records.create("user", {"name": "提交人", "phone": "13900000000"})
        approvers = [records.create("user", {"name": f"审批人{i}",
                                             "phone": f"139{i + 1:08d}"})["id"]
                     for i in range(APPROVERS)]
    return submitter["id"], approvers


def runs(s: Setup) -> list[Row]:
    """Both measures on one enterprise (throughput first: it fills fewer rows)."""
    submitter, approvers = _people(s)
    rows = [throughput(s, submitter, approvers[0],
                       int(os.environ.get("BENCH_APPROVALS", 10_000)))]
    rows.append(todo_page(s, submitter, approvers,
                          int(os.environ.get("BENCH_TODO", 100_000))))
    return rows


def throughput(s: Setup, submitter: str, approver: str, n: int) -> Row:
    apply_metadata(s.database, s.account, [{
        "kind": "approval", "api_name": "bench_flow", "form": "general_request",
        "steps": [{"approver": {"users": [approver]}}]}])
    effective = effective_for(s.database, s.account,
                              current_version(s.database, s.account))
    me = Actor(submitter, None, frozenset({"employee"}))
    boss = Actor(approver, None, frozenset({"employee"}))
    start = time.perf_counter()
    for i in range(n):
        with s.database.tenant_session(s.account) as session, session.begin():
            made = ApprovalService(session, effective, me).start({
                "definition": "bench_flow",
                "data": {"title": f"申请 {i}", "content": "bench"}})
        with s.database.tenant_session(s.account) as session, session.begin():
            ApprovalService(session, effective, boss).act(made["id"],
                                                          {"action": "approve"})
    rate = n / (time.perf_counter() - start)
    return (f"approvals submitted+approved ({n:,})", rate, math.nan, "approvals/s")


def todo_page(s: Setup, submitter: str, approvers: list[str], total: int) -> Row:
    """``total`` pending instances spread over the approvers; the first page (20)
    of one approver's todo box through the service vs the same query by hand."""
    now = dt.datetime.now(dt.UTC)
    definition = {"label": {"zh": "报销", "en": "Expense"}, "mode": "fixed",
                  "form": "expense", "steps": []}
    engine = s.database.tenant_engine(s.account)
    for start in range(0, total, CHUNK):
        instances, steps, tasks = [], [], []
        for i in range(start, min(start + CHUNK, total)):
            iid, sid = new_id(), new_id()
            instances.append({
                "id": iid, "definition_name": "expense", "definition_version": 1,
                "definition": definition, "object": "expense", "record_id": new_id(),
                "title": f"报销 {i}", "submitter": submitter,
                "submitter_department": None, "status": "pending", "current_step": 1,
                "created_at": now, "updated_at": now, "finished_at": None})
            steps.append({"id": sid, "instance_id": iid, "seq": 1, "label": None,
                          "kind": "defined", "sign": "any", "percentage": None,
                          "approvers": [approvers[i % len(approvers)]],
                          "status": "active", "started_at": now})
            tasks.append({"id": new_id(), "instance_id": iid, "step_id": sid,
                          "assignee": approvers[i % len(approvers)],
                          "on_behalf_of": None, "status": "pending",
                          "created_at": now})
        with engine.begin() as conn:
            conn.execute(insert(approval_instances), instances)
            conn.execute(insert(approval_steps), steps)
            conn.execute(insert(approval_tasks), tasks)
    effective = effective_for(s.database, s.account,
                              current_version(s.database, s.account))
    me = Actor(approvers[7], None, frozenset({"employee"}))

    def ours() -> None:
        with s.database.tenant_session(s.account) as session:
            page = ApprovalService(session, effective, me).box("todo", limit=20)
            assert len(page["items"]) == 20

    i, c = approval_instances.c, approval_tasks.c
    by_hand = (select(approval_instances, c.id).join(
        approval_tasks, c.instance_id == i.id).where(
        c.assignee == approvers[7], c.status == "pending")
        .order_by(c.id.desc()).limit(21))

    def baseline() -> None:
        with engine.connect() as conn:
            assert len(conn.execute(by_hand).all()) == 21

    ours(), baseline()  # warm caches
    return (f"todo box first page ({total:,} instances), p50",
            p50(timed(ours, 50)) * 1000, p50(timed(baseline, 50)) * 1000, "ms")
