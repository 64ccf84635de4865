"""P1: a CSV of many rows imported end to end (reading the file, the cells, the
record service's bulk path, the history and search text, the audit entry), and
its insert phase — ``RecordService.create_many`` of the same rows — against a
hand-written SQLAlchemy Core executemany into an equivalent static table."""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
import time
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

from pyramid.registry import Registry
from sqlalchemy import delete, insert

from benchmarks.common import Setup
from benchmarks.runs import Row, deal_data, effective, install_deal, static_table
from propolis.platform.exchange.imports import BATCH_ROWS, ImportService
from propolis.platform.ids import new_id
from propolis.platform.permissions.actor import Actor
from propolis.platform.permissions.policy import AccessPolicy
from propolis.platform.records.events import RecordCreated
from propolis.platform.records.services import RecordService

COLUMNS = ["name", "amount", "qty", "status", "close_date"]


def sheet(data: list[dict[str, Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    writer.writerows([d[c] for c in COLUMNS] for d in data)
    return ("\ufeff" + out.getvalue()).encode()


def p1_import(s: Setup, n: int) -> list[Row]:
    if "deal" not in effective(s).objects:
        install_deal(s)
    eff = effective(s)
    actor = Actor(user_id=s.admin_id, roles=frozenset({"admin", "employee"}))
    engine = s.database.tenant_engine(s.account)
    table = static_table()
    with engine.begin() as conn:
        table.create(conn, checkfirst=True)
    rng = random.Random(11)
    data = [deal_data(i, rng) for i in range(n)]
    source = sheet(data)
    session = s.database.tenant_session(s.account)
    deals = eff.tables.main["deal"]

    def end_to_end(records: RecordService | None = None) -> tuple[float, float]:
        """Wall and CPU seconds of the import (then its records are removed)."""
        start, cpu = time.perf_counter(), time.process_time()
        with session.begin():
            report = ImportService(session, eff, AccessPolicy(eff, actor),
                                   records=records).run(
                "deal", io.BytesIO(source), "deals.csv")
        took = time.perf_counter() - start, time.process_time() - cpu
        assert report["created"] == n, report["errors"][:3]
        with engine.begin() as conn:
            conn.execute(delete(deals))
        return took

    plain = end_to_end()
    # the same with a subscriber of RecordCreated (doing nothing): each record is
    # told in a SAVEPOINT of its own
    registry = Registry()
    registry.registerHandler(lambda event: None, (RecordCreated,))
    told = end_to_end(RecordService(session, eff, actor,
                                    request=SimpleNamespace(registry=registry)))

    def ours() -> float:
        began = time.perf_counter()  # no subscriber: the writes alone
        with session.begin():
            records = RecordService(session, eff, actor)
            for first in range(0, n, BATCH_ROWS):
                made = records.create_many("deal", data[first:first + BATCH_ROWS])
                assert not made.errors
        return time.perf_counter() - began

    def core() -> float:
        began = time.perf_counter()
        with engine.begin() as conn:
            for first in range(0, n, BATCH_ROWS):
                now = dt.datetime.now(dt.UTC)
                conn.execute(insert(table), [
                    {"id": new_id(), "owner": s.admin_id, "created_by": s.admin_id,
                     "created_at": now, "updated_by": s.admin_id, "updated_at": now,
                     "life_status": "normal", "version": 1, "name": d["name"],
                     "amount": Decimal(str(d["amount"])), "qty": d["qty"],
                     "status": d["status"],
                     "close_date": dt.date.fromisoformat(d["close_date"]),
                     "search_text": d["name"].lower()}
                    for d in data[first:first + BATCH_ROWS]])
        return time.perf_counter() - began

    insert_ours, insert_core = ours(), core()
    session.close()
    return [
        (f"P1 import a {n:,}-row CSV end to end", plain[0], float("nan"), "s"),
        ("P1 the same, CPU time of the process", plain[1], float("nan"), "s"),
        ("P1 the same with a RecordCreated subscriber (vs without)", told[0],
         plain[0], "s"),
        (f"P1 import's insert phase, {n:,} rows: create_many vs Core executemany",
         n / insert_ours, n / insert_core, "records/s"),
    ]
