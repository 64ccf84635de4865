"""The reports layer's pages through the real application: a dashboard's cards,
charts (drill-down links) and tables for a period, a bad period named; 今日待报
and an entry's form, submitted and corrected."""

from __future__ import annotations

import dataclasses
import io
from collections.abc import Callable
from typing import Any

import openpyxl
import pytest
from webtest import TestApp

from tests.common.accounts import browser, form_of, web_login
from tests.common.api import Tenant
from tests.functional.test_charts import BY_STAGE, Org
from tests.functional.test_permissions import PASSWORD
from tests.functional.test_report_entries import FIELDS, day


def page_login(app: TestApp, org: Org, who: str | None = None) -> TestApp:
    """A browser logged in as the admin, or as one of ``org``'s people."""
    client = browser(app)
    tenant = org.people.tenant
    if who is not None:
        index = list(org.people.ids).index(who)
        tenant = dataclasses.replace(tenant, phone=f"1391234{index:04d}",
                                     password=PASSWORD)
    web_login(client, tenant)
    client.set_cookie("propolis_lang", "en")
    return client


@pytest.fixture
def org(app: TestApp, enterprise: Callable[..., Tenant]) -> Org:
    org = Org(app, enterprise())
    for who, amount, stage, close in (("a", "1234.5", "won", "2026-03-10"),
                                      ("b", "300", "open", "2026-03-20"),
                                      ("peer", "999", "won", "2026-03-04"),
                                      ("a", "70", "won", "2025-12-01")):
        org.deal(who, amount, stage, close)
    org.chart("won", date_field="close_date",
              measures=[{"api_name": "amount", "function": "sum", "field": "amount"}],
              filters=[{"field": "stage", "op": "eq", "value": "won"}])
    org.chart("by_stage", date_field="close_date", type="funnel", **BY_STAGE)
    org.chart("stage_table", date_field="close_date", type="table", **BY_STAGE)
    org.admin.put("/metadata/dashboards/deals", {
        "label": {"zh": "交易仪表盘", "en": "Deals"},
        "widgets": [{"kpi": "won", "api_name": "won"}, {"chart": "by_stage"},
                    {"chart": "stage_table"},
                    {"api_name": "twice", "formula": "won * 2"}]}, status=200)
    org.admin.put("/metadata/reports/daily_sales", {
        "label": {"zh": "每日销售报数", "en": "Daily sales"}, "period": "daily",
        "fields": FIELDS, "assignees": {"departments": ["销售部"]}, "due": "18:00",
        "lock_after_days": 1}, status=200)
    return org


def test_the_dashboard_page_shows_cards_charts_and_tables(app: TestApp,
                                                          org: Org) -> None:
    client = page_login(app, org)
    listed = client.get("/dashboards", status=200)
    assert 'href="/dashboards/deals"' in listed.text and "Deals" in listed.text
    page = client.get("/dashboards/deals?period=2026-03", status=200)
    cards = page.html.select(".dashboard-number")
    assert [c.text for c in cards] == ["¥2,233.50", "4,467"]
    funnel = page.html.select_one(".dashboard-funnel [data-chart]")
    assert funnel is not None and '"type": "funnel"' in funnel["data-chart"]
    assert "f.stage=won" in funnel["data-chart"]  # the drill-down URL of a stage
    drills = [a["href"]
              for a in page.html.select(".dashboard-funnel .dashboard-drill a")]
    assert any("f.stage=open" in href for href in drills)
    table = page.html.select_one(".dashboard-table")
    assert table is not None
    assert sorted([td.text for td in tr.select("td")][1:]
                  for tr in table.select("tbody tr")) == [
        ["2,233.50", "2", "1,116.75"], ["300", "1", "300"]]
    assert page.html.select_one("script[src*='charts.js']") is not None
    assert "<script>" not in page.text  # the CSP forbids inline scripts
    # all time counts December 2025 too
    everything = client.get("/dashboards/deals", status=200)
    assert everything.html.select(".dashboard-number")[0].text == "¥2,303.50"


def test_a_superior_sees_theirs_and_a_bad_period_is_named(app: TestApp,
                                                          org: Org) -> None:
    boss = page_login(app, org, "boss")
    page = boss.get("/dashboards/deals?period=2026-03", status=200)
    assert page.html.select(".dashboard-number")[0].text == "¥1,234.50"
    narrowed = boss.get(f"/dashboards/deals?period=2026-03&user={org.people.ids['b']}",
                        status=200)
    assert narrowed.html.select(".dashboard-number")[0].text == "—"
    options = {o.text: o.get("selected") is not None
               for o in narrowed.html.select("#dashboard-user option")}
    assert options["b"] and not options["a"]
    bad = boss.get("/dashboards/deals?period=March", status=400)
    assert bad.html.select_one("#dashboard-period-error") is not None
    boss.get("/dashboards/nothing", status=404)


def test_a_rep_fills_and_corrects_today_s_report(app: TestApp, org: Org) -> None:
    rep = page_login(app, org, "a")
    home = rep.get("/app", status=200)
    cards = {a["href"]: a.text for a in home.html.select(".home-cards a")}
    assert "Reports to fill" in cards["/reports"] and "1" in cards["/reports"]
    assert "Dashboards" in cards["/dashboards"]
    todo = rep.get("/reports", status=200)
    link = todo.html.select_one(".report-todo a")
    assert link is not None and link["href"] == f"/reports/daily_sales/{day(0)}"
    assert "To fill" in link.text
    form_page = rep.get(link["href"], status=200)
    form = form_of(form_page, link["href"])
    for bad in ("three", "NaN", "Infinity"):
        form["calls"] = bad
        refused = form.submit(status=400)
        assert refused.html.select_one("#report-calls-error") is not None
    form = form_of(refused, link["href"])
    form["calls"] = "3"
    form["revenue"] = "1,200.50"
    done = form.submit(status=303).follow(status=200)
    assert "Saved" in done.text
    entry: Any = org.people.clients["a"].get(
        f"/reports/daily_sales/entries/{day(0)}").json
    assert entry["calls"] == 3 and float(entry["revenue"]) == 1200.5
    form = form_of(done, link["href"])
    assert form["calls"].value == "3"
    form["calls"] = "4"
    form.submit(status=303)
    assert org.people.clients["a"].get(
        f"/reports/daily_sales/entries/{day(0)}").json["calls"] == 4
    assert "Filled" in rep.get("/reports").html.select_one(".report-todo a").text
    home = rep.get("/app", status=200)
    assert home.html.select_one(".home-cards a[href='/reports'] .badge").text == "0"
    # locked: two days ago is past lock_after_days 1
    old = rep.get(f"/reports/daily_sales/{day(-2)}", status=200)
    form = form_of(old, f"/reports/daily_sales/{day(-2)}")
    form["calls"] = "1"
    assert form.submit(status=409).html.select_one(".error") is not None
    rep.get("/reports/daily_sales/yesterday", status=400)
    rep.set_cookie("propolis_lang", "zh")
    zh = rep.get("/reports").text
    assert "今日待报" in zh and "已填报" in zh
    rep.get(f"/reports/nothing/{day(0)}", status=404)


def test_the_summary_page_sums_names_the_missing_and_exports(app: TestApp,
                                                             org: Org) -> None:
    for who, calls in (("a", 3), ("b", 5)):
        org.people.clients[who].put(f"/reports/daily_sales/entries/{day(0)}",
                                    {"data": {"calls": calls, "revenue": 10}},
                                    status=200)
    boss = page_login(app, org, "boss")
    listed = boss.get("/dashboards", status=200)
    assert 'href="/reports/daily_sales/summary"' in listed.text
    page = boss.get("/reports/daily_sales/summary?by=user", status=200)
    cells = {tr.select("td")[0].text: [td.text for td in tr.select("td")]
             for tr in page.html.select(".report-summary tbody tr")}
    assert cells["a"][1:3] == ["1", "3"] and cells["b"][1:3] == ["1", "5"]
    assert [li.text for li in page.html.select(".report-missing li")] == ["boss"]
    link = page.html.select_one("a[href*='format=xlsx']")
    assert link is not None
    sheet = boss.get(link["href"], status=200)
    assert sheet.content_type.endswith("spreadsheetml.sheet")
    book = openpyxl.load_workbook(io.BytesIO(sheet.body), read_only=True)
    values = [list(r) for r in book.active.iter_rows(values_only=True)]
    assert values[0][:3] == ["Name", "Entries", "拜访数"]
    assert sorted(v[:3] for v in values[1:]) == [["a", 1, 3], ["b", 1, 5]]
    bad = boss.get("/reports/daily_sales/summary?from=2026", status=400)
    assert bad.html.select_one("#summary-error") is not None
    boss.get("/reports/nothing/summary", status=404)
