"""Factories for record tests: an enterprise with test objects applied through the
metadata services, a record service inside a rolled-back transaction, and the
worker of the multi-process autonumber test."""

from __future__ import annotations

import datetime as dt
import hashlib
import mimetypes
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, insert
from sqlalchemy.orm import Session

from propolis.metadata.normalize import normalize_object
from propolis.metadata.validation import load_system_objects
from propolis.platform.db import Database
from propolis.platform.ids import new_id
from propolis.platform.meta.effective import Effective, load_effective
from propolis.platform.meta.services import apply_documents, create_tenant_storage
from propolis.platform.permissions.actor import Actor
from propolis.platform.records.services import RecordService
from propolis.platform.storage.platform_tables import files
from tests.conftest import unique_account

PRODUCT = {
    "kind": "object", "api_name": "product", "label": {"zh": "产品", "en": "Product"},
    "fields": [
        {"api_name": "name", "type": "text", "required": True, "unique": True,
         "searchable": True},
        {"api_name": "price", "type": "currency", "precision": 2},
    ],
}

CUSTOMER = {
    "kind": "object", "api_name": "customer", "label": {"zh": "客户", "en": "Customer"},
    "name_field": "name", "deletable": False,
    "fields": [
        {"api_name": "name", "type": "text", "required": True, "unique": True,
         "max_length": 200, "searchable": True},
        {"api_name": "level", "type": "select", "options": ["A", "B", "C"],
         "default": "C"},
        {"api_name": "tags", "type": "multiselect", "searchable": True, "options": [
            {"value": "vip", "label": {"zh": "重要", "en": "VIP"}},
            {"value": "new", "label": {"zh": "新客", "en": "New"}}]},
        {"api_name": "parent", "type": "lookup", "to": "customer"},
        {"api_name": "phone", "type": "phone", "searchable": True},
        {"api_name": "amount", "type": "currency", "precision": 2, "min": 0},
        {"api_name": "code", "type": "autonumber", "format": "KH-{YYYY}{MM}-{seq:5}",
         "searchable": True},
        {"api_name": "close_date", "type": "date"},
        {"api_name": "score", "type": "number", "precision": 0},
        {"api_name": "contact_count", "type": "rollup", "from": "contact",
         "via": "customer", "function": "count"},
        {"api_name": "contact_spend", "type": "rollup", "from": "contact",
         "via": "customer", "function": "sum", "field": "spend"},
        {"api_name": "max_spend", "type": "rollup", "from": "contact",
         "via": "customer", "function": "max", "field": "spend"},
        {"api_name": "avg_spend", "type": "rollup", "from": "contact",
         "via": "customer", "function": "avg", "field": "spend"},
        {"api_name": "spend_share", "type": "formula", "returns": "currency",
         "expression": "contact_spend * 0.1"},
        {"api_name": "parent_level", "type": "quote", "via": "parent",
         "field": "level"},
        {"api_name": "parent_name", "type": "quote", "via": "parent", "field": "name"},
    ],
    "validations": [
        {"rule": "close_date == null || close_date >= date(created_at)",
         "message": {"zh": "结单日期不能早于创建日期",
                     "en": "Close date before creation"}},
    ],
}

CONTACT = {
    "kind": "object", "api_name": "contact",
    "fields": [
        {"api_name": "name", "type": "text", "required": True, "searchable": True},
        {"api_name": "customer", "type": "lookup", "to": "customer"},
        {"api_name": "spend", "type": "currency", "precision": 2},
    ],
}

ORDER = {
    "kind": "object", "api_name": "sales_order",
    "fields": [
        {"api_name": "title", "type": "text", "searchable": True},
        {"api_name": "customer", "type": "lookup", "to": "customer"},
        {"api_name": "discount", "type": "percent", "precision": 2},
        {"api_name": "items", "type": "table", "fields": [
            {"api_name": "product", "type": "lookup", "to": "product"},
            {"api_name": "qty", "type": "number", "precision": 0, "min": 1,
             "required": True},
            {"api_name": "price", "type": "currency", "precision": 2},
            {"api_name": "note", "type": "text", "searchable": True},
            {"api_name": "line", "type": "formula", "returns": "currency",
             "expression": "qty * price"},
        ]},
        {"api_name": "total", "type": "formula", "returns": "currency",
         "expression": "sum(items.map(i, i.qty * i.price))"},
        {"api_name": "net", "type": "formula", "returns": "currency",
         "expression": "total - total * discount / 100"},
        {"api_name": "lines", "type": "formula", "returns": "number", "precision": 0,
         "expression": "size(items)"},
        {"api_name": "third", "type": "formula", "returns": "currency",
         "expression": "total / 3"},
        {"api_name": "bad", "type": "formula", "returns": "number",
         "expression": "title == 'boom' ? title * 2 : 1"},
    ],
    "validations": [
        {"rule": "total == null || total <= 1000000",
         "message": {"zh": "订单金额过大", "en": "Order total too large"}},
        {"rule": "discount == null || discount <= 50",
         "message": {"zh": "折扣不能超过 50%", "en": "Discount above 50%"}},
    ],
}

# Every field type, for the round trips.
SAMPLE = {
    "kind": "object", "api_name": "sample",
    "fields": [
        {"api_name": "text1", "type": "text", "max_length": 20, "searchable": True},
        {"api_name": "area_text", "type": "textarea", "searchable": True},
        {"api_name": "rich", "type": "richtext", "searchable": True},
        {"api_name": "num", "type": "number", "precision": 4},
        {"api_name": "money", "type": "currency", "precision": 2},
        {"api_name": "pct", "type": "percent", "precision": 1},
        {"api_name": "day", "type": "date"},
        {"api_name": "clock", "type": "time"},
        {"api_name": "moment", "type": "datetime"},
        {"api_name": "flag", "type": "boolean"},
        {"api_name": "choice", "type": "select", "options": ["x", "y"]},
        {"api_name": "choices", "type": "multiselect", "options": ["p", "q", "r"]},
        {"api_name": "prod", "type": "lookup", "to": "product"},
        {"api_name": "master", "type": "master_detail", "to": "customer"},
        {"api_name": "rows", "type": "table", "fields": [
            {"api_name": "label", "type": "text"},
            {"api_name": "amount", "type": "currency"},
            {"api_name": "when", "type": "date"}]},
        {"api_name": "serial", "type": "autonumber", "format": "S{seq:3}"},
        {"api_name": "twice", "type": "formula", "returns": "number", "precision": 4,
         "expression": "num * 2"},
        {"api_name": "prod_price", "type": "quote", "via": "prod", "field": "price"},
        {"api_name": "tel", "type": "phone"},
        {"api_name": "mail", "type": "email"},
        {"api_name": "link", "type": "url"},
        {"api_name": "attachments", "type": "file"},
        {"api_name": "photos", "type": "image"},
        {"api_name": "place", "type": "location"},
        {"api_name": "region", "type": "area", "searchable": True},
        {"api_name": "person", "type": "user"},
        {"api_name": "dept", "type": "department"},
        {"api_name": "province", "type": "select", "options": ["zj", "js"]},
        {"api_name": "city", "type": "select", "depends_on": "province", "options": [
            {"value": "hz", "parent": "zj"}, {"value": "nj", "parent": "js"}]},
    ],
}

# Queried by test_query: every filterable kind of column.
DEAL = {
    "kind": "object", "api_name": "deal",
    "fields": [
        {"api_name": "name", "type": "text", "searchable": True},
        {"api_name": "amount", "type": "currency", "precision": 2},
        {"api_name": "stage", "type": "select", "options": ["lead", "won", "lost"]},
        {"api_name": "tags", "type": "multiselect", "options": ["hot", "cold", "vip"]},
        {"api_name": "close_date", "type": "date"},
        {"api_name": "signed_at", "type": "datetime"},
        {"api_name": "won", "type": "boolean"},
        {"api_name": "customer", "type": "lookup", "to": "customer"},
        {"api_name": "customer_name", "type": "quote", "via": "customer",
         "field": "name"},
        {"api_name": "notes", "type": "richtext", "searchable": True},
        {"api_name": "region", "type": "area"},
    ],
}

NUMBERED = {
    "kind": "object", "api_name": "ticket",
    "fields": [
        {"api_name": "title", "type": "text"},
        {"api_name": "code", "type": "autonumber", "format": "T-{YYYY}-{seq:4}"},
    ],
}

ALL_OBJECTS = (PRODUCT, CUSTOMER, CONTACT, ORDER, SAMPLE, DEAL, NUMBERED)


@dataclass
class Tenant:
    """An enterprise with the test objects and a few committed base records."""

    database: Database
    account: str
    effective: Effective
    user_id: str
    other_user_id: str
    department_id: str
    file_ids: list[str]

    def actor(self) -> Actor:
        # the enterprise admin: these tests are about records, not permissions
        # (tests/unit/permissions and the permission matrix are)
        return Actor(self.user_id, self.department_id,
                     frozenset({"admin", "employee"}))


def make_tenant(
    database: Database, docs: Sequence[Mapping[str, Any]] = ALL_OBJECTS
) -> Tenant:
    """Creates an enterprise's storage, applies ``docs`` (with the system objects)
    the way an admin's change is applied, and commits a department, two users and
    two uploaded files."""
    account = unique_account("rec")
    create_tenant_storage(database, account)
    engine = database.tenant_engine(account)
    with engine.begin() as conn:
        version, _ = apply_documents(
            conn, account=account, current_version=0,
            documents=[normalize_object(d) for d in docs],
            system_objects=load_system_objects(), extension_objects=[], user_id=None)
        effective = load_effective(conn, version)
    with Session(bind=engine) as session, session.begin():
        system = RecordService(session, effective, Actor(None))
        dept = system.create("department", {"name": "销售部"})["id"]
        users = [system.create("user", {"name": name, "phone": phone,
                                        "main_department": dept})["id"]
                 for name, phone in (("张三", "13800000001"), ("李四", "13800000002"))]
        file_ids = [add_file(session.connection(), name)
                    for name in ("a.pdf", "b.png")]
    return Tenant(database, account, effective, users[0], users[1], dept, file_ids)


def add_file(conn: Connection, name: str) -> str:
    file_id = new_id()
    content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    conn.execute(insert(files).values(
        id=file_id, name=name, content_type=content_type, size=1,
        sha256=hashlib.sha256(name.encode()).hexdigest(),
        created_at=dt.datetime.now(dt.UTC)))
    return file_id


def open_service(tenant: Tenant) -> Iterator[RecordService]:
    """A record service whose work is rolled back afterwards: the test's session
    joins an outer transaction through a SAVEPOINT."""
    conn = tenant.database.tenant_engine(tenant.account).connect()
    outer = conn.begin()
    session = Session(bind=conn, join_transaction_mode="create_savepoint")
    try:
        yield RecordService(session, tenant.effective, tenant.actor())
    finally:
        session.close()
        outer.rollback()
        conn.close()


def drop_tenant(tenant: Tenant) -> None:
    tenant.database.drop_tenant_storage(tenant.account)


def autonumber_worker(
    url: str, tenant_dir: str, account: str, version: int, count: int
) -> list[str]:
    """Runs in a separate process: ``count`` creates, each in its own transaction,
    and returns the numbers they got."""
    database = Database(url, tenant_dir)
    try:
        engine = database.tenant_engine(account)
        with engine.connect() as conn:
            effective = load_effective(conn, version)
        codes = []
        for i in range(count):
            with Session(bind=engine) as session, session.begin():
                record = RecordService(session, effective, Actor(None)).create(
                    "ticket", {"title": f"t{i}"})
                codes.append(record["code"])
        return codes
    finally:
        database.dispose()
