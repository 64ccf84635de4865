"""A school for the approval tests: the oa extension installed, a teaching office
whose head is 王主任, a finance director, a principal and a chairman (the seed's
expense chain), and API clients for each of them. The staff get tokens issued
directly rather than passwords: hashing (argon2) is what would make these tests
slow, and logging in is tested elsewhere."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from webtest import TestApp

from propolis.platform.db import Database
from propolis.platform.tenancy.services import create_enterprise
from tests.common.accounts import issue_token
from tests.common.api import PASSWORD, ApiClient, Tenant, login_admin
from tests.conftest import unique_account

PEOPLE = (  # key, name, phone, position
    ("head", "王主任", "13900000002", "director"),
    ("teacher", "李老师", "13900000001", "teacher"),
    ("finance", "赵财务", "13900000003", "finance_director"),
    ("principal", "孙校长", "13900000004", "principal"),
    ("chairman", "周董事长", "13900000005", "chairman"),
    ("colleague", "钱老师", "13900000006", "teacher"),
    ("outsider", "吴老师", "13900000007", "teacher"),
)


@dataclass
class School:
    app: TestApp
    database: Database
    tenant: Tenant
    admin: ApiClient
    office: str  # the teaching office's id
    ids: dict[str, str]
    logged_in: dict[str, ApiClient]

    def client(self, key: str) -> ApiClient:
        """``key``'s API client ("admin": the enterprise admin's)."""
        if key == "admin":
            return self.admin
        if key not in self.logged_in:
            with self.database.system_sessionmaker() as sysdb, sysdb.begin():
                token = issue_token(sysdb, self.tenant.enterprise_id, self.ids[key])
            self.logged_in[key] = ApiClient(self.app, token)
        return self.logged_in[key]

    def __getattr__(self, key: str) -> ApiClient:
        if key.startswith("_") or key not in self.__dict__.get("ids", {}):
            raise AttributeError(key)
        return self.client(key)


def make_school(app: TestApp, database: Database, extensions: tuple[str, ...] = ("oa",)
                ) -> School:
    account = unique_account("s")
    created = create_enterprise(database, account=account, name="育才学校",
                                admin_phone="13800000000", admin_password=PASSWORD,
                                extensions=list(extensions))
    tenant = Tenant(account, created.enterprise_id, created.admin_id,
                    created.department_id)
    admin = login_admin(app, tenant)
    office = admin.create("department", {"name": "教务处",
                                         "parent": tenant.department_id})["id"]
    ids: dict[str, str] = {}
    for key, name, phone, position in PEOPLE:
        data: dict[str, Any] = {"name": name, "phone": phone,
                                "position": position, "status": "active",
                                "main_department": office if key in (
                                    "teacher", "head", "colleague", "outsider")
                                else tenant.department_id}
        if key in ("teacher", "colleague", "outsider"):
            data["superior"] = ids["head"]
        ids[key] = admin.create("user", data)["id"]
    admin.patch(f"/objects/department/records/{office}", {"head": ids["head"]},
                status=200)
    return School(app, database, tenant, admin, office, ids, {})


def expense(total_items: list[float]) -> dict[str, Any]:
    return {"title": "教研活动报销",
            "items": [{"category": "office", "amount": a} for a in total_items]}


def submit(client: ApiClient, definition: str, data: dict[str, Any],
           status: int = 201, **extra: Any) -> Any:
    response = client.post("/approvals", {"definition": definition, "data": data,
                                          **extra}, status=status)
    return response.json


def act(client: ApiClient, instance_id: str, action: str, status: int = 200,
        **body: Any) -> Any:
    return client.post(f"/approvals/{instance_id}/actions",
                       {"action": action, **body}, status=status).json


def todo(client: ApiClient) -> list[str]:
    return [i["id"] for i in client.get("/approvals?box=todo").json["items"]]


def current_approvers(instance: dict[str, Any]) -> list[str]:
    step = next(s for s in instance["steps"] if s["seq"] == instance["current_step"])
    return [task["assignee"]["id"] for task in step["tasks"]
            if task["status"] == "pending"]
