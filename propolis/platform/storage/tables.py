"""Tables generated from object metadata.

One table per object, ``o_<api_name>``, with the system columns and one column per
stored field; one child table per ``table`` field, ``o_<object>__<field>``. Columns
carry the field's api_name, so queries and indexes are plain SQL on real columns.
``quote`` fields have no column (read from the looked-up record when read); formula
and rollup values are stored, so they can be filtered, sorted and indexed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    Time,
    text,
)
from sqlalchemy.types import TypeEngine

from propolis.platform.storage.types import ExactDecimal, UTCDateTime, json_type

MAX_IDENT = 63
ID_LENGTH = 32

SYSTEM_COLUMNS = (
    "id", "owner", "owner_department", "created_by", "created_at", "updated_by",
    "updated_at", "life_status", "version", "deleted_at", "deleted_by", "search_text",
)
REFERENCE_TYPES = frozenset({"lookup", "master_detail", "user", "department"})
NUMERIC_TYPES = frozenset({"number", "currency", "percent"})
JSON_TYPES = frozenset({"multiselect", "file", "image", "location", "area"})
STRING_LENGTHS = {"text": 255, "phone": 40, "email": 254, "url": 2000,
                  "autonumber": 64, "select": 100}
NO_COLUMN_TYPES = frozenset({"quote", "table"})


def identifier(name: str) -> str:
    """A database identifier of at most 63 characters (PostgreSQL's limit), stable
    for a given name: long names keep a readable prefix and a hash suffix."""
    if len(name) <= MAX_IDENT:
        return name
    digest = hashlib.sha1(name.encode()).hexdigest()[:8]
    return f"{name[: MAX_IDENT - 9]}_{digest}"


def table_name(object_name: str) -> str:
    return identifier(f"o_{object_name}")


def child_table_name(object_name: str, field_name: str) -> str:
    return identifier(f"o_{object_name}__{field_name}")


def column_type(field: Mapping[str, Any]) -> TypeEngine[Any] | None:
    """The column type that stores a field, or None when the field has no column."""
    ftype = field["type"]
    if ftype in NO_COLUMN_TYPES:
        return None
    if ftype == "formula":
        return column_type({**field, "type": field["returns"]})
    if ftype == "rollup":
        if field["function"] == "count":
            return ExactDecimal(0)
        return ExactDecimal(int(field.get("precision", 2)))
    if ftype in NUMERIC_TYPES:
        return ExactDecimal(int(field.get("precision", 2)))
    if ftype in REFERENCE_TYPES:
        return String(ID_LENGTH)
    if ftype in JSON_TYPES:
        return json_type()
    if ftype in ("textarea", "richtext"):
        return Text()
    if ftype in STRING_LENGTHS:
        length = STRING_LENGTHS[ftype]
        if ftype == "text":
            length = int(field.get("max_length") or length)
        return String(length)
    simple: dict[str, TypeEngine[Any]] = {
        "date": Date(), "time": Time(), "datetime": UTCDateTime(), "boolean": Boolean(),
    }
    if ftype in simple:
        return simple[ftype]
    raise ValueError(f"no column type for field type {ftype!r}")


def field_columns(fields: Iterable[Mapping[str, Any]]) -> list[Column[Any]]:
    columns = []
    for field in fields:
        ctype = column_type(field)
        if ctype is None:
            continue
        indexed = field["type"] in REFERENCE_TYPES or field["type"] == "autonumber"
        columns.append(Column(field["api_name"], ctype, nullable=True, index=indexed))
    return columns


def system_columns() -> list[Column[Any]]:
    return [
        Column("id", String(ID_LENGTH), primary_key=True),
        Column("owner", String(ID_LENGTH), index=True),
        Column("owner_department", String(ID_LENGTH), index=True),
        Column("created_by", String(ID_LENGTH)),
        Column("created_at", UTCDateTime(), nullable=False),
        Column("updated_by", String(ID_LENGTH)),
        Column("updated_at", UTCDateTime(), nullable=False, index=True),
        Column("life_status", String(16), nullable=False, default="normal"),
        Column("version", Integer, nullable=False, default=1),
        Column("deleted_at", UTCDateTime()),
        Column("deleted_by", String(ID_LENGTH)),
        Column("search_text", Text()),
    ]


# Only the recycle bin's rows are in the index on deleted_at. A full index would be
# one long run of NULLs that no live-record query gains from, and SQLite, which
# keeps no statistics, would take "deleted_at IS NULL" for a selective lookup on it
# and sort every live row instead of walking the sort column's index.
IN_RECYCLE_BIN = "deleted_at IS NOT NULL"


def recycle_bin_index_name(table: str) -> str:
    return identifier(f"ix_{table}_deleted_at")


def object_tables(
    metadata: MetaData, obj: Mapping[str, Any]
) -> tuple[Table, dict[str, Table]]:
    """Declares the tables of one (normalized) object in ``metadata``: the main table
    and its child tables by field api_name. Archived fields keep their columns."""
    name = obj["api_name"]
    fields = list(obj["fields"]) + list(obj.get("archived_fields", []))
    main = Table(table_name(name), metadata, *system_columns(), *field_columns(fields))
    Index(recycle_bin_index_name(main.name), main.c.deleted_at,
          sqlite_where=text(IN_RECYCLE_BIN), postgresql_where=text(IN_RECYCLE_BIN))
    for field in fields:
        if field.get("unique") and column_type(field) is not None:
            Index(identifier(f"uq_{main.name}_{field['api_name']}"),
                  main.c[field["api_name"]], unique=True)
    children = {}
    for field in fields:
        if field["type"] != "table":
            continue
        children[field["api_name"]] = Table(
            child_table_name(name, field["api_name"]),
            metadata,
            Column("id", String(ID_LENGTH), primary_key=True),
            Column("parent_id", String(ID_LENGTH),
                   ForeignKey(f"{main.name}.id", ondelete="CASCADE"),
                   nullable=False, index=True),
            Column("row_order", Integer, nullable=False, default=0),
            # removed sub-fields keep their columns, like the object's own
            *field_columns(list(field["fields"])
                           + list(field.get("archived_fields", []))),
        )
    return main, children


class TenantTables:
    """All generated tables of one version of an enterprise's effective metadata."""

    def __init__(self, objects: Mapping[str, Mapping[str, Any]]) -> None:
        from propolis.platform.db import new_metadata

        self.metadata = new_metadata()
        self.main: dict[str, Table] = {}
        self.children: dict[str, dict[str, Table]] = {}
        for api_name, obj in objects.items():
            self.main[api_name], self.children[api_name] = object_tables(
                self.metadata, obj
            )
