"""Values the platform computes on save: autonumbers, formulas and rollups (the
fields of those types; what their values are is the types' own)."""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Table, bindparam, func, select, update
from sqlalchemy.sql import Executable

from propolis.metadata.expressions import (
    CompiledExpression,
    OptionTable,
    compile_expression,
    option_attributes,
)
from propolis.platform.db import Dialect, dialect_for
from propolis.platform.fields.numeric import precision
from propolis.platform.fields.registry import field_type
from propolis.platform.fields.types.autonumber import Autonumber as AutonumberType
from propolis.platform.fields.types.formula import Formula as FormulaType
from propolis.platform.fields.types.rollup import Rollup
from propolis.platform.fields.values import quantize
from propolis.platform.storage.platform_tables import autonumber_counters

TOKEN_RE = re.compile(r"\{(YYYY|YY|MM|DD|seq:(\d+))\}")


class Autonumber:
    """A format such as ``KH-{YYYY}{MM}-{seq:5}``: the sequence restarts in every
    period that the format's date parts name (here: every month)."""

    def __init__(self, fmt: str) -> None:
        self.format = fmt
        tokens = {m[1] for m in TOKEN_RE.finditer(fmt)}
        if "DD" in tokens:
            self.period_format = "%Y%m%d"
        elif "MM" in tokens:
            self.period_format = "%Y%m"
        elif tokens & {"YYYY", "YY"}:
            self.period_format = "%Y"
        else:
            self.period_format = ""

    def period(self, day: dt.date) -> str:
        return day.strftime(self.period_format) if self.period_format else "-"

    def render(self, day: dt.date, seq: int) -> str:
        def part(match: re.Match[str]) -> str:
            token = match[1]
            if match[2]:
                return str(seq).zfill(int(match[2]))
            return {"YYYY": f"{day.year:04d}", "YY": f"{day.year % 100:02d}",
                    "MM": f"{day.month:02d}", "DD": f"{day.day:02d}"}[token]

        return TOKEN_RE.sub(part, self.format)


def autonumbers(fields: Iterable[Mapping[str, Any]]) -> list[tuple[str, Autonumber]]:
    """The autonumber fields among ``fields``, each with its numbering."""
    return [(f["api_name"], Autonumber(f["format"])) for f in fields
            if isinstance(field_type(f), AutonumberType)]


@functools.cache
def _counter_statement(dialect: Dialect) -> Executable:
    # One statement takes the next value: it inserts the period's row or, when
    # another transaction got there first, waits for that row's lock and
    # increments it, so concurrent savers in any process never share a number.
    c = autonumber_counters.c
    return dialect.upsert(
        autonumber_counters,
        {"object": bindparam("object"), "field": bindparam("field"),
         "period": bindparam("period"), "value": 1},
        keys=[c.object, c.field, c.period], set_={"value": c.value + 1},
    ).returning(c.value)


def _block_statement(dialect: Dialect) -> Executable:
    # _counter_statement's, taking ``count`` numbers at once
    c = autonumber_counters.c
    stmt = dialect.upsert(
        autonumber_counters,
        {"object": bindparam("object"), "field": bindparam("field"),
         "period": bindparam("period"), "value": bindparam("count")},
        keys=[c.object, c.field, c.period], set_={"value": c.value + bindparam(
            "count")},
    )
    return stmt.returning(c.value)


def next_number(
    conn: Connection, object: str, field: str, numbering: Autonumber, day: dt.date
) -> str:
    """Takes the next number of ``field`` inside the caller's transaction."""
    seq = conn.execute(
        _counter_statement(dialect_for(conn)),
        {"object": object, "field": field, "period": numbering.period(day)},
    ).scalar_one()
    return numbering.render(day, seq)


def reserve_numbers(
    conn: Connection, object: str, field: str, numbering: Autonumber, day: dt.date,
    count: int,
) -> list[str]:
    """The next ``count`` numbers of ``field``, taken in one statement (a bulk
    save): consecutive, and no concurrent saver gets any of them."""
    if count <= 0:
        return []
    last = conn.execute(
        _block_statement(dialect_for(conn)),
        {"object": object, "field": field, "period": numbering.period(day),
         "count": count},
    ).scalar_one()
    return [numbering.render(day, seq) for seq in range(last - count + 1, last + 1)]


@dataclass(frozen=True)
class Formula:
    """A formula field with its type, its compiled expression and the option
    attributes of the fields beside it (what ``option()`` reads)."""

    field: Mapping[str, Any]
    type: FormulaType
    expression: CompiledExpression
    options: OptionTable

    @property
    def name(self) -> str:
        return str(self.field["api_name"])

    def compute(self, variables: Mapping[str, Any], tz: str) -> Any:
        """The field's value; ExpressionError when the result has the wrong type."""
        result = self.expression.evaluate(variables, tz=tz, options=self.options)
        if result is None:
            return None
        returns, as_result = self.type.result(self.field)
        return returns.from_expression(as_result, result)


def ordered_formulas(fields: Iterable[Mapping[str, Any]]) -> list[Formula]:
    """The formula fields in an order where each comes after the formulas it uses."""
    fields = list(fields)
    options = option_attributes(fields)
    formulas = {f["api_name"]: Formula(f, ftype, compile_expression(f["expression"]),
                                       options)
                for f in fields if isinstance(ftype := field_type(f), FormulaType)}
    ordered: list[Formula] = []
    state: dict[str, str] = {}

    def visit(name: str) -> None:
        if state.get(name) == "done":
            return
        if state.get(name) == "visiting":
            raise ValueError(f"formula {name!r} depends on itself")
        state[name] = "visiting"
        for ref in sorted(formulas[name].expression.references & formulas.keys()):
            visit(ref)
        state[name] = "done"
        ordered.append(formulas[name])

    for name in formulas:
        visit(name)
    return ordered


@dataclass(frozen=True)
class RollupLink:
    """Rollup fields of ``parent`` fed by the child object through its field
    ``via``."""

    parent: str
    via: str
    rollups: tuple[Mapping[str, Any], ...]

    @property
    def watched(self) -> frozenset[str]:
        """Child fields whose change changes the parent's values."""
        return frozenset({self.via, *(r["field"] for r in self.rollups
                                      if r.get("field"))})


def rollup_links(
    objects: Mapping[str, Mapping[str, Any]], child: str
) -> list[RollupLink]:
    """Every link through which records of ``child`` feed rollups elsewhere."""
    grouped: dict[tuple[str, str], list[Mapping[str, Any]]] = {}
    for parent, doc in objects.items():
        for field in doc["fields"]:
            if isinstance(field_type(field), Rollup) and field["from"] == child:
                grouped.setdefault((parent, field["via"]), []).append(field)
    return [RollupLink(p, v, tuple(r)) for (p, v), r in grouped.items()]


def empty_rollup(field: Mapping[str, Any]) -> Decimal | None:
    """A rollup's value over no children: counts and sums are 0, the rest empty."""
    return Decimal(0) if field["function"] in ("count", "sum") else None


def refresh_rollups(
    conn: Connection,
    link: RollupLink,
    child: Table,
    parent: Table,
    parent_ids: Collection[str],
) -> None:
    """Recomputes the link's rollup values of the given parents in SQL over their
    children that are not in the recycle bin."""
    ids = sorted({i for i in parent_ids if i})
    if not ids:
        return
    via = child.c[link.via]
    columns = [via.label("pid"), func.count().label("n")]
    for r in link.rollups:
        name, fn = r["api_name"], r["function"]
        if fn == "count":
            continue
        col = child.c[r["field"]]
        if fn == "avg":
            # the mean is taken in Decimal: an SQL avg() is a float on SQLite
            columns += [func.sum(col).label(f"s_{name}"),
                        func.count(col).label(f"c_{name}")]
        else:
            columns.append(getattr(func, fn)(col).label(f"v_{name}"))
    found = {row.pid: row._mapping for row in conn.execute(
        select(*columns).where(via.in_(ids), child.c.deleted_at.is_(None))
        .group_by(via))}
    params = []
    for pid in ids:
        row = found.get(pid)
        values: dict[str, Any] = {"_pid": pid}
        for r in link.rollups:
            name, fn = r["api_name"], r["function"]
            if row is None:
                values[f"_v_{name}"] = empty_rollup(r)
            elif fn == "count":
                values[f"_v_{name}"] = Decimal(row["n"])
            elif fn == "avg":
                total, n = row[f"s_{name}"], row[f"c_{name}"]
                values[f"_v_{name}"] = (quantize(Decimal(total) / n, precision(r))
                                        if n else None)
            else:
                value = row[f"v_{name}"]
                values[f"_v_{name}"] = (Decimal(0) if value is None and fn == "sum"
                                        else value)
        params.append(values)
    stmt = (update(parent).where(parent.c.id == bindparam("_pid"))
            .values({r["api_name"]: bindparam(f"_v_{r['api_name']}")
                     for r in link.rollups}))
    conn.execute(stmt, params)
