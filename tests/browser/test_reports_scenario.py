"""Dashboards and 报数 on a phone (issue 12): a rep fills today's 报数 from the
home page; their manager opens the 报数 summary and a dashboard, and drills from
a funnel stage into its records."""

from __future__ import annotations

from webtest import TestApp

from tests.browser.conftest import PHONE
from tests.browser.helpers import log_in
from tests.common.api import PASSWORD, Tenant, login, login_admin
from tests.functional.test_charts import BY_STAGE, DEAL

REP, MANAGER = "13900000011", "13900000012"


def sales_office(live_app, live_enterprise) -> Tenant:  # noqa: ANN001
    """A manager and their rep, deals of the rep's, a funnel dashboard and a daily
    report everyone fills."""
    tenant = live_enterprise("报数公司")
    app = TestApp(live_app)
    admin = login_admin(app, tenant)
    admin.define("deal", {**DEAL, "label": {"zh": "交易", "en": "Deals"}})
    boss = admin.create("user", {"name": "周经理", "phone": MANAGER,
                                 "password": PASSWORD, "status": "active",
                                 "main_department": tenant.department_id})["id"]
    admin.create("user", {"name": "吴销售", "phone": REP, "password": PASSWORD,
                          "status": "active", "superior": boss,
                          "main_department": tenant.department_id})
    rep = login(app, tenant.account, REP, PASSWORD)
    for name, amount, stage in (("甲", 800, "open"), ("乙", 1200, "won"),
                                ("丙", 300, "open")):
        rep.create("deal", {"name": name, "amount": amount, "stage": stage,
                            "close_date": "2026-03-10"})
    admin.put("/metadata/charts/funnel", {
        "object": "deal", "type": "funnel", "date_field": "close_date",
        "label": {"zh": "交易漏斗", "en": "Funnel"}, **BY_STAGE}, status=200)
    admin.put("/metadata/charts/won", {
        "object": "deal", "date_field": "close_date",
        "measures": [{"api_name": "amount", "function": "sum", "field": "amount"}],
        "filters": [{"field": "stage", "op": "eq", "value": "won"}],
        "label": {"zh": "赢单金额", "en": "Won"}}, status=200)
    admin.put("/metadata/dashboards/sales", {
        "label": {"zh": "销售仪表盘", "en": "Sales"},
        "widgets": [{"kpi": "won"}, {"chart": "funnel"}]}, status=200)
    admin.put("/metadata/reports/daily", {
        "label": {"zh": "每日报数", "en": "Daily"}, "period": "daily",
        "fields": [{"api_name": "calls", "type": "number",
                    "label": {"zh": "拜访数", "en": "Calls"}}],
        "assignees": {"all": True}}, status=200)
    return tenant


def fits(page) -> bool:  # noqa: ANN001
    return page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_a_rep_reports_and_the_manager_drills_on_a_phone(
        page, browser, live_app, live_enterprise, shot):  # noqa: ANN001
    tenant = sales_office(live_app, live_enterprise)
    page.set_viewport_size(PHONE)
    log_in(page, tenant, login=REP)

    page.goto("/app")
    shot(page, "home")
    page.locator(".home-cards").get_by_role("link", name="今日待报").click()
    page.locator(".report-todo a").first.click()
    page.get_by_label("拜访数").fill("7")
    shot(page, "entry form")
    page.get_by_role("button", name="提交").click()
    page.get_by_role("status").wait_for()
    assert page.get_by_label("拜访数").input_value() == "7"
    assert fits(page)
    shot(page, "entry saved")

    page.context.clear_cookies()
    log_in(page, tenant, login=MANAGER)
    page.goto("/dashboards")
    page.get_by_role("link", name="每日报数").click()
    page.get_by_label("汇总方式").select_option("user")
    page.get_by_role("button", name="查看").click()
    summary = page.locator(".report-summary")
    assert "吴销售" in summary.inner_text() and "7" in summary.inner_text()
    assert fits(page)
    shot(page, "summary")

    page.goto("/dashboards")
    page.get_by_role("link", name="销售仪表盘").click()
    page.get_by_label("期间").fill("2026-03")
    page.get_by_role("button", name="查看").click()
    assert page.locator(".dashboard-number").first.inner_text() == "¥1,200.00"
    page.locator(".dashboard-funnel canvas").wait_for()
    assert fits(page)
    shot(page, "dashboard")
    page.locator(".dashboard-funnel .dashboard-drill a").first.click()
    page.wait_for_url(lambda url: "/o/deal" in url and "f.stage=" in url)
    shot(page, "drilled list")
