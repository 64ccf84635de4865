"""The chart engine: a chart (``kind: chart``) as ONE SQL statement over its
object's generated table, grouped in the database, for one user.

What the user may read is the record service's visibility condition
(``AccessPolicy.condition``): a superior's totals include everyone's below them, a
peer's are left out. A field hidden from the user can be neither measured, grouped
by nor filtered on (403 naming it). A dimension ``rollup: tree`` on a user or
department field joins the closure table of the superior chain or the department
tree, so each person's or department's row totals everything at or below it. A
bucketed date dimension is labelled by the database in the enterprise's time zone
(``buckets``).

Only what is folded over the few grouped rows happens in Python: formulas over the
measures, comparisons with the bucket before (``mom``) and a year before (``yoy``)
— the statement reads the extra range they need — and "others" of a top-N."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from sqlalchemy import (
    ColumnElement,
    Connection,
    Table,
    false,
    func,
    or_,
    select,
    type_coerce,
)

from propolis.metadata.chart_checks import chart_fields, value_type
from propolis.metadata.expressions import ExpressionError, compile_expression
from propolis.platform.db import dialect_for
from propolis.platform.errors import AppError, NotFound, _
from propolis.platform.fields.registry import field_type
from propolis.platform.fields.values import to_json_value
from propolis.platform.meta.effective import Effective
from propolis.platform.permissions.policy import READ, AccessPolicy
from propolis.platform.query.filters import compile_filters
from propolis.platform.storage.platform_tables import department_tree, user_hierarchy
from propolis.platform.storage.types import ExactDecimal
from propolis.reports.buckets import bucket_label
from propolis.reports.periods import Period, local_start, parse_period, period_of

CLOSURES = {"user": user_hierarchy, "department": department_tree}
# the system fields a run may be narrowed to a subtree of (``within``)
SUBTREES = {"owner": "user", "owner_department": "department"}
OTHERS = {"zh": "其他", "en": "Others"}


def hidden_field(name: str) -> AppError:
    return AppError("hidden_field", _("You may not see this field"),
                    {name: [_("is hidden from you and cannot be used in a chart")]},
                    status=403)


@dataclass
class _Dimension:
    name: str
    column: Any
    name_column: Any | None = None
    bucket: str | None = None
    tree: bool = False


class ChartEngine:
    """Runs charts for one user: on ``conn`` (the enterprise's storage), with its
    ``effective`` metadata, the user's ``policy`` and the enterprise's ``tz``."""

    def __init__(self, conn: Connection, effective: Effective, policy: AccessPolicy,
                 tz: str) -> None:
        self.conn = conn
        self.effective = effective
        self.policy = policy
        self.tz = tz

    def run(self, chart: Mapping[str, Any], *, filters: Any = None,
            start: dt.date | None = None, end: dt.date | None = None,
            within: Mapping[str, str] | None = None) -> dict[str, Any]:
        """``{"columns", "rows"}`` (CONTRACT §6) over the records the user may
        read, with ``filters`` (the query API's) and the date field between
        ``start`` and ``end`` (both included) besides the chart's own.
        ``within`` narrows them to the subtree of a user (``{"owner": id}``: the
        records of that user and everyone below them) or of a department
        (``{"owner_department": id}``)."""
        name = chart["object"]
        obj = self.effective.object(name)
        if obj is None:
            raise NotFound("not_found", _("No object '${name}'",
                                          mapping={"name": name}))
        self.policy.require(name, READ)
        hidden = self.policy.hidden(name)
        fields = chart_fields(obj.doc)
        for used in _used_fields(chart, filters):
            if used in hidden:
                raise hidden_field(used)
        table = self.effective.tables.main[name]
        conditions: list[ColumnElement[bool]] = [table.c.deleted_at.is_(None)]
        # shaped for this user, as a page of records is (``AccessPolicy._shape``):
        # no branch for records they follow when they follow none
        visible = self.policy.branches(name, table, READ, self.conn)
        if visible is not None:
            conditions.append(or_(*visible) if visible else false())
        own = {n: f for n, f in obj.fields.items() if n not in hidden}
        conditions += compile_filters(own, table, [*chart["filters"], *(filters or [])],
                                      dialect_for(self.conn))
        for field, node in (within or {}).items():
            closure = CLOSURES[SUBTREES[field]]
            conditions.append(table.c[field].in_(
                select(closure.c.descendant).where(closure.c.ancestor == node)))
        compare = list(chart["compare"])
        date_field = chart["date_field"]
        if (start or end) and date_field is None:
            raise AppError("invalid", _("The chart has no date field"),
                           {"from": [_("this chart cannot be limited to dates")]})
        unit = next((d["bucket"] for d in chart["dimensions"] if d["bucket"]), None)
        first = start
        if start is not None and unit is not None and compare:
            bucket = period_of(start, unit)
            first = min(p.start for p in _previous(bucket, compare))
        if date_field is not None:
            conditions += self._date_range(table, fields[date_field], first, end)

        query_from: Any = table
        dims = []
        for dim in chart["dimensions"]:
            built, query_from = self._dimension(table, query_from, fields[dim["field"]],
                                                dim)
            dims.append(built)
        measures = [m for m in chart["measures"] if m["formula"] is None]
        columns = []
        for dim in dims:
            columns.append(dim.column.label(dim.name))
            if dim.name_column is not None:
                columns.append(dim.name_column.label(f"{dim.name}__name"))
        columns += [self._aggregate(table, fields, m).label(m["api_name"])
                    for m in measures]
        groups = [c for d in dims for c in (d.column, d.name_column) if c is not None]
        stmt = select(*columns).select_from(query_from).where(*conditions)
        if groups:
            stmt = stmt.group_by(*groups)
        rows = [dict(r._mapping) for r in self.conn.execute(stmt)]
        if not groups and not rows:
            rows = [{m["api_name"]: None for m in measures}]
        for row in rows:
            for m in measures:
                if m["function"] == "count":
                    row[m["api_name"]] = int(row[m["api_name"]] or 0)
        if compare and unit is not None:
            rows = self._compare(rows, dims, measures, compare, unit, start)
        formulas = [m for m in chart["measures"] if m["formula"] is not None]
        for row in rows:
            self._formulas(row, formulas)
        if chart["top"] is not None:
            rows = _top(rows, chart["top"], dims, chart["measures"])
        base = _base_filters(chart, fields, date_field, start, end)
        for row in rows:
            self._finish(row, dims, name, base, fields)
        return {"columns": self._columns(chart, dims, fields, compare),
                "rows": [{k: to_json_value(v, self.tz) for k, v in row.items()}
                         for row in rows]}

    # -- the statement ---------------------------------------------------------------

    def _date_range(self, table: Table, field: Mapping[str, Any],
                    start: dt.date | None, end: dt.date | None
                    ) -> list[ColumnElement[bool]]:
        column = table.c[field["api_name"]]
        found = []
        zone = ZoneInfo(self.tz)
        datetime = value_type(field) == "datetime"
        if start is not None:
            found.append(column >= (local_start(start, zone) if datetime else start))
        if end is not None:
            after = end + dt.timedelta(days=1)
            found.append(column < (local_start(after, zone) if datetime else after))
        return found

    def _dimension(self, table: Table, query_from: Any, field: Mapping[str, Any],
                   dim: Mapping[str, Any]) -> tuple[_Dimension, Any]:
        name = field["api_name"]
        column = table.c[name]
        kind = value_type(field)
        if dim["bucket"]:
            label = bucket_label(self.conn, column, dim["bucket"], self.tz,
                                 kind == "datetime")
            return _Dimension(name, label, bucket=dim["bucket"]), query_from
        ftype = field_type(field)
        if not ftype.orders(field):
            # a list, a file, a place …: no value to group by
            raise AppError("invalid", _("Cannot group by this field"),
                           {name: [_("group by a text, number, date, select, "
                                     "boolean or reference field")]})
        target = ftype.reference_target(field) or (kind if kind in CLOSURES else None)
        tree = bool(dim["rollup"])
        if tree:
            closure = CLOSURES[kind].alias(f"tree_{name}")
            query_from = query_from.join(closure, closure.c.descendant == column)
            column = closure.c.ancestor
        if target is None or target not in self.effective.tables.main:
            return _Dimension(name, column, tree=tree), query_from
        other = self.effective.tables.main[target].alias(f"to_{name}")
        label_field = self.effective.objects[target].doc["name_field"]
        query_from = query_from.outerjoin(other, other.c.id == column)
        return (_Dimension(name, column, other.c[label_field], tree=tree),
                query_from)

    def _aggregate(self, table: Table, fields: Mapping[str, Mapping[str, Any]],
                   measure: Mapping[str, Any]) -> Any:
        function = measure["function"]
        if measure["field"] is None:
            return func.count()
        column = table.c[measure["field"]]
        if function == "count":
            return func.count(column)
        value: Any = column
        if measure["weight"] is not None:
            weight = table.c[measure["weight"]]
            scale = _scale(column) + _scale(weight)
            value = type_coerce(column * weight, ExactDecimal(scale))
        return getattr(func, function)(value, type_=value.type)

    # -- over the grouped rows -------------------------------------------------------

    def _compare(self, rows: list[dict[str, Any]], dims: Sequence[_Dimension],
                 measures: Sequence[Mapping[str, Any]], compare: Sequence[str],
                 unit: str, start: dt.date | None) -> list[dict[str, Any]]:
        bucket = next(d.name for d in dims if d.bucket)
        others = [d.name for d in dims if not d.bucket]

        def key(row: Mapping[str, Any], label: str) -> tuple[Any, ...]:
            return (label, *(row[o] for o in others))

        found = {key(r, r[bucket]): r for r in rows if r[bucket] is not None}
        shown_from = period_of(start, unit).start if start else None
        out = []
        for row in rows:
            if row[bucket] is None:
                out.append(row)
                continue
            period = parse_period(row[bucket], bucket, (unit,))
            if shown_from is not None and period.start < shown_from:
                continue
            for how in compare:
                before = period.previous() if how == "mom" else period.year_before()
                previous = found.get(key(row, before.label), {})
                for m in measures:
                    row[f"{m['api_name']}_{how}"] = ratio(row[m["api_name"]],
                                                           previous.get(m["api_name"]))
            out.append(row)
        return out

    def _formulas(self, row: dict[str, Any], formulas: Sequence[Mapping[str, Any]]
                  ) -> None:
        for m in formulas:
            values = {k: (Decimal(v) if isinstance(v, int) else v)
                      for k, v in row.items()}
            try:
                row[m["api_name"]] = compile_expression(m["formula"]).evaluate(
                    values, tz=self.tz)
            except (ExpressionError, ArithmeticError):
                row[m["api_name"]] = None  # a division by an empty total

    def _finish(self, row: dict[str, Any], dims: Sequence[_Dimension], object: str,
                base: list[tuple[str, str]], fields: Mapping[str, Mapping[str, Any]]
                ) -> None:
        for dim in dims:
            if dim.name_column is not None:
                row[f"{dim.name}_name"] = row.pop(f"{dim.name}__name", None)
        if row.get("others") or any(d.tree for d in dims):
            return  # a subtree or the rest is no list filter
        # a bucket narrows the run's date range to itself
        narrowed = {f"{side}.{d.name}" for d in dims if d.bucket
                    for side in ("min", "max")}
        params = [p for p in base if p[0] not in narrowed]
        for dim in dims:
            value = row[dim.name]
            if value is None:
                params.append((f"empty.{dim.name}", "1"))
            elif dim.bucket or type(value) is dt.date:
                # a day or bucket is a range of the list's date filter
                period = (parse_period(value, dim.name, (dim.bucket,)) if dim.bucket
                          else period_of(value, "day"))
                datetime = value_type(fields[dim.name]) == "datetime"
                params += [(f"min.{dim.name}", _wall(period.start, datetime, False)),
                           (f"max.{dim.name}", _wall(period.last_day, datetime, True))]
            else:
                params.append((f"f.{dim.name}", _param(value)))
        row["drill"] = f"/o/{object}?{urlencode(params)}" if params else f"/o/{object}"

    def _columns(self, chart: Mapping[str, Any], dims: Sequence[_Dimension],
                 fields: Mapping[str, Mapping[str, Any]], compare: Sequence[str]
                 ) -> list[dict[str, Any]]:
        columns = []
        for dim, doc in zip(dims, chart["dimensions"], strict=True):
            field = fields[dim.name]
            columns.append({"api_name": dim.name, "role": "dimension",
                            "type": field["type"], "bucket": dim.bucket,
                            "label": doc["label"] or field.get("label")
                            or {"zh": dim.name, "en": dim.name}})
        for m in chart["measures"]:
            columns.append({"api_name": m["api_name"], "role": "measure",
                            "label": m["label"]})
            if m["formula"] is None:
                columns += [{"api_name": f"{m['api_name']}_{how}", "role": how,
                             "label": m["label"]} for how in compare]
        return columns


def _used_fields(chart: Mapping[str, Any], filters: Any) -> list[str]:
    used = [f for m in chart["measures"] for f in (m["field"], m["weight"]) if f]
    used += [d["field"] for d in chart["dimensions"]]
    used += [c["field"] for c in chart["filters"]]
    if isinstance(filters, list):
        used += [c["field"] for c in filters
                 if isinstance(c, dict) and isinstance(c.get("field"), str)]
    return used + ([chart["date_field"]] if chart["date_field"] else [])


def _scale(column: Any) -> int:
    return int(getattr(column.type, "scale", 0) or 0)


def _previous(period: Period, compare: Sequence[str]) -> list[Period]:
    return [period.previous() if how == "mom" else period.year_before()
            for how in compare]


def ratio(current: Any, previous: Any) -> float | None:
    if not previous or current is None:
        return None
    return round(float((Decimal(current) - Decimal(previous)) / Decimal(previous)), 4)


def _top(rows: list[dict[str, Any]], top: Mapping[str, Any],
         dims: Sequence[_Dimension], measures: Sequence[Mapping[str, Any]]
         ) -> list[dict[str, Any]]:
    by = top["by"]
    ordered = sorted(rows, key=lambda r: (r.get(by) is None, -(r.get(by) or 0)))
    kept, rest = ordered[:top["n"]], ordered[top["n"]:]
    if not rest or not top["others"]:
        return kept
    others: dict[str, Any] = {d.name: None for d in dims}
    others["others"] = True
    for dim in dims:
        if dim.name_column is not None:
            others[f"{dim.name}__name"] = OTHERS["zh"]
    for m in measures:
        values = [r[m["api_name"]] for r in rest if r.get(m["api_name"]) is not None]
        function = m["function"]
        if function in ("count", "sum"):
            others[m["api_name"]] = sum(values) if values else 0
        elif function in ("min", "max"):
            others[m["api_name"]] = (min if function == "min" else max)(values) \
                if values else None
        else:
            others[m["api_name"]] = None  # an average of averages means nothing
    return [*kept, others]


def _base_filters(chart: Mapping[str, Any], fields: Mapping[str, Mapping[str, Any]],
                  date_field: str | None, start: dt.date | None, end: dt.date | None
                  ) -> list[tuple[str, str]]:
    """The chart's own equality filters and date range as list filters."""
    params = [(f"f.{c['field']}", _param(c["value"])) for c in chart["filters"]
              if c["op"] == "eq" and c.get("value") is not None]
    params += [(f"f.{c['field']}", _param(v)) for c in chart["filters"]
               if c["op"] == "in" and isinstance(c.get("value"), list)
               for v in c["value"]]
    if date_field is not None:
        datetime = value_type(fields[date_field]) == "datetime"
        if start is not None:
            params.append((f"min.{date_field}", _wall(start, datetime, False)))
        if end is not None:
            params.append((f"max.{date_field}", _wall(end, datetime, True)))
    return params


def _wall(day: dt.date, datetime: bool, last: bool) -> str:
    if not datetime:
        return day.isoformat()
    return f"{day.isoformat()}T{'23:59' if last else '00:00'}"


def _param(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
