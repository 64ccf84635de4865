"""Pages of records: filters, multi-column sort, keyword search and keyset cursors.

No OFFSET and no ``count(*)``: a page is the rows after the last row of the previous
page in the sort order (``id`` last, so the order is total). The cursor is url-safe
base64 of ``[sort, values]``: the sort it belongs to and the last row's sort values
(decimals as strings, dates and times ISO), so it stays exact and cannot be replayed
against another sort order.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import (
    Column,
    ColumnElement,
    Connection,
    MetaData,
    Row,
    String,
    Table,
    Text,
    and_,
    false,
    func,
    or_,
    select,
    union_all,
)

from propolis.platform.db import Dialect, dialect_for
from propolis.platform.errors import AppError, _
from propolis.platform.query.filters import (
    SortKey,
    compile_filters,
    compile_sort,
    invalid,
    keyset_after,
    resolve,
)

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
MAX_TERMS = 10
MAX_Q = 200

_fts_metadata = MetaData()


def fts_table(name: str) -> Table:
    """The SQLite FTS5 table ``name`` (created and kept in step with
    ``search_text`` by the storage planner) as a Core table to search."""
    return Table(name, _fts_metadata, Column("record_id", String),
                 Column("body", Text), keep_existing=True)


def bad_cursor() -> AppError:
    return invalid("cursor", _("invalid cursor: start again from the first page"))


def _encode(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.date | dt.time):  # datetime is a date
        return value.isoformat()
    return value


def _decode(key: SortKey, value: Any) -> Any:
    if value is None:
        return None
    target = key.target
    return target.type.cursor_value(target.field, value, target.column)


def _signature(keys: Sequence[SortKey]) -> list[str]:
    return [("-" if k.descending else "") + k.target.name for k in keys]


def encode_cursor(keys: Sequence[SortKey], row: Row[Any]) -> str:
    """The cursor after ``row``."""
    payload = [_signature(keys), [_encode(row._mapping[k.target.name]) for k in keys]]
    raw = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(keys: Sequence[SortKey], cursor: Any) -> list[Any]:
    """The sort values in a cursor; 400 when it is malformed or made for another
    sort order."""
    if not isinstance(cursor, str) or len(cursor) > 4000:
        raise bad_cursor()
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        signature, values = json.loads(raw)
        if signature != _signature(keys) or len(values) != len(keys):
            raise bad_cursor()
        return [_decode(k, v) for k, v in zip(keys, values, strict=True)]
    except (binascii.Error, ValueError, TypeError, InvalidOperation,
            UnicodeDecodeError):
        raise bad_cursor() from None


def check_limit(limit: Any) -> int:
    if limit is None:
        return DEFAULT_LIMIT
    if isinstance(limit, bool) or not isinstance(limit, int) or not (
            1 <= limit <= MAX_LIMIT):
        raise invalid("limit", _("must be an integer from 1 to ${max_limit}",
                                 mapping={"max_limit": MAX_LIMIT}))
    return limit


def keyword_terms(q: Any) -> list[str]:
    """The distinct lower-case terms of a keyword query (400 when it is not text
    or too long)."""
    if q is None:
        return []
    if not isinstance(q, str) or len(q) > MAX_Q:
        raise invalid("q", _("must be text of at most ${max_q} characters",
                             mapping={"max_q": MAX_Q}))
    return list(dict.fromkeys(q.lower().split()))[:MAX_TERMS]


def keyword_condition(
    table: Table, q: Any, dialect: Dialect, fts: Table | None
) -> ColumnElement[bool] | None:
    """Every whitespace-separated term of ``q`` must occur in the record's
    ``search_text``. Terms are literals, so no query syntax gets through."""
    terms = keyword_terms(q)
    if not terms:
        return None
    return and_(*dialect.keyword_conditions(table.c.search_text, table.c.id, terms,
                                            fts))


def visible_page(
    table: Table,
    branches: Sequence[ColumnElement[bool]],
    conditions: Sequence[ColumnElement[bool]],
    order: Sequence[Any],
    limit: int,
) -> ColumnElement[bool]:
    """Rows in any of ``branches`` (the ways a user reaches records: their own,
    their subordinates', the ones they follow …), as a condition for the page made
    of ``conditions`` in ``order``.

    Two or more branches are not simply OR-ed: no database can use an index for an
    OR of subqueries, so the page would scan rows in sort order until it found
    enough of the user's, which for a user who sees few records means most of the
    table. Instead each branch takes its own first page (plain semi-joins, which
    the database plans with its statistics: a top manager's by walking the sort
    order, a sales rep's through the owner index) and the page is the first rows
    of their union, so keyset pagination stays exact."""
    if not branches:
        return false()
    if len(branches) == 1:
        return branches[0]
    pages = [select(table.c.id).where(*conditions, branch).order_by(*order)
             .limit(limit).subquery() for branch in branches]
    return table.c.id.in_(union_all(*[select(page.c.id) for page in pages]))


def query_page(
    conn: Connection,
    table: Table,
    fields: Mapping[str, Mapping[str, Any]],
    *,
    filters: Any = None,
    sort: Any = None,
    limit: Any = None,
    cursor: Any = None,
    q: Any = None,
    deleted: bool = False,
    fts: Table | None = None,
    where: Sequence[ColumnElement[bool]] = (),
    visible: Sequence[ColumnElement[bool]] | None = None,
) -> tuple[list[Row[Any]], str | None]:
    """One page of the object's rows (live ones, or those in the recycle bin when
    ``deleted``) and the cursor of the next page (None on the last). ``where``
    adds conditions; ``visible``, when given, keeps the rows in any of its
    branches (see ``visible_page``)."""
    dialect = dialect_for(conn)
    size = check_limit(limit)
    conditions = compile_filters(fields, table, filters or [], dialect)
    keys = compile_sort(fields, table, sort or [])
    # deleted_at's index holds the recycle bin alone (storage.tables), so live
    # pages are planned by the filters and the sort order on both databases
    conditions.append(table.c.deleted_at.is_not(None) if deleted
                      else table.c.deleted_at.is_(None))
    keyword = keyword_condition(table, q, dialect, fts)
    if keyword is not None:
        conditions.append(keyword)
    conditions.extend(where)
    if cursor is not None:
        conditions.append(keyset_after(keys, decode_cursor(keys, cursor)))
    order = [k.order_by() for k in keys]
    if visible is not None:
        conditions.append(visible_page(table, visible, conditions, order, size + 1))
    stmt = select(table).where(*conditions).order_by(*order).limit(size + 1)
    rows = list(conn.execute(stmt))
    if len(rows) <= size:
        return rows, None
    rows = rows[:size]
    return rows, encode_cursor(keys, rows[-1])


MAX_GROUPS = 100


def grouped_count(
    conn: Connection,
    table: Table,
    fields: Mapping[str, Mapping[str, Any]],
    field: Any,
    *,
    filters: Any = None,
    q: Any = None,
    fts: Table | None = None,
    where: Sequence[ColumnElement[bool]] = (),
    visible: Sequence[ColumnElement[bool]] | None = None,
) -> list[tuple[Any, int]]:
    """How many live rows matching ``filters``, ``q`` and ``where`` hold each value
    of ``field`` (a select or boolean; None counts the empty ones), the largest
    groups first, at most ``MAX_GROUPS``. ``visible`` keeps the rows in any of its
    branches, as ``query_page`` does (here simply OR-ed: a count reads every
    matching row anyway). 400 naming the field when it cannot be grouped on."""
    dialect = dialect_for(conn)
    target = resolve(fields, table, field)
    if not target.type.groups(target.field):
        raise invalid(target.name, _("only select and boolean fields can be "
                                     "summarised"))
    conditions = compile_filters(fields, table, filters or [], dialect)
    conditions.append(table.c.deleted_at.is_(None))
    keyword = keyword_condition(table, q, dialect, fts)
    if keyword is not None:
        conditions.append(keyword)
    conditions.extend(where)
    if visible is not None:
        conditions.append(or_(*visible) if visible else false())
    count = func.count().label("n")
    stmt = (select(target.column, count).where(*conditions)
            .group_by(target.column)
            .order_by(count.desc(), target.column.asc().nulls_last())
            .limit(MAX_GROUPS))
    return [(row[0], int(row[1])) for row in conn.execute(stmt)]
