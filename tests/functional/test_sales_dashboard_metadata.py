"""The sales dashboard's six widgets (CONTRACT §7) written as chart and dashboard
metadata over the crm extension's objects, on a known data set: the engine can
express each (docs/reports.md, "The sales dashboard"); the crm extension ships
them."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from webtest import TestApp

from propolis.platform.db import Database
from tests.common.crm import Sales, crm_app, customer, sales_team

OPEN = ["lead", "needs", "proposal", "negotiation"]
IN_PERIOD = {"date_field": "close_date"}
CHARTS: dict[str, dict[str, Any]] = {
    "won": {"object": "opportunity", **IN_PERIOD,
            "measures": [{"api_name": "amount", "function": "sum", "field": "amount"}],
            "filters": [{"field": "stage", "op": "eq", "value": "won"}]},
    "collected": {"object": "payment", "date_field": "paid_on",
                  "measures": [{"api_name": "amount", "function": "sum",
                                "field": "amount"}]},
    "target": {"object": "sales_target",
               "measures": [{"api_name": "amount", "function": "sum",
                             "field": "amount"}],
               "filters": [{"field": "year", "op": "eq", "value": "$period.year"},
                           {"field": "month", "op": "eq", "value": "$period.month"},
                           {"field": "target_user", "op": "isnull", "value": False}]},
    "funnel": {"object": "opportunity", **IN_PERIOD, "type": "funnel",
               "measures": [{"api_name": "n", "function": "count"},
                            {"api_name": "amount", "function": "sum",
                             "field": "amount"}],
               "dimensions": [{"field": "stage"}],
               "filters": [{"field": "stage", "op": "in", "value": OPEN}]},
    "forecast": {"object": "opportunity", **IN_PERIOD,
                 "measures": [{"api_name": "amount", "function": "sum",
                               "field": "expected"}],
                 "filters": [{"field": "stage", "op": "in", "value": OPEN}]},
}
SALES = {"label": {"zh": "销售仪表盘", "en": "Sales"}, "widgets": [
    {"kpi": "won", "api_name": "won_amount"}, {"kpi": "collected"}, {"kpi": "target"},
    {"api_name": "completion", "formula": "won_amount / target * 100"},
    {"chart": "funnel"}, {"kpi": "forecast"}]}


@pytest.fixture(scope="module")
def app(database: Database, tmp_path_factory: pytest.TempPathFactory
        ) -> Iterator[TestApp]:
    yield from crm_app(database, str(tmp_path_factory.mktemp("files")))


@pytest.fixture(scope="module")
def sales(app: TestApp, database: Database) -> Sales:
    sales = sales_team(app, database)
    for name, chart in CHARTS.items():
        sales.admin.put(f"/metadata/charts/{name}", chart, status=200)
    sales.admin.put("/metadata/dashboards/sales", SALES, status=200)
    acme = customer(sales.rep1, "仪表盘客户甲")
    other = customer(sales.rep2, "仪表盘客户乙")
    for client, cust, name, amount, stage, close in (
            (sales.rep1, acme, "甲-赢", 1000, "won", "2026-12-10"),
            (sales.rep1, acme, "甲-方案", 2000, "proposal", "2026-12-20"),
            (sales.rep2, other, "乙-赢", 500, "won", "2026-12-01"),
            (sales.rep2, other, "乙-谈判", 3000, "negotiation", "2026-11-15"),
            (sales.rep1, acme, "甲-输", 400, "lost", "2026-12-05")):
        client.create("opportunity", {"name": name, "customer": cust["id"],
                                      "amount": amount, "stage": stage,
                                      "close_date": close,
                                      **({"lost_reason": "价格"} if stage == "lost"
                                         else {})})
    contract = sales.rep1.create("contract", {
        "name": "仪表盘合同", "number": "DB-1", "customer": acme["id"], "amount": 1000})
    for amount, paid_on in ((300, "2026-12-03"), (100, "2026-11-30")):
        sales.rep1.create("payment", {"contract": contract["id"], "amount": amount,
                                      "paid_on": paid_on})
    for who in ("rep1", "rep2"):
        sales.crm_admin.create("sales_target", {
            "target_user": sales.ids[who], "year": 2026, "month": 12,
            "amount": 5000})
    sales.crm_admin.create("sales_target", {
        "department": sales.ids["east"], "year": 2026, "month": 12, "amount": 9000})
    return sales


def widgets(client: Any, period: str) -> dict[str, dict[str, Any]]:
    found = client.get(f"/dashboards/sales?period={period}").json["widgets"]
    return {w["api_name"]: w for w in found}


def number(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def test_the_six_figures_of_december(sales: Sales) -> None:
    found = widgets(sales.crm_admin, "2026-12")
    assert list(found) == ["won_amount", "collected", "target", "completion",
                           "funnel", "forecast"]
    assert number(found["won_amount"]["value"]) == Decimal(1500)
    assert number(found["collected"]["value"]) == Decimal(300)
    assert number(found["target"]["value"]) == Decimal(10000)
    assert found["completion"]["value"] == 15.0
    assert [(r["stage"], r["n"], number(r["amount"]))
            for r in found["funnel"]["rows"]] == [("proposal", 1, Decimal(2000))]
    assert number(found["forecast"]["value"]) == Decimal(1200)


def test_a_manager_sees_the_figures_of_everyone_below(sales: Sales) -> None:
    mine = widgets(sales.manager, "2026-12")
    assert number(mine["won_amount"]["value"]) == Decimal(1500)
    rep2 = widgets(sales.rep2, "2026-12")
    assert number(rep2["won_amount"]["value"]) == Decimal(500)
    assert rep2["funnel"]["rows"] == []
    november = widgets(sales.manager, "2026-11")
    assert number(november["forecast"]["value"]) == Decimal(2400)  # 3000 × 80 %
    assert number(november["collected"]["value"]) == Decimal(100)
