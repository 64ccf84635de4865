"""报数 (``kind: report``) through the real application (CONTRACT §6): submit,
correct, lock, who is missing, the summaries by user, department and period with
MoM and YoY, who sees which entries, and the due reminder."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from webtest import TestApp

from propolis.reports.events import ReportDue
from propolis.reports.tasks import remind
from tests.common.api import Tenant, error
from tests.functional.test_charts import Org, by_key

FIELDS = [{"api_name": "calls", "type": "number", "label": {"zh": "拜访数"}},
          {"api_name": "revenue", "type": "currency"}]


def today() -> dt.date:
    return dt.datetime.now(ZoneInfo("Asia/Shanghai")).date()


def day(offset: int) -> str:
    return (today() + dt.timedelta(days=offset)).isoformat()


@pytest.fixture
def org(app: TestApp, enterprise: Callable[..., Tenant]) -> Org:
    org = Org(app, enterprise())
    org.admin.put("/metadata/reports/daily_sales", {
        "label": {"zh": "每日销售报数", "en": "Daily sales"}, "period": "daily",
        "fields": FIELDS, "assignees": {"departments": ["销售部"]}, "due": "18:00",
        "lock_after_days": 1}, status=200)
    org.admin.put("/metadata/reports/monthly", {
        "period": "monthly", "fields": FIELDS, "assignees": {"all": True}},
        status=200)
    return org


def submit(client: Any, period: str, status: int = 200, name: str = "daily_sales",
           **data: Any) -> Any:
    return client.put(f"/reports/{name}/entries/{period}", {"data": data},
                      status=status)


def test_an_entry_is_submitted_corrected_and_locked(org: Org) -> None:
    todo = {r["api_name"]: r for r in org.a.get("/reports").json["reports"]}
    assert todo["daily_sales"]["current"] == day(0)
    assert not todo["daily_sales"]["filled"] and "monthly" in todo
    assert org.admin.get("/reports").json["reports"][0]["api_name"] == "monthly"
    org.a.get(f"/reports/daily_sales/entries/{day(0)}", status=404)
    first = submit(org.a, day(0), calls=3, revenue=100).json
    assert org.a.get(f"/reports/daily_sales/entries/{day(0)}").json["calls"] == 3
    assert [r["filled"] for r in org.a.get("/reports").json["reports"]] == [
        True, False]
    again = submit(org.a, day(0), calls=5, revenue=120.5).json
    assert again["id"] == first["id"] and again["calls"] == 5
    assert again["period"] == day(0) and again["owner"] == org.people.ids["a"]
    submit(org.a, day(-1), calls=1)  # yesterday is still open
    locked = submit(org.a, day(-3), status=409, calls=1)
    assert error(locked)["code"] == "report_locked"
    # the admin (总部) is not an assignee of a report of 销售部
    assert error(submit(org.admin, day(0), status=403, calls=1))["code"] == (
        "not_assignee")
    bad = submit(org.a, "2026-W49", status=400, calls=1)
    assert "period" in error(bad)["fields"]
    assert "nope" in error(submit(org.a, day(0), status=400, nope=1))["fields"]
    # no one writes entries through the records API
    org.a.post("/objects/report_daily_sales/records", {"period": day(0)}, status=403)


def test_who_is_missing_follows_the_superior_chain(org: Org) -> None:
    submit(org.a, day(0), calls=3)
    names = lambda client: [u["name"] for u in client.get(  # noqa: E731
        f"/reports/daily_sales/missing?period={day(0)}").json["users"]]
    assert names(org.boss) == ["b", "boss"]
    assert names(org.admin) == ["b", "boss", "peer"]
    assert names(org.peer) == ["peer"]


def test_summaries_by_user_department_and_period(org: Org) -> None:
    submit(org.a, day(-1), calls=2, revenue=10)
    submit(org.a, day(0), calls=3, revenue=20)
    submit(org.b, day(0), calls=4, revenue=30)
    submit(org.peer, day(0), calls=100, revenue=1000)
    path = f"/reports/daily_sales/summary?from={day(0)}&to={day(0)}"
    users = by_key(org.boss.get(path + "&by=user").json["rows"], "label")
    assert set(users) == {"a", "b"}  # the peer is not below the boss
    assert users["a"]["calls"] == 3 and users["a"]["calls_mom"] == 0.5
    departments = by_key(org.admin.get(path + "&by=department").json["rows"], "label")
    assert departments["华东区"]["calls"] == 107  # a, peer and b (上海组) below
    assert departments["上海组"]["calls"] == 4
    assert departments["总部"]["revenue"] == 1050
    periods = by_key(org.a.get(f"/reports/daily_sales/summary?from={day(-1)}"
                               f"&to={day(0)}&by=period").json["rows"], "key")
    assert periods[day(0)]["calls"] == 7 and periods[day(-1)]["calls"] == 2
    assert periods[day(0)]["calls_mom"] == 2.5
    assert periods[day(-1)]["calls_mom"] is None
    assert org.a.get(path + "&by=team", status=400)


def test_year_over_year_of_a_monthly_report(org: Org) -> None:
    submit(org.a, "2025-03", name="monthly", calls=10)
    submit(org.a, "2026-02", name="monthly", calls=16)
    submit(org.a, "2026-03", name="monthly", calls=20)
    rows = org.a.get("/reports/monthly/summary?from=2026-03&to=2026-03&by=period"
                     ).json["rows"]
    assert rows == [{"key": "2026-03", "label": "2026-03", "calls": 20,
                     "revenue": None, "entries": 1, "calls_mom": 0.25,
                     "calls_yoy": 1.0, "revenue_mom": None, "revenue_yoy": None}]


def test_the_due_reminder_tells_the_missing_once(app: TestApp, org: Org) -> None:
    submit(org.a, day(0), calls=1)
    local = dt.datetime.combine(today(), dt.time(18, 30), ZoneInfo("Asia/Shanghai"))
    registry = app.app.registry
    before = dt.datetime.combine(today(), dt.time(17, 0), ZoneInfo("Asia/Shanghai"))
    assert [s for s in remind(registry, before)
            if s["account"] == org.people.tenant.account] == []
    heard: list[ReportDue] = []
    registry.registerHandler(heard.append, (ReportDue,))
    try:
        sent = [s for s in remind(registry, local)
                if s["account"] == org.people.tenant.account]
    finally:
        registry.unregisterHandler(heard.append, (ReportDue,))
    assert [s["report"] for s in sent] == ["daily_sales"]
    assert len(sent[0]["users"]) == 3  # boss, b, peer
    # other tests' enterprises may be reminded too: theirs have other users
    mine = set(org.people.ids.values())
    assert [(e.report, len(e.users)) for e in heard if set(e.users) <= mine] == [
        ("daily_sales", 3)]
    assert [s for s in remind(registry, local)
            if s["account"] == org.people.tenant.account] == []
    items = org.b.get("/notifications").json
    assert "每日销售报数" in str(items)
    assert "每日销售报数" not in str(org.a.get("/notifications").json)
