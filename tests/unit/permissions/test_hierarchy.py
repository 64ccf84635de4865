"""The superior chain and the department tree as closure tables, kept in step by
the record service in the saving transaction."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Connection, select

from propolis.platform.errors import AppError
from propolis.platform.permissions.actor import Actor
from propolis.platform.records.services import RecordService
from propolis.platform.storage.hierarchy import Closure
from propolis.platform.storage.platform_tables import DEPARTMENTS, USERS
from tests.unit.permissions.conftest import Org, Services

SYSTEM = Actor(None)


def rows(conn: Connection, closure: Closure) -> set[tuple[str, str, int]]:
    c = closure.table.c
    return {tuple(r) for r in conn.execute(select(c.ancestor, c.descendant, c.depth))}


def chain_of(conn: Connection, closure: Closure, node: str) -> set[tuple[str, int]]:
    c = closure.table.c
    return {(r.ancestor, r.depth) for r in conn.execute(
        select(c.ancestor, c.depth).where(c.descendant == node))}


def new_user(svc: RecordService, name: str, superior: str | None, i: int
             ) -> dict[str, Any]:
    return svc.create("user", {"name": name, "phone": f"1361000{i:04d}",
                               "superior": superior})


def test_every_user_sits_under_their_whole_chain(org: Org, as_user: Services) -> None:
    svc = as_user(SYSTEM)
    conn = svc.session.connection()
    u = org.users
    assert chain_of(conn, USERS, u["low"]) == {(u["low"], 0), (u["mid"], 1),
                                                (u["boss"], 2)}
    assert chain_of(conn, USERS, u["stray"]) == {(u["stray"], 0)}
    d = org.departments
    assert chain_of(conn, DEPARTMENTS, d["east"]) == {(d["east"], 0), (d["sales"], 1),
                                                      (d["root"], 2)}


def test_moving_a_user_moves_everyone_below_them(org: Org, as_user: Services) -> None:
    svc = as_user(SYSTEM)
    conn = svc.session.connection()
    u = org.users
    below = new_user(svc, "new", u["low"], 1)["id"]
    svc.update("user", u["mid"], {"superior": u["stray"]})
    assert chain_of(conn, USERS, below) == {(below, 0), (u["low"], 1), (u["mid"], 2),
                                            (u["stray"], 3)}
    assert (u["boss"], 3) not in chain_of(conn, USERS, below)
    svc.update("user", u["mid"], {"superior": None})
    assert chain_of(conn, USERS, below) == {(below, 0), (u["low"], 1), (u["mid"], 2)}
    svc.update("user", u["mid"], {"superior": u["boss"]})
    # the same rows as building it from scratch
    before = rows(conn, USERS)
    USERS.rebuild(conn)
    assert rows(conn, USERS) == before


@pytest.mark.parametrize("whom", ["boss", "mid", "low"])
def test_a_user_cannot_end_up_above_themself(org: Org, as_user: Services,
                                             whom: str) -> None:
    svc = as_user(SYSTEM)
    conn = svc.session.connection()
    before = rows(conn, USERS)
    with pytest.raises(AppError) as info:
        svc.update("user", org.users["boss"], {"superior": org.users[whom]})
    assert info.value.status == 400
    assert list(info.value.fields) == ["superior"]
    assert rows(conn, USERS) == before
    assert svc.get("user", org.users["boss"])["superior"] is None


def test_departments_refuse_loops_and_follow_the_recycle_bin(
        org: Org, as_user: Services) -> None:
    svc = as_user(SYSTEM)
    conn = svc.session.connection()
    d = org.departments
    with pytest.raises(AppError) as info:
        svc.update("department", d["root"], {"parent": d["east"]})
    assert list(info.value.fields) == ["parent"]
    leaf = svc.create("department", {"name": "leaf", "parent": d["east"]})["id"]
    svc.delete("department", d["east"])
    # the subtree leaves everything above the deleted department
    assert chain_of(conn, DEPARTMENTS, leaf) == {(leaf, 0), (d["east"], 1)}
    svc.restore("department", d["east"])
    assert chain_of(conn, DEPARTMENTS, leaf) == {
        (leaf, 0), (d["east"], 1), (d["sales"], 2), (d["root"], 3)}


def test_rebuilding_cuts_a_loop_left_in_old_data(org: Org, as_user: Services) -> None:
    """Data written before the tables existed may hold a loop; the upgrade still
    finishes, each user keeping the chain up to where the loop closes."""
    svc = as_user(SYSTEM)
    conn = svc.session.connection()
    users = org.tenant.effective.tables.main["user"]
    u = org.users
    conn.execute(users.update().where(users.c.id == u["boss"])
                 .values(superior=u["low"]))
    USERS.rebuild(conn)
    assert chain_of(conn, USERS, u["boss"]) == {(u["boss"], 0), (u["low"], 1),
                                                (u["mid"], 2)}
