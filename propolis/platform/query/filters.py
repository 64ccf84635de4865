"""Filters and sort orders from the query API, checked against the object's fields
and turned into SQLAlchemy expressions on its generated table.

``[{"field", "op", "value"}]`` with ops ``eq ne gt gte lt lte in contains startswith
isnull between``; which ops a field takes and what its value must be follow from the
field's type. ``ne`` also matches empty values (SQL's ``<>`` would silently drop
them, which is never what someone asking for "not X" means).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Table,
    and_,
    bindparam,
    exists,
    func,
    literal,
    or_,
    select,
)
from sqlalchemy.dialects.postgresql import JSONB

from propolis.platform.errors import AppError, t
from propolis.platform.fields.values import (
    SYSTEM_FIELDS,
    ValueProblem,
    kind,
    parse_date,
    parse_datetime,
    parse_time,
    to_decimal,
)

ORDERED = ("eq", "ne", "gt", "gte", "lt", "lte", "in", "between", "isnull")
OPS: dict[str, frozenset[str]] = {
    "string": frozenset({*ORDERED, "contains", "startswith"}),
    "richtext": frozenset({"contains", "isnull"}),
    "number": frozenset(ORDERED),
    "date": frozenset(ORDERED),
    "time": frozenset(ORDERED),
    "datetime": frozenset(ORDERED),
    "boolean": frozenset({"eq", "ne", "isnull"}),
    "select": frozenset({"eq", "ne", "in", "isnull"}),
    "multiselect": frozenset({"contains", "isnull"}),
    "reference": frozenset({"eq", "ne", "in", "isnull"}),
    "files": frozenset({"isnull"}),
    "area": frozenset({"isnull"}),
    "location": frozenset({"isnull"}),
}
# Kinds whose values have an order that sorting and keyset pages can use.
SORTABLE = frozenset({"string", "number", "date", "time", "datetime", "boolean",
                      "select", "reference"})
MAX_IN = 500
LIKE_ESCAPE = "\\"


def invalid(name: str, zh: str, en: str) -> AppError:
    return AppError("invalid_query", t("查询条件有误", "Invalid query"),
                    {name: [t(zh, en)]})


def like_escape(text: str) -> str:
    """``text`` as a literal inside a LIKE pattern (``%`` and ``_`` match only
    themselves)."""
    return (text.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2)
            .replace("%", LIKE_ESCAPE + "%").replace("_", LIKE_ESCAPE + "_"))


@dataclass(frozen=True)
class Target:
    """A field that a filter or sort names, with its column."""

    name: str
    field: Mapping[str, Any]
    kind: str
    column: Any


def resolve(
    fields: Mapping[str, Mapping[str, Any]], table: Table, name: Any
) -> Target:
    """The field named in a filter or sort: a field of the object or a system field;
    a 400 naming it when it does not exist or is read through a lookup."""
    if not isinstance(name, str):
        raise invalid("field", "应为字段名", "must be a field name")
    field = fields.get(name) or SYSTEM_FIELDS.get(name)
    if field is None:
        raise invalid(name, "没有这个字段", "unknown field")
    ftype = field["type"]
    if ftype in ("quote", "table"):
        raise invalid(name, "引用字段和子表不能用于筛选或排序",
                      "quote and table fields cannot be filtered or sorted on")
    return Target(name, field, kind(field), table.c[name])


FILTER_NUMBER_LIMIT = 10**18


def _scalar(target: Target, value: Any) -> Any:
    """One filter operand as the column's Python value."""
    if value is None:
        raise ValueProblem(t("不能为空（查空值请用 isnull）", "must not be null "
                             "(use isnull for empty values)"))
    k = target.kind
    if k in ("string", "richtext", "reference"):
        if not isinstance(value, str):
            raise ValueProblem(t("应为文本", "must be text"))
        return value
    if k == "number":
        number = to_decimal(value)
        # beyond what any column holds exactly (see records.schema): refuse it here
        # rather than let the driver overflow
        if not number.is_finite() or abs(number) >= FILTER_NUMBER_LIMIT:
            raise ValueProblem(t("数值超出范围", "the number is out of range"))
        if isinstance(target.column.type, Integer):
            if number != number.to_integral_value():
                raise ValueProblem(t("应为整数", "must be an integer"))
            return int(number)
        return number
    if k == "boolean":
        if not isinstance(value, bool):
            raise ValueProblem(t("应为 true 或 false", "must be true or false"))
        return value
    if k in ("select", "multiselect"):
        if not isinstance(value, str) or value not in {
                o["value"] for o in target.field.get("options", ())}:
            raise ValueProblem(t("不是可选的值", "is not one of the options"))
        return value
    parse: dict[str, Callable[[Any], Any]] = {
        "date": parse_date, "time": parse_time, "datetime": parse_datetime}
    return parse[k](value)


def multiselect_has(column: Any, value: str, dialect: str) -> ColumnElement[bool]:
    if dialect == "postgresql":
        return column.op("@>")(bindparam(None, [value], type_=JSONB))
    item = func.json_each(column).table_valued("value")
    return exists(select(literal(1)).select_from(item).where(item.c.value == value))


def condition(
    target: Target, op: Any, value: Any, dialect: str
) -> ColumnElement[bool]:
    """One filter as a SQL condition; AppError 400 naming the field when the op
    does not suit the field or the value is of the wrong type."""
    allowed = OPS.get(target.kind, frozenset())
    if not isinstance(op, str) or op not in allowed:
        ops = " ".join(sorted(allowed)) or "-"
        raise invalid(target.name, f"不支持的运算 {op}（可用：{ops}）",
                      f"unsupported op {op!r} (allowed: {ops})")
    col = target.column
    try:
        if op == "isnull":
            if not isinstance(value, bool):
                raise ValueProblem(t("应为 true 或 false", "must be true or false"))
            return col.is_(None) if value else col.is_not(None)
        if op == "in":
            if not isinstance(value, list) or not 0 < len(value) <= MAX_IN:
                raise ValueProblem(t(f"应为 1 到 {MAX_IN} 个值的列表",
                                     f"must be a list of 1 to {MAX_IN} values"))
            return col.in_([_scalar(target, v) for v in value])
        if op == "between":
            if not isinstance(value, list) or len(value) != 2:
                raise ValueProblem(t("应为 [下限, 上限]", "must be [low, high]"))
            return col.between(_scalar(target, value[0]), _scalar(target, value[1]))
        operand = _scalar(target, value)
    except ValueProblem as problem:
        raise AppError("invalid_query", t("查询条件有误", "Invalid query"),
                       {target.name: [problem.message]}) from None
    if op == "contains":
        if target.kind == "multiselect":
            return multiselect_has(col, operand, dialect)
        return col.ilike(f"%{like_escape(operand)}%", escape=LIKE_ESCAPE)
    if op == "startswith":
        return col.ilike(f"{like_escape(operand)}%", escape=LIKE_ESCAPE)
    if op == "ne":
        return or_(col != operand, col.is_(None))
    comparisons: dict[str, Callable[[Any], ColumnElement[bool]]] = {
        "eq": col.__eq__, "gt": col.__gt__, "gte": col.__ge__,
        "lt": col.__lt__, "lte": col.__le__}
    return comparisons[op](operand)


def compile_filters(
    fields: Mapping[str, Mapping[str, Any]],
    table: Table,
    filters: Any,
    dialect: str,
) -> list[ColumnElement[bool]]:
    """All filters (they combine with AND)."""
    if not isinstance(filters, list):
        raise invalid("filters", "应为列表", "must be a list")
    conditions = []
    for item in filters:
        if not isinstance(item, dict) or set(item) - {"field", "op", "value"}:
            raise invalid("filters", "每个条件应为 {field, op, value}",
                          "each filter is {field, op, value}")
        target = resolve(fields, table, item.get("field"))
        conditions.append(condition(target, item.get("op"), item.get("value"),
                                    dialect))
    return conditions


@dataclass(frozen=True)
class SortKey:
    """One sort column: descending or not; NULLs count as larger than any value
    (last when ascending, first when descending) on every database."""

    target: Target
    descending: bool

    def order_by(self) -> Any:
        col = self.target.column
        return col.desc().nulls_first() if self.descending else col.asc().nulls_last()

    def after(self, value: Any) -> ColumnElement[bool] | None:
        """Rows strictly after ``value`` in this column's order (None: none can
        be)."""
        col = self.target.column
        if self.descending:
            return col.is_not(None) if value is None else col < self._bound(value)
        if value is None:
            return None
        return or_(col > self._bound(value), col.is_(None))

    def same(self, value: Any) -> ColumnElement[bool]:
        col = self.target.column
        return col.is_(None) if value is None else col == self._bound(value)

    def _bound(self, value: Any) -> Any:
        # a bound parameter: SQLAlchemy takes a bare True/False for a constant
        # and refuses to order by it
        return literal(value, self.target.column.type)


def compile_sort(
    fields: Mapping[str, Mapping[str, Any]], table: Table, sort: Any
) -> list[SortKey]:
    """``["-amount", "name"]`` as sort keys, ``id`` always last as the tiebreaker."""
    if not isinstance(sort, list) or len(sort) > 5:
        raise invalid("sort", "应为最多 5 个字段名的列表", "must be a list of up to "
                      "5 field names")
    keys: list[SortKey] = []
    for spec in sort:
        if not isinstance(spec, str) or not spec.lstrip("-"):
            raise invalid("sort", "应为字段名，降序加 -", "must be field names, "
                          "'-' for descending")
        target = resolve(fields, table, spec.lstrip("-"))
        if target.kind not in SORTABLE:
            raise invalid(target.name, "不能按这个字段排序",
                          "cannot sort on this field")
        if any(k.target.name == target.name for k in keys):
            continue
        keys.append(SortKey(target, spec.startswith("-")))
        if target.name == "id":  # unique: later keys could never matter
            return keys
    keys.append(SortKey(resolve(fields, table, "id"), False))
    return keys


def keyset_after(keys: list[SortKey], values: list[Any]) -> ColumnElement[bool]:
    """Rows after the row whose sort values are ``values``: for each key, equal on
    every earlier key and after on this one."""
    branches = []
    for i, key in enumerate(keys):
        after = key.after(values[i])
        if after is None:
            continue
        branches.append(and_(*[keys[j].same(values[j]) for j in range(i)], after))
    return or_(*branches)
