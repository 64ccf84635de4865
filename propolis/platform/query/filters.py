"""Filters and sort orders from the query API, checked against the object's fields
and turned into SQLAlchemy expressions on its generated table.

``[{"field", "op", "value"}]`` with ops ``eq ne gt gte lt lte in contains startswith
isnull between``; which ops a field takes, what its value must be and how each
compiles are its type's (``FieldType.operators``, ``operand``, ``compare``).
``ne`` also matches empty values (SQL's ``<>`` would silently drop them, which is
never what someone asking for "not X" means).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Table, and_, literal, or_

from propolis.platform.db import Dialect
from propolis.platform.errors import AppError, Message, _
from propolis.platform.fields.base import NOT_NULL, FieldType
from propolis.platform.fields.registry import field_type, field_types
from propolis.platform.fields.values import SYSTEM_FIELDS, ValueProblem

MAX_IN = 500
# Conditions in one query: far more than a person or a saved view writes, and few
# enough for SQLite's expression tree (1,000 ANDed conditions overflow it).
MAX_FILTERS = 100


def filter_ops() -> list[str]:
    """Every operator some registered type takes."""
    return sorted(set().union(*(t.filter_ops for t in field_types())))


def invalid(name: str, message: Message) -> AppError:
    return AppError("invalid_query", _("Invalid query"), {name: [message]})


@dataclass(frozen=True)
class Target:
    """A field that a filter or sort names, with its column."""

    name: str
    field: Mapping[str, Any]
    type: FieldType
    column: Any


def resolve(
    fields: Mapping[str, Mapping[str, Any]], table: Table, name: Any
) -> Target:
    """The field named in a filter or sort: a field of the object or a system field;
    a 400 naming it when it does not exist or is read through a lookup."""
    if not isinstance(name, str):
        raise invalid("field", _("must be a field name"))
    field = fields.get(name) or SYSTEM_FIELDS.get(name)
    if field is None:
        raise invalid(name, _("unknown field"))
    ftype = field_type(field)
    if not ftype.stored(field):
        raise invalid(name, _("quote and table fields cannot be filtered or sorted on"))
    return Target(name, field, ftype, table.c[name])


def _scalar(target: Target, value: Any) -> Any:
    """One filter operand as the column's Python value."""
    if value is None:
        raise ValueProblem(NOT_NULL)
    return target.type.operand(target.field, value, target.column)


def condition(
    target: Target, op: Any, value: Any, dialect: Dialect
) -> ColumnElement[bool]:
    """One filter as a SQL condition; AppError 400 naming the field when the op
    does not suit the field or the value is of the wrong type."""
    allowed = target.type.operators(target.field)
    if not isinstance(op, str) or op not in allowed:
        ops = " ".join(sorted(allowed)) or "-"
        raise invalid(target.name, _("unsupported op '${op}' (allowed: ${ops})",
                                     mapping={"op": op, "ops": ops}))
    col = target.column
    try:
        if op == "isnull":
            if not isinstance(value, bool):
                raise ValueProblem(_("must be true or false"))
            return col.is_(None) if value else col.is_not(None)
        if op == "in":
            if not isinstance(value, list) or not 0 < len(value) <= MAX_IN:
                raise ValueProblem(_("must be a list of 1 to ${max_in} values",
                                     mapping={"max_in": MAX_IN}))
            return col.in_([_scalar(target, v) for v in value])
        if op == "between":
            if not isinstance(value, list) or len(value) != 2:
                raise ValueProblem(_("must be [low, high]"))
            return col.between(_scalar(target, value[0]), _scalar(target, value[1]))
        operand = _scalar(target, value)
    except ValueProblem as problem:
        raise AppError("invalid_query", _("Invalid query"),
                       {target.name: [problem.message]}) from None
    return target.type.compare(target.field, op, col, operand, dialect)


def compile_filters(
    fields: Mapping[str, Mapping[str, Any]],
    table: Table,
    filters: Any,
    dialect: Dialect,
) -> list[ColumnElement[bool]]:
    """All filters (they combine with AND)."""
    if not isinstance(filters, list):
        raise invalid("filters", _("must be a list"))
    if len(filters) > MAX_FILTERS:
        raise invalid("filters", _("at most ${max_filters} filters",
                                   mapping={"max_filters": MAX_FILTERS}))
    conditions = []
    for item in filters:
        if not isinstance(item, dict) or set(item) - {"field", "op", "value"}:
            raise invalid("filters", _("each filter is {field, op, value}"))
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
        raise invalid("sort", _("must be a list of up to 5 field names"))
    keys: list[SortKey] = []
    for spec in sort:
        if not isinstance(spec, str) or not spec.lstrip("-"):
            raise invalid("sort", _("must be field names, '-' for descending"))
        target = resolve(fields, table, spec.lstrip("-"))
        if not target.type.orders(target.field):
            raise invalid(target.name, _("cannot sort on this field"))
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
