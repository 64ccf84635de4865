"""Keyword search for a user from whom a searchable field is hidden.

A record's ``search_text`` holds the words of all its searchable fields, so
matching it would let a hidden value make a record match (and so leak, one search
at a time). For such a user each term is matched against the searchable fields
they may see, one column at a time, the way ``search_words`` renders them: text as
it is, options by value or label, areas and locations by their names and address;
numbers and dates match their whole value. Slower than the search index, and only
used when it must be.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import ColumnElement, Table, and_, exists, false, func, or_, select

from propolis.platform.fields.values import (
    AREA_KEYS,
    ValueProblem,
    kind,
    parse_date,
)
from propolis.platform.query.filters import LIKE_ESCAPE, like_escape, multiselect_has
from propolis.platform.query.services import keyword_terms

Field = Mapping[str, Any]


def _contains(column: Any, term: str, dialect: str) -> ColumnElement[bool]:
    pattern = f"%{like_escape(term)}%"
    if dialect == "postgresql":
        return column.ilike(pattern, escape=LIKE_ESCAPE)
    return func.lower(column).like(pattern, escape=LIKE_ESCAPE)


def _options(field: Field, term: str) -> list[str]:
    """The option values whose value or label contains ``term``."""
    return [o["value"] for o in field.get("options", ())
            if term in str(o["value"]).lower()
            or any(term in str(label).lower()
                   for label in (o.get("label") or {}).values())]


def field_match(
    table: Table, field: Field, term: str, dialect: str
) -> ColumnElement[bool] | None:
    """Whether the field's value holds ``term`` (None: it never can)."""
    column = table.c[field["api_name"]]
    k = kind(field)
    if k in ("string", "richtext"):
        return _contains(column, term, dialect)
    if k == "select":
        values = _options(field, term)
        return column.in_(values) if values else None
    if k == "multiselect":
        values = _options(field, term)
        return or_(*[multiselect_has(column, v, dialect) for v in values]) \
            if values else None
    if k == "area":
        return or_(*[_contains(column[key].as_string(), term, dialect)
                     for key in AREA_KEYS])
    if k == "location":
        return _contains(column["address"].as_string(), term, dialect)
    if k == "number":
        try:
            number = Decimal(term)
        except InvalidOperation:
            return None
        return column == number if number.is_finite() else None
    if k == "date":
        try:
            return column == parse_date(term)
        except ValueProblem:
            return None
    return None


def keyword_over_fields(
    table: Table,
    fields: Iterable[Field],
    rows: Mapping[str, tuple[Table, Sequence[Field]]],
    q: Any,
    dialect: str,
) -> ColumnElement[bool] | None:
    """Every term of ``q`` in one of ``fields`` (columns of ``table``) or of the
    table rows in ``rows`` (table field -> its child table and searchable
    sub-fields); None when ``q`` has no terms."""
    terms = keyword_terms(q)
    if not terms:
        return None
    fields = list(fields)
    conditions = []
    for term in terms:
        matches = [m for f in fields
                   if (m := field_match(table, f, term, dialect)) is not None]
        for child, subs in rows.values():
            inside = [m for s in subs
                      if (m := field_match(child, s, term, dialect)) is not None]
            if inside:
                matches.append(exists(select(child.c.id).where(
                    child.c.parent_id == table.c.id, or_(*inside))))
        conditions.append(or_(*matches) if matches else false())
    return and_(*conditions)
