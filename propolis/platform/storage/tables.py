"""Tables generated from object metadata.

One table per object, ``o_<api_name>``, with the system columns and one column per
stored field; one child table per field with rows (``table``),
``o_<object>__<field>``. Columns carry the field's api_name, so queries and indexes
are plain SQL on real columns. Each field's type says its column
(``FieldType.column``: ``quote`` fields have none, being read from the looked-up
record; formula and rollup values are stored, so they can be filtered, sorted and
indexed); here that column becomes SQL.
"""

from __future__ import annotations

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

from propolis.platform.db import identifier, new_metadata
from propolis.platform.fields.base import ColumnSpec
from propolis.platform.fields.registry import field_type
from propolis.platform.ids import ID_LENGTH
from propolis.platform.storage.types import ExactDecimal, UTCDateTime, json_type

SYSTEM_COLUMNS = (
    "id", "owner", "owner_department", "created_by", "created_at", "updated_by",
    "updated_at", "life_status", "version", "deleted_at", "deleted_by", "search_text",
)


def table_name(object_name: str) -> str:
    return identifier(f"o_{object_name}")


def child_table_name(object_name: str, field_name: str) -> str:
    return identifier(f"o_{object_name}__{field_name}")


def sql_type(spec: ColumnSpec) -> TypeEngine[Any]:
    """The SQL type of a field's column."""
    if spec.kind == "string":
        return String(spec.width)
    if spec.kind == "decimal":
        return ExactDecimal(spec.width or 0)
    plain: dict[str, TypeEngine[Any]] = {
        "text": Text(), "date": Date(), "time": Time(), "datetime": UTCDateTime(),
        "boolean": Boolean(), "json": json_type(),
    }
    return plain[spec.kind]


def column_type(field: Mapping[str, Any]) -> TypeEngine[Any] | None:
    """The column type that stores a field, or None when the field has no column."""
    spec = field_type(field).column(field)
    return None if spec is None else sql_type(spec)


def field_columns(fields: Iterable[Mapping[str, Any]]) -> list[Column[Any]]:
    columns = []
    for field in fields:
        spec = field_type(field).column(field)
        if spec is not None:
            columns.append(Column(field["api_name"], sql_type(spec), nullable=True,
                                  index=spec.indexed))
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
        if field.get("unique") and field_type(field).stored(field):
            Index(identifier(f"uq_{main.name}_{field['api_name']}"),
                  main.c[field["api_name"]], unique=True)
    children = {}
    for field in fields:
        if not field_type(field).has_rows:
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
        self.metadata = new_metadata()
        self.main: dict[str, Table] = {}
        self.children: dict[str, dict[str, Table]] = {}
        for api_name, obj in objects.items():
            self.main[api_name], self.children[api_name] = object_tables(
                self.metadata, obj
            )
