"""Keyword search for a user from whom a searchable field is hidden.

A record's ``search_text`` holds the words of all its searchable fields, so
matching it would let a hidden value make a record match (and so leak, one search
at a time). For such a user each term is matched against the searchable fields
they may see, one column at a time, the way ``search_words`` renders them (each
type says how: ``FieldType.keyword_match``): text as it is, options by value or
label, areas and locations by their names and address; numbers and dates match
their whole value. Slower than the search index, and only
used when it must be.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Table, and_, exists, false, or_, select

from propolis.platform.db import Dialect
from propolis.platform.fields.registry import field_type
from propolis.platform.query.services import keyword_terms

Field = Mapping[str, Any]


def field_match(
    table: Table, field: Field, term: str, dialect: Dialect
) -> ColumnElement[bool] | None:
    """Whether the field's value holds ``term`` (None: it never can)."""
    return field_type(field).keyword_match(table.c[field["api_name"]], field, term,
                                           dialect)


def keyword_over_fields(
    table: Table,
    fields: Iterable[Field],
    rows: Mapping[str, tuple[Table, Sequence[Field]]],
    q: Any,
    dialect: Dialect,
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
