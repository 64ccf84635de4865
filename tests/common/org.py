"""Factories for the organisation's tests: an enterprise (made the way a real one
is), the organisation service as its admin inside rolled-back transactions of both
databases, XLSX files filled in from the import template, and API shortcuts."""

from __future__ import annotations

import io
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from openpyxl import load_workbook
from sqlalchemy import delete
from sqlalchemy.orm import Session
from webtest import TestApp

from propolis.platform.db import Database
from propolis.platform.meta.effective import Effective
from propolis.platform.org.imports import COLUMNS, template_bytes
from propolis.platform.org.services import OrgService
from propolis.platform.permissions.actor import Actor
from propolis.platform.records.services import RecordService
from propolis.platform.storage.system import Enterprise
from propolis.platform.tenancy.services import (
    apply_metadata,
    create_enterprise,
    current_version,
    effective_for,
)
from tests.common.api import PASSWORD, ApiClient, login
from tests.conftest import unique_account

ADMIN_PHONE = "13800000000"

# Objects whose records an employee owns, for the handover: one with a table
# field (child rows have no owner of their own) and one whose records can never
# be deleted.
PROJECT = {
    "kind": "object", "api_name": "project", "label": {"zh": "项目", "en": "Project"},
    "fields": [
        {"api_name": "title", "type": "text", "required": True},
        {"api_name": "tasks", "type": "table", "fields": [
            {"api_name": "what", "type": "text"}]},
    ],
}
LEAD = {
    "kind": "object", "api_name": "lead", "label": {"zh": "线索", "en": "Lead"},
    "deletable": False,
    "fields": [{"api_name": "company", "type": "text", "required": True}],
}


@dataclass(frozen=True)
class OrgTenant:
    database: Database
    account: str
    enterprise_id: int
    admin_id: str
    head_office: str  # the department every enterprise starts with (总部)
    effective: Effective


def make_org_tenant(database: Database,
                    docs: Sequence[Mapping[str, Any]] = ()) -> OrgTenant:
    created = create_enterprise(database, account=unique_account("org"),
                                name="组织测试", admin_phone=ADMIN_PHONE,
                                admin_password=PASSWORD)
    if docs:
        apply_metadata(database, created.account, [dict(d) for d in docs])
    effective = effective_for(database, created.account,
                              current_version(database, created.account))
    return OrgTenant(database, created.account, created.enterprise_id,
                     created.admin_id, created.department_id, effective)


def drop_org_tenant(tenant: OrgTenant) -> None:
    """Removes the enterprise entirely: its storage and its system row (a row left
    behind would name storage that ``initdb`` can no longer upgrade)."""
    database = tenant.database
    database.drop_tenant_storage(tenant.account)
    with database.system_sessionmaker() as sysdb, sysdb.begin():
        sysdb.execute(delete(Enterprise).where(Enterprise.id == tenant.enterprise_id))


@contextmanager
def open_org(tenant: OrgTenant, actor_id: str | None = None) -> Iterator[OrgService]:
    """The organisation service as the admin (or ``actor_id``); everything it
    does, in the enterprise's storage and the system database, is rolled back."""
    database = tenant.database
    conn = database.tenant_engine(tenant.account).connect()
    outer = conn.begin()
    session = Session(bind=conn, join_transaction_mode="create_savepoint")
    sys_conn = database.system_engine.connect()
    sys_outer = sys_conn.begin()
    sysdb = Session(bind=sys_conn, join_transaction_mode="create_savepoint")
    actor = Actor(actor_id or tenant.admin_id, tenant.head_office,
                  frozenset({"admin", "employee"}))
    try:
        yield OrgService(RecordService(session, tenant.effective, actor),
                         sysdb=sysdb, enterprise_id=tenant.enterprise_id,
                         ip="127.0.0.1")
    finally:
        session.close()
        sysdb.close()
        outer.rollback()
        sys_outer.rollback()
        conn.close()
        sys_conn.close()


def filled_template(rows: Sequence[Mapping[str, Any]], *,
                    keep_example: bool = False) -> bytes:
    """The import template with ``rows`` (by column key) written from row 3, as an
    admin would fill it in (the example row overwritten unless kept)."""
    book = load_workbook(io.BytesIO(template_bytes()))
    sheet = book.worksheets[0]
    keys = [c.key for c in COLUMNS]
    start = 4 if keep_example else 3
    for offset, row in enumerate(rows):
        for key, value in row.items():
            sheet.cell(row=start + offset, column=keys.index(key) + 1, value=value)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def twenty_rows() -> list[dict[str, Any]]:
    """Twenty employees of 总部/销售部 and 总部/研发部 whose superiors are rows
    further down the file (and one an existing user, the admin)."""
    rows = []
    for i in range(20):
        rows.append({
            "name": f"员工{i:02d}", "phone": f"1390000{i:04d}",
            "email": f"e{i}@example.com",
            "departments": "总部/销售部" if i % 2 else "总部/研发部;总部/销售部",
            "position": "工程师" if i % 2 == 0 else "销售",
            # each row's superior is the next row; the last one reports to the admin
            "superior": f"1390000{i + 1:04d}" if i < 19 else ADMIN_PHONE,
            "roles": "员工" if i % 3 else "employee, CRM 管理员",
            "status": "在职" if i != 7 else "待激活",
            "password": "passw0rd-ok" if i == 0 else None,
        })
    return rows


def add_user(admin: ApiClient, name: str, phone: str, **data: Any) -> dict[str, Any]:
    body = {"name": name, "phone": phone, "password": PASSWORD, **data}
    return admin.post("/org/users", body, status=201).json


def login_as(app: TestApp, account: str, phone: str,
             password: str = PASSWORD) -> ApiClient:
    return login(app, account, phone, password)
