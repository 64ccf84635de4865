"""P5: a chart through the chart engine against the same grouped SQL by hand."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import func, select

from benchmarks.common import Setup, p50, timed
from benchmarks.runs import Organisation, Row, effective
from propolis.metadata.validation import validate_documents
from propolis.platform.permissions.actor import Actor
from propolis.platform.permissions.policy import AccessPolicy
from propolis.platform.storage.platform_tables import department_tree, user_hierarchy
from propolis.reports.engine import ChartEngine

CHART = {"kind": "chart", "api_name": "pipeline", "object": "deal",
         "measures": [{"api_name": "amount", "function": "sum", "field": "amount"}],
         "dimensions": [{"field": "status"},
                        {"field": "owner_department", "rollup": "tree"}]}


def p5_chart(s: Setup, org: Organisation, rows: int) -> Row:
    """Amount by status × owner department rolled up the department tree, as the
    top manager of 5,000 people (about half the rows are theirs): the engine's
    one statement (visibility condition, closure join, department names) vs the
    statement a developer would write for the same figures; p50."""
    eff = effective(s)
    existing = {n: o.doc for n, o in eff.objects.items()}
    chart = validate_documents([CHART], existing=existing)[0]
    actor = Actor(org.top, org.departments[org.top], frozenset({"employee"}))
    engine = s.database.tenant_engine(s.account)
    table = eff.tables.main["deal"]
    names = eff.tables.main["department"]
    tree = department_tree.alias("tree")
    stmt = (select(table.c.status, tree.c.ancestor, names.c.name,
                   func.sum(table.c.amount, type_=table.c.amount.type))
            .select_from(table.join(tree, tree.c.descendant == table.c.owner_department)
                         .outerjoin(names, names.c.id == tree.c.ancestor))
            .where(table.c.deleted_at.is_(None),
                   table.c.owner.in_(select(user_hierarchy.c.descendant).where(
                       user_hierarchy.c.ancestor == org.top)))
            .group_by(table.c.status, tree.c.ancestor, names.c.name))
    found: dict[str, Any] = {}

    def ours() -> None:
        with engine.connect() as conn:
            result = ChartEngine(conn, eff, AccessPolicy(eff, actor),
                                 "Asia/Shanghai").run(chart)
            found["ours"] = sum(Decimal(str(r["amount"])) for r in result["rows"])

    def base() -> None:
        with engine.connect() as conn:
            found["base"] = sum(r[3] for r in conn.execute(stmt))

    ours(), base()  # warm caches
    assert found["ours"] == found["base"], found
    mine, theirs = [], []
    for _ in range(3):
        mine += timed(ours, 3)
        theirs += timed(base, 3)
    return (f"P5 chart: amount by status × department tree as a top manager, "
            f"{rows:,} rows", p50(mine) * 1000, p50(theirs) * 1000, "ms (p50)")
