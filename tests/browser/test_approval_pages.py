"""The approval pages on a phone (issue 5): an employee submits an expense claim
with a line item, their superior approves it from 待我审批, and the employee sees
it approved in 我发起的."""

from __future__ import annotations

from webtest import TestApp

from propolis.platform.tenancy.services import create_enterprise
from tests.browser.conftest import PHONE
from tests.browser.helpers import log_in
from tests.common.api import PASSWORD, Tenant, login_admin
from tests.conftest import unique_account

EMPLOYEE, SUPERIOR = "13900000001", "13900000002"


def school(live_app, live_database) -> Tenant:  # noqa: ANN001
    """An enterprise with the oa forms, a superior and their employee; its expense
    claims go to the submitter's direct superior only (the enterprise's own
    definition replaces the extension's chain)."""
    created = create_enterprise(live_database, account=unique_account("b"),
                                name="育才学校", admin_phone="13800000000",
                                admin_password=PASSWORD, extensions=["oa"])
    tenant = Tenant(created.account, created.enterprise_id, created.admin_id,
                    created.department_id)
    admin = login_admin(TestApp(live_app), tenant)
    boss = admin.create("user", {"name": "王主任", "phone": SUPERIOR,
                                 "password": PASSWORD, "status": "active",
                                 "main_department": tenant.department_id})["id"]
    admin.create("user", {"name": "李老师", "phone": EMPLOYEE, "password": PASSWORD,
                          "status": "active", "superior": boss,
                          "main_department": tenant.department_id})
    admin.put("/metadata/approvals/expense", {
        "label": {"zh": "报销", "en": "Expense claim"}, "form": "expense",
        "steps": [{"label": {"zh": "直属上级", "en": "Direct superior"},
                   "approver": {"relation": "direct_superior"}}]}, status=200)
    return tenant


def fits(page) -> bool:  # noqa: ANN001
    return page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_an_expense_claim_submitted_and_approved_on_a_phone(
        page, browser, live_server, live_app, live_database, shot):  # noqa: ANN001
    tenant = school(live_app, live_database)
    page.set_viewport_size(PHONE)
    log_in(page, tenant, login=EMPLOYEE)

    # the work section leads to the approvals, and on to the expense claim
    page.goto("/app/work")
    page.get_by_role("main").get_by_role("link", name="待我审批").click()
    page.get_by_role("link", name="发起审批").click()
    shot(page, "approval types")
    page.get_by_role("link", name="报销", exact=True).click()
    page.get_by_label("报销事由").fill("教研活动报销")
    page.get_by_role("button", name="添加一行").click()
    page.locator('select[name="items-0-category"]').select_option("office")
    page.locator('input[name="items-0-amount"]').fill("268.50")
    page.get_by_label("给审批人的附言").fill("请王主任审批")
    assert fits(page)
    shot(page, "expense claim filled")
    page.get_by_role("button", name="提交审批").click()
    page.get_by_text("已提交审批。").wait_for()
    assert page.get_by_text("268.5").first.is_visible()
    assert fits(page)
    shot(page, "submitted")

    # the superior, in a browser of their own
    context = browser.new_context(base_url=live_server, locale="zh-CN",
                                  viewport=PHONE)
    boss = context.new_page()
    try:
        log_in(boss, tenant, login=SUPERIOR)
        boss.goto("/approvals")
        assert boss.get_by_role("link", name="待我审批 1", exact=True).is_visible()
        shot(boss, "superior todo box")
        boss.get_by_role("link", name="报销 · 教研活动报销").click()
        decide = boss.get_by_role("region", name="你的审批")
        decide.get_by_label("审批意见").fill("同意")
        assert fits(boss)
        shot(boss, "superior reviews")
        decide.get_by_role("button", name="通过").click()
        boss.get_by_text("已通过。").wait_for()
        shot(boss, "superior approved")
    finally:
        context.close()

    # the employee sees it approved in 我发起的
    page.goto("/approvals")
    page.get_by_role("link", name="我发起的").click()
    item = page.locator("li.approval-item", has_text="教研活动报销")
    item.get_by_text("已通过").wait_for()
    assert fits(page)
    shot(page, "approved in my box")
    item.get_by_role("link").click()
    page.get_by_text("审批通过").wait_for()
    shot(page, "approved approval")
