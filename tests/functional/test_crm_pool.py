"""The CRM's public pool (rule 13 of issue 11) and its schedules, through the real
application and the command line, on each database: returning a customer to a
pool (it loses its owner; the pool's members see it), claiming within the limit
and not back within the cooldown, pool admins assigning, ``propolis schedule run
--at`` returning a stale customer and marking payment plans overdue; and the
extension installed by ``tenant create --extension crm`` and ``extension
install``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from webtest import TestApp

from propolis.platform.cli import main as cli
from propolis.platform.db import Database
from propolis.platform.tenancy.demo import create_demo
from propolis.platform.tenancy.migrate import initdb
from tests.common.api import error, login
from tests.common.crm import (
    Sales,
    act,
    crm_app,
    customer,
    offered,
    record_path,
    sales_team,
    write_ini,
)
from tests.conftest import unique_account


@pytest.fixture(scope="module")
def app(database: Database, tmp_path_factory: pytest.TempPathFactory
        ) -> Iterator[TestApp]:
    yield from crm_app(database, str(tmp_path_factory.mktemp("files")))


@pytest.fixture
def sales(app: TestApp, database: Database) -> Sales:
    return sales_team(app, database)


@pytest.fixture
def pool(sales: Sales) -> dict[str, Any]:
    """华东公海: published to the east team (both reps), kept by the manager."""
    return sales.crm_admin.create("pool", {
        "name": "华东公海", "member_departments": [sales.ids["east"]],
        "admins": [sales.ids["manager"]], "claim_limit": 1,
        "return_days": 30, "cooldown_days": 7})


def back_to(sales: Sales, pool: dict[str, Any], name: str) -> dict[str, Any]:
    made = customer(sales.rep1, name)
    return act(sales.rep1, "customer", made, "return",
               {"pool": pool["id"], "reason": "暂无需求"}).json


def test_rule13_return_claim_limit_cooldown_and_assign(sales: Sales,
                                                        pool: dict[str, Any]) -> None:
    first = back_to(sales, pool, "公海客户甲")
    assert (first["owner"], first["pool"], first["return_reason"]) == (
        None, pool["id"], "暂无需求")
    # the pool's members (both reps) and its admin see it; the director does not
    for client in (sales.rep1, sales.rep2, sales.manager):
        assert client.read("customer", first["id"])["pool"] == pool["id"]
    sales.director.get(record_path("customer", first), status=404)
    assert offered(sales.rep2, "customer", first) == ["claim"]
    assert "assign" in offered(sales.manager, "customer", first)
    # whoever returned it may not claim it back within the cooldown
    refused = error(act(sales.rep1, "customer", first, "claim", status=409))
    assert refused["code"] == "claim_cooldown"
    claimed = act(sales.rep2, "customer", first, "claim").json
    assert (claimed["owner"], claimed["pool"]) == (sales.ids["rep2"], None)
    assert claimed["claimed_at"]
    sales.rep1.get(record_path("customer", first), status=404)  # no longer a member's
    # the claim limit (1): a second claim is refused, an assignment is not counted
    second = back_to(sales, pool, "公海客户乙")
    third = back_to(sales, pool, "公海客户丙")
    over = error(act(sales.rep2, "customer", second, "claim", status=409))
    assert over["code"] == "claim_limit"
    assert "1" in over["message"]
    act(sales.rep2, "customer", second, "assign", {"owner": sales.ids["rep2"]},
        status=403)  # not a pool admin
    given = act(sales.manager, "customer", second, "assign",
                {"owner": sales.ids["rep2"]}).json
    assert given["owner"] == sales.ids["rep2"]
    # a customer given back frees a place: rep2 returns the claimed one
    act(sales.rep2, "customer", claimed, "return", {"pool": pool["id"]})
    assert act(sales.rep2, "customer", third, "claim").json["owner"] == \
        sales.ids["rep2"]
    # bad input names the field
    assert "pool" in error(act(sales.rep2, "customer", given, "return",
                               {"pool": "nope"}, status=400))["fields"]
    assert "owner" in error(act(sales.manager, "customer", claimed, "assign", {},
                                status=400))["fields"]


def test_schedule_run_returns_stale_customers_and_marks_overdue_plans(
        sales: Sales, pool: dict[str, Any], database: Database, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    stale = back_to(sales, pool, "超期客户")
    act(sales.rep2, "customer", stale, "claim")
    kept = back_to(sales, pool, "已赢单客户")
    act(sales.manager, "customer", kept, "assign", {"owner": sales.ids["rep2"]})
    deal = sales.rep2.create("opportunity", {"name": "成交", "customer": kept["id"]})
    act(sales.rep2, "opportunity", deal, "win")
    own = customer(sales.rep2, "自己开发的客户")
    contract = sales.rep2.create("contract", {"name": "合同", "number": "HT-9",
                                              "customer": own["id"], "amount": 100})
    plans = {due: sales.rep2.create("payment_plan", {
        "title": due, "contract": contract["id"], "due_date": due, "amount": 100})
        for due in ("2026-01-10", "2099-01-01")}
    ini = write_ini(tmp_path, database)
    at = (dt.datetime.now(dt.UTC) + dt.timedelta(days=31)).isoformat()
    assert cli(["-c", ini, "schedule", "run", "--tenant", sales.tenant.account,
                "--at", at]) == 0
    out = capsys.readouterr().out
    assert "customer.auto_return" in out
    returned = sales.manager.read("customer", stale["id"])
    assert (returned["owner"], returned["pool"]) == (None, pool["id"])
    assert returned["return_reason"] == "超期未成交，自动退回公海"
    assert sales.rep2.read("customer", kept["id"])["owner"] == sales.ids["rep2"]
    assert sales.rep2.read("customer", own["id"])["owner"] == sales.ids["rep2"]
    statuses = {due: sales.rep2.read("payment_plan", plan["id"])["status"]
                for due, plan in plans.items()}
    assert statuses == {"2026-01-10": "overdue", "2099-01-01": "pending"}
    # paid afterwards, an overdue plan is done
    sales.rep2.create("payment", {"contract": contract["id"],
                                  "plan": plans["2026-01-10"]["id"], "amount": 100})
    assert sales.rep2.read("payment_plan", plans["2026-01-10"]["id"])["status"] == \
        "done"


def test_the_extension_installs_from_the_command_line(
        app: TestApp, database: Database, tmp_path: Path) -> None:
    ini = write_ini(tmp_path, database)
    account = unique_account("crmcli")
    assert cli(["-c", ini, "tenant", "create", "--account", account, "--name", "甲",
                "--admin-phone", "13800000000", "--admin-password", "secret-123",
                "--extension", "crm"]) == 0
    admin = login(app, account, "13800000000", "secret-123")
    names = {o["api_name"] for o in admin.get("/objects", status=200).json["objects"]}
    assert {"customer", "contact", "opportunity", "contract", "payment_plan",
            "payment", "invoice", "follow_up", "product", "competitor", "pool",
            "sales_target"} <= names
    other = unique_account("crmcli")
    assert cli(["-c", ini, "tenant", "create", "--account", other, "--name", "乙",
                "--admin-phone", "13800000000", "--admin-password", "secret-123"]) == 0
    assert cli(["-c", ini, "extension", "install", "--tenant", other, "crm"]) == 0
    admin = login(app, other, "13800000000", "secret-123")
    made = admin.create("customer", {"name": "安装后的客户"})
    assert "return" in offered(admin, "customer", made)


def test_the_demo_is_the_crm_with_a_sales_team(tmp_path: Path) -> None:
    # a database of its own: other tests make the demo enterprise too
    database = Database(f"sqlite:///{tmp_path}/system.sqlite",
                        str(tmp_path / "tenants"))
    initdb(database)
    apps = crm_app(database, str(tmp_path / "files"))
    app = next(apps)
    password = create_demo(app.app.registry)
    assert password is not None
    assert create_demo(app.app.registry) is None  # once
    admin = login(app, "demo", "13800000000", password)
    assert len(admin.query("customer")["records"]) == 7
    in_pool = admin.query("customer", filters=[
        {"field": "pool", "op": "isnull", "value": False}])["records"]
    assert [(c["short_name"], c["owner"]) for c in in_pool] == [("新景园林", None)]
    contract = admin.query("contract")["records"][0]
    assert contract["received"] > 0 and contract["unreceived"] > 0
    acme = admin.query("customer", q="上海建工")["records"][0]
    assert admin.get(record_path("customer", acme, "timeline"),
                     status=200).json["items"]
    # the sales team: two reps under a manager under the director, in a tree
    reps = admin.query("user", filters=[
        {"field": "position", "op": "eq", "value": "sales"}])["records"]
    assert len(reps) == 2
    assert acme["last_follow_up_at"]  # the follow-ups were told to the CRM
    next(apps, None)  # the application's database closed


def test_pool_lists_are_lists_of_user_and_department_ids(
        sales: Sales, pool: dict[str, Any]) -> None:
    assert (pool["members"], pool["admins"], pool["member_departments"]) == (
        [], [sales.ids["manager"]], [sales.ids["east"]])
    # every id must be a user (a department) there is
    for body, field in (({"members": [sales.ids["rep1"], "nobody"]}, "members"),
                        ({"admins": [sales.ids["east"]]}, "admins"),
                        ({"member_departments": sales.ids["east"]},
                         "member_departments")):
        refused = error(sales.crm_admin.post("/objects/pool/records", {
            "name": "坏公海", **body}, status=400))
        assert list(refused["fields"]) == [field], body
    west = sales.crm_admin.create("pool", {"name": "华西公海",
                                           "members": [sales.ids["rep2"]]})
    found = sales.crm_admin.query("pool", filters=[
        {"field": "members", "op": "contains", "value": sales.ids["rep2"]}])
    assert [p["id"] for p in found["records"]] == [west["id"]]
    empty = sales.crm_admin.query("pool", filters=[
        {"field": "members", "op": "isnull", "value": True}])["records"]
    assert [p["id"] for p in empty] == [pool["id"]]
    described = {f["api_name"]: f for f in sales.crm_admin.get(
        "/objects/pool", status=200).json["fields"]}
    assert described["members"]["multiple"] is True
    # a member of a list, not of the department, may claim its customers
    waiting = back_to(sales, west, "华西客户")
    assert act(sales.rep2, "customer", waiting, "claim").json["owner"] == \
        sales.ids["rep2"]
