"""Metadata versions: applying documents, archive and restore, rollback, conflicts."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Column, MetaData, Table, func, insert, inspect, select

from propolis.metadata.normalize import normalize_object
from propolis.metadata.validation import load_system_objects
from propolis.platform.db import Database
from propolis.platform.errors import AppError, Conflict, NotFound
from propolis.platform.meta.effective import load_effective
from propolis.platform.meta.services import (
    apply_documents,
    create_tenant_storage,
    latest_version,
    rollback_object,
    upgrade_tenant_storage,
    versions,
)
from propolis.platform.storage.plan import Plan, PlanError
from propolis.platform.storage.platform_tables import (
    meta_versions,
    notifications,
    platform_metadata,
)
from tests.conftest import unique_account

NOW = dt.datetime(2026, 1, 5, tzinfo=dt.UTC)
SYSTEM = load_system_objects()
PLATFORM_TABLES = set(platform_metadata.tables)


def obj(name: str, *fields: dict[str, Any]) -> dict[str, Any]:
    return normalize_object(
        {"kind": "object", "api_name": name, "fields": list(fields)}
    )


NAME = {"api_name": "name", "type": "text", "searchable": True}
PHONE = {"api_name": "phone", "type": "phone"}
LEVEL = {"api_name": "level", "type": "select", "options": ["A", "B"]}


class Tenant:
    def __init__(self, database: Database, account: str) -> None:
        self.database = database
        self.account = account
        self.engine = database.tenant_engine(account)
        self.schema = None if database.dialect.name == "sqlite" else f"t_{account}"

    def apply(self, current: int, *docs: dict[str, Any], **kw: Any) -> tuple[int, Plan]:
        kw.setdefault("extension_objects", [])
        with self.engine.begin() as conn:
            return apply_documents(
                conn,
                account=self.account,
                current_version=current,
                documents=list(docs),
                system_objects=SYSTEM,
                user_id="u1",
                **kw,
            )

    def rollback(self, current: int, name: str, to: int) -> tuple[int, Plan]:
        with self.engine.begin() as conn:
            return rollback_object(
                conn,
                account=self.account,
                object_name=name,
                to_version=to,
                current_version=current,
                system_objects=SYSTEM,
                extension_objects=[],
                user_id="u2",
            )

    def latest(self) -> int:
        with self.engine.connect() as conn:
            return latest_version(conn)

    def stored(self, version: int) -> Any:
        with self.engine.connect() as conn:
            return conn.execute(
                select(meta_versions).where(meta_versions.c.version == version)
            ).one()

    def tables(self) -> set[str]:
        with self.engine.connect() as conn:
            return set(inspect(conn).get_table_names(schema=self.schema))

    def columns(self, table: str) -> set[str]:
        with self.engine.connect() as conn:
            return {
                c["name"] for c in inspect(conn).get_columns(table, schema=self.schema)
            }

    def insert(self, version: int, object_name: str, **values: Any) -> None:
        with self.engine.begin() as conn:
            table = load_effective(conn, version).tables.main[object_name]
            conn.execute(
                insert(table).values(
                    id=values.pop("id"), created_at=NOW, updated_at=NOW, **values
                )
            )

    def read(self, version: int, name: str, column: str) -> list[Any]:
        with self.engine.connect() as conn:
            table = load_effective(conn, version).tables.main[name]
            return list(
                conn.execute(select(table.c[column]).order_by(table.c.id)).scalars()
            )


@pytest.fixture
def tenant(database: Database) -> Iterator[Tenant]:
    account = unique_account()
    create_tenant_storage(database, account)
    yield Tenant(database, account)
    database.drop_tenant_storage(account)


def test_create_tenant_storage_creates_the_platform_tables(
    database: Database, tenant: Tenant
) -> None:
    assert tenant.tables() == PLATFORM_TABLES
    create_tenant_storage(database, tenant.account)  # again: nothing to do
    assert tenant.tables() == PLATFORM_TABLES
    assert tenant.latest() == 0
    if tenant.schema is not None:
        with database.system_engine.connect() as conn:
            assert not PLATFORM_TABLES & set(inspect(conn).get_table_names())


def test_first_apply_creates_version_one(tenant: Tenant) -> None:
    customer = obj("customer", NAME, PHONE)

    version, plan = tenant.apply(0, customer, comment="first")

    assert version == 1
    created = [op.object for op in plan.operations if op.kind == "create_table"]
    assert created == ["department", "user", "customer"]
    assert {"o_customer", "o_user", "o_department", "o_user__departments"} <= (
        tenant.tables()
    )
    stored = tenant.stored(1)
    assert stored.documents == [customer]
    assert set(stored.effective["objects"]) == {"department", "user", "customer"}
    assert stored.effective["objects"]["customer"] == plan.effective["customer"]
    assert stored.plan == plan.as_json()
    assert (stored.created_by, stored.comment) == ("u1", "first")
    assert stored.created_at.tzinfo is not None


def test_apply_through_a_session(tenant: Tenant) -> None:
    with tenant.database.tenant_session(tenant.account) as session, session.begin():
        version, _ = apply_documents(
            session,
            account=tenant.account,
            current_version=0,
            documents=[obj("customer", NAME)],
            system_objects=SYSTEM,
            extension_objects=[],
            user_id=None,
        )
    assert version == 1 and tenant.latest() == 1
    assert "o_customer" in tenant.tables()


def test_dry_run_changes_nothing(tenant: Tenant) -> None:
    version, plan = tenant.apply(0, obj("customer", NAME), dry_run=True)

    assert version == 1
    assert ("create_table", "customer") in [
        (op.kind, op.object) for op in plan.operations
    ]
    assert tenant.tables() == PLATFORM_TABLES
    assert tenant.latest() == 0


def test_documents_replace_their_objects_and_keep_the_others(tenant: Tenant) -> None:
    customer, product = obj("customer", NAME), obj("product", NAME)
    tenant.apply(0, customer, product)

    version, plan = tenant.apply(1, obj("customer", NAME, LEVEL))

    assert version == 2
    assert [(op.kind, op.object, op.field) for op in plan.operations] == [
        ("add_column", "customer", "level")
    ]
    assert tenant.stored(2).documents == [obj("customer", NAME, LEVEL), product]


def test_layers_merge_system_extension_and_tenant(tenant: Tenant) -> None:
    project = obj("project", NAME)
    overlay = {
        "kind": "object",
        "api_name": "project",
        "fields": [{"api_name": "budget", "type": "currency"}],
    }
    user_overlay = {
        "kind": "object",
        "api_name": "user",
        "fields": [{"api_name": "nickname", "type": "text"}],
    }

    _, plan = tenant.apply(0, overlay, user_overlay, extension_objects=[project])

    fields = [f["api_name"] for f in plan.effective["project"]["fields"]]
    assert fields == ["name", "budget"]
    assert "nickname" in [f["api_name"] for f in plan.effective["user"]["fields"]]
    assert {"name", "budget"} <= tenant.columns("o_project")
    assert "nickname" in tenant.columns("o_user")


def test_stale_version_is_a_conflict(tenant: Tenant) -> None:
    tenant.apply(0, obj("customer", NAME))

    with pytest.raises(Conflict) as caught:
        tenant.apply(0, obj("customer", NAME, PHONE))

    assert caught.value.status == 409
    assert tenant.latest() == 1
    assert "phone" not in tenant.columns("o_customer")


def test_concurrent_changes_are_serialised(tenant: Tenant) -> None:
    tenant.apply(0, obj("customer", NAME))
    outcome: dict[str, Exception] = {}

    def second_admin() -> None:
        try:
            tenant.apply(1, obj("customer", NAME, LEVEL))
        except Exception as exc:  # handed to the main thread
            outcome["error"] = exc

    with tenant.engine.connect() as conn, conn.begin():
        apply_documents(
            conn,
            account=tenant.account,
            current_version=1,
            documents=[obj("customer", NAME, PHONE)],
            system_objects=SYSTEM,
            extension_objects=[],
            user_id="u1",
        )
        thread = threading.Thread(target=second_admin)
        thread.start()
        thread.join(0.5)
        assert thread.is_alive()  # waits for the first change to finish
    thread.join(30)

    assert isinstance(outcome.get("error"), Conflict)
    assert tenant.latest() == 2
    assert "level" not in tenant.columns("o_customer")


def test_connection_of_another_enterprise_is_refused(
    database: Database, tenant: Tenant
) -> None:
    with tenant.engine.begin() as conn, pytest.raises(ValueError):
        apply_documents(
            conn,
            account=unique_account(),
            current_version=0,
            documents=[],
            system_objects=SYSTEM,
            extension_objects=[],
            user_id=None,
        )


def test_remove_and_restore_a_field(tenant: Tenant) -> None:
    with_phone = obj("customer", NAME, PHONE)
    tenant.apply(0, with_phone)
    tenant.insert(1, "customer", id="c1", name="Acme", phone="13800000000")

    version, plan = tenant.apply(1, obj("customer", NAME))

    assert [(op.kind, op.field) for op in plan.operations] == [
        ("archive_field", "phone")
    ]
    effective = tenant.stored(version).effective["objects"]["customer"]
    assert [f["api_name"] for f in effective["archived_fields"]] == ["phone"]
    assert "phone" in tenant.columns("o_customer")
    with tenant.engine.connect() as conn:
        assert load_effective(conn, version).objects["customer"].archived.keys() == {
            "phone"
        }
    tenant.insert(version, "customer", id="c2", name="Globex")

    version, plan = tenant.apply(version, with_phone)

    assert [(op.kind, op.field) for op in plan.operations] == [
        ("restore_field", "phone")
    ]
    assert tenant.read(version, "customer", "phone") == ["13800000000", None]


def test_rollback_an_object(tenant: Tenant) -> None:
    customer_v1 = obj("customer", NAME)
    tenant.apply(0, customer_v1)
    tenant.apply(1, obj("customer", NAME, LEVEL), obj("product", NAME))
    tenant.insert(2, "customer", id="c1", name="Acme", level="A")

    version, plan = tenant.rollback(2, "customer", 1)

    assert version == 3
    assert [(op.kind, op.object, op.field) for op in plan.operations] == [
        ("archive_field", "customer", "level")
    ]
    stored = tenant.stored(3)
    assert stored.documents == [customer_v1, obj("product", NAME)]
    assert stored.comment == "rollback customer to version 1"
    assert stored.created_by == "u2"
    assert "level" in tenant.columns("o_customer")
    with tenant.engine.connect() as conn:
        assert (
            conn.execute(
                select(func.count()).select_from(
                    load_effective(conn, 3).tables.main["customer"]
                )
            ).scalar()
            == 1
        )

    # and forward again: the values come back
    version, plan = tenant.rollback(3, "customer", 2)
    assert [op.kind for op in plan.operations] == ["restore_field"]
    assert tenant.read(version, "customer", "level") == ["A"]


def test_rollback_of_a_system_object_overlay(tenant: Tenant) -> None:
    tenant.apply(0, obj("customer", NAME))
    overlay = {
        "kind": "object",
        "api_name": "user",
        "fields": [{"api_name": "nickname", "type": "text"}],
    }
    tenant.apply(1, overlay)

    version, plan = tenant.rollback(2, "user", 1)

    assert [(op.kind, op.object, op.field) for op in plan.operations] == [
        ("archive_field", "user", "nickname")
    ]
    assert tenant.stored(version).documents == [obj("customer", NAME)]


def test_rollback_refusals_write_nothing(tenant: Tenant) -> None:
    tenant.apply(0, obj("customer", NAME))
    tenant.apply(1, obj("product", NAME))

    with pytest.raises(PlanError):  # product did not exist at version 1
        tenant.rollback(2, "product", 1)
    with pytest.raises(NotFound):
        tenant.rollback(2, "customer", 9)
    with pytest.raises(NotFound):
        tenant.rollback(2, "nothing", 1)
    assert tenant.latest() == 2


def test_refused_change_writes_nothing(tenant: Tenant) -> None:
    tenant.apply(0, obj("customer", NAME, PHONE))
    changed = obj("customer", NAME, {"api_name": "phone", "type": "number"})

    with pytest.raises(PlanError) as caught:
        tenant.apply(1, changed)

    assert "customer.phone" in caught.value.fields
    assert tenant.latest() == 1


def test_failing_apply_leaves_tables_and_versions_as_before(tenant: Tenant) -> None:
    tenant.apply(0, obj("customer", NAME, PHONE))
    tenant.insert(1, "customer", id="c1", phone="138")
    tenant.insert(1, "customer", id="c2", phone="138")
    columns = tenant.columns("o_customer")
    tables = tenant.tables()
    unique_phone = {**PHONE, "unique": True}

    with pytest.raises(AppError) as caught:
        tenant.apply(
            1, obj("customer", NAME, LEVEL, unique_phone), obj("product", NAME)
        )

    assert caught.value.code == "duplicate_values"
    assert tenant.latest() == 1
    assert tenant.columns("o_customer") == columns
    assert tenant.tables() == tables


def test_versions_newest_first_with_a_summary(tenant: Tenant) -> None:
    tenant.apply(0, obj("customer", NAME), comment="start")
    tenant.apply(1, obj("customer", NAME, PHONE, LEVEL))

    listed = versions_of(tenant)

    assert [v.version for v in listed] == [2, 1]
    assert listed[0].summary == {"add_column": 2}
    assert listed[1].summary["create_table"] == 3  # department, user, customer
    assert (listed[1].comment, listed[1].created_by) == ("start", "u1")
    assert listed[0].created_at >= listed[1].created_at


def versions_of(tenant: Tenant) -> list[Any]:
    with tenant.engine.connect() as conn:
        return versions(conn)


def test_stored_effective_is_what_the_record_code_loads(tenant: Tenant) -> None:
    items = {
        "api_name": "items",
        "type": "table",
        "fields": [{"api_name": "qty", "type": "number"}],
    }
    tenant.apply(0, obj("customer", NAME, items))
    with_note = {
        **items,
        "fields": [*items["fields"], {"api_name": "note", "type": "text"}],
    }

    version, _ = tenant.apply(1, obj("customer", NAME, with_note))

    with tenant.engine.connect() as conn:
        child = load_effective(conn, version).tables.children["customer"]["items"]
    assert set(child.c.keys()) == {"id", "parent_id", "row_order", "qty", "note"}
    assert {"qty", "note"} <= tenant.columns("o_customer__items")


def test_upgrade_adds_the_notifications_record_columns(tenant: Tenant) -> None:
    """An enterprise made before notifications named their record gets the two
    columns from ``propolis initdb`` (upgrade_tenant_storage); twice is fine."""
    before = Table("notifications", MetaData(), *[
        Column(c.name, c.type, primary_key=c.primary_key) for c in notifications.c
        if c.name not in ("object", "record_id")])
    with tenant.engine.begin() as conn:
        notifications.drop(conn)
        before.create(conn)
    for _ in range(2):
        with tenant.engine.begin() as conn:
            upgrade_tenant_storage(conn)
    with tenant.engine.connect() as conn:
        names = {c["name"] for c in inspect(conn).get_columns(
            "notifications", schema=tenant.schema)}
    assert {"object", "record_id"} <= names


def test_charts_dashboards_and_reports_are_taken_whole_by_name(tenant: Tenant
                                                               ) -> None:
    def chart(name: str, label: str) -> dict[str, Any]:
        return {"kind": "chart", "api_name": name, "label": label,
                "object": "project", "measures": [{"api_name": "n",
                                                   "function": "count"}]}

    report = {"kind": "report", "api_name": "daily", "label": {"zh": "日报"},
              "period": "daily", "fields": [{"api_name": "calls", "type": "number"}]}
    shipped = [obj("project", NAME), chart("count", "shipped"),
               chart("other", "shipped"), report]
    version, _ = tenant.apply(0, chart("count", "own"), extension_objects=shipped)
    with tenant.engine.connect() as conn:
        effective = load_effective(conn, version)
    assert {n: c["label"] for n, c in effective.charts.items()} == {
        "count": "own", "other": "shipped"}
    assert list(effective.reports) == ["daily"]
    # the report's entries live in a generated object with a table of its own
    entries = effective.objects["report_daily"].doc
    assert entries["generated_by"] == {"kind": "report", "api_name": "daily"}
    assert {"period", "entry_key", "calls"} <= tenant.columns("o_report_daily")
