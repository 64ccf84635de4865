"""The dialects (propolis.platform.db.dialects): each method run on its database."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from decimal import Decimal

import pytest
from alembic.migration import MigrationContext
from alembic.operations import Operations
from sqlalchemy import (
    Column,
    Connection,
    Engine,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.exc import DatabaseError

from propolis.platform.db import Database, dialect_for
from propolis.platform.db.dialects import DIALECTS, dialect_by_name
from propolis.platform.meta.services import create_tenant_storage
from propolis.platform.query.services import fts_table
from propolis.platform.storage.types import UTCDateTime, json_type
from tests.conftest import unique_account

md = MetaData()
things = Table(
    "things", md,
    Column("id", String(10), primary_key=True),
    Column("label", String(100)),
    Column("tags", json_type()),
    Column("search_text", Text),
    Column("at", UTCDateTime()),
)
counters = Table(
    "counters", md,
    Column("name", String(10), primary_key=True),
    Column("value", Integer, nullable=False),
)
Index("ix_things_at_partial", things.c.at, sqlite_where=text("at IS NOT NULL"),
      postgresql_where=text("at IS NOT NULL"))

ROWS = [
    {"id": "a", "label": "Acme 100% Steel", "tags": ["vip", "north"],
     "search_text": "acme 100% steel"},
    {"id": "b", "label": "Bolt_Works", "tags": ["north"], "search_text": "bolt_works"},
    {"id": "c", "label": None, "tags": [], "search_text": None},
]


@pytest.fixture
def tenant(database: Database) -> Iterator[Engine]:
    """An enterprise's storage holding ``things`` (with ``ROWS``) and ``counters``."""
    account = unique_account("dl")
    create_tenant_storage(database, account)
    engine = database.tenant_engine(account)
    with engine.begin() as conn:
        md.create_all(conn)
        conn.execute(insert(things), ROWS)
    yield engine
    database.drop_tenant_storage(account)


def ids(conn: Connection, *conditions: object) -> list[str]:
    return sorted(conn.execute(select(things.c.id).where(*conditions)).scalars())


def test_one_dialect_per_database(database: Database, tenant: Engine) -> None:
    with tenant.connect() as conn:
        assert dialect_for(conn) is database.dialect
    assert dialect_for(database.system_engine) is database.dialect
    assert dialect_for(database.system_engine.dialect) is database.dialect
    assert DIALECTS[database.dialect.name] is database.dialect
    with pytest.raises(ValueError, match="no dialect for the database 'mysql'"):
        dialect_by_name("mysql")


def test_tenant_storage(database: Database) -> None:
    dialect = database.dialect
    account = unique_account("dl")
    create_tenant_storage(database, account)
    with database.tenant_engine(account).connect() as conn:
        assert dialect.storage_of(conn) == dialect.storage_key(account)
        schema = dialect.tenant_schema(conn)
    database.drop_tenant_storage(account)
    if schema is not None:  # storages are schemas: the connection names its own
        assert schema == dialect.storage_key(account)
        with database.system_engine.connect() as conn:
            with pytest.raises(ValueError, match="tenant connection"):
                dialect.tenant_schema(conn)


def test_contains_text_ignores_case_and_wildcards(tenant: Engine) -> None:
    dialect = dialect_for(tenant)
    with tenant.connect() as conn:
        assert ids(conn, dialect.contains_text(things.c.label, "acme")) == ["a"]
        assert ids(conn, dialect.contains_text(things.c.label, "steel")) == ["a"]
        assert ids(conn, dialect.contains_text(things.c.label, "0%")) == ["a"]
        assert ids(conn, dialect.contains_text(things.c.label, "%")) == ["a"]
        assert ids(conn, dialect.contains_text(things.c.label, "t_w")) == ["b"]
        assert ids(conn, dialect.contains_text(things.c.label, "_")) == ["b"]
        assert ids(conn, dialect.contains_text(things.c.label, "zzz")) == []


def test_json_contains(tenant: Engine) -> None:
    dialect = dialect_for(tenant)
    with tenant.connect() as conn:
        assert ids(conn, dialect.json_contains(things.c.tags, "north")) == ["a", "b"]
        assert ids(conn, dialect.json_contains(things.c.tags, "vip")) == ["a"]
        assert ids(conn, dialect.json_contains(things.c.tags, "nor")) == []


def test_json_built_by_the_database(tenant: Engine) -> None:
    dialect = dialect_for(tenant)
    built = dialect.json_object(
        things.c.id, dialect.json_array(things.c.label, func.upper(things.c.id)))
    with tenant.connect() as conn:
        found = conn.execute(select(built).where(things.c.id == "b")).scalar_one()
    if isinstance(found, str):  # SQLite answers the text of the JSON
        found = json.loads(found)
    assert found == {"b": ["Bolt_Works", "B"]}


def test_upsert_counts(tenant: Engine) -> None:
    dialect = dialect_for(tenant)
    stmt = dialect.upsert(counters, {"name": "n", "value": 1}, keys=[counters.c.name],
                          set_={"value": counters.c.value + 1}
                          ).returning(counters.c.value)
    with tenant.begin() as conn:
        assert [conn.execute(stmt).scalar_one() for _ in range(3)] == [1, 2, 3]
        assert conn.execute(select(func.count()).select_from(counters)
                            ).scalar_one() == 1


def test_keyword_conditions_without_a_search_table(tenant: Engine) -> None:
    dialect = dialect_for(tenant)

    def found(*terms: str) -> list[str]:
        with tenant.connect() as conn:
            return ids(conn, *dialect.keyword_conditions(
                things.c.search_text, things.c.id, terms, None))

    assert found("acme") == ["a"]
    assert found("acme", "steel") == ["a"]
    assert found("acme", "bolt") == []
    assert found("%") == ["a"]
    assert found("_") == ["b"]
    assert found("'") == []


def test_search_index_serves_the_keyword_search(tenant: Engine) -> None:
    dialect = dialect_for(tenant)
    name = "things__fts" if dialect.search_table else "ix_things_search_text"
    with tenant.begin() as conn:
        ops = Operations(MigrationContext.configure(conn))
        schema = dialect.tenant_schema(conn)
        dialect.create_search_index(conn, ops, table="things", name=name,
                                    schema=schema)
        # again: a second run leaves it as it is
        dialect.create_search_index(conn, ops, table="things", name=name,
                                    schema=schema)
        conn.execute(insert(things).values(id="d", search_text="deep steel"))
        conn.execute(update(things).where(things.c.id == "b")
                     .values(search_text="bolt steel"))
    fts = fts_table(name) if dialect.search_table else None

    def found(*terms: str) -> list[str]:
        with tenant.connect() as conn:
            return ids(conn, *dialect.keyword_conditions(
                things.c.search_text, things.c.id, terms, fts))

    assert found("steel") == ["a", "b", "d"]
    assert found("steel", "bolt") == ["b"]
    assert found("st", "de") == ["d"]  # shorter than a trigram
    assert found('"steel') == []  # a literal, never query syntax
    with tenant.connect() as conn:
        assert dialect.index_definition(conn, schema, name) is not None


def test_index_definition(tenant: Engine) -> None:
    dialect = dialect_for(tenant)
    with tenant.connect() as conn:
        schema = dialect.tenant_schema(conn)
        found = dialect.index_definition(conn, schema, "ix_things_at_partial")
        assert found is not None and " WHERE " in found.upper()
        assert dialect.index_definition(conn, schema, "ix_nothing") is None


def test_lock_table_in_a_transaction(tenant: Engine) -> None:
    dialect = dialect_for(tenant)
    with tenant.begin() as conn:
        dialect.lock_table(conn, "counters")
        conn.execute(insert(counters).values(name="x", value=1))
    with tenant.connect() as conn:
        assert conn.execute(select(counters.c.value)).scalars().all() == [1]


def test_custom_plans_is_a_column_or_none(tenant: Engine) -> None:
    column = dialect_for(tenant).custom_plans()
    if column is not None:
        with tenant.begin() as conn:
            conn.execute(select(column)).scalar_one()


def test_append_only(tenant: Engine) -> None:
    dialect = dialect_for(tenant)
    with tenant.begin() as conn:
        dialect.make_append_only(conn, "counters", "counters don't change")
        conn.execute(insert(counters).values(name="y", value=1))
    for statement in (update(counters).values(value=2), counters.delete()):
        with pytest.raises(DatabaseError, match="counters don't change"):
            with tenant.begin() as conn:
                conn.execute(statement)


def test_datetimes_come_back_aware(tenant: Engine) -> None:
    at = dt.datetime(2026, 3, 1, 9, 30, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    with tenant.begin() as conn:
        conn.execute(update(things).where(things.c.id == "a").values(at=at))
    with tenant.connect() as conn:
        found = conn.execute(select(things.c.at).where(things.c.id == "a")
                             ).scalar_one()
    assert found == at and found.tzinfo == dt.UTC


@pytest.mark.parametrize("name", sorted(DIALECTS))
@pytest.mark.parametrize("scale", [0, 2, 4])
def test_decimal_storage_round_trips(name: str, scale: int) -> None:
    dialect = DIALECTS[name]
    for value in (Decimal("12.34"), Decimal("-0.5"), Decimal("0"),
                  Decimal("123456789012.5")):
        value = value.quantize(Decimal(1).scaleb(-scale))
        stored = dialect.decimal_to_column(value, scale)
        assert dialect.decimal_from_column(stored, scale) == value
