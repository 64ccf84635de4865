"""A sales team in an enterprise with the crm extension, for the CRM's functional
tests: the enterprise admin, a sales director (王伟) under them, a manager under
the director, two reps (peers) under the manager, and a CRM admin; a sales
department with an east team below it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from webtest import TestApp

from propolis import main
from propolis.platform.db import Database
from propolis.platform.tenancy.services import create_enterprise
from tests.common.api import PASSWORD, ApiClient, Tenant, login, login_admin
from tests.common.app import app_settings
from tests.conftest import unique_account


def crm_app(database: Database, files_dir: str) -> Iterator[TestApp]:
    """The application with the CRM's Python hooks included (for a test
    module's ``app`` fixture: ``yield from crm_app(...)``)."""
    settings = app_settings(database, files_dir)
    settings["propolis.extensions"] = "crm"
    router = main({}, **settings)
    yield TestApp(router)
    router.registry.database.dispose()


@dataclass
class Sales:
    tenant: Tenant
    admin: ApiClient
    director: ApiClient
    manager: ApiClient
    rep1: ApiClient
    rep2: ApiClient
    crm_admin: ApiClient
    ids: dict[str, str]  # key -> user id; "sales", "east": department ids


PEOPLE = (  # key, name, phone, superior key, department key, roles
    ("director", "王伟", "13900000001", None, "sales", ["employee"]),
    ("manager", "李娜", "13900000002", "director", "sales", ["employee"]),
    ("rep1", "张敏", "13900000003", "manager", "east", ["employee"]),
    ("rep2", "刘洋", "13900000004", "manager", "east", ["employee"]),
    ("crm_admin", "赵静", "13900000005", None, "sales", ["employee", "crm_admin"]),
)


def sales_team(app: TestApp, database: Database) -> Sales:
    account = unique_account("crm")
    created = create_enterprise(database, account=account, name="销售测试企业",
                                admin_phone="13800000000", admin_password=PASSWORD,
                                extensions=["crm"])
    tenant = Tenant(created.account, created.enterprise_id, created.admin_id,
                    created.department_id)
    admin = login_admin(app, tenant, lang="zh")
    ids: dict[str, str] = {}
    ids["sales"] = admin.create("department", {
        "name": "销售部", "parent": created.department_id})["id"]
    ids["east"] = admin.create("department", {
        "name": "华东组", "parent": ids["sales"]})["id"]
    clients = {}
    for key, name, phone, superior, department, roles in PEOPLE:
        ids[key] = admin.create("user", {
            "name": name, "phone": phone, "password": PASSWORD,
            "main_department": ids[department],
            "superior": ids[superior] if superior else created.admin_id,
            "roles": roles, "status": "active"})["id"]
        clients[key] = login(app, account, phone, PASSWORD, lang="zh")
    return Sales(tenant, admin, ids=ids, **clients)


def customer(client: ApiClient, name: str, **data: Any) -> dict[str, Any]:
    return client.create("customer", {"name": name, **data})


def record_path(obj: str, record: dict[str, Any] | str, *rest: str) -> str:
    id = record if isinstance(record, str) else record["id"]
    return "/".join([f"/objects/{obj}/records/{id}", *rest])


def act(client: ApiClient, obj: str, record: dict[str, Any], name: str,
        body: dict[str, Any] | None = None, status: Any = 200) -> Any:
    return client.post(record_path(obj, record, "actions", name), body or {},
                       status=status)


def offered(client: ApiClient, obj: str, record: dict[str, Any]) -> list[str]:
    body = client.get(record_path(obj, record, "actions"), status=200).json
    return [a["api_name"] for a in body["actions"]]


def write_ini(path: Path, database: Database) -> str:
    """An ini for the command line over the test database, with the CRM."""
    ini = path / "crm.ini"
    ini.write_text(f"""[app:main]
use = egg:propolis
propolis.database_url = {database.url}
propolis.tenant_dir = {database.tenant_dir}
propolis.files_dir = {path}/files
propolis.broker_url = memory://
propolis.secret = test
propolis.extensions = crm
""")
    return str(ini)

