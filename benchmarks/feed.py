"""P8: the work feed's first page for an employee of a large company, through the
feed (every feed object's page with the access policy's audience condition,
merged) vs the hand-written query of the same page on the same tables."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from sqlalchemy import insert, literal, or_, select, text

from benchmarks.common import Setup, p50, timed
from benchmarks.runs import Row, effective
from propolis.platform.ids import new_id
from propolis.platform.permissions.actor import Actor
from propolis.platform.permissions.policy import AccessPolicy
from propolis.platform.records.services import RecordService
from propolis.platform.social.services import SocialService
from propolis.platform.storage.platform_tables import (
    DEPARTMENTS,
    USERS,
    department_tree,
    record_audience,
)

PAGE = 20
BATCH = 20000


def company(s: Setup, people: int, rng: random.Random
            ) -> tuple[list[str], list[str], dict[str, str]]:
    """``people`` employees in 10 divisions of 10 teams each (every user in a
    team, each team's first member the superior of the rest)."""
    eff = effective(s)
    users = eff.tables.main["user"]
    departments = eff.tables.main["department"]
    now = dt.datetime.now(dt.UTC)
    system = {"owner": s.admin_id, "created_by": s.admin_id, "created_at": now,
              "updated_by": s.admin_id, "updated_at": now, "life_status": "normal",
              "version": 1}
    divisions = [new_id() for _ in range(10)]
    teams = [new_id() for _ in range(100)]
    rows = [{"id": d, "name": f"事业部 {i}", **system} for i, d in enumerate(divisions)]
    rows += [{"id": team, "name": f"小组 {i}", "parent": divisions[i // 10], **system}
             for i, team in enumerate(teams)]
    ids = [new_id() for _ in range(people)]
    home = {user: teams[i % len(teams)] for i, user in enumerate(ids)}
    first: dict[str, str] = {}
    people_rows = []
    for i, user in enumerate(ids):
        team = home[user]
        leader = first.setdefault(team, user)
        people_rows.append({
            "id": user, "name": f"员工 {i}", "phone": f"137{i:08d}",
            "roles": ["employee"], "status": "active", "main_department": team,
            "superior": leader if leader != user else None, **system})
    with s.database.tenant_engine(s.account).begin() as conn:
        conn.execute(insert(departments), rows)
        conn.execute(insert(users), people_rows)
        DEPARTMENTS.rebuild(conn)
        USERS.rebuild(conn)
    return ids, teams + divisions, home


def load_posts(s: Setup, posts: int, ids: list[str], departments: list[str],
               rng: random.Random) -> None:
    """``posts`` shares, oldest first, of mixed audiences: 5% to everyone, 30% to
    a team or division, 50% to one to three people, 15% to nobody (the author's
    own), each with its audience rows as a save writes them."""
    eff = effective(s)
    table = eff.tables.main["share"]
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    engine = s.database.tenant_engine(s.account)
    for offset in range(0, posts, BATCH):
        values: list[dict[str, Any]] = []
        audience: list[dict[str, Any]] = []
        for i in range(offset, min(offset + BATCH, posts)):
            author = rng.choice(ids)
            at = start + dt.timedelta(seconds=i * 7)
            record_id = new_id()
            values.append({
                "id": record_id, "owner": author, "created_by": author,
                "created_at": at, "updated_by": author, "updated_at": at,
                "life_status": "normal", "version": 1,
                "content": f"第 {i} 条分享", "search_text": f"第 {i} 条分享"})
            roll = rng.random()
            if roll < 0.05:
                targets = [("all", "")]
            elif roll < 0.35:
                targets = [("department", rng.choice(departments))]
            elif roll < 0.85:
                targets = [("user", u) for u in set(rng.sample(ids, rng.randint(1, 3)))]
            else:
                targets = []
            audience += [{"object": "share", "record_id": record_id, "kind": k,
                          "target": target, "source": "record"}
                         for k, target in targets]
        with engine.begin() as conn:
            conn.execute(insert(table), values)
            if audience:
                conn.execute(insert(record_audience), audience)
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").execute(
                text("VACUUM ANALYZE"))


def p8_feed(s: Setup, people: int, posts: int) -> list[Row]:
    rng = random.Random(8)
    ids, departments, home = company(s, people, rng)
    load_posts(s, posts, ids, departments, rng)
    eff = effective(s)
    table = eff.tables.main["share"]
    session = s.database.tenant_session(s.account)
    engine = s.database.tenant_engine(s.account)
    me = ids[len(ids) // 2]
    actor = Actor(me, home[me], frozenset({"employee"}))

    def ours() -> None:
        with session.begin():
            policy = AccessPolicy(eff, actor)
            records = RecordService(session, eff, actor, policy=policy)
            found = SocialService(session, eff, actor, policy, records,
                                  "Asia/Shanghai").feed(limit=PAGE)
            assert len(found["items"]) == PAGE

    # What a developer would write for the same page: the user's departments and
    # those above them looked up once, then one statement.
    with engine.connect() as conn:
        above = list(conn.execute(select(department_tree.c.ancestor).where(
            department_tree.c.descendant == home[me])).scalars())
    rows = record_audience.c
    sent = select(rows.record_id).where(rows.object == "share", or_(
        (rows.kind == "user") & (rows.target == me),
        (rows.kind == "all") & (rows.target == ""),
        (rows.kind == "department") & rows.target.in_(above)))
    stmt = (select(table).where(table.c.deleted_at.is_(None),
                                or_(table.c.owner == literal(me),
                                    table.c.id.in_(sent)))
            .order_by(table.c.id.desc()).limit(PAGE + 1))

    def baseline() -> None:
        with engine.connect() as conn:
            assert len(conn.execute(stmt).all()) == PAGE + 1

    ours()  # warm caches
    baseline()
    mine, base = [], []
    for _ in range(5):
        mine += timed(ours, 10)
        base += timed(baseline, 10)
    session.close()
    return [(f"P8 feed first page ({PAGE}), {people:,} people, {posts:,} posts",
             p50(mine) * 1000, p50(base) * 1000, "ms (p50)")]
