"""The measured runs. Each returns rows for BENCHMARKS.md: (name, ours, baseline,
unit)."""

from __future__ import annotations

import datetime as dt
import os
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Column,
    Date,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    bindparam,
    func,
    insert,
    select,
    text,
    update,
)

from benchmarks.common import Setup, p50, timed
from propolis.metadata import load_paths
from propolis.platform.ids import new_id
from propolis.platform.meta.effective import effective_cache, load_effective
from propolis.platform.permissions.actor import Actor
from propolis.platform.records.services import RecordService
from propolis.platform.storage.platform_tables import DEPARTMENTS, USERS
from propolis.platform.storage.types import ExactDecimal, UTCDateTime
from propolis.platform.tenancy.services import apply_metadata, current_version

HERE = os.path.dirname(__file__)
STATUSES = ("open", "won", "lost")
Row = tuple[str, float, float, str]


def deal_data(i: int, rng: random.Random) -> dict[str, Any]:
    return {
        "name": f"项目 {i} 上海建工 deal",
        "amount": round(rng.uniform(0, 100000), 2),
        "qty": rng.randint(1, 500),
        "status": rng.choice(STATUSES),
        "close_date": (dt.date(2026, 1, 1) + dt.timedelta(days=rng.randint(0, 364)))
        .isoformat(),
    }


def install_deal(s: Setup) -> None:
    apply_metadata(s.database, s.account, load_paths([os.path.join(HERE, "deal.yaml")]))


def effective(s: Setup) -> Any:
    version = current_version(s.database, s.account)
    engine = s.database.tenant_engine(s.account)
    with engine.connect() as conn:
        return effective_cache.get(s.account, version,
                                   lambda: load_effective(conn, version))


def static_table() -> Table:
    """What a developer would write by hand for the same object."""
    return Table(
        "static_deal", MetaData(),
        Column("id", String(32), primary_key=True),
        Column("owner", String(32), index=True),
        Column("created_by", String(32)),
        Column("created_at", UTCDateTime(), nullable=False),
        Column("updated_by", String(32)),
        Column("updated_at", UTCDateTime(), nullable=False, index=True),
        Column("life_status", String(16), nullable=False),
        Column("version", Integer, nullable=False),
        Column("name", String(255)),
        Column("amount", ExactDecimal(2)),
        Column("qty", ExactDecimal(0)),
        Column("status", String(100)),
        Column("close_date", Date),
        Column("search_text", Text),
    )


def p3_create(s: Setup, n: int) -> Row:
    """Records created one per transaction: the record service (validation, defaults,
    history, search text) against a hand-written Core INSERT of the same row."""
    install_deal(s)
    eff = effective(s)
    actor = Actor(user_id=s.admin_id, roles=frozenset({"admin", "employee"}))
    engine = s.database.tenant_engine(s.account)
    table = static_table()
    with engine.begin() as conn:
        table.create(conn)
    rng = random.Random(1)
    data = [deal_data(i, rng) for i in range(n)]
    session = s.database.tenant_session(s.account)

    def service() -> None:
        for d in data:
            with session.begin():
                RecordService(session, eff, actor).create("deal", dict(d))

    def core() -> None:
        for d in data:
            now = dt.datetime.now(dt.UTC)
            with engine.begin() as conn:
                conn.execute(insert(table).values(
                    id=new_id(), owner=s.admin_id, created_by=s.admin_id,
                    created_at=now, updated_by=s.admin_id, updated_at=now,
                    life_status="normal", version=1, name=d["name"],
                    amount=Decimal(str(d["amount"])), qty=d["qty"], status=d["status"],
                    close_date=dt.date.fromisoformat(d["close_date"]),
                    search_text=d["name"].lower()))

    # alternate and take the best of three: the two share the machine fairly
    ours, base = [], []
    for _ in range(3):
        ours += timed(service, 1)
        base += timed(core, 1)
    session.close()
    return ("P3 create, one per transaction", n / min(ours), n / min(base), "records/s")


def bulk_load(s: Setup, rows: int, owners: list[str] | None = None,
              departments: dict[str, str] | None = None) -> None:
    """Fills the generated deal table directly (the data a query benchmark needs;
    the record service's own speed is P3's business), owned at random by
    ``owners`` (default: the admin), each in the owner's department of
    ``departments``. Rows already there (P3's, the newest of all) are handed to
    ``owners`` the same way, so that every row is theirs."""
    departments = departments or {}
    eff = effective(s)
    table = eff.tables.main["deal"]
    engine = s.database.tenant_engine(s.account)
    rng = random.Random(2)
    owners = owners or [s.admin_id]
    with engine.begin() as conn:
        existing = conn.execute(select(table.c.id)).scalars().all()
        if existing:
            conn.execute(update(table).where(table.c.id == bindparam("_id"))
                         .values(owner=bindparam("_owner"),
                                 owner_department=bindparam("_department")),
                         [{"_id": i, "_owner": owner,
                           "_department": departments.get(owner)}
                          for i in existing for owner in [rng.choice(owners)]])
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    batch = 20000
    for offset in range(0, rows, batch):
        values = []
        for i in range(offset, min(offset + batch, rows)):
            d = deal_data(i, rng)
            at = start + dt.timedelta(seconds=i * 7)
            owner = rng.choice(owners)
            values.append({
                "id": new_id(), "owner": owner,
                "owner_department": departments.get(owner), "created_by": s.admin_id,
                "created_at": at, "updated_by": s.admin_id, "updated_at": at,
                "life_status": "normal", "version": 1, "name": d["name"],
                "amount": Decimal(str(d["amount"])), "qty": Decimal(d["qty"]),
                "status": d["status"],
                "close_date": dt.date.fromisoformat(d["close_date"]),
                "search_text": d["name"].lower(),
            })
        with engine.begin() as conn:
            conn.execute(insert(table), values)
    if engine.dialect.name == "postgresql":
        # what autovacuum does soon after such a load: statistics for the planner
        # to choose by (SQLite keeps none unless asked), and the visibility map
        with engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").execute(
                text("VACUUM ANALYZE"))


def p2a_query(s: Setup, rows: int) -> Row:
    """First page of a filtered, sorted query: the query engine against the same
    SQL written by hand, on the same table."""
    eff = effective(s)
    table = eff.tables.main["deal"]
    actor = Actor(user_id=s.admin_id, roles=frozenset({"admin", "employee"}))
    session = s.database.tenant_session(s.account)
    engine = s.database.tenant_engine(s.account)
    filters = [{"field": "status", "op": "eq", "value": "open"},
               {"field": "amount", "op": "gte", "value": 1000}]

    def service() -> None:
        with session.begin():
            page = RecordService(session, eff, actor).query(
                "deal", filters=filters, sort=["-updated_at"], limit=50, cursor=None,
                q=None)
            assert len(page["records"]) == 50

    # The statement the engine runs, as a developer would write it. Neither carries
    # a planner hint: deleted_at's index holds the recycle bin alone
    # (storage.tables), so SQLite plans both by the updated_at index.
    stmt = (select(table).where(table.c.deleted_at.is_(None),
                                table.c.status == "open",
                                table.c.amount >= Decimal(1000))
            .order_by(table.c.updated_at.desc(), table.c.id.desc()).limit(51))

    def core() -> None:
        with engine.connect() as conn:
            assert len(conn.execute(stmt).all()) == 51

    service(), core()  # warm caches
    ours, base = [], []
    for _ in range(5):
        ours += timed(service, 10)
        base += timed(core, 10)
    session.close()
    return (f"P2a first page, filtered + sorted, {rows:,} rows", p50(ours) * 1000,
            p50(base) * 1000, "ms (p50)")


def p4_add_field(s: Setup, rows: int) -> Row:
    """Adding a field to the big table: plan, DDL and new metadata version."""
    doc = load_paths([os.path.join(HERE, "deal.yaml")])[0]
    doc.data["fields"].append({"api_name": "note", "type": "text",
                               "label": {"zh": "备注", "en": "Note"}})
    start = time.perf_counter()
    apply_metadata(s.database, s.account, [doc])
    seconds = time.perf_counter() - start
    return (f"P4 add a field to a {rows:,}-row table", seconds, float("nan"), "s")


@dataclass(frozen=True)
class Organisation:
    """The users P2b reads as: a top manager with ``below`` people under them, a
    sales rep at the bottom of that tree, and a second tree of the same size
    whose records the manager must not see."""

    top: str
    leaf: str
    owners: list[str]
    # each owner's main department (P5 rolls amounts up their tree)
    departments: dict[str, str]


def organisation(s: Setup, below: int = 5000, fanout: int = 10) -> Organisation:
    """Two trees of ``below`` + 1 users (each user has ``fanout`` direct reports
    until the tree is full), written straight into the user table with their
    superior chains built the way an upgrade builds them. The departments follow
    the first three levels of each tree (a department per manager there, under
    their superior's); everyone deeper belongs to their level-three manager's."""
    eff = effective(s)
    users = eff.tables.main["user"]
    departments = eff.tables.main["department"]
    now = dt.datetime.now(dt.UTC)
    stamp = {"owner": s.admin_id, "created_by": s.admin_id, "created_at": now,
             "updated_by": s.admin_id, "updated_at": now, "life_status": "normal",
             "version": 1}
    values: list[dict[str, Any]] = []
    units: list[dict[str, Any]] = []
    tops = []
    belongs: dict[str, str] = {}
    managers = 1 + fanout + fanout * fanout  # the first three levels
    for tree in range(2):
        ids = [new_id() for _ in range(below + 1)]
        tops.append(ids)
        own: list[str] = []
        for i, user_id in enumerate(ids):
            superior = (i - 1) // fanout if i else None
            if i < managers:
                own.append(new_id())
                units.append({**stamp, "id": own[i], "name": f"部门 {tree}-{i}",
                              "parent": own[superior] if superior is not None
                              else None})
            department = own[i] if i < managers else belongs[ids[superior or 0]]
            belongs[user_id] = department
            values.append({
                **stamp, "id": user_id, "name": f"员工 {tree}-{i}",
                "phone": f"139{tree}{i:07d}", "roles": ["employee"],
                "status": "active", "main_department": department,
                "superior": ids[superior] if superior is not None else None})
    engine = s.database.tenant_engine(s.account)
    with engine.begin() as conn:
        conn.execute(insert(departments), units)
        conn.execute(insert(users), values)
        USERS.rebuild(conn)
        DEPARTMENTS.rebuild(conn)
    return Organisation(tops[0][0], tops[0][-1], [*tops[0], *tops[1]], belongs)


def p2b_visibility(s: Setup, org: Organisation, rows: int) -> list[Row]:
    """The first page (50, newest first) as the top manager of 5,000 people and
    as a sales rep at the bottom, each against the same page as the admin, who
    sees everything unfiltered. Each user's page carries the visibility condition
    (own, superior chain, joint follower); the admin's carries none."""
    eff = effective(s)
    session = s.database.tenant_session(s.account)
    admin = Actor(user_id=s.admin_id, roles=frozenset({"admin", "employee"}))

    def page(actor: Actor, expected: int) -> Callable[[], None]:
        def run() -> None:
            with session.begin():
                found = RecordService(session, eff, actor).query(
                    "deal", filters=[], sort=["-updated_at"], limit=50, cursor=None,
                    q=None)
                assert len(found["records"]) == expected, len(found["records"])
        return run

    table = eff.tables.main["deal"]
    with s.database.tenant_engine(s.account).connect() as conn:
        leaf_rows = min(50, conn.execute(select(func.count()).select_from(table)
                                         .where(table.c.owner == org.leaf)
                                         ).scalar_one())
    found = []
    for label, actor, expected in (
            ("top manager, 5,000 below", Actor(org.top, None,
                                               frozenset({"employee"})), 50),
            ("sales rep", Actor(org.leaf, None, frozenset({"employee"})), leaf_rows)):
        ours_run, base_run = page(actor, expected), page(admin, 50)
        ours_run(), base_run()  # warm caches
        ours, base = [], []
        for _ in range(5):
            ours += timed(ours_run, 10)
            base += timed(base_run, 10)
        found.append((f"P2b first page as a {label} vs admin, {rows:,} rows",
                      p50(ours) * 1000, p50(base) * 1000, "ms (p50)"))
    session.close()
    return found
