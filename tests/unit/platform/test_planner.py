"""The storage planner: plans of metadata changes, applied on SQLite and PostgreSQL."""

from __future__ import annotations

import copy
import datetime as dt
import itertools
import json
from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, insert, inspect, select, text, update
from sqlalchemy.exc import IntegrityError

from propolis.metadata.normalize import normalize_object
from propolis.platform.db import Database
from propolis.platform.errors import AppError, both
from propolis.platform.ids import new_id
from propolis.platform.storage.applier import apply_plan, upgrade_recycle_bin_indexes
from propolis.platform.storage.plan import (
    SEARCH_TEXT,
    Plan,
    PlanError,
    search_index_name,
    search_table_name,
)
from propolis.platform.storage.planner import plan_changes
from propolis.platform.storage.tables import TenantTables
from tests.conftest import unique_account

NOW = dt.datetime(2026, 1, 5, 8, 30, tzinfo=dt.UTC)
Objects = Mapping[str, Mapping[str, Any]]


def obj(name: str, *fields: dict[str, Any]) -> dict[str, Any]:
    return normalize_object(
        {"kind": "object", "api_name": name, "fields": list(fields)}
    )


def changed(doc: Mapping[str, Any], **fields: dict[str, Any] | None) -> dict[str, Any]:
    """``doc`` with fields replaced (a dict), removed (None) or appended (new name)."""
    out = copy.deepcopy(dict(doc))
    out.pop("archived_fields", None)
    by_name = {f["api_name"]: f for f in out["fields"]}
    for name, definition in fields.items():
        if definition is None:
            del by_name[name]
        else:
            by_name[name] = normalize_object(
                {"api_name": "x", "fields": [{"api_name": name, **definition}]}
            )["fields"][0]
    out["fields"] = list(by_name.values())
    return out


_row_ids = itertools.count()


def row(**values: Any) -> dict[str, Any]:
    # ids in insertion order, so that reading back ordered by id is deterministic
    return {
        "id": f"r{next(_row_ids):012d}",
        "created_at": NOW,
        "updated_at": NOW,
        **values,
    }


class Tenant:
    """One enterprise's storage and the effective objects applied to it so far."""

    def __init__(self, database: Database, account: str) -> None:
        self.database = database
        self.account = account
        self.engine: Engine = database.tenant_engine(account)
        self.dialect = database.dialect.name
        self.schema = None if database.dialect.name == "sqlite" else f"t_{account}"
        self.objects: dict[str, dict[str, Any]] = {}

    def plan(self, *docs: dict[str, Any]) -> Plan:
        new = {**self.objects, **{d["api_name"]: d for d in docs}}
        return plan_changes(self.objects, new, dialect=self.dialect)

    def apply(self, *docs: dict[str, Any]) -> Plan:
        plan = self.plan(*docs)
        with self.engine.begin() as conn:
            apply_plan(conn, plan)
        self.objects = plan.effective
        return plan

    @property
    def tables(self) -> TenantTables:
        return TenantTables(self.objects)

    def insert(self, name: str, *rows: dict[str, Any]) -> None:
        with self.engine.begin() as conn:
            for values in rows:  # one by one: rows may set different columns
                conn.execute(insert(self.tables.main[name]).values(values))

    def values(self, name: str, column: str) -> list[Any]:
        table = self.tables.main[name]
        with self.engine.connect() as conn:
            return list(
                conn.execute(select(table.c[column]).order_by(table.c.id)).scalars()
            )

    def q(self, name: str) -> str:
        """A table name for raw SQL, which the schema_translate_map does not reach."""
        return f'"{self.schema}".{name}' if self.schema else name

    def raw(self, sql: str) -> list[Any]:
        with self.engine.connect() as conn:
            return list(conn.execute(text(sql)).all())

    def columns(self, table: str) -> dict[str, str]:
        with self.engine.connect() as conn:
            return {
                c["name"]: c["type"].compile(dialect=conn.dialect)
                for c in inspect(conn).get_columns(table, schema=self.schema)
            }

    def indexes(self, table: str) -> dict[str, tuple[list[str], bool]]:
        with self.engine.connect() as conn:
            return {
                i["name"]: (list(i["column_names"]), bool(i["unique"]))
                for i in inspect(conn).get_indexes(table, schema=self.schema)
            }

    def table_names(self) -> list[str]:
        with self.engine.connect() as conn:
            return inspect(conn).get_table_names(schema=self.schema)


@pytest.fixture
def tenant(database: Database) -> Iterator[Tenant]:
    account = unique_account()
    database.create_tenant_storage(account)
    yield Tenant(database, account)
    database.drop_tenant_storage(account)


# --- every field type -------------------------------------------------------------

EVERY_TYPE = [
    {
        "api_name": "name",
        "type": "text",
        "max_length": 200,
        "unique": True,
        "searchable": True,
    },
    {"api_name": "notes", "type": "textarea"},
    {"api_name": "body", "type": "richtext"},
    {"api_name": "qty", "type": "number", "precision": 0},
    {"api_name": "amount", "type": "currency", "precision": 2},
    {"api_name": "rate", "type": "percent", "precision": 3},
    {"api_name": "close_date", "type": "date"},
    {"api_name": "start_time", "type": "time"},
    {"api_name": "signed_at", "type": "datetime"},
    {"api_name": "won", "type": "boolean"},
    {"api_name": "level", "type": "select", "options": ["A", "B"]},
    {"api_name": "tags", "type": "multiselect", "options": ["x", "y"]},
    {"api_name": "parent", "type": "lookup", "to": "deal"},
    {"api_name": "account", "type": "master_detail", "to": "deal"},
    {
        "api_name": "items",
        "type": "table",
        "fields": [
            {"api_name": "product", "type": "lookup", "to": "deal"},
            {"api_name": "qty", "type": "number", "precision": 1},
            {"api_name": "price", "type": "currency"},
            {
                "api_name": "line",
                "type": "formula",
                "returns": "currency",
                "expression": "qty * price",
            },
        ],
    },
    {"api_name": "code", "type": "autonumber", "format": "D-{seq:5}"},
    {
        "api_name": "total",
        "type": "formula",
        "returns": "currency",
        "expression": "sum(items.map(i, i.line))",
    },
    {
        "api_name": "child_count",
        "type": "rollup",
        "from": "deal",
        "via": "parent",
        "function": "count",
    },
    {"api_name": "parent_level", "type": "quote", "via": "parent", "field": "level"},
    {"api_name": "phone", "type": "phone"},
    {"api_name": "email", "type": "email"},
    {"api_name": "website", "type": "url"},
    {"api_name": "attachments", "type": "file"},
    {"api_name": "photos", "type": "image"},
    {"api_name": "place", "type": "location"},
    {"api_name": "region", "type": "area"},
    {"api_name": "manager", "type": "user"},
    {"api_name": "team", "type": "department"},
]

CONTRACT_TYPES = set(
    "text textarea richtext number currency percent date time datetime boolean "
    "select multiselect lookup master_detail table autonumber formula rollup quote "
    "phone email url file image location area user department".split()
)


def expected_columns(dialect: str) -> dict[str, str]:
    pg = dialect == "postgresql"

    def dec(scale: int) -> str:
        return f"NUMERIC(28, {scale})" if pg else "BIGINT"

    json_type = "JSONB" if pg else "JSON"
    ref = "VARCHAR(32)"
    return {
        "id": ref,
        "owner": ref,
        "owner_department": ref,
        "created_by": ref,
        "created_at": "TIMESTAMP WITH TIME ZONE" if pg else "DATETIME",
        "updated_by": ref,
        "updated_at": "TIMESTAMP WITH TIME ZONE" if pg else "DATETIME",
        "life_status": "VARCHAR(16)",
        "version": "INTEGER",
        "deleted_at": "TIMESTAMP WITH TIME ZONE" if pg else "DATETIME",
        "deleted_by": ref,
        "search_text": "TEXT",
        "name": "VARCHAR(200)",
        "notes": "TEXT",
        "body": "TEXT",
        "qty": dec(0),
        "amount": dec(2),
        "rate": dec(3),
        "close_date": "DATE",
        "start_time": "TIME WITHOUT TIME ZONE" if pg else "TIME",
        "signed_at": "TIMESTAMP WITH TIME ZONE" if pg else "DATETIME",
        "won": "BOOLEAN",
        "level": "VARCHAR(100)",
        "tags": json_type,
        "parent": ref,
        "account": ref,
        "code": "VARCHAR(64)",
        "total": dec(2),
        "child_count": dec(0),
        "phone": "VARCHAR(40)",
        "email": "VARCHAR(254)",
        "website": "VARCHAR(2000)",
        "attachments": json_type,
        "photos": json_type,
        "place": json_type,
        "region": json_type,
        "manager": ref,
        "team": ref,
    }


def test_every_contract_field_type_is_covered() -> None:
    assert {f["type"] for f in EVERY_TYPE} == CONTRACT_TYPES


def test_create_object_with_every_field_type(tenant: Tenant) -> None:
    plan = tenant.apply(obj("deal", *EVERY_TYPE))

    assert [(op.kind, op.field) for op in plan.operations] == [
        ("create_table", None),
        ("create_index", "name"),
        ("create_child_table", "items"),
        ("create_search_index", None),
    ]
    assert plan.backfills == []
    assert plan.effective["deal"]["archived_fields"] == []
    assert tenant.columns("o_deal") == expected_columns(tenant.dialect)
    dec = "BIGINT" if tenant.dialect == "sqlite" else "NUMERIC(28, {})"
    assert tenant.columns("o_deal__items") == {
        "id": "VARCHAR(32)",
        "parent_id": "VARCHAR(32)",
        "row_order": "INTEGER",
        "product": "VARCHAR(32)",
        "qty": dec.format(1),
        "price": dec.format(2),
        "line": dec.format(2),
    }
    indexes = tenant.indexes("o_deal")
    assert indexes["uq_o_deal_name"] == (["name"], True)
    for column in (
        "owner",
        "owner_department",
        "updated_at",
        "deleted_at",
        "parent",
        "account",
        "manager",
        "team",
        "code",
    ):
        assert indexes[f"ix_o_deal_{column}"] == ([column], False)
    child_indexes = tenant.indexes("o_deal__items")
    assert child_indexes["ix_o_deal__items_parent_id"] == (["parent_id"], False)
    assert child_indexes["ix_o_deal__items_product"] == (["product"], False)
    with tenant.engine.connect() as conn:
        (fk,) = inspect(conn).get_foreign_keys("o_deal__items", schema=tenant.schema)
    assert (fk["constrained_columns"], fk["referred_table"], fk["referred_schema"]) == (
        ["parent_id"],
        "o_deal",
        tenant.schema,
    )
    assert fk["options"]["ondelete"] == "CASCADE"


def test_every_field_type_stores_its_values(tenant: Tenant) -> None:
    tenant.apply(obj("deal", *EVERY_TYPE))
    values = {
        "name": "Acme",
        "notes": "long\ntext",
        "body": "<p>hi</p>",
        "qty": Decimal(3),
        "amount": Decimal("1234.56"),
        "rate": Decimal("12.125"),
        "close_date": dt.date(2026, 2, 1),
        "start_time": dt.time(9, 30),
        "signed_at": NOW,
        "won": True,
        "level": "A",
        "tags": ["x", "y"],
        "parent": new_id(),
        "account": new_id(),
        "code": "D-00001",
        "total": Decimal("10.00"),
        "child_count": Decimal(2),
        "phone": "13800000000",
        "email": "a@example.com",
        "website": "https://example.com",
        "attachments": [new_id()],
        "photos": [new_id()],
        "place": {"lat": 31.2, "lng": 121.5, "address": "Shanghai"},
        "region": {"province": "浙江", "city": "杭州", "district": "西湖"},
        "manager": new_id(),
        "team": new_id(),
    }
    record = row(**values)
    tenant.insert("deal", record)
    items = tenant.tables.children["deal"]["items"]
    with tenant.engine.begin() as conn:
        conn.execute(
            insert(items).values(
                id=new_id(),
                parent_id=record["id"],
                row_order=0,
                qty=Decimal("1.5"),
                price=Decimal("9.99"),
                line=Decimal("14.99"),
            )
        )
        stored = conn.execute(select(tenant.tables.main["deal"])).mappings().one()
        assert conn.execute(select(items.c.line)).scalar_one() == Decimal("14.99")
    assert {k: stored[k] for k in values} == values


# --- adding, removing, restoring ----------------------------------------------------


def test_add_fields_to_a_table_holding_rows(tenant: Tenant) -> None:
    deal = obj(
        "deal",
        {"api_name": "name", "type": "text"},
        {"api_name": "amount", "type": "currency"},
    )
    tenant.apply(deal)
    tenant.insert(
        "deal",
        row(name="a", amount=Decimal("1.50")),
        row(name="b", amount=Decimal("2.25")),
    )

    plan = tenant.apply(
        changed(
            deal,
            stage={"type": "select", "options": ["new", "won"]},
            owner_user={"type": "user"},
            double={
                "type": "formula",
                "returns": "currency",
                "expression": "amount * 2",
            },
            code={"type": "autonumber", "format": "D-{seq:4}"},
            children={
                "type": "rollup",
                "from": "deal",
                "via": "owner_user",
                "function": "count",
            },
            ref={"type": "text", "unique": True},
            lines={"type": "table", "fields": [{"api_name": "qty", "type": "number"}]},
        )
    )

    assert [(op.kind, op.field) for op in plan.operations] == [
        ("add_column", "stage"),
        ("add_column", "owner_user"),
        ("add_column", "double"),
        ("add_column", "code"),
        ("add_column", "children"),
        ("add_column", "ref"),
        ("create_index", "ref"),
        ("create_child_table", "lines"),
        ("backfill", "double"),
        ("backfill", "code"),
        ("backfill", "children"),
    ]
    assert plan.backfills == [
        ("deal", "double"),
        ("deal", "code"),
        ("deal", "children"),
    ]
    assert tenant.values("deal", "name") == ["a", "b"]
    assert tenant.values("deal", "amount") == [Decimal("1.50"), Decimal("2.25")]
    assert tenant.values("deal", "stage") == [None, None]
    assert tenant.indexes("o_deal")["ix_o_deal_owner_user"] == (["owner_user"], False)
    assert "o_deal__lines" in tenant.table_names()
    deal_table = tenant.tables.main["deal"]
    with tenant.engine.begin() as conn:
        conn.execute(update(deal_table).values(stage="won", ref=deal_table.c.name))
    assert tenant.values("deal", "stage") == ["won", "won"]


def test_remove_and_restore_a_field_keeps_its_values(tenant: Tenant) -> None:
    deal = obj(
        "deal",
        {"api_name": "name", "type": "text"},
        {"api_name": "amount", "type": "currency", "unique": True},
    )
    tenant.apply(deal)
    tenant.insert(
        "deal",
        row(name="a", amount=Decimal("1.50")),
        row(name="b", amount=Decimal("-7.25")),
    )

    plan = tenant.apply(changed(deal, amount=None))

    assert [(op.kind, op.field) for op in plan.operations] == [
        ("archive_field", "amount")
    ]
    effective = plan.effective["deal"]
    assert [f["api_name"] for f in effective["fields"]] == ["name"]
    assert [f["api_name"] for f in effective["archived_fields"]] == ["amount"]
    assert "amount" in tenant.columns("o_deal")
    assert tenant.indexes("o_deal")["uq_o_deal_amount"] == (["amount"], True)
    scaled = ["150", "-725"] if tenant.dialect == "sqlite" else ["1.50", "-7.25"]
    stored = tenant.raw(f"SELECT amount FROM {tenant.q('o_deal')} ORDER BY id")
    assert [str(v) for (v,) in stored] == scaled
    # a new record leaves the archived column empty, next to the unique index
    tenant.insert("deal", row(name="c"), row(name="d"))

    plan = tenant.apply(deal)

    assert [(op.kind, op.field) for op in plan.operations] == [
        ("restore_field", "amount")
    ]
    assert plan.effective["deal"]["archived_fields"] == []
    assert tenant.values("deal", "amount") == [
        Decimal("1.50"),
        Decimal("-7.25"),
        None,
        None,
    ]


def test_remove_and_restore_a_sub_field(tenant: Tenant) -> None:
    deal = obj(
        "deal",
        {
            "api_name": "items",
            "type": "table",
            "fields": [
                {"api_name": "qty", "type": "number"},
                {"api_name": "note", "type": "text"},
            ],
        },
    )
    tenant.apply(deal)
    parent = row()
    tenant.insert("deal", parent)
    items = tenant.tables.children["deal"]["items"]
    with tenant.engine.begin() as conn:
        conn.execute(
            insert(items).values(
                id=new_id(),
                parent_id=parent["id"],
                row_order=0,
                qty=Decimal(2),
                note="keep",
            )
        )
    without_note = copy.deepcopy(deal)
    without_note["fields"][0]["fields"].pop()

    plan = tenant.apply(without_note)

    assert [(op.kind, op.field) for op in plan.operations] == [
        ("archive_field", "items.note")
    ]
    table_field = plan.effective["deal"]["fields"][0]
    assert [f["api_name"] for f in table_field["archived_fields"]] == ["note"]
    assert "note" in tenant.columns("o_deal__items")
    assert "note" in tenant.tables.children["deal"]["items"].c

    plan = tenant.apply(deal)

    assert [(op.kind, op.field) for op in plan.operations] == [
        ("restore_field", "items.note")
    ]
    assert "archived_fields" not in plan.effective["deal"]["fields"][0]
    with tenant.engine.connect() as conn:
        assert conn.execute(select(items.c.note)).scalar_one() == "keep"


def test_archived_field_cannot_come_back_with_an_incompatible_type(
    tenant: Tenant,
) -> None:
    deal = obj(
        "deal",
        {"api_name": "name", "type": "text"},
        {"api_name": "amount", "type": "currency"},
    )
    tenant.apply(deal)
    tenant.apply(changed(deal, amount=None))

    with pytest.raises(PlanError) as caught:
        tenant.plan(changed(deal, amount={"type": "date"}))

    assert "deal.amount" in caught.value.fields
    assert "another api_name" in both(caught.value.message)["en"]
    assert "换一个 api_name" in both(caught.value.message)["zh"]


def test_removing_a_quote_field_archives_nothing(tenant: Tenant) -> None:
    deal = obj(
        "deal",
        {"api_name": "parent", "type": "lookup", "to": "deal"},
        {"api_name": "parent_name", "type": "quote", "via": "parent", "field": "name"},
    )
    tenant.apply(deal)
    plan = tenant.apply(changed(deal, parent_name=None))
    assert plan.operations == []
    assert plan.effective["deal"]["archived_fields"] == []


def test_removing_an_object_is_refused(tenant: Tenant) -> None:
    tenant.apply(obj("deal", {"api_name": "name", "type": "text"}))
    with pytest.raises(PlanError) as caught:
        plan_changes(tenant.objects, {}, dialect=tenant.dialect)
    assert caught.value.code == "metadata_change_refused"
    assert "Hide it instead" in both(caught.value.message)["en"]
    assert "隐藏" in both(caught.value.message)["zh"]


@pytest.mark.parametrize(
    "fields",
    [
        [{"api_name": "owner", "type": "user"}],
        [{"api_name": "search_text", "type": "textarea"}],
        [
            {
                "api_name": "fts",
                "type": "table",
                "fields": [{"api_name": "a", "type": "text"}],
            }
        ],
        [
            {
                "api_name": "lines",
                "type": "table",
                "fields": [{"api_name": "parent_id", "type": "text"}],
            }
        ],
    ],
)
def test_names_that_collide_with_storage_are_refused(fields: list[Any]) -> None:
    with pytest.raises(PlanError):
        plan_changes({}, {"deal": obj("deal", *fields)}, dialect="sqlite")


# --- type changes ------------------------------------------------------------------

REFUSED = [
    ({"type": "text"}, {"type": "number"}, "text(255)", "number(2)"),
    ({"type": "number"}, {"type": "text"}, "number(2)", "text(255)"),
    ({"type": "textarea"}, {"type": "text"}, "textarea", "text(255)"),
    ({"type": "textarea"}, {"type": "richtext"}, "textarea", "richtext"),
    ({"type": "text"}, {"type": "select", "options": ["a"]}, "text(255)", "select"),
    (
        {"type": "select", "options": ["a"]},
        {"type": "multiselect", "options": ["a"]},
        "select",
        "multiselect",
    ),
    (
        {"type": "multiselect", "options": ["a"]},
        {"type": "text"},
        "multiselect",
        "text(255)",
    ),
    ({"type": "date"}, {"type": "datetime"}, "date", "datetime"),
    ({"type": "currency"}, {"type": "percent"}, "currency(2)", "percent(2)"),
    (
        {"type": "number"},
        {"type": "formula", "returns": "number", "expression": "1"},
        "number(2)",
        "formula(number(2))",
    ),
    (
        {"type": "text"},
        {"type": "autonumber", "format": "{seq:3}"},
        "text(255)",
        "autonumber",
    ),
    ({"type": "lookup", "to": "deal"}, {"type": "text"}, "lookup(deal)", "text(255)"),
    (
        {"type": "text"},
        {"type": "quote", "via": "a", "field": "b"},
        "text(255)",
        "quote",
    ),
    (
        {"type": "text"},
        {"type": "table", "fields": [{"api_name": "a", "type": "text"}]},
        "text(255)",
        "table",
    ),
    (
        {"type": "text", "max_length": 200},
        {"type": "text", "max_length": 100},
        "200",
        "100",
    ),
    (
        {"type": "select", "options": ["a"]},
        {"type": "text", "max_length": 50},
        "100",
        "50",
    ),
    (
        {"type": "currency", "precision": 4},
        {"type": "currency", "precision": 2},
        "4",
        "2",
    ),
    (
        {"type": "number", "precision": 3},
        {"type": "currency", "precision": 2},
        "3",
        "2",
    ),
    (
        {"type": "lookup", "to": "deal"},
        {"type": "lookup", "to": "other"},
        "deal",
        "other",
    ),
    (
        {"type": "lookup", "to": "deal"},
        {"type": "master_detail", "to": "other"},
        "deal",
        "other",
    ),
    (
        {"type": "formula", "returns": "text", "expression": "'a'"},
        {"type": "formula", "returns": "number", "expression": "1"},
        "formula(text(255))",
        "formula(number(2))",
    ),
]


@pytest.mark.parametrize(("old", "new", "old_label", "new_label"), REFUSED)
def test_type_changes_that_could_lose_data_are_refused(
    old: dict[str, Any], new: dict[str, Any], old_label: str, new_label: str
) -> None:
    before = obj("deal", {"api_name": "name", "type": "text"}, {"api_name": "f", **old})
    effective = plan_changes({}, {"deal": before}, dialect="sqlite").effective

    for dialect in ("sqlite", "postgresql"):
        with pytest.raises(PlanError) as caught:
            plan_changes(effective, {"deal": changed(before, f=new)}, dialect=dialect)

        error = caught.value
        assert error.status == 400
        assert list(error.fields) == ["deal.f"]
        for lang in ("zh", "en"):
            message = both(error.message)[lang]
            assert "deal" in message and "f" in message
            assert old_label in message and new_label in message
        text = both(error.message)
        assert "Add a new field and copy the values instead." in text["en"]
        assert "请新增一个字段并把数据复制过去" in text["zh"]


@pytest.mark.parametrize(
    ("old", "new", "zh", "en"),
    [
        (
            {"type": "text", "max_length": 200},
            {"type": "text", "max_length": 100},
            "最大长度不能从 200 降到 100：较长的已存值会被截断",
            "The max_length of deal.f cannot go down from 200 to 100: longer "
            "stored values would be cut.",
        ),
        (
            {"type": "currency", "precision": 4},
            {"type": "currency", "precision": 2},
            "小数位数不能从 4 降到 2：已存的数值会被舍入",
            "The precision of deal.f cannot go down from 4 to 2: stored values "
            "would be rounded.",
        ),
    ],
)
def test_a_narrower_width_names_the_width_and_what_would_be_lost(
    old: dict[str, Any], new: dict[str, Any], zh: str, en: str
) -> None:
    before = obj("deal", {"api_name": "f", **old})
    effective = plan_changes({}, {"deal": before}, dialect="sqlite").effective
    with pytest.raises(PlanError) as caught:
        plan_changes(effective, {"deal": changed(before, f=new)}, dialect="sqlite")
    assert zh in both(caught.value.message)["zh"]
    assert en in both(caught.value.message)["en"]


def test_every_refusal_is_reported_at_once() -> None:
    before = obj(
        "deal", {"api_name": "a", "type": "text"}, {"api_name": "b", "type": "date"}
    )
    effective = plan_changes({}, {"deal": before}, dialect="sqlite").effective
    after = changed(before, a={"type": "number"}, b={"type": "boolean"})
    with pytest.raises(PlanError) as caught:
        plan_changes(effective, {"deal": after}, dialect="sqlite")
    assert set(caught.value.fields) == {"deal.a", "deal.b"}


ALLOWED = [
    # old, new, stored value, expected kinds, PostgreSQL column type after
    (
        {"type": "text", "max_length": 20},
        {"type": "textarea"},
        "hello",
        ["alter_type"],
        "TEXT",
    ),
    (
        {"type": "text", "max_length": 20},
        {"type": "text", "max_length": 300},
        "hello",
        ["alter_type"],
        "VARCHAR(300)",
    ),
    (
        {"type": "select", "options": ["won"]},
        {"type": "text"},
        "won",
        ["alter_type"],
        "VARCHAR(255)",
    ),
    ({"type": "phone"}, {"type": "text"}, "138", ["alter_type"], "VARCHAR(255)"),
    (
        {"type": "autonumber", "format": "{seq:3}"},
        {"type": "text"},
        "001",
        ["alter_type"],
        "VARCHAR(255)",
    ),
    ({"type": "url"}, {"type": "textarea"}, "https://x", ["alter_type"], "TEXT"),
    (
        {"type": "number", "precision": 2},
        {"type": "number", "precision": 4},
        Decimal("12.34"),
        ["alter_precision"],
        "NUMERIC(28, 4)",
    ),
    (
        {"type": "number", "precision": 2},
        {"type": "currency", "precision": 2},
        Decimal("12.34"),
        ["alter_type"],
        "NUMERIC(28, 2)",
    ),
    (
        {"type": "number", "precision": 1},
        {"type": "percent", "precision": 3},
        Decimal("12.5"),
        ["alter_precision", "alter_type"],
        "NUMERIC(28, 3)",
    ),
    (
        {"type": "currency", "precision": 2},
        {"type": "number", "precision": 2},
        Decimal("-0.01"),
        ["alter_type"],
        "NUMERIC(28, 2)",
    ),
    (
        {"type": "lookup", "to": "deal"},
        {"type": "master_detail", "to": "deal"},
        "01HX",
        ["alter_type"],
        "VARCHAR(32)",
    ),
    (
        {"type": "formula", "returns": "currency", "expression": "1"},
        {"type": "currency"},
        Decimal("1.00"),
        ["alter_type"],
        "NUMERIC(28, 2)",
    ),
    (
        {"type": "rollup", "from": "deal", "via": "p", "function": "count"},
        {"type": "rollup", "from": "deal", "via": "p", "function": "sum", "field": "x"},
        Decimal(3),
        ["alter_precision", "backfill"],
        "NUMERIC(28, 2)",
    ),
    (
        {"type": "formula", "returns": "currency", "expression": "1"},
        {"type": "formula", "returns": "currency", "expression": "2"},
        Decimal("1.00"),
        ["backfill"],
        "NUMERIC(28, 2)",
    ),
    (
        {"type": "text", "unique": True},
        {"type": "text"},
        "x",
        ["drop_index"],
        "VARCHAR(255)",
    ),
    (
        {"type": "select", "options": ["a"]},
        {"type": "select", "options": ["a", "b"]},
        "a",
        [],
        "VARCHAR(100)",
    ),
]


@pytest.mark.parametrize(("old", "new", "value", "kinds", "pg_type"), ALLOWED)
def test_type_changes_that_keep_every_value(
    tenant: Tenant,
    old: dict[str, Any],
    new: dict[str, Any],
    value: Any,
    kinds: list[str],
    pg_type: str,
) -> None:
    before = obj("deal", {"api_name": "name", "type": "text"}, {"api_name": "f", **old})
    tenant.apply(before)
    tenant.insert("deal", row(name="a", f=value), row(name="b"))

    plan = tenant.apply(changed(before, f=new))

    assert [op.kind for op in plan.operations] == kinds
    assert all(op.field == "f" for op in plan.operations)
    assert tenant.values("deal", "f") == [value, None]
    if tenant.dialect == "postgresql":
        assert tenant.columns("o_deal")["f"] == pg_type
    tenant.insert("deal", row(name="c", f=value))


def test_unchanged_metadata_plans_nothing(tenant: Tenant) -> None:
    deal = obj("deal", *EVERY_TYPE)
    tenant.apply(deal)
    plan = tenant.apply(deal)
    assert plan.operations == [] and plan.backfills == []
    assert plan.effective == tenant.objects


# --- precision on SQLite's scaled integers -----------------------------------------


def test_precision_increase_rescales_stored_values_exactly(tenant: Tenant) -> None:
    deal = obj(
        "deal",
        {"api_name": "amount", "type": "currency", "precision": 2},
        {
            "api_name": "items",
            "type": "table",
            "fields": [{"api_name": "price", "type": "currency", "precision": 1}],
        },
    )
    tenant.apply(deal)
    amounts = [
        Decimal("12.34"),
        Decimal("-0.01"),
        Decimal("99999999999.99"),
        Decimal("0.00"),
        None,
    ]
    records = [row(amount=a) for a in amounts]
    tenant.insert("deal", *records)
    items = tenant.tables.children["deal"]["items"]
    with tenant.engine.begin() as conn:
        conn.execute(
            insert(items),
            [
                {
                    "id": new_id(),
                    "parent_id": records[0]["id"],
                    "row_order": 0,
                    "price": Decimal("2.5"),
                },
                {
                    "id": new_id(),
                    "parent_id": records[1]["id"],
                    "row_order": 0,
                    "price": Decimal("-3.1"),
                },
            ],
        )
    after = copy.deepcopy(deal)
    after["fields"][0]["precision"] = 5
    after["fields"][1]["fields"][0]["precision"] = 4

    plan = tenant.apply(after)

    assert [
        (op.kind, op.field, op.details.get("from"), op.details.get("to"))
        for op in plan.operations
    ] == [("alter_precision", "amount", 2, 5), ("alter_precision", "items.price", 1, 4)]
    assert tenant.values("deal", "amount") == amounts
    items = tenant.tables.children["deal"]["items"]  # declared at the new precision
    with tenant.engine.connect() as conn:
        prices = conn.execute(select(items.c.price).order_by(items.c.price)).scalars()
        assert list(prices) == [Decimal("-3.1000"), Decimal("2.5000")]
    if tenant.dialect == "sqlite":
        # the stored integers themselves, in units of 10^-5
        assert sorted(
            v
            for (v,) in tenant.raw("SELECT amount FROM o_deal WHERE amount IS NOT NULL")
        ) == sorted([1234000, -1000, 9999999999999000, 0])
    else:
        assert tenant.columns("o_deal")["amount"] == "NUMERIC(28, 5)"
    # the child rows survived (a table rebuild would cascade-delete them)
    tenant.insert("deal", row(amount=Decimal("0.00001")))
    assert Decimal("0.00001") in tenant.values("deal", "amount")


def test_precision_increase_refused_when_values_would_not_fit(tenant: Tenant) -> None:
    deal = obj("deal", {"api_name": "amount", "type": "number", "precision": 2})
    tenant.apply(deal)
    # SQLite: 9e15 is 9e17 at scale 2, 9e19 (past 2^63) at scale 4;
    # PostgreSQL: 25 integer digits fit NUMERIC(28, 2) but not NUMERIC(28, 4)
    huge = Decimal("9e15") if tenant.dialect == "sqlite" else Decimal("1e24")
    tenant.insert("deal", row(amount=huge), row(amount=Decimal("1.25")))
    before_columns = tenant.columns("o_deal")
    after = copy.deepcopy(deal)
    after["fields"][0]["precision"] = 4
    plan = tenant.plan(after)

    with pytest.raises(AppError) as caught, tenant.engine.begin() as conn:
        apply_plan(conn, plan)

    assert caught.value.code == "value_too_large"
    assert list(caught.value.fields) == ["amount"]
    assert tenant.values("deal", "amount") == [huge, Decimal("1.25")]
    assert tenant.columns("o_deal") == before_columns


# --- unique indexes, failing applies ----------------------------------------------


def test_unique_index_on_duplicate_values_is_refused_and_nothing_changes(
    tenant: Tenant,
) -> None:
    deal = obj(
        "deal",
        {"api_name": "name", "type": "text"},
        {"api_name": "phone", "type": "phone"},
    )
    tenant.apply(deal)
    tenant.insert(
        "deal",
        row(name="a", phone="138"),
        row(name="b", phone="138"),
        row(name="c"),
        row(name="d"),
    )
    columns, indexes = tenant.columns("o_deal"), tenant.indexes("o_deal")
    # the new column comes first in the plan: the failure must take it back too
    plan = tenant.plan(
        changed(
            changed(deal, phone=None, note={"type": "text"}),
            phone={"type": "phone", "unique": True},
        )
    )
    assert [op.kind for op in plan.operations] == ["add_column", "create_index"]

    with pytest.raises(AppError) as caught, tenant.engine.begin() as conn:
        apply_plan(conn, plan)

    assert caught.value.code == "duplicate_values"
    assert list(caught.value.fields) == ["phone"]
    assert "138" in both(caught.value.message)["en"]
    assert "deal.phone" in both(caught.value.message)["zh"]
    assert tenant.columns("o_deal") == columns
    assert tenant.indexes("o_deal") == indexes


def test_unique_index_is_created_enforced_and_dropped(tenant: Tenant) -> None:
    deal = obj("deal", {"api_name": "phone", "type": "phone"})
    tenant.apply(deal)
    tenant.insert("deal", row(phone="1"), row(phone="2"), row(), row())

    plan = tenant.apply(changed(deal, phone={"type": "phone", "unique": True}))

    assert [op.kind for op in plan.operations] == ["create_index"]
    assert tenant.indexes("o_deal")["uq_o_deal_phone"] == (["phone"], True)
    with pytest.raises(IntegrityError):
        tenant.insert("deal", row(phone="1"))

    plan = tenant.apply(deal)

    assert [op.kind for op in plan.operations] == ["drop_index"]
    assert "uq_o_deal_phone" not in tenant.indexes("o_deal")
    tenant.insert("deal", row(phone="1"))


def test_a_failing_apply_changes_nothing(tenant: Tenant) -> None:
    deal = obj("deal", {"api_name": "name", "type": "text", "max_length": 10})
    tenant.apply(deal)
    tenant.insert("deal", row(name="a"))
    tables, columns = tenant.table_names(), tenant.columns("o_deal")
    plan = tenant.plan(
        changed(deal, name={"type": "text", "max_length": 50}, extra={"type": "date"}),
        obj("other", {"api_name": "x", "type": "text", "searchable": True}),
    )

    with pytest.raises(RuntimeError), tenant.engine.begin() as conn:
        apply_plan(conn, plan)
        raise RuntimeError("the caller's next step fails")

    assert tenant.table_names() == tables
    assert tenant.columns("o_deal") == columns
    assert tenant.values("deal", "name") == ["a"]


# --- tenants and schemas ------------------------------------------------------------


def test_two_tenants_get_separate_tables(database: Database) -> None:
    first, second = (
        Tenant(database, unique_account()),
        Tenant(database, unique_account()),
    )
    for tenant in (first, second):
        database.create_tenant_storage(tenant.account)
    try:
        deal = obj(
            "deal",
            {"api_name": "name", "type": "text", "max_length": 20, "searchable": True},
            {"api_name": "amount", "type": "number", "precision": 1},
            {
                "api_name": "items",
                "type": "table",
                "fields": [{"api_name": "qty", "type": "number"}],
            },
        )
        for tenant in (first, second):
            tenant.apply(deal)
        first.insert("deal", row(name="only in first", amount=Decimal("1.5")))
        # DDL that Alembic compiles itself (ALTER COLUMN) on one tenant only
        first.apply(
            changed(
                deal,
                name={"type": "text", "max_length": 40},
                amount={"type": "number", "precision": 3},
                unique_code={"type": "text", "unique": True},
            )
        )

        assert first.values("deal", "name") == ["only in first"]
        assert second.values("deal", "name") == []
        assert "unique_code" in first.columns("o_deal")
        assert "unique_code" not in second.columns("o_deal")
        if database.dialect.name == "postgresql":
            assert first.columns("o_deal")["name"] == "VARCHAR(40)"
            assert second.columns("o_deal")["name"] == "VARCHAR(20)"
            assert first.columns("o_deal")["amount"] == "NUMERIC(28, 3)"
            assert second.columns("o_deal")["amount"] == "NUMERIC(28, 1)"
            with database.system_engine.connect() as conn:
                system = inspect(conn)
                assert not [n for n in system.get_table_names() if n.startswith("o_")]
                assert not [
                    i for i in system.get_multi_indexes() if i[1].startswith("o_")
                ]
                for tenant in (first, second):
                    assert set(system.get_table_names(schema=tenant.schema)) == {
                        "o_deal",
                        "o_deal__items",
                    }
    finally:
        for tenant in (first, second):
            database.drop_tenant_storage(tenant.account)


def test_apply_refuses_the_system_connection(database: Database) -> None:
    plan = plan_changes({}, {"deal": obj("deal")}, dialect=database.dialect.name)
    other = "postgresql" if database.dialect.name == "sqlite" else "sqlite"
    with database.system_engine.connect() as conn:
        with pytest.raises(ValueError):
            apply_plan(conn, plan_changes({}, {"deal": obj("deal")}, dialect=other))
        if database.dialect.name == "postgresql":
            with pytest.raises(ValueError, match="tenant connection"):
                apply_plan(conn, plan)


# --- search ---------------------------------------------------------------------


def search(tenant: Tenant, conn: Connection, keyword: str) -> list[str]:
    if tenant.dialect == "sqlite":
        fts = search_table_name("deal")
        sql = f"SELECT record_id FROM {fts} WHERE body MATCH :q ORDER BY record_id"
        return list(conn.execute(text(sql), {"q": f'"{keyword}"'}).scalars())
    sql = f"SELECT id FROM {tenant.q('o_deal')} WHERE search_text ILIKE :q ORDER BY id"
    return list(conn.execute(text(sql), {"q": f"%{keyword}%"}).scalars())


def assert_search_structure(tenant: Tenant) -> None:
    if tenant.dialect == "sqlite":
        (sql,) = tenant.raw(
            f"SELECT sql FROM sqlite_master WHERE name = '{search_table_name('deal')}'"
        )[0]
        assert "fts5" in sql and "record_id UNINDEXED" in sql and "trigram" in sql
        return
    assert tenant.raw("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")
    ((definition,),) = tenant.raw(
        "SELECT indexdef FROM pg_indexes WHERE schemaname = "
        f"'{tenant.schema}' AND indexname = '{search_index_name('deal')}'"
    )
    assert "USING gin (search_text" in definition and "gin_trgm_ops" in definition


def test_searchable_fields_get_a_search_structure(tenant: Tenant) -> None:
    tenant.apply(obj("deal", {"api_name": "name", "type": "text", "searchable": True}))
    assert_search_structure(tenant)
    a, b = row(search_text="acme trading"), row(search_text="globex")
    tenant.insert("deal", a, b, row())
    table = tenant.tables.main["deal"]
    with tenant.engine.begin() as conn:
        assert search(tenant, conn, "cme") == [a["id"]]
        conn.execute(
            update(table).where(table.c.id == a["id"]).values(search_text="initech")
        )
        assert search(tenant, conn, "cme") == []
        assert search(tenant, conn, "nite") == [a["id"]]
        conn.execute(table.delete().where(table.c.id == b["id"]))
        assert search(tenant, conn, "globex") == []
        if tenant.dialect == "sqlite":
            # exactly one index row per record that has search text
            assert (
                conn.execute(
                    text(f"SELECT count(*) FROM {search_table_name('deal')}")
                ).scalar()
                == 1
            )


def test_making_a_field_searchable_later_indexes_existing_rows(tenant: Tenant) -> None:
    deal = obj("deal", {"api_name": "name", "type": "text"})
    tenant.apply(deal)
    old = row(name="acme", search_text="acme")
    tenant.insert("deal", old)

    plan = tenant.apply(changed(deal, name={"type": "text", "searchable": True}))

    assert [(op.kind, op.field) for op in plan.operations] == [
        ("create_search_index", None),
        ("backfill", SEARCH_TEXT),
    ]
    assert plan.backfills == [("deal", SEARCH_TEXT)]
    assert_search_structure(tenant)
    with tenant.engine.connect() as conn:
        assert search(tenant, conn, "acm") == [old["id"]]

    plan = tenant.apply(changed(deal, name={"type": "text"}))
    assert [op.kind for op in plan.operations] == ["backfill"]
    plan = tenant.apply(changed(deal, name={"type": "text", "searchable": True}))
    assert [op.kind for op in plan.operations] == ["create_search_index", "backfill"]
    with tenant.engine.connect() as conn:
        assert search(tenant, conn, "acm") == [old["id"]]


# --- the plan as data -----------------------------------------------------------


def test_plan_describes_itself_in_both_languages(tenant: Tenant) -> None:
    deal = obj(
        "deal",
        {"api_name": "name", "type": "text"},
        {"api_name": "amount", "type": "number"},
    )
    tenant.apply(deal)
    plan = tenant.plan(
        changed(
            deal,
            amount={"type": "number", "precision": 4},
            name=None,
            total={"type": "formula", "returns": "number", "expression": "amount"},
        )
    )

    assert plan.describe("en") == [
        "Raise the precision of deal.amount from 2 to 4 decimal places",
        "Add column total (formula(number(2))) to o_deal",
        "Archive field deal.name: hidden, its stored values are kept and can be "
        "restored",
        "Compute deal.total for the existing records",
    ]
    assert plan.describe("zh")[0] == "把 deal.amount 的小数位数从 2 提高到 4"
    data = json.loads(json.dumps(plan.as_json()))
    assert data["dialect"] == tenant.dialect
    assert data["backfills"] == [["deal", "total"]]
    assert data["operations"][0] == {
        "kind": "alter_precision",
        "object": "deal",
        "field": "amount",
        "details": {"table": "o_deal", "column": "amount", "from": 2, "to": 4},
        "description": {"zh": plan.describe("zh")[0], "en": plan.describe("en")[0]},
    }
    json.dumps(plan.effective)


# --- the recycle bin's index ---------------------------------------------------------


def index_definition(tenant: Tenant, name: str) -> str:
    if tenant.schema is None:
        sql = "SELECT sql FROM sqlite_master WHERE name = :n"
    else:
        sql = "SELECT indexdef FROM pg_indexes WHERE schemaname = :s AND indexname = :n"
    with tenant.engine.connect() as conn:
        return conn.execute(text(sql), {"s": tenant.schema, "n": name}).scalar() or ""


def test_the_recycle_bin_index_holds_the_deleted_rows_alone(tenant: Tenant) -> None:
    tenant.apply(obj("deal", {"api_name": "name", "type": "text"}))
    definition = index_definition(tenant, "ix_o_deal_deleted_at")
    assert "WHERE" in definition.upper() and "NOT NULL" in definition.upper()
    if tenant.schema is None:
        # without statistics SQLite would take "deleted_at IS NULL" for a selective
        # lookup in a full index, and sort every live row
        plan = tenant.raw(
            "EXPLAIN QUERY PLAN SELECT id FROM o_deal WHERE deleted_at IS NULL "
            "AND name = 'x' ORDER BY updated_at DESC LIMIT 51"
        )
        assert "ix_o_deal_deleted_at" not in str(plan)


def test_a_table_of_an_older_release_gets_the_recycle_bin_index(
    tenant: Tenant,
) -> None:
    tenant.apply(obj("deal", {"api_name": "name", "type": "text"}))
    with tenant.engine.begin() as conn:
        conn.execute(text(f"DROP INDEX {tenant.q('ix_o_deal_deleted_at')}"))
        conn.execute(
            text(f"CREATE INDEX ix_o_deal_deleted_at ON {tenant.q('o_deal')} "
                 "(deleted_at)")
        )
    assert "WHERE" not in index_definition(tenant, "ix_o_deal_deleted_at").upper()
    for _ in range(2):  # and again: nothing left to do
        with tenant.engine.begin() as conn:
            upgrade_recycle_bin_indexes(conn, ["deal"])
        definition = index_definition(tenant, "ix_o_deal_deleted_at")
        assert "WHERE" in definition.upper()
        on_deleted_at = [
            name
            for name, (columns, _) in tenant.indexes("o_deal").items()
            if columns == ["deleted_at"]
        ]
        assert on_deleted_at == ["ix_o_deal_deleted_at"]
