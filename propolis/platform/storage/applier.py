"""Applying a storage plan: Alembic's operations inside the caller's transaction,
so a failure anywhere leaves the enterprise's storage as it was (PostgreSQL and
SQLite both have transactional DDL); and what an older enterprise's storage needs
to be brought up to this release (the search extension, the recycle-bin indexes).

SQLite never rebuilds a table here. Alembic's batch mode would copy the table and
drop the original, and with ``PRAGMA foreign_keys=ON`` (see db/dialects.py) that
drop deletes every child-table row through ``ON DELETE CASCADE``. SQLite does not
enforce column lengths or declared types, so a widening is a metadata change there;
the one change that does need work, a precision increase, rescales the stored
integers of ``ExactDecimal`` in place.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import Any

from alembic.migration import MigrationContext
from alembic.operations import Operations
from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    ForeignKeyConstraint,
    Numeric,
    Table,
    column,
    func,
    inspect,
    literal,
    or_,
    select,
    table,
    text,
    update,
)
from sqlalchemy.schema import DropTable
from sqlalchemy.types import TypeEngine

from propolis.platform.db import dialect_for, new_metadata
from propolis.platform.errors import AppError, _
from propolis.platform.storage.plan import Operation, Plan, search_table_name
from propolis.platform.storage.tables import (
    IN_RECYCLE_BIN,
    TenantTables,
    column_type,
    object_tables,
    recycle_bin_index_name,
    table_name,
)
from propolis.platform.storage.types import DIGITS

# Largest scaled integer SQLite can hold before its arithmetic silently turns into
# floating point.
SQLITE_MAX_INT = 2**63 - 1


def _field_at(doc: Mapping[str, Any], path: str) -> Mapping[str, Any]:
    head, _sep, sub = path.partition(".")
    found = next(f for f in doc["fields"] if f["api_name"] == head)
    if sub:
        return next(f for f in found["fields"] if f["api_name"] == sub)
    return found


class _Applier:
    def __init__(self, conn: Connection, plan: Plan) -> None:
        self.conn = conn
        self.plan = plan
        self.dialect = dialect_for(conn)
        self.schema = self.dialect.tenant_schema(conn)
        # the naming convention of new_metadata() names the indexes that columns
        # declare (index=True) exactly as TenantTables does
        context = MigrationContext.configure(
            conn, opts={"target_metadata": new_metadata()}
        )
        self.ops = Operations(context)
        self._tables: dict[str, tuple[Table, dict[str, Table]]] = {}

    def run(self) -> None:
        handlers: dict[str, Callable[[Operation], None]] = {
            "create_table": self.create_table,
            "create_child_table": self.create_child_table,
            "add_column": self.add_column,
            "create_index": self.create_index,
            "drop_index": self.drop_index,
            "alter_type": self.alter_type,
            "alter_precision": self.alter_precision,
            "create_search_index": self.create_search_index,
        }
        for op in self.plan.operations:
            # archive, restore and backfill change no storage
            handler = handlers.get(op.kind)
            if handler is not None:
                handler(op)

    def tables(self, obj: str) -> tuple[Table, dict[str, Table]]:
        """The object's tables as TenantTables declares them, placed in the tenant
        schema (``to_metadata`` also points the child tables' foreign keys there)."""
        if obj not in self._tables:
            main, children = object_tables(new_metadata(), self.plan.effective[obj])
            if self.schema is not None:
                target = new_metadata()
                main = main.to_metadata(target, schema=self.schema)
                children = {
                    k: c.to_metadata(target, schema=self.schema)
                    for k, c in children.items()
                }
            self._tables[obj] = (main, children)
        return self._tables[obj]

    def _lightweight(self, op: Operation, ctype: TypeEngine[Any] | None = None) -> Any:
        return table(
            op.details["table"], column(op.details["column"], ctype), schema=self.schema
        )

    def create_table(self, op: Operation) -> None:
        main, _other = self.tables(op.object)
        self.ops.create_table(main.name, *main.columns, schema=self.schema)
        _create_recycle_bin_index(self.ops, main.name, self.schema)

    def create_child_table(self, op: Operation) -> None:
        assert op.field is not None
        child = self.tables(op.object)[1][op.field]
        # columns alone would lose the foreign key: a copied column leaves behind
        # the table-level constraint its ForeignKey belongs to
        foreign_keys = [
            c for c in child.constraints if isinstance(c, ForeignKeyConstraint)
        ]
        self.ops.create_table(
            child.name, *child.columns, *foreign_keys, schema=self.schema
        )

    def add_column(self, op: Operation) -> None:
        assert op.field is not None
        main, children = self.tables(op.object)
        head, _sep, sub = op.field.partition(".")
        target = children[head] if sub else main
        self.ops.add_column(target.name, target.c[sub or head], schema=self.schema)

    def create_index(self, op: Operation) -> None:
        rows = self._lightweight(op)
        col = rows.c[op.details["column"]]
        duplicates = (
            self.conn.execute(
                select(col)
                .where(col.is_not(None))
                .group_by(col)
                .having(func.count() > 1)
                .limit(3)
            )
            .scalars()
            .all()
        )
        if duplicates:
            shown = ", ".join(str(v) for v in duplicates)
            raise AppError(
                "duplicate_values",
                _("${object}.${field} cannot become unique: existing records share "
                  "values (${shown}). Change those records first.",
                  mapping={"object": op.object, "field": op.field, "shown": shown}),
                {op.field or "": [_("has duplicate values")]},
            )
        self.ops.create_index(
            op.details["name"],
            op.details["table"],
            [op.details["column"]],
            unique=True,
            schema=self.schema,
        )

    def drop_index(self, op: Operation) -> None:
        self.ops.drop_index(
            op.details["name"],
            table_name=op.details["table"],
            schema=self.schema,
            if_exists=True,
        )

    def alter_type(self, op: Operation) -> None:
        if not op.details["ddl"]:
            return
        assert op.field is not None
        new = column_type(_field_at(self.plan.effective[op.object], op.field))
        self.ops.alter_column(
            op.details["table"], op.details["column"], type_=new, schema=self.schema
        )

    def alter_precision(self, op: Operation) -> None:
        old, new = op.details["from"], op.details["to"]
        if self.dialect.scaled_decimals:
            # 12.34 kept at scale 2 as 1234: at scale 4 it must be 123400
            factor = 10 ** (new - old)
            rows = self._lightweight(op, BigInteger())
            col = rows.c[op.details["column"]]
            self._refuse_if_any(
                op,
                rows,
                or_(col > SQLITE_MAX_INT // factor, col < -(SQLITE_MAX_INT // factor)),
            )
            self.conn.execute(
                update(rows).where(col.is_not(None)).values({col.name: col * factor})
            )
            return
        rows = self._lightweight(op, Numeric())
        col = rows.c[op.details["column"]]
        bound = Decimal(10) ** (DIGITS - new)
        self._refuse_if_any(op, rows, or_(col >= bound, col <= -bound))
        self.ops.alter_column(
            op.details["table"],
            op.details["column"],
            type_=Numeric(DIGITS, new),
            schema=self.schema,
        )

    def _refuse_if_any(self, op: Operation, rows: Any, condition: Any) -> None:
        if (
            self.conn.execute(
                select(literal(1)).select_from(rows).where(condition).limit(1)
            ).first()
            is not None
        ):
            raise AppError(
                "value_too_large",
                _("${object}.${field} holds values too large for more decimal places.",
                  mapping={"object": op.object, "field": op.field}),
                {op.field or "": [_("values too large")]},
            )

    def create_search_index(self, op: Operation) -> None:
        self.dialect.create_search_index(
            self.conn, self.ops, table=op.details["table"], name=op.details["name"],
            schema=self.schema)


def _create_recycle_bin_index(ops: Operations, table: str, schema: str | None) -> None:
    ops.create_index(
        recycle_bin_index_name(table),
        table,
        ["deleted_at"],
        schema=schema,
        sqlite_where=text(IN_RECYCLE_BIN),
        postgresql_where=text(IN_RECYCLE_BIN),
    )


def upgrade_recycle_bin_indexes(conn: Connection, objects: Iterable[str]) -> None:
    """Gives the tables of an enterprise made by an older release the partial index
    on ``deleted_at`` (see ``storage.tables``) in place of their full one. Safe to
    run again: a table that has it is left alone."""
    dialect = dialect_for(conn)
    schema = dialect.tenant_schema(conn)
    ops = Operations(MigrationContext.configure(conn))
    for obj in objects:
        table = table_name(obj)
        names = [
            index["name"]
            for index in inspect(conn).get_indexes(table, schema=schema)
            if index["column_names"] == ["deleted_at"] and index["name"] is not None
        ]
        ddl = [dialect.index_definition(conn, schema, n) for n in names]
        if any(" WHERE " in (d or "").upper() for d in ddl):
            continue
        for name in names:
            ops.drop_index(name, table_name=table, schema=schema)
        _create_recycle_bin_index(ops, table, schema)


def apply_plan(conn: Connection, plan: Plan) -> None:
    """Runs ``plan`` on a tenant connection, in the caller's transaction.

    Raises ``AppError`` when the data forbids a step (duplicate values for a new
    unique index, values too large for a higher precision); the caller then rolls
    back and nothing has changed. Never commits.
    """
    found = dialect_for(conn).name
    if found != plan.dialect:
        raise ValueError(f"a {plan.dialect} plan given a {found} connection")
    _Applier(conn, plan).run()


def add_missing_columns(conn: Connection, table: Table, names: Iterable[str]
                        ) -> None:
    """Adds the nullable columns ``names`` of the platform table ``table`` to an
    enterprise's copy made by a release before them. Safe to run again."""
    schema = dialect_for(conn).tenant_schema(conn)
    have = {c["name"] for c in inspect(conn).get_columns(table.name, schema=schema)}
    ops = Operations(MigrationContext.configure(conn))
    for name in names:
        if name not in have:
            ops.add_column(table.name, Column(name, table.c[name].type,
                                              nullable=True), schema=schema)

def drop_object_tables(conn: Connection, objects: Mapping[str, Mapping[str, Any]]
                       ) -> None:
    """Drops the tables of objects that left the metadata (an uninstalled
    extension's archive, purged on request): their child tables, their table and,
    on SQLite, their search table. The one place storage is ever dropped."""
    tables = TenantTables(objects)
    for name in objects:
        for child in tables.children[name].values():
            conn.execute(DropTable(child, if_exists=True))
        conn.execute(DropTable(tables.main[name], if_exists=True))
        if dialect_for(conn).search_table:
            fts = search_table_name(name)
            conn.exec_driver_sql(f'DROP TABLE IF EXISTS "{fts}"')
