"""SQL conditions the field types' filters and keyword matches are made of."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, bindparam, exists, func, literal, select
from sqlalchemy.dialects.postgresql import JSONB

LIKE_ESCAPE = "\\"


def like_escape(text: str) -> str:
    """``text`` as a literal inside a LIKE pattern (``%`` and ``_`` match only
    themselves)."""
    return (text.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2)
            .replace("%", LIKE_ESCAPE + "%").replace("_", LIKE_ESCAPE + "_"))


def contains_text(column: Any, term: str, dialect: str) -> ColumnElement[bool]:
    """The column's text holds the (lower-case) ``term``, in any case."""
    pattern = f"%{like_escape(term)}%"
    if dialect == "postgresql":
        return column.ilike(pattern, escape=LIKE_ESCAPE)
    return func.lower(column).like(pattern, escape=LIKE_ESCAPE)


def multiselect_has(column: Any, value: str, dialect: str) -> ColumnElement[bool]:
    """The JSON list in the column holds ``value``."""
    if dialect == "postgresql":
        return column.op("@>")(bindparam(None, [value], type_=JSONB))
    item = func.json_each(column).table_valued("value")
    return exists(select(literal(1)).select_from(item).where(item.c.value == value))
