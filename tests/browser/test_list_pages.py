"""A record list in a real browser, on a phone and at desktop width: filter,
keyword search, load more, sort by keyboard, the summary chart."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from propolis.platform.tenancy.services import apply_metadata
from tests.browser.conftest import PHONE
from tests.browser.helpers import log_in

DEAL = {
    "kind": "object", "api_name": "deal", "label": {"zh": "商机", "en": "Deal"},
    "fields": [
        {"api_name": "name", "type": "text", "label": {"zh": "名称", "en": "Name"},
         "searchable": True},
        {"api_name": "amount", "type": "currency",
         "label": {"zh": "金额", "en": "Amount"}},
        {"api_name": "stage", "type": "select", "label": {"zh": "阶段", "en": "Stage"},
         "options": [{"value": "lead", "label": {"zh": "线索"}},
                     {"value": "won", "label": {"zh": "赢单"}}]},
        {"api_name": "note", "type": "text", "label": {"zh": "备注", "en": "Note"}},
    ],
    "list_views": [{"api_name": "all", "label": {"zh": "全部商机"},
                    "columns": ["name", "amount", "stage", "note", "owner"],
                    "sort": ["name"]}],
}


@pytest.fixture
def deals(live_enterprise, live_server, live_database):  # noqa: ANN001, ANN201
    """An enterprise with 55 deals (two pages of 50)."""
    from sqlalchemy.orm import Session

    from propolis.platform.permissions.actor import Actor
    from propolis.platform.records.services import RecordService
    from propolis.platform.tenancy.services import current_version, effective_for

    tenant = live_enterprise()
    apply_metadata(live_database, tenant.account, [DEAL])
    effective = effective_for(live_database, tenant.account,
                              current_version(live_database, tenant.account))
    engine = live_database.tenant_engine(tenant.account)
    with Session(bind=engine) as session, session.begin():
        records = RecordService(session, effective,
                                Actor(tenant.admin_id, None, frozenset({"admin"})))
        for i in range(55):
            records.create("deal", {"name": f"工地 {i:02d}", "amount": i * 10,
                                    "stage": "won" if i % 5 == 0 else "lead",
                                    "note": "上海" if i == 7 else "普通"})
    return tenant


@pytest.mark.parametrize("width", ["phone", "desktop"])
def test_filter_search_load_more_and_sort(page, deals, shot, width):  # noqa: ANN001
    if width == "phone":
        page.set_viewport_size(PHONE)
    log_in(page, deals)
    page.goto("/o/deal")
    rows = page.locator("tbody#rows tr:not(#more-row)")
    assert rows.count() == 50
    shot(page, "list")
    if width == "phone":
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        # a card: the name as its title, the minor columns left to the record page
        assert page.locator("td.minor").first.is_hidden()
    # load more appends the rest without leaving the page
    page.get_by_role("link", name="加载更多").click()
    expect(page.locator("tbody#rows tr:not(#more-row)")).to_have_count(55)
    assert page.locator("#count").inner_text() == "55"
    assert page.get_by_role("link", name="加载更多").count() == 0
    shot(page, "loaded more")
    # keyword search: only the rows swap, and the address follows
    page.get_by_label("关键词").fill("工地 07")
    page.get_by_role("button", name="搜索").click()
    page.wait_for_url("**/o/deal?**q=*")
    expect(page.locator("tbody#rows tr")).to_have_count(1)
    assert page.locator("td.title a").inner_text() == "工地 07"
    shot(page, "keyword")
    # a filter of the panel
    page.goto("/o/deal")
    page.locator("details.filters > summary").click()
    page.get_by_role("group", name="阶段").get_by_label("赢单").check()
    page.wait_for_url("**f.stage=won**")
    expect(page.locator("tbody#rows tr")).to_have_count(11)
    shot(page, "filtered")
    page.go_back()
    expect(page.locator("tbody#rows tr:not(#more-row)")).to_have_count(50)
    # sort by keyboard: focus the column header's link, press Enter
    page.goto("/o/deal?f.stage=won")
    header = page.locator("thead th").filter(has_text="金额")
    header.get_by_role("link").focus()
    page.keyboard.press("Enter")
    expect(page.locator("thead th[aria-sort]")).to_contain_text("金额")
    assert header.get_attribute("aria-sort") == "ascending"
    page.locator("thead th").filter(has_text="金额").get_by_role("link").focus()
    page.keyboard.press("Enter")
    expect(page.locator("thead th[aria-sort]")).to_have_attribute("aria-sort",
                                                                   "descending")
    assert page.locator("td.title a").first.inner_text() == "工地 50"
    assert "sort=-amount" in page.url
    shot(page, "sorted")
    # the summary chart, drawn by ECharts, with its numbers as a table
    page.locator("details.summary-panel > summary").click()
    page.get_by_role("button", name="显示").click()
    page.locator(".chart canvas").wait_for()
    assert page.locator(".chart-data tbody tr").count() == 1
    shot(page, "summary")
