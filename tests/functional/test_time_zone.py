"""The enterprise's time zone: a setting of the enterprise (Asia/Shanghai until its
admin picks another, in the console or through the API), which every time the
enterprise sees follows — ``today()`` and ``date()`` in formulas, the times the
API, the pages and exports show, the times a list filter takes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

import lxml.html
from webtest import TestApp

from tests.common.accounts import form_of, web_login, web_step_up
from tests.common.api import ApiClient, Tenant, error, login_admin
from tests.common.org import add_user, login_as

MEETING = {
    "kind": "object", "api_name": "meeting",
    "label": {"zh": "会议", "en": "Meeting"}, "name_field": "title",
    "fields": [
        {"api_name": "title", "type": "text", "label": {"zh": "主题", "en": "Title"}},
        {"api_name": "at", "type": "datetime", "label": {"zh": "时间", "en": "At"}},
        {"api_name": "day", "type": "formula", "returns": "date",
         "expression": "date(at)", "label": {"zh": "日期", "en": "Day"}},
        {"api_name": "made_on", "type": "formula", "returns": "date",
         "expression": "today()", "label": {"zh": "创建日", "en": "Made on"}},
    ],
}
# 20:00 UTC on 1 March 2026: 21:00 the same day in Berlin, 04:00 the next day in
# Shanghai
AT = "2026-03-01T20:00:00+00:00"


def meeting_in(app: TestApp, tenant: Tenant, zone: str | None
               ) -> tuple[ApiClient, dict[str, Any], tuple[dt.date, dt.date]]:
    """The admin's client, a meeting at ``AT`` made in ``tenant`` once its zone is
    ``zone`` (None: left at the default), and the days ``today()`` could have
    been there while it was made."""
    admin = login_admin(app, tenant)
    if zone is not None:
        admin.put("/enterprise/settings", {"time_zone": zone}, status=200)
    admin.define("meeting", MEETING)
    here = ZoneInfo(zone or "Asia/Shanghai")
    before = dt.datetime.now(here).date()
    made = admin.create("meeting", {"title": "周会", "at": AT})
    return admin, made, (before, dt.datetime.now(here).date())


def test_an_enterprise_in_berlin_sees_its_own_days_and_times(
        app: TestApp, enterprise: Callable[..., Tenant]) -> None:
    admin, made, today = meeting_in(app, enterprise(), "Europe/Berlin")
    assert made["at"] == "2026-03-01T21:00:00+01:00"
    assert made["day"] == "2026-03-01"
    assert dt.date.fromisoformat(made["made_on"]) in today
    assert made["created_at"].endswith(("+01:00", "+02:00"))
    found = admin.query("meeting", filters=[
        {"field": "at", "op": "eq", "value": "2026-03-01T21:00:00+01:00"}])
    assert [r["id"] for r in found["records"]] == [made["id"]]


def test_the_default_is_china_time(app: TestApp,
                                   enterprise: Callable[..., Tenant]) -> None:
    admin, made, today = meeting_in(app, enterprise(), None)
    assert admin.get("/enterprise/settings").json["time_zone"] == "Asia/Shanghai"
    assert made["at"] == "2026-03-02T04:00:00+08:00"
    assert made["day"] == "2026-03-02"
    assert dt.date.fromisoformat(made["made_on"]) in today


def test_pages_and_exports_show_the_enterprise_time(
        app: TestApp, enterprise: Callable[..., Tenant]) -> None:
    tenant = enterprise()
    admin, made, _today = meeting_in(app, tenant, "Europe/Berlin")
    browser = TestApp(app.app)
    web_login(browser, tenant)
    page = browser.get(f"/o/meeting/r/{made['id']}")
    assert "2026-03-01 21:00" in page.text
    listed = browser.get("/o/meeting?col=title&col=at")
    assert "2026-03-01 21:00" in listed.text
    # the list's filter takes Berlin's wall clock
    filtered = browser.get("/o/meeting?min.at=2026-03-01T20:30&max.at=2026-03-01T21:30")
    assert made["title"] in filtered.text
    exported = admin.post("/objects/meeting/export", {"format": "csv"}).text
    assert "2026-03-01T21:00:00+01:00" in exported


def test_the_admin_sets_the_zone_in_the_console(
        app: TestApp, enterprise: Callable[..., Tenant]) -> None:
    tenant = enterprise()
    browser = TestApp(app.app)
    web_login(browser, tenant)
    web_step_up(browser, tenant.password)
    page = browser.get("/admin/settings")
    selected = lxml.html.fromstring(page.text).xpath(
        "//select[@name='time_zone']/option[@selected]/@value")
    assert selected == ["Asia/Shanghai"]
    form = form_of(page, "/admin/settings")
    form["time_zone"] = "Europe/Berlin"
    assert form.submit(status=303).location.endswith("/admin/settings")
    assert "设置已保存" in browser.get("/admin/settings").text
    admin = login_admin(app, tenant)
    assert admin.get("/enterprise/settings").json == {
        "account": tenant.account, "name": "测试企业", "time_zone": "Europe/Berlin"}
    audit = browser.get("/admin/audit").text
    assert "enterprise.settings" in audit


def test_only_a_time_zone_and_only_by_an_admin(
        app: TestApp, enterprise: Callable[..., Tenant]) -> None:
    tenant = enterprise()
    admin = login_admin(app, tenant)
    bad = error(admin.put("/enterprise/settings", {"time_zone": "Mars/Olympus"},
                          status=400))
    assert list(bad["fields"]) == ["time_zone"]
    assert "Asia/Shanghai" in bad["fields"]["time_zone"][0]
    unknown = error(admin.put("/enterprise/settings", {"name": "x"}, status=400))
    assert list(unknown["fields"]) == ["name"]
    add_user(admin, "小王", "13900000007")
    clerk = login_as(app, tenant.account, "13900000007")
    assert error(clerk.put("/enterprise/settings", {"time_zone": "UTC"},
                           status=403))["code"] == "admin_only"
    assert admin.get("/enterprise/settings").json["time_zone"] == "Asia/Shanghai"
