"""Charts and dashboards through the real application (CONTRACT §6): totals equal
those computed here from the records created, for a superior, a peer and the admin;
the department tree rolled up over three levels; YoY and MoM on known data; date
buckets in the enterprise's time zone; hidden fields refused; drill-down links."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from webtest import TestApp

from tests.common.api import ApiClient, Tenant, error
from tests.functional.test_permissions import People

DEAL: dict[str, Any] = {
    "kind": "object", "api_name": "deal", "fields": [
        {"api_name": "name", "type": "text"},
        {"api_name": "amount", "type": "currency"},
        {"api_name": "cost", "type": "currency"},
        {"api_name": "stage", "type": "select", "options": ["open", "won", "lost"]},
        {"api_name": "close_date", "type": "date"},
        {"api_name": "signed_at", "type": "datetime"},
        {"api_name": "tags", "type": "multiselect", "options": ["x", "y"]},
    ],
    "permissions": {"employee": {"verbs": ["create", "read", "edit"], "scope": "own",
                                 "fields": {"cost": "hidden"}}},
}
BY_STAGE = {"measures": [{"api_name": "amount", "function": "sum", "field": "amount"},
                         {"api_name": "n", "function": "count"},
                         {"api_name": "average", "formula": "amount / n"}],
            "dimensions": [{"field": "stage"}]}


class Org:
    """Departments 总部 > 销售部 > 华东区 > 上海组; boss (销售部) above a (华东区)
    above b (上海组); peer (华东区) reports to no one of them."""

    def __init__(self, app: TestApp, tenant: Tenant) -> None:
        self.people = People(app, tenant)
        admin = self.admin = self.people.admin
        admin.define("deal", DEAL)
        self.dept = {"总部": tenant.department_id}
        for name, parent in (("销售部", "总部"), ("华东区", "销售部"),
                             ("上海组", "华东区")):
            self.dept[name] = admin.create("department", {
                "name": name, "parent": self.dept[parent]})["id"]
        self.boss = self.people.add("boss", department=self.dept["销售部"])
        self.a = self.people.add("a", "boss", department=self.dept["华东区"])
        self.b = self.people.add("b", "a", department=self.dept["上海组"])
        self.peer = self.people.add("peer", department=self.dept["华东区"])
        self.deals: list[dict[str, Any]] = []

    def deal(self, who: str, amount: str, stage: str, close: str,
             **more: Any) -> None:
        client = self.people.clients[who]
        client.create("deal", {"name": f"{who}-{len(self.deals)}",
                               "amount": float(amount), "stage": stage,
                               "close_date": close, **more})
        self.deals.append({"owner": who, "amount": Decimal(amount), "stage": stage,
                           "close": close,
                           "department": self.department_of(who)})

    def department_of(self, who: str) -> str:
        return {"boss": "销售部", "a": "华东区", "b": "上海组", "peer": "华东区"}[who]

    def chart(self, name: str, **doc: Any) -> None:
        self.admin.put(f"/metadata/charts/{name}", {"object": "deal", **doc},
                       status=200)


@pytest.fixture
def org(app: TestApp, enterprise: Callable[..., Tenant]) -> Org:
    org = Org(app, enterprise())
    for who, amount, stage, close in (
            ("boss", "100.50", "won", "2026-03-02"), ("a", "200", "won", "2026-03-10"),
            ("a", "50", "open", "2026-02-11"), ("b", "300.25", "won", "2026-02-20"),
            ("b", "10", "lost", "2025-03-15"), ("peer", "999", "won", "2026-03-04"),
            ("peer", "1", "open", "2026-03-05")):
        org.deal(who, amount, stage, close)
    return org


def expected_by_stage(org: Org, owners: set[str]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for deal in org.deals:
        if deal["owner"] in owners:
            row = found.setdefault(deal["stage"], {"amount": Decimal(0), "n": 0})
            row["amount"] += deal["amount"]
            row["n"] += 1
    return found


def run(client: ApiClient, name: str, status: int = 200, **body: Any) -> Any:
    return client.post(f"/charts/{name}/run", body, status=status).json


def by_key(rows: list[dict[str, Any]], key: str) -> dict[Any, dict[str, Any]]:
    return {row[key]: row for row in rows}


def test_totals_follow_what_each_user_may_read(org: Org) -> None:
    org.chart("by_stage", **BY_STAGE)
    for client, owners in ((org.boss, {"boss", "a", "b"}), (org.a, {"a", "b"}),
                           (org.peer, {"peer"}),
                           (org.admin, {"boss", "a", "b", "peer"})):
        rows = by_key(run(client, "by_stage")["rows"], "stage")
        expected = expected_by_stage(org, owners)
        assert set(rows) == set(expected)
        for stage, want in expected.items():
            assert Decimal(str(rows[stage]["amount"])) == want["amount"]
            assert rows[stage]["n"] == want["n"]
            assert Decimal(str(rows[stage]["average"])) == pytest.approx(
                want["amount"] / want["n"])
            assert rows[stage]["drill"] == f"/o/deal?f.stage={stage}"


def test_the_department_tree_rolls_up_over_three_levels(org: Org) -> None:
    org.chart("by_department", measures=[
        {"api_name": "amount", "function": "sum", "field": "amount"}],
        dimensions=[{"field": "owner_department", "rollup": "tree"}])
    rows = by_key(run(org.admin, "by_department")["rows"], "owner_department")
    below = {"总部": {"销售部", "华东区", "上海组"},
             "销售部": {"销售部", "华东区", "上海组"},
             "华东区": {"华东区", "上海组"}, "上海组": {"上海组"}}
    for name, departments in below.items():
        want = sum((d["amount"] for d in org.deals if d["department"] in departments),
                   Decimal(0))
        row = rows[org.dept[name]]
        assert Decimal(str(row["amount"])) == want
        assert row["owner_department_name"] == name
    # the boss's tree holds no peer's amount
    mine = by_key(run(org.boss, "by_department")["rows"], "owner_department")
    assert Decimal(str(mine[org.dept["华东区"]]["amount"])) == Decimal("560.25")


def test_month_over_month_and_year_over_year(org: Org) -> None:
    org.chart("by_month", measures=[
        {"api_name": "amount", "function": "sum", "field": "amount"}],
        dimensions=[{"field": "close_date", "bucket": "month"}],
        compare=["mom", "yoy"])
    result = run(org.b, "by_month", **{"from": "2026-03-01", "to": "2026-03-31"})
    assert result["rows"] == []  # b has nothing in March 2026
    rows = run(org.a, "by_month", **{"from": "2026-02-01", "to": "2026-03-31"})["rows"]
    march = by_key(rows, "close_date")
    # a sees a and b: February 50 + 300.25, March 200; March 2025 10
    assert set(march) == {"2026-02", "2026-03"}
    assert march["2026-03"]["amount_mom"] == pytest.approx((200 - 350.25) / 350.25,
                                                           abs=1e-4)
    assert march["2026-03"]["amount_yoy"] == 19.0  # b's 10 lost in March 2025
    assert march["2026-02"]["amount_mom"] is None
    assert march["2026-03"]["drill"] == (
        "/o/deal?min.close_date=2026-03-01&max.close_date=2026-03-31")


def test_buckets_are_days_of_the_enterprise_time_zone(org: Org) -> None:
    org.admin.put("/enterprise/settings", {"time_zone": "America/New_York"},
                  status=200)
    org.deal("a", "5", "open", "2026-01-01", signed_at="2026-01-05T03:30:00+00:00")
    org.deal("a", "7", "open", "2026-01-01", signed_at="2026-01-05T05:30:00+00:00")
    org.chart("by_day", measures=[{"api_name": "n", "function": "count"}],
              dimensions=[{"field": "signed_at", "bucket": "day"}])
    rows = by_key(run(org.a, "by_day")["rows"], "signed_at")
    # 03:30 UTC is the evening before in New York
    assert rows["2026-01-04"]["n"] == 1 and rows["2026-01-05"]["n"] == 1
    org.chart("by_week", measures=[{"api_name": "n", "function": "count"}],
              dimensions=[{"field": "signed_at", "bucket": "week"}])
    weeks = by_key(run(org.a, "by_week")["rows"], "signed_at")
    assert weeks["2026-W01"]["n"] == 1 and weeks["2026-W02"]["n"] == 1


def test_a_hidden_field_is_refused(org: Org) -> None:
    org.chart("costs", measures=[{"api_name": "cost", "function": "sum",
                                  "field": "cost"}])
    response = org.a.post("/charts/costs/run", {}, status=403)
    assert error(response)["code"] == "hidden_field"
    assert "cost" in error(response)["fields"]
    assert run(org.admin, "costs")["rows"] == [{"cost": None, "drill": "/o/deal"}]


def test_top_n_folds_the_rest_into_others(org: Org) -> None:
    org.chart("top_owners", measures=[
        {"api_name": "amount", "function": "sum", "field": "amount"}],
        dimensions=[{"field": "owner"}], top={"n": 2})
    rows = run(org.admin, "top_owners")["rows"]
    assert [r.get("owner_name") for r in rows[:2]] == ["peer", "b"]
    assert rows[2]["others"] is True
    assert Decimal(str(rows[2]["amount"])) == Decimal("350.50")


def test_a_dashboard_of_a_chart_kpis_and_a_formula(org: Org) -> None:
    org.chart("won", measures=[{"api_name": "amount", "function": "sum",
                                "field": "amount"}],
              filters=[{"field": "stage", "op": "eq", "value": "won"}],
              date_field="close_date")
    org.chart("all_deals", measures=[{"api_name": "amount", "function": "sum",
                                      "field": "amount"}], date_field="close_date")
    org.chart("by_stage", **BY_STAGE, date_field="close_date")
    org.admin.put("/metadata/dashboards/sales", {"widgets": [
        {"kpi": "won", "api_name": "won_amount"}, {"kpi": "all_deals"},
        {"api_name": "share", "formula": "won_amount / all_deals * 100"},
        {"chart": "by_stage", "api_name": "funnel"}]}, status=200)
    widgets = by_key(org.boss.get("/dashboards/sales?period=2026-03").json["widgets"],
                     "api_name")
    assert Decimal(str(widgets["won_amount"]["value"])) == Decimal("300.50")
    assert Decimal(str(widgets["all_deals"]["value"])) == Decimal("300.50")
    assert widgets["share"]["value"] == 100.0
    assert {r["stage"] for r in widgets["funnel"]["rows"]} == {"won"}
    # the picker: one person and those below them, one department's subtree
    of_a = by_key(org.boss.get(f"/dashboards/sales?period=2026-03&user="
                               f"{org.people.ids['a']}").json["widgets"], "api_name")
    assert Decimal(str(of_a["won_amount"]["value"])) == Decimal("200")
    of_sales = by_key(org.admin.get(f"/dashboards/sales?period=2026-02&department="
                                    f"{org.dept['华东区']}").json["widgets"],
                      "api_name")
    assert Decimal(str(of_sales["all_deals"]["value"])) == Decimal("350.25")
    assert org.boss.get("/dashboards/nothing", status=404)
    assert org.boss.get("/dashboards/sales?period=March", status=400)


def test_charts_are_exported_and_bad_ones_refused(org: Org) -> None:
    response = org.admin.put("/metadata/charts/bad", {"object": "deal", "measures": [
        {"api_name": "x", "function": "sum", "field": "stage"}]}, status=400)
    assert "measures[0].field" in str(error(response))
    assert org.a.put("/metadata/charts/mine", {"object": "deal", "measures": [
        {"api_name": "n", "function": "count"}]}, status=403)
    assert org.a.post("/charts/nothing/run", {}, status=404)
    org.chart("by_stage", **BY_STAGE)
    bad_day = org.a.post("/charts/by_stage/run", {"from": "2026-13-01"}, status=400)
    assert "from" in error(bad_day)["fields"]  # and the chart has no date field
    org.chart("by_day", measures=[{"api_name": "n", "function": "count"}],
              dimensions=[{"field": "close_date"}])
    days = by_key(run(org.a, "by_day")["rows"], "close_date")
    assert days["2026-03-10"]["drill"] == (
        "/o/deal?min.close_date=2026-03-10&max.close_date=2026-03-10")
    org.chart("by_tags", measures=[{"api_name": "n", "function": "count"}],
              dimensions=[{"field": "tags"}])
    assert "tags" in error(org.a.post("/charts/by_tags/run", {}, status=400))["fields"]
    bad_filter = org.a.post("/charts/by_stage/run", {"filters": [
        {"field": "amount", "op": "gt", "value": "lots"}]}, status=400)
    assert "amount" in error(bad_filter)["fields"]


def test_a_target_chart_takes_the_period_in_its_filters(org: Org) -> None:
    org.admin.define("target", {"kind": "object", "api_name": "target", "fields": [
        {"api_name": "year", "type": "number", "precision": 0},
        {"api_name": "month", "type": "number", "precision": 0},
        {"api_name": "amount", "type": "currency"}]})
    for year, month, amount in ((2026, 3, 1000), (2026, 4, 2000), (2025, 3, 500)):
        org.admin.create("target", {"year": year, "month": month, "amount": amount})
    org.admin.put("/metadata/charts/target", {
        "object": "target",
        "measures": [{"api_name": "amount", "function": "sum", "field": "amount"}],
        "filters": [{"field": "year", "op": "eq", "value": "$period.year"},
                    {"field": "month", "op": "eq", "value": "$period.month"}]},
        status=200)
    org.admin.put("/metadata/dashboards/targets", {"widgets": [{"kpi": "target"}]},
                  status=200)
    widgets = org.admin.get("/dashboards/targets?period=2026-03").json["widgets"]
    assert Decimal(str(widgets[0]["value"])) == Decimal(1000)
    missing = org.admin.get("/dashboards/targets", status=400)
    assert "period" in error(missing)["fields"]
