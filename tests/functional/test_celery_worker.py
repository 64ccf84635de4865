"""A metadata change that must backfill existing rows runs as a job in a real Celery
worker process on Redis, with its progress in the jobs table."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from decimal import Decimal

import pytest
from celery import Celery
from sqlalchemy import select

from propolis.platform.db import Database
from propolis.platform.permissions.actor import Actor
from propolis.platform.records.services import RecordService
from propolis.platform.storage.platform_tables import jobs
from propolis.platform.tenancy.jobs import backfill
from propolis.platform.tenancy.services import (
    apply_metadata,
    create_enterprise,
    current_version,
    effective_for,
)
from tests.conftest import unique_account

ROWS = 250
ITEM = {"kind": "object", "api_name": "item", "label": "Item",
        "fields": [{"api_name": "name", "type": "text", "required": True},
                   {"api_name": "qty", "type": "number", "precision": 0},
                   {"api_name": "price", "type": "currency"}]}


def write_ini(path: str, database: Database, database_url: str, broker: str) -> None:
    with open(path, "w") as out:
        out.write(f"""[app:main]
use = egg:propolis
propolis.database_url = {database_url}
propolis.tenant_dir = {database.tenant_dir}
propolis.files_dir = {os.path.dirname(path)}/files
propolis.broker_url = {broker}
propolis.secret = test
""")


@pytest.mark.redis
def test_backfill_runs_in_a_real_worker(database: Database, database_url: str,
                                        redis_url: str, tmp_path: object) -> None:
    account = unique_account("w")
    created = create_enterprise(database, account=account, name="W",
                                admin_phone="13900000000", admin_password="password-1")
    applied = apply_metadata(database, account, [ITEM])
    effective = effective_for(database, account, applied.version)

    with database.tenant_session(account) as session, session.begin():
        records = RecordService(session, effective, Actor(created.admin_id))
        for i in range(ROWS):
            records.create("item", {"name": f"物品{i}", "qty": i, "price": 1.25})

    with_total = dict(ITEM, fields=[*ITEM["fields"], {
        "api_name": "total", "type": "formula", "returns": "currency",
        "expression": "qty * price"}])
    applied = apply_metadata(database, account, [with_total])
    assert len(applied.jobs) == 1
    job_id = applied.jobs[0]

    ini = os.path.join(str(tmp_path), "worker.ini")
    write_ini(ini, database, database_url, redis_url)
    worker = subprocess.Popen(
        [sys.executable, "-m", "propolis", "-c", ini, "worker",
         "--concurrency", "1"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        # a client app of its own: the shared one stays as the other tests set it
        client = Celery("client", broker=redis_url)
        client.send_task(backfill.name, args=[account, job_id])
        deadline = time.monotonic() + 30
        status = None
        while time.monotonic() < deadline:
            with database.tenant_engine(account).connect() as conn:
                status = conn.execute(select(jobs.c.status, jobs.c.done, jobs.c.total)
                                      .where(jobs.c.id == job_id)).one()
            if status.status in ("done", "failed"):
                break
            time.sleep(0.5)
        if status is None or status.status != "done":
            worker.terminate()
            pytest.fail(f"{status}: {worker.communicate(timeout=20)[0][-3000:]}")
        assert status.done == status.total == ROWS
    finally:
        worker.terminate()
        try:
            output, _ = worker.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
            output, _ = worker.communicate()
    assert "propolis.backfill" in output, output

    effective = effective_for(database, account, current_version(database, account))
    table = effective.tables.main["item"]
    with database.tenant_engine(account).connect() as conn:
        rows = conn.execute(select(table.c.qty, table.c.total)).all()
    assert len(rows) == ROWS
    assert all(total == qty * Decimal("1.25") for qty, total in rows)
