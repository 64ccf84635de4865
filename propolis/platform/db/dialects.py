"""One object per database: every difference between SQLite and PostgreSQL that the
platform depends on, answered in one place.

Code elsewhere never asks which database it runs on. It asks the dialect of its
connection (``dialect_for(conn)``) or of its ``Database`` (``database.dialect``)
for what it needs: an engine and an enterprise's storage (a file, or a schema), a
SQL expression (text and JSON containment, keyword search, JSON built by the
database, an upsert), a lock, a column type's storage, a piece of DDL (the search
index, append-only triggers), or a fact (``search_table``, ``typed_columns``,
``scaled_decimals``, ``plans_with_statistics``, ``batch_alter``). The base class
``Dialect`` documents each; ``SQLiteDialect`` and ``PostgreSQLDialect`` answer
them.

A dialect is chosen once per engine from SQLAlchemy's dialect name and holds no
state, so one instance per database serves every connection. Supporting another
database means a subclass answering every method, registered in ``DIALECTS``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from alembic.operations import Operations
from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Connection,
    Engine,
    Numeric,
    String,
    Table,
    bindparam,
    create_engine,
    event,
    exists,
    func,
    literal,
    select,
    text,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect as SQLAlchemyDialect
from sqlalchemy.engine import make_url
from sqlalchemy.sql.dml import Insert
from sqlalchemy.types import TypeEngine

LIKE_ESCAPE = "\\"

# The longest identifier PostgreSQL keeps; names are cut to it on both databases,
# so a table or index is called the same on either.
MAX_IDENT = 63

# The FTS5 trigram tokenizer indexes three-character sequences: shorter terms
# cannot use it and go to LIKE.
TRIGRAM = 3

# SQLite function giving a record's full-text row its rowid (see the search tables
# of ``SQLiteDialect.create_search_index``): 63 bits of the id's SHA-1, stable
# across processes and VACUUM.
FTS_KEY = "propolis_fts_key"


def fts_key(record_id: str) -> int:
    return int.from_bytes(hashlib.sha1(record_id.encode()).digest()[:8], "big") >> 1


def like_escape(text: str) -> str:
    """``text`` as a literal inside a LIKE pattern (``%`` and ``_`` match only
    themselves)."""
    return (text.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2)
            .replace("%", LIKE_ESCAPE + "%").replace("_", LIKE_ESCAPE + "_"))


def identifier(name: str) -> str:
    """A database identifier of at most ``MAX_IDENT`` characters, stable for a given
    name: long names keep a readable prefix and a hash suffix."""
    if len(name) <= MAX_IDENT:
        return name
    digest = hashlib.sha1(name.encode()).hexdigest()[:8]
    return f"{name[: MAX_IDENT - 9]}_{digest}"


def _mapped_schema(conn: Connection) -> str | None:
    """The schema a connection's ``schema_translate_map`` puts unnamed tables in."""
    found = (conn.get_execution_options().get("schema_translate_map") or {}).get(None)
    return str(found) if found else None


# a day and a bucket unit → the bucket's label (``propolis.reports.periods.label_of``)
DateLabeller = Callable[[dt.date, str], str]


class Dialect(ABC):
    """What the platform needs to know of one database. Every method has one
    answer per database; the class attributes are its facts."""

    name: ClassVar[str]
    # Alembic changes a table by copying it (ALTER TABLE cannot change columns).
    batch_alter: ClassVar[bool] = False
    # Columns hold only values of their declared type, so a type change is DDL.
    typed_columns: ClassVar[bool] = True
    # ``exact_decimal`` is an integer count of the smallest unit: more decimal
    # places multiply the stored values.
    scaled_decimals: ClassVar[bool] = False
    # The keyword search reads a full-text table of its own (``create_search_index``)
    # rather than an index on the main table's ``search_text``.
    search_table: ClassVar[bool] = False
    # The planner weighs a statement's values against table statistics, so a
    # query written one way serves users who see few or many records alike.
    plans_with_statistics: ClassVar[bool] = True

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"

    # -- engines and an enterprise's storage ----------------------------------------

    @abstractmethod
    def make_engine(self, url: str, **kw: Any) -> Engine:
        """The engine of ``url`` (``kw``: more of ``create_engine``'s arguments)."""

    def reader(self, engine: Engine) -> Engine:
        """``engine`` for single reads outside any transaction."""
        return engine

    @abstractmethod
    def storage_key(self, account: str) -> str:
        """The name of an enterprise's storage as its connections show it."""

    def storage_name(self, tenant_dir: str, account: str) -> str:
        """Where an enterprise's tables live: its file, or its schema."""
        return self.storage_key(account)

    @abstractmethod
    def storage_of(self, conn: Connection) -> str:
        """The ``storage_key`` of the enterprise whose tables ``conn`` reaches."""

    @abstractmethod
    def tenant_engine(self, system_engine: Engine, name: str) -> Engine:
        """The engine of the storage ``name`` (``storage_name``)."""

    @abstractmethod
    def create_storage(self, system_engine: Engine, name: str) -> None:
        """Makes the storage ``name``, empty, unless it exists."""

    @abstractmethod
    def drop_storage(
        self, system_engine: Engine, name: str, engine: Engine | None
    ) -> None:
        """Removes the storage ``name`` and all it holds; ``engine`` is its
        engine when one was made."""

    def dispose_tenant_engine(self, engine: Engine) -> None:
        """Closes the connections of an enterprise's engine (process end)."""
        return None  # nothing to do, unless a database says otherwise

    def prepare_tenant(self, conn: Connection) -> None:
        """What a new enterprise's storage needs besides its tables, installed
        once there rather than by the first metadata change that needs it."""
        return None  # nothing to do, unless a database says otherwise

    def tenant_schema(self, conn: Connection) -> str | None:
        """The schema an enterprise's connection writes to, named explicitly in
        DDL (Alembic compiles some statements without the connection's
        ``schema_translate_map``); None where storages are files."""
        return None

    # -- SQL expressions ---------------------------------------------------------

    @abstractmethod
    def contains_text(self, column: Any, term: str) -> ColumnElement[bool]:
        """The column's text holds the (lower-case) ``term``, in any case."""

    @abstractmethod
    def json_contains(self, column: Any, value: str) -> ColumnElement[bool]:
        """The JSON list in the column holds ``value``."""

    @abstractmethod
    def json_object(self, *args: Any) -> ColumnElement[Any]:
        """A JSON object built by the database from key, value, key, value …"""

    @abstractmethod
    def json_array(self, *args: Any) -> ColumnElement[Any]:
        """A JSON array built by the database from its items."""

    @abstractmethod
    def keyword_conditions(
        self, search_text: Any, record_id: Any, terms: Sequence[str],
        fts: Table | None,
    ) -> list[ColumnElement[bool]]:
        """Conditions that each (lower-case) term occurs in ``search_text``, the
        record's column whose id is ``record_id``; ``fts`` is the object's
        full-text table where the dialect has them (``search_table``). Terms are
        literals: LIKE wildcards are escaped, full-text terms quoted phrases."""

    @abstractmethod
    def insert(self, table: Table) -> postgresql.Insert | sqlite.Insert:
        """An INSERT that can take ``on_conflict_do_update``."""

    def upsert(
        self, table: Table, values: Mapping[str, Any], *, keys: Sequence[Any],
        set_: Mapping[str, Any],
    ) -> Insert:
        """Inserts ``values`` or, when a row with the same ``keys`` (columns of a
        unique index) exists, updates it with ``set_`` — one atomic statement, so
        concurrent writers in any process all count (counters, memberships)."""
        return self.insert(table).values(**values).on_conflict_do_update(
            index_elements=keys, set_=set_)

    def custom_plans(self) -> ColumnElement[Any] | None:
        """A column whose evaluation makes the rest of the transaction plan each
        statement for the values it runs with, not reuse a generic plan made for
        other values; None where plans are never reused."""
        return None

    def lock_table(self, conn: Connection, table: str) -> None:
        """One writer of ``table`` at a time until the transaction ends; readers
        never wait."""
        return None  # nothing to do, unless a database says otherwise

    # -- column types ------------------------------------------------------------

    @abstractmethod
    def exact_decimal(self, digits: int, scale: int) -> TypeEngine[Any]:
        """The column type that keeps a decimal of ``scale`` places exactly."""

    def decimal_to_column(self, value: Decimal, scale: int) -> Any:
        """A decimal (already of ``scale`` places) as ``exact_decimal`` stores it."""
        return value

    def decimal_from_column(self, value: Any, scale: int) -> Decimal:
        """What ``exact_decimal`` (or an aggregate over it) returns, as a decimal
        to be rounded to ``scale`` places."""
        return Decimal(value)

    def datetime_to_column(self, value: dt.datetime) -> Any:
        """An aware UTC datetime as a ``DateTime(timezone=True)`` column takes it."""
        return value

    # -- DDL -------------------------------------------------------------------

    @abstractmethod
    def create_search_index(
        self, conn: Connection, ops: Operations, *, table: str, name: str,
        schema: str | None,
    ) -> None:
        """What serves the keyword search of ``table``'s ``search_text``, named
        ``name``; the record code only ever writes ``search_text``."""

    @abstractmethod
    def index_definition(
        self, conn: Connection, schema: str | None, name: str
    ) -> str | None:
        """The CREATE INDEX statement of the index ``name``."""

    @abstractmethod
    def make_append_only(self, conn: Connection, table: str, message: str) -> None:
        """Triggers refusing every UPDATE and DELETE of ``table`` with ``message``."""

    # -- dates -----------------------------------------------------------------------

    @abstractmethod
    def date_label(self, conn: Connection, column: Any, unit: str, tz: str,
                   datetime: bool, label_of: DateLabeller) -> ColumnElement[str]:
        """``column`` (a date, or a datetime taken as its calendar day in ``tz``) as
        the label of its ``unit`` bucket (``day week month quarter year``:
        ``2026-03-05``, ``2026-W10``, ``2026-03``, ``2026-Q1``, ``2026``), computed in
        SQL so a statement groups by it. ``label_of(day, unit)`` is the caller's own
        labelling, for a database without the functions (both sides then agree)."""


class SQLiteDialect(Dialect):
    """SQLite, the embedded default: the system database is one file and each
    enterprise has a file of its own under ``propolis.tenant_dir``. Connections run
    ``BEGIN IMMEDIATE``, so a writing transaction holds the database's write lock
    from its start: table locks are never needed."""

    name = "sqlite"
    # ALTER TABLE cannot change a column
    batch_alter = True
    # a column takes any value whatever its declared type
    typed_columns = False
    scaled_decimals = True
    search_table = True
    # no statistics unless ANALYZE is run, which nothing does
    plans_with_statistics = False

    def make_engine(self, url: str, **kw: Any) -> Engine:
        database = make_url(url).database
        if database and database != ":memory:":
            os.makedirs(os.path.dirname(os.path.abspath(database)), exist_ok=True)
        engine = create_engine(url, **kw)
        _sqlite_pragmas(engine)
        return engine

    def storage_key(self, account: str) -> str:
        return f"{account}.sqlite"

    def storage_name(self, tenant_dir: str, account: str) -> str:
        return os.path.join(tenant_dir, self.storage_key(account))

    def storage_of(self, conn: Connection) -> str:
        return os.path.basename(conn.engine.url.database or "")

    def tenant_engine(self, system_engine: Engine, name: str) -> Engine:
        return self.make_engine(f"sqlite:///{name}")

    def create_storage(self, system_engine: Engine, name: str) -> None:
        # the file itself comes with the first connection
        os.makedirs(os.path.dirname(name), exist_ok=True)

    def drop_storage(
        self, system_engine: Engine, name: str, engine: Engine | None
    ) -> None:
        if engine is not None:
            engine.dispose()
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(name + suffix):
                os.remove(name + suffix)

    def dispose_tenant_engine(self, engine: Engine) -> None:
        engine.dispose()

    def contains_text(self, column: Any, term: str) -> ColumnElement[bool]:
        return func.lower(column).like(f"%{like_escape(term)}%", escape=LIKE_ESCAPE)

    def json_contains(self, column: Any, value: str) -> ColumnElement[bool]:
        item = func.json_each(column).table_valued("value")
        return exists(select(literal(1)).select_from(item).where(item.c.value == value))

    def json_object(self, *args: Any) -> ColumnElement[Any]:
        return func.json_object(*args)

    def json_array(self, *args: Any) -> ColumnElement[Any]:
        return func.json_array(*args)

    def keyword_conditions(
        self, search_text: Any, record_id: Any, terms: Sequence[str],
        fts: Table | None,
    ) -> list[ColumnElement[bool]]:
        # the full-text table finds terms of at least a trigram; shorter ones, and
        # every term when there is no such table, fall back to LIKE
        conditions: list[ColumnElement[bool]] = []
        phrases = []
        for term in terms:
            if fts is not None and len(term) >= TRIGRAM:
                phrases.append('"' + term.replace('"', '""') + '"')
            else:
                conditions.append(search_text.like(f"%{like_escape(term)}%",
                                                   escape=LIKE_ESCAPE))
        if phrases and fts is not None:
            matches = select(fts.c.record_id).where(
                fts.c.body.op("MATCH")(" AND ".join(phrases)))
            conditions.append(record_id.in_(matches))
        return conditions

    def insert(self, table: Table) -> sqlite.Insert:
        return sqlite.insert(table)

    def exact_decimal(self, digits: int, scale: int) -> TypeEngine[Any]:
        # SQLite would store NUMERIC as a binary float: the value is kept as an
        # integer count of the field's smallest unit (12.34 with two places ->
        # 1234), exact, and it still sorts and compares in SQL
        return BigInteger()

    def decimal_to_column(self, value: Decimal, scale: int) -> Any:
        return int(value.scaleb(scale))

    def decimal_from_column(self, value: Any, scale: int) -> Decimal:
        # aggregates such as avg() come back as floats of the scaled integer
        return Decimal(str(value)).scaleb(-scale)

    def datetime_to_column(self, value: dt.datetime) -> Any:
        # SQLite would keep the offset as text; every stored datetime is UTC
        return value.replace(tzinfo=None)

    def create_search_index(
        self, conn: Connection, ops: Operations, *, table: str, name: str,
        schema: str | None,
    ) -> None:
        """The FTS5 table ``name`` and the triggers that keep it equal to
        ``table``'s ``search_text``. An FTS row's rowid is a hash of the record id
        (``FTS_KEY``, registered on every connection), so a trigger finds the row
        to replace by its key instead of scanning the FTS table."""
        found = conn.execute(
            text("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = :n"),
            {"n": name},
        ).first()
        if found:
            return
        q = conn.dialect.identifier_preparer.quote
        fts, main = q(name), q(table)
        statements = [
            f"CREATE VIRTUAL TABLE {fts} USING fts5("
            "record_id UNINDEXED, body, tokenize='trigram')",
            f"CREATE TRIGGER {q(identifier(name + '_ai'))} AFTER INSERT ON {main} "
            f"WHEN new.search_text IS NOT NULL BEGIN "
            f"INSERT INTO {fts} (rowid, record_id, body) "
            f"VALUES ({FTS_KEY}(new.id), new.id, new.search_text); END",
            f"CREATE TRIGGER {q(identifier(name + '_au'))} "
            f"AFTER UPDATE OF search_text ON {main} "
            f"WHEN old.search_text IS NOT new.search_text BEGIN "
            f"DELETE FROM {fts} WHERE rowid = {FTS_KEY}(old.id); "
            f"INSERT INTO {fts} (rowid, record_id, body) "
            f"SELECT {FTS_KEY}(new.id), new.id, new.search_text "
            f"WHERE new.search_text IS NOT NULL; END",
            f"CREATE TRIGGER {q(identifier(name + '_ad'))} AFTER DELETE ON {main} "
            f"BEGIN DELETE FROM {fts} WHERE rowid = {FTS_KEY}(old.id); END",
            f"INSERT INTO {fts} (rowid, record_id, body) "
            f"SELECT {FTS_KEY}(id), id, search_text "
            f"FROM {main} WHERE search_text IS NOT NULL",
        ]
        for statement in statements:
            ops.execute(text(statement))

    def index_definition(
        self, conn: Connection, schema: str | None, name: str
    ) -> str | None:
        found = conn.execute(text("SELECT sql FROM sqlite_master WHERE name = :n"),
                             {"n": name}).scalar()
        return None if found is None else str(found)

    def make_append_only(self, conn: Connection, table: str, message: str) -> None:
        q = conn.dialect.identifier_preparer.quote
        for change in ("update", "delete"):
            conn.execute(text(
                f"CREATE TRIGGER IF NOT EXISTS {q(identifier(f'{table}_no_{change}'))} "
                f"BEFORE {change.upper()} ON {q(table)} "
                f"BEGIN SELECT RAISE(ABORT, '{_sql_string(message)}'); END"))

    def date_label(self, conn: Connection, column: Any, unit: str, tz: str,
                   datetime: bool, label_of: DateLabeller) -> ColumnElement[str]:
        # no time zones in SQLite: the connection calls ``label_of`` in Python
        raw = conn.connection.driver_connection
        if raw is not None:
            raw.create_function(DATE_LABEL, 3, _python_date_label(label_of),
                                deterministic=True)
        return getattr(func, DATE_LABEL)(column, literal(unit), literal(tz),
                                         type_=String)


DATE_LABEL = "propolis_date_label"


def _python_date_label(label_of: DateLabeller
                       ) -> Callable[[str | None, str, str], str | None]:
    def label(value: str | None, unit: str, tz: str) -> str | None:
        if value is None:
            return None
        if len(value) > 10:  # a datetime, stored in UTC without its offset
            moment = dt.datetime.fromisoformat(value).replace(tzinfo=dt.UTC)
            day = moment.astimezone(ZoneInfo(tz)).date()
        else:
            day = dt.date.fromisoformat(value)
        return label_of(day, unit)
    return label


def _sql_string(value: str) -> str:
    return value.replace("'", "''")


def _sqlite_pragmas(engine: Engine) -> None:
    """WAL for concurrent readers, a busy timeout instead of instant "database is
    locked", and BEGIN IMMEDIATE so that a transaction that will write takes the write
    lock up front (a deferred BEGIN that upgrades later can fail with SQLITE_BUSY no
    matter how long the timeout is). Connections opened with the execution option
    ``readonly=True`` begin deferred and so never wait for writers."""

    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves, below
        dbapi_conn.create_function(FTS_KEY, 1, fts_key, deterministic=True)
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        # straight to the driver: this runs for every transaction, and SQLAlchemy's
        # statement machinery (events, result set-up) would cost more than BEGIN
        conn.connection.dbapi_connection.execute(
            "BEGIN" if conn.get_execution_options().get("readonly")
            else "BEGIN IMMEDIATE")


class PostgreSQLDialect(Dialect):
    """PostgreSQL: one database; the system tables in its default schema, each
    enterprise's tables in a schema of its own (``t_<account>``). Generated tables
    are declared without a schema and bound to the enterprise's through
    ``schema_translate_map``, so one compiled statement serves every enterprise and
    no query can name another's schema. The keyword search is a trigram GIN index
    (pg_trgm) on ``search_text``."""

    name = "postgresql"

    def make_engine(self, url: str, **kw: Any) -> Engine:
        return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20,
                             **kw)

    def reader(self, engine: Engine) -> Engine:
        # autocommit: one round trip instead of BEGIN, SELECT and ROLLBACK
        return engine.execution_options(isolation_level="AUTOCOMMIT")

    def storage_key(self, account: str) -> str:
        return f"t_{account}"

    def storage_of(self, conn: Connection) -> str:
        return str(self.tenant_schema(conn))

    def tenant_engine(self, system_engine: Engine, name: str) -> Engine:
        # shares the system engine's pool
        return system_engine.execution_options(schema_translate_map={None: name})

    def create_storage(self, system_engine: Engine, name: str) -> None:
        with system_engine.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{name}"'))

    def drop_storage(
        self, system_engine: Engine, name: str, engine: Engine | None
    ) -> None:
        with system_engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))

    def prepare_tenant(self, conn: Connection) -> None:
        # pg_trgm here, once: two enterprises' first searchable fields could
        # otherwise race to create it
        self._trigram_schema(conn)

    def tenant_schema(self, conn: Connection) -> str | None:
        schema = _mapped_schema(conn)
        if not schema:
            raise ValueError("this needs a tenant connection (Database.tenant_engine), "
                             "not the system one")
        return schema

    def contains_text(self, column: Any, term: str) -> ColumnElement[bool]:
        return column.ilike(f"%{like_escape(term)}%", escape=LIKE_ESCAPE)

    def json_contains(self, column: Any, value: str) -> ColumnElement[bool]:
        return column.op("@>")(bindparam(None, [value], type_=JSONB))

    def json_object(self, *args: Any) -> ColumnElement[Any]:
        return func.jsonb_build_object(*args)

    def json_array(self, *args: Any) -> ColumnElement[Any]:
        return func.jsonb_build_array(*args)

    def keyword_conditions(
        self, search_text: Any, record_id: Any, terms: Sequence[str],
        fts: Table | None,
    ) -> list[ColumnElement[bool]]:
        # ILIKE '%term%' is served by the GIN trigram index on search_text
        return [self.contains_text(search_text, term) for term in terms]

    def insert(self, table: Table) -> postgresql.Insert:
        return postgresql.insert(table)

    def custom_plans(self) -> ColumnElement[Any] | None:
        return func.set_config("plan_cache_mode", "force_custom_plan", True)

    DATE_FORMATS: ClassVar[dict[str, str]] = {
        "day": "YYYY-MM-DD", "week": 'IYYY-"W"IW', "month": "YYYY-MM",
        "quarter": 'YYYY-"Q"Q', "year": "YYYY"}

    def date_label(self, conn: Connection, column: Any, unit: str, tz: str,
                   datetime: bool, label_of: DateLabeller) -> ColumnElement[str]:
        local = func.timezone(literal(tz), column) if datetime else column
        return func.to_char(local, literal(self.DATE_FORMATS[unit]), type_=String)

    def lock_table(self, conn: Connection, table: str) -> None:
        # SHARE ROW EXCLUSIVE: one writer at a time, readers never wait
        q = conn.dialect.identifier_preparer.quote
        conn.execute(text(f"LOCK TABLE {q(str(self.tenant_schema(conn)))}.{q(table)} "
                          "IN SHARE ROW EXCLUSIVE MODE"))

    def exact_decimal(self, digits: int, scale: int) -> TypeEngine[Any]:
        return Numeric(digits, scale, asdecimal=True)

    def create_search_index(
        self, conn: Connection, ops: Operations, *, table: str, name: str,
        schema: str | None,
    ) -> None:
        trgm = self._trigram_schema(conn)
        ops.create_index(
            name, table, ["search_text"], schema=schema, postgresql_using="gin",
            postgresql_ops={
                "search_text":
                    f"{conn.dialect.identifier_preparer.quote(trgm)}.gin_trgm_ops"},
            if_not_exists=True,
        )

    @staticmethod
    def _trigram_schema(conn: Connection) -> str:
        """Installs pg_trgm if missing and returns the schema holding it. It goes
        to ``public``, never to an enterprise's schema: dropping that enterprise
        would otherwise take the extension, and every other enterprise's search
        index, with it."""
        found = conn.execute(text(
            "SELECT n.nspname FROM pg_extension e "
            "JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm'"
        )).scalar()
        if found is not None:
            return str(found)
        conn.execute(text("CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public"))
        return "public"

    def index_definition(
        self, conn: Connection, schema: str | None, name: str
    ) -> str | None:
        found = conn.execute(text(
            "SELECT indexdef FROM pg_indexes WHERE schemaname = :s AND indexname = :n"
        ), {"s": schema, "n": name}).scalar()
        return None if found is None else str(found)

    def make_append_only(self, conn: Connection, table: str, message: str) -> None:
        q = conn.dialect.identifier_preparer.quote
        schema = q(_mapped_schema(conn) or "public")
        refuse = f"{schema}.{q(identifier(f'{table}_refuse'))}"
        trigger = q(identifier(f"{table}_no_change"))
        for statement in (
            f"CREATE OR REPLACE FUNCTION {refuse}() RETURNS trigger LANGUAGE plpgsql "
            f"AS $$ BEGIN RAISE EXCEPTION '{_sql_string(message)}'; END $$",
            f"DROP TRIGGER IF EXISTS {trigger} ON {schema}.{q(table)}",
            f"CREATE TRIGGER {trigger} BEFORE UPDATE OR DELETE ON {schema}.{q(table)} "
            f"FOR EACH ROW EXECUTE FUNCTION {refuse}()",
        ):
            conn.execute(text(statement))


DIALECTS: dict[str, Dialect] = {d.name: d for d in (SQLiteDialect(),
                                                    PostgreSQLDialect())}


def dialect_by_name(name: str) -> Dialect:
    """The dialect of SQLAlchemy's dialect (backend) ``name``."""
    try:
        return DIALECTS[name]
    except KeyError:
        raise ValueError(f"no dialect for the database {name!r}: Propolis runs on "
                         f"{' and '.join(sorted(DIALECTS))}") from None


def dialect_of_url(url: str) -> Dialect:
    return dialect_by_name(make_url(url).get_backend_name())


def dialect_for(bind: Connection | Engine | SQLAlchemyDialect) -> Dialect:
    """The dialect of a connection, an engine, or SQLAlchemy's dialect object (what
    a column type is given)."""
    sa = bind if isinstance(bind, SQLAlchemyDialect) else bind.dialect
    return dialect_by_name(sa.name)
