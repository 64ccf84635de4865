"""Record list pages: columns, filters in the query string, sort, keyword, load
more, saved views, bulk transfer and the summary chart, as a browser without
JavaScript (and htmx's requests) sees them."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

import pytest
from webtest import TestApp, TestResponse

from propolis.platform.db import Database
from propolis.platform.tenancy.services import create_enterprise
from tests.common.accounts import browser, web_login
from tests.common.api import PASSWORD as API_PASSWORD
from tests.common.api import ApiClient, Tenant, login, login_admin
from tests.conftest import unique_account

PASSWORD = "list-pages-1"
DEAL = {
    "kind": "object", "api_name": "deal", "label": {"zh": "商机", "en": "Deal"},
    "sharing": "hierarchy",
    "fields": [
        {"api_name": "name", "type": "text", "label": {"zh": "名称", "en": "Name"},
         "searchable": True},
        {"api_name": "amount", "type": "currency", "label": {"zh": "金额",
                                                             "en": "Amount"}},
        {"api_name": "stage", "type": "select", "label": {"zh": "阶段", "en": "Stage"},
         "options": [{"value": "lead", "label": {"zh": "线索", "en": "Lead"}},
                     {"value": "won", "label": {"zh": "赢单", "en": "Won"}},
                     {"value": "lost", "label": {"zh": "输单", "en": "Lost"}}]},
        {"api_name": "tags", "type": "multiselect",
         "label": {"zh": "标签", "en": "Tags"}, "options": ["hot", "vip"]},
        {"api_name": "close_date", "type": "date",
         "label": {"zh": "成交日期", "en": "Close date"}},
        {"api_name": "signed", "type": "boolean", "label": {"zh": "已签约",
                                                            "en": "Signed"}},
        {"api_name": "customer", "type": "lookup", "to": "account",
         "label": {"zh": "客户", "en": "Customer"}},
        {"api_name": "secret", "type": "select",
         "label": {"zh": "机密", "en": "Secret"}, "options": ["x", "y"]},
    ],
    "list_views": [
        {"api_name": "all", "label": {"zh": "全部商机", "en": "All deals"},
         "columns": ["name", "amount", "stage", "customer", "secret", "owner"],
         "sort": ["name"]},
        {"api_name": "won", "label": {"zh": "赢单", "en": "Won deals"},
         "columns": ["name", "amount"], "sort": ["-amount"],
         "filters": [{"field": "stage", "op": "eq", "value": "won"}]},
    ],
    "permissions": {
        "employee": {"verbs": ["create", "read", "edit", "transfer"], "scope": "own",
                     "fields": {"secret": "hidden"}},
    },
}
ACCOUNT = {"kind": "object", "api_name": "account",
           "label": {"zh": "客户", "en": "Account"},
           "sharing": "public_read",
           "fields": [{"api_name": "name", "type": "text"}]}


@dataclass
class Setup:
    tenant: Tenant
    admin: ApiClient
    users: dict[str, str]  # key -> user id
    apis: dict[str, ApiClient]
    deals: dict[str, dict[str, Any]]  # name -> record
    accounts: dict[str, str]  # name -> id


def make_setup(app: TestApp, enterprise: Callable[..., Tenant]) -> Setup:
    """A manager with a rep below them and a peer of the rep; deals owned by each."""
    tenant = enterprise()
    admin = login_admin(app, tenant)
    admin.define("account", ACCOUNT)
    admin.define("deal", DEAL)
    users: dict[str, str] = {}
    apis: dict[str, ApiClient] = {}
    for i, (key, name, superior) in enumerate((("manager", "王经理", None),
                                               ("rep", "李销售", "manager"),
                                               ("peer", "赵销售", None))):
        users[key] = admin.create("user", {
            "name": name, "phone": f"1370000{i:04d}", "password": PASSWORD,
            "main_department": tenant.department_id,
            "superior": users[superior] if superior else None})["id"]
        apis[key] = login(app, tenant.account, f"1370000{i:04d}", PASSWORD)
    accounts = {n: admin.create("account", {"name": n})["id"]
                for n in ("上海建工", "北京城建")}
    deals = {}
    rows = [("上海地铁", 100, "won", ["hot"], "2026-01-05", True, "上海建工", "rep",
             "x"),
            ("北京大兴", 2500.5, "lead", ["vip"], "2026-03-01", False, "北京城建",
             "rep", "y"),
            ("广州塔", None, "lost", [], None, None, None, "peer", None),
            ("深圳湾", 900, "won", ["hot", "vip"], "2026-02-10", True, "上海建工",
             "manager", None)]
    for name, amount, stage, tags, close, signed, customer, owner, secret in rows:
        record = apis[owner].create("deal", {
            "name": name, "amount": amount, "stage": stage, "tags": tags,
            "close_date": close, "signed": signed,
            "customer": accounts[customer] if customer else None})
        if secret:
            record = admin.patch(f"/objects/deal/records/{record['id']}",
                                 {"secret": secret}, status=200).json
        deals[name] = record
    return Setup(tenant, admin, users, apis, deals, accounts)


@pytest.fixture(scope="module")
def shared(app: TestApp, database: Database) -> Setup:
    """One enterprise for the tests that only read (made once per database)."""
    def make(name: str = "列表测试", phone: str = "13800000000") -> Tenant:
        created = create_enterprise(database, account=unique_account("lst"),
                                    name=name, admin_phone=phone,
                                    admin_password=API_PASSWORD)
        return Tenant(created.account, created.enterprise_id, created.admin_id,
                      created.department_id, phone, API_PASSWORD)
    return make_setup(app, make)


@pytest.fixture
def setup(app: TestApp, enterprise: Callable[..., Tenant]) -> Setup:
    """A fresh enterprise, for tests that change records."""
    return make_setup(app, enterprise)


def page_as(app: TestApp, setup: Setup, key: str | None = None) -> TestApp:
    """A browser logged in as ``key`` (None: the admin)."""
    client = browser(app)
    tenant = setup.tenant
    if key is not None:
        index = list(setup.users).index(key)
        tenant = Tenant(tenant.account, tenant.enterprise_id, tenant.admin_id,
                        tenant.department_id, f"1370000{index:04d}", PASSWORD)
    assert web_login(client, tenant).status_int == 303
    return client


def names(response: TestResponse) -> list[str]:
    """The record names of a list, in order (the links to their pages)."""
    return [a.text for a in response.html.select("td.title a")]


def test_list_shows_the_view_s_columns_in_both_languages(app: TestApp,
                                                         shared: Setup) -> None:
    setup = shared
    client = page_as(app, setup)
    page = client.get("/o/deal", status=200)
    heads = [th.get_text(" ", strip=True).rstrip("▲▼ ")
             for th in page.html.select("thead th")]
    assert heads[1:] == ["名称", "金额", "阶段", "客户", "机密", "负责人"]
    assert names(page) == ["上海地铁", "北京大兴", "广州塔", "深圳湾"]
    first = page.html.select("tbody tr")[0]
    cells = [td.get_text(strip=True) for td in first.select("td")[1:]]
    assert cells[:5] == ["上海地铁", "¥100.00", "赢单", "上海建工", "x"]
    assert cells[5] == "李销售"
    link = first.select_one("td.title a")["href"]
    assert link == f"/o/deal/r/{setup.deals['上海地铁']['id']}"
    assert page.html.select_one('a[href="/o/deal/new"]') is not None
    assert "全部商机" in page.text and "赢单" in page.text
    client.set_cookie("propolis_lang", "en")
    english = client.get("/o/deal", status=200)
    heads = [th.get_text(" ", strip=True).rstrip("▲▼ ")
             for th in english.html.select("thead th")]
    assert heads[1:] == ["Name", "Amount", "Stage", "Customer", "Secret", "Owner"]
    assert "Won" in english.text and "All deals" in english.text


@pytest.mark.parametrize("query, expected", [
    ("f.name=地铁", ["上海地铁"]),
    ("f.name=上海地铁&op.name=eq", ["上海地铁"]),
    ("f.name=上海&op.name=eq", []),
    ("f.name=北京&op.name=startswith", ["北京大兴"]),
    ("min.amount=500", ["北京大兴", "深圳湾"]),
    ("max.amount=900", ["上海地铁", "深圳湾"]),
    ("min.amount=100&max.amount=900", ["上海地铁", "深圳湾"]),
    ("empty.amount=1", ["广州塔"]),
    ("min.close_date=2026-02-01&max.close_date=2026-12-31", ["北京大兴", "深圳湾"]),
    ("f.stage=won&f.stage=lost", ["上海地铁", "广州塔", "深圳湾"]),
    ("f.tags=hot&f.tags=vip", ["深圳湾"]),
    ("f.tags=vip", ["北京大兴", "深圳湾"]),
    ("f.signed=true", ["上海地铁", "深圳湾"]),
    ("f.signed=false", ["北京大兴"]),
    ("empty.signed=1", ["广州塔"]),
    ("view=won", ["深圳湾", "上海地铁"]),
    ("q=北京", ["北京大兴"]),
    ("q=上海&f.stage=won", ["上海地铁"]),
    ("sort=-amount", ["广州塔", "北京大兴", "深圳湾", "上海地铁"]),
    ("sort=amount", ["上海地铁", "深圳湾", "北京大兴", "广州塔"]),
    ("view=won&sort=name", ["上海地铁", "深圳湾"]),
])
def test_filters_sort_and_keyword_in_the_query_string(
        app: TestApp, shared: Setup, query: str, expected: list[str]) -> None:
    client = page_as(app, shared)
    assert names(client.get(f"/o/deal?{quote(query, safe='=&')}",
                            status=200)) == expected


def test_reference_filters_pick_by_name(app: TestApp, shared: Setup) -> None:
    client = page_as(app, shared)
    page = client.get("/o/deal", status=200)
    customer = page.html.select_one('select[name="f.customer"]')
    options = {o.text: o["value"] for o in customer.select("option") if o["value"]}
    assert options == shared.accounts
    owner = page.html.select_one('select[name="f.owner"]')
    assert "李销售" in [o.text for o in owner.select("option")]
    found = client.get(f"/o/deal?f.customer={shared.accounts['上海建工']}")
    assert names(found) == ["上海地铁", "深圳湾"]
    found = client.get(f"/o/deal?f.owner={shared.users['rep']}")
    assert names(found) == ["上海地铁", "北京大兴"]
    assert names(client.get("/o/deal?empty.customer=1")) == ["广州塔"]


def test_sort_headers_say_the_order_and_link_the_next_one(app: TestApp,
                                                          shared: Setup) -> None:
    client = page_as(app, shared)
    page = client.get("/o/deal?sort=-amount&f.stage=won")
    header = page.html.select_one('th[aria-sort="descending"]')
    assert header.get_text(strip=True).startswith("金额")
    link = header.select_one("a")
    assert dict(parse_qsl(urlsplit(link["href"]).query)) == {
        "sort": "amount", "f.stage": "won"}
    assert link["hx-get"].startswith("/o/deal/rows?")
    name = page.html.select("thead th a")[0]
    assert dict(parse_qsl(urlsplit(name["href"]).query))["sort"] == "name"


def test_rows_fragment_for_htmx_pushes_the_list_url(app: TestApp,
                                                    shared: Setup) -> None:
    client = page_as(app, shared)
    rows = client.get("/o/deal/rows?f.stage=won&q=", headers={"HX-Request": "true"},
                      status=200)
    assert rows.headers["HX-Push-Url"] == "/o/deal?f.stage=won"
    assert "<html" not in rows.text and 'id="results"' in rows.text
    assert names(rows) == ["上海地铁", "深圳湾"]


def test_load_more_follows_the_cursor(app: TestApp, setup: Setup) -> None:
    for i in range(60):
        setup.admin.create("deal", {"name": f"批量 {i:03d}", "stage": "lead"})
    client = page_as(app, setup)
    first = client.get("/o/deal?f.stage=lead", status=200)
    assert len(names(first)) == 50
    assert first.html.select_one("#count").text == "50+"
    more = first.html.select_one("#more-row a")
    assert more.text == "加载更多"
    plain = client.get(more["href"], status=200)  # without JavaScript: a link
    rest = client.get(more["hx-get"], headers={"HX-Request": "true"}, status=200)
    assert names(plain) == names(rest)
    assert len(names(rest)) == 11  # 60 + 北京大兴
    assert set(names(first)).isdisjoint(names(rest))
    assert rest.html.select_one("#more-row") is None
    assert '<span id="count" hx-swap-oob="true">61</span>' in rest.text
    assert "<html" not in rest.text


def test_count_is_exact_when_everything_is_on_the_page(app: TestApp,
                                                       shared: Setup) -> None:
    client = page_as(app, shared)
    assert client.get("/o/deal").html.select_one("#count").text == "4"


@pytest.mark.parametrize("query, field, label", [
    ("min.amount=lots", "amount", "金额"),
    ("min.close_date=2026-13-45", "close_date", "成交日期"),
    ("f.stage=nope", "stage", "阶段"),
    ("sort=tags", "tags", "标签"),
    ("cursor=garbage", "cursor", "cursor"),
])
def test_bad_filter_values_are_named_inline(app: TestApp, shared: Setup,
                                            query: str, field: str,
                                            label: str) -> None:
    client = page_as(app, shared)
    page = client.get(f"/o/deal?{quote(query, safe='=&')}", status=400)
    alert = page.html.select_one('[role="alert"]')
    assert alert is not None and label in alert.text
    if field not in ("cursor", "tags"):
        assert page.html.select_one(f"#filter-{field}-error") is not None
        assert page.html.select_one("details.filters").has_attr("open")


def test_hidden_field_absent_from_columns_filters_and_chart(app: TestApp,
                                                            shared: Setup) -> None:
    client = page_as(app, shared, "rep")
    page = client.get("/o/deal", status=200)
    heads = [th.get_text(strip=True) for th in page.html.select("thead th")]
    assert not any("机密" in h for h in heads)
    assert "机密" not in page.text and 'name="f.secret"' not in page.text
    assert 'value="secret"' not in page.text
    # asking for it anyway changes nothing
    assert names(client.get("/o/deal?f.secret=x&col=secret&sort=secret")) == names(
        page)
    assert "机密" not in client.get("/o/deal?col=secret&col=name").text
    chart = client.get("/o/deal/summary?by=secret", status=400)
    assert "机密" not in chart.text


@pytest.mark.parametrize("key, expected", [
    ("manager", ["上海地铁", "北京大兴", "深圳湾"]),
    ("rep", ["上海地铁", "北京大兴"]),
    ("peer", ["广州塔"]),
])
def test_each_user_sees_their_own_and_their_subordinates(
        app: TestApp, shared: Setup, key: str, expected: list[str]) -> None:
    client = page_as(app, shared, key)
    assert names(client.get("/o/deal", status=200)) == expected


def test_summary_counts_per_value_with_filters_and_scope(app: TestApp,
                                                         shared: Setup) -> None:
    client = page_as(app, shared)
    page = client.get("/o/deal/summary?by=stage", status=200)
    table = {tr.th.text: tr.td.text for tr in page.html.select(".chart-data tbody tr")}
    assert table == {"赢单": "2", "线索": "1", "输单": "1"}
    chart = page.html.select_one("[data-chart]")
    option = json.loads(chart["data-chart"])
    assert option["series"][0]["data"] == [2, 1, 1]
    assert option["xAxis"]["data"] == ["赢单", "线索", "输单"]
    fragment = client.get(quote("/o/deal/summary?by=stage&q=上海", safe="/?=&"),
                          headers={"HX-Request": "true"}, status=200)
    assert "<html" not in fragment.text
    assert {tr.th.text: tr.td.text for tr in fragment.html.select(
        ".chart-data tbody tr")} == {"赢单": "1"}
    mine = page_as(app, shared, "rep").get("/o/deal/summary?by=signed")
    assert {tr.th.text: tr.td.text for tr in mine.html.select(
        ".chart-data tbody tr")} == {"是": "1", "否": "1"}
    assert "阶段" in client.get("/o/deal").html.select_one("#summary-by").text
    bad = client.get("/o/deal/summary?by=name", status=400)
    assert bad.html.select_one('[role="alert"]') is not None


def test_export_links_keep_the_filters_and_need_the_verb(app: TestApp,
                                                         shared: Setup) -> None:
    client = page_as(app, shared)
    admin = client.get(quote("/o/deal?f.stage=won&q=上海", safe="/?=&"))
    link = admin.html.find("a", string="导出 CSV")
    assert link is not None
    assert dict(parse_qsl(urlsplit(link["href"]).query)) == {
        "format": "csv", "f.stage": "won", "q": "上海"}
    assert urlsplit(link["href"]).path == "/o/deal/export"
    # the file holds what the list shows: the won deals matching 上海
    done = client.get(link["href"], status=200)
    assert done.content_type == "text/csv"
    assert "attachment" in done.headers["Content-Disposition"]
    text = done.body.decode("utf-8-sig")
    assert "上海地铁" in text and "深圳湾" not in text and "北京大兴" not in text
    excel = admin.html.find("a", string="导出 Excel")
    assert client.get(excel["href"], status=200).body[:2] == b"PK"
    # a bad filter is named on the list, not a broken file
    bad = client.get("/o/deal/export?format=csv&min.amount=lots", status=400)
    assert "金额" in bad.html.select_one('[role="alert"]').text
    rep = page_as(app, shared, "rep")
    assert rep.get("/o/deal").html.find("a", string="导出 CSV") is None
    rep.get("/o/deal/export?format=csv", status=403)


def test_saved_views_belong_to_their_user(app: TestApp, shared: Setup) -> None:
    rep = page_as(app, shared, "rep")
    page = rep.get("/o/deal?f.stage=won&sort=-amount")
    form = next(f for f in page.forms.values() if f.action == "/o/deal/views")
    form["name"] = "我的赢单"
    saved = form.submit(status=303)
    target = saved.location
    assert "saved=" in target
    listed = rep.get(target, status=200)
    assert names(listed) == ["上海地铁"]
    current = listed.html.select_one('.list-views a[aria-current="page"]')
    assert current.text == "我的赢单"
    view_id = dict(parse_qsl(urlsplit(target).query))["saved"]
    # the same name again is refused, named
    again = rep.post("/o/deal/views", {"csrf_token": csrf(page), "name": "我的赢单",
                                       "state": "f.stage=won"}, status=400)
    assert "已有同名视图" in again.text
    # another user neither sees nor reaches it
    peer = page_as(app, shared, "peer")
    assert "我的赢单" not in peer.get("/o/deal").text
    assert "我的赢单" not in peer.get("/o/deal/views").text
    peer.get(f"/o/deal/views/{view_id}", status=404)
    peer_page = peer.get("/o/deal")
    peer.post(f"/o/deal/views/{view_id}", {"csrf_token": csrf(peer_page),
                                           "action": "delete"}, status=404)
    # rename, then delete
    manage = rep.get("/o/deal/views", status=200)
    rename = next(f for f in manage.forms.values()
                  if f.action.endswith(view_id) and "name" in f.fields)
    rename["name"] = "赢单（改名）"
    rename.submit(status=303)
    assert "赢单（改名）" in rep.get("/o/deal").text
    assert rep.get(f"/o/deal/views/{view_id}", status=303).location.endswith(
        f"saved={view_id}")
    manage = rep.get("/o/deal/views")
    delete = next(f for f in manage.forms.values()
                  if f.action.endswith(view_id) and f["action"].value == "delete")
    delete.submit(status=303)
    assert "赢单（改名）" not in rep.get("/o/deal").text
    # without the CSRF token nothing is saved
    rep.post("/o/deal/views", {"name": "x", "state": ""}, status=400)
    assert "x</a>" not in rep.get("/o/deal/views").text


def csrf(page: TestResponse) -> str:
    return page.html.select_one('input[name="csrf_token"]')["value"]


def test_bulk_transfer_reports_what_was_refused(app: TestApp, setup: Setup) -> None:
    rep = page_as(app, setup, "rep")
    # the manager's deal is visible to nobody below; make one the rep can see but
    # not transfer: the peer's record with the rep as a read-only joint follower
    peer_deal = setup.deals["广州塔"]["id"]
    setup.admin.post(f"/objects/deal/records/{peer_deal}/team",
                     {"user": setup.users["rep"], "access": "read"}, status=201)
    page = rep.get("/o/deal", status=200)
    assert sorted(names(page)) == sorted(["上海地铁", "北京大兴", "广州塔"])
    form = page.forms["bulk"]
    ids = [setup.deals["上海地铁"]["id"], setup.deals["北京大兴"]["id"], peer_deal]
    body = [("csrf_token", csrf(page)), ("owner", setup.users["peer"]),
            ("back", "/o/deal?f.stage=won"),
            *[("ids", i) for i in ids], ("ids", "NOSUCHRECORD")]
    assert form.action == "/o/deal/transfer"
    report = rep.post("/o/deal/transfer", body, status=200)
    assert "2 条记录已转移给 赵销售" in report.text
    refused = [li.get_text(" ", strip=True) for li in report.html.select(".refused li")]
    assert refused[0].startswith("广州塔") and "没有转移这条记录的权限" in refused[0]
    assert "NOSUCHRECORD" in refused[1] and "不存在" in refused[1]
    assert report.html.find("a", string="返回列表")["href"] == "/o/deal?f.stage=won"
    assert setup.admin.read("deal", ids[0])["owner"] == setup.users["peer"]
    assert setup.admin.read("deal", ids[1])["owner"] == setup.users["peer"]
    history = setup.admin.get(f"/objects/deal/records/{ids[0]}/history").json
    assert history["history"][-1]["action"] == "transfer"
    # no owner, no records, no CSRF token: refused whole, nothing changes
    assert rep.post("/o/deal/transfer", [("csrf_token", csrf(page)),
                                         ("ids", ids[0])], status=400)
    assert rep.post("/o/deal/transfer", [("csrf_token", csrf(page)),
                                         ("owner", setup.users["rep"])], status=400)
    rep.post("/o/deal/transfer", [("owner", setup.users["rep"]), ("ids", ids[0])],
             status=400)
    assert setup.admin.read("deal", ids[0])["owner"] == setup.users["peer"]


def test_bulk_transfer_needs_the_verb_to_show(app: TestApp, shared: Setup) -> None:
    shared.admin.define("memo", {"kind": "object", "api_name": "memo",
                                 "fields": [{"api_name": "name", "type": "text"}],
                                 "permissions": {"employee": {
                                     "verbs": ["read", "create"]}}})
    rep = page_as(app, shared, "rep").get("/o/memo", status=200)
    assert "bulk" not in rep.forms and 'name="ids"' not in rep.text


def test_logged_out_goes_to_the_login_page(app: TestApp, shared: Setup) -> None:
    client = browser(app)
    for path in ("/o/deal", "/o/deal/rows", "/o/deal/summary", "/o/deal/views"):
        response = client.get(path + "?f.stage=won", status=303)
        assert "/login?next=" in response.location


def test_another_enterprise_s_objects_and_views_are_not_found(
        app: TestApp, shared: Setup, enterprise: Callable[..., Tenant]) -> None:
    other = enterprise()
    client = browser(app)
    web_login(client, other)
    for path in ("/o/deal", "/o/deal/rows", "/o/deal/summary?by=stage",
                 "/o/deal/views", "/o/nosuchobject"):
        page = client.get(path, status=404)
        assert "上海地铁" not in page.text
    rep = page_as(app, shared, "rep")
    saved = rep.post("/o/deal/views", {"csrf_token": csrf(rep.get("/o/deal")),
                                       "name": "跨企业", "state": "q=上海"},
                     status=303)
    view_id = dict(parse_qsl(urlsplit(saved.location).query))["saved"]
    other_admin = login_admin(app, other)
    other_admin.define("account", ACCOUNT)
    other_admin.define("deal", DEAL)
    client.get(f"/o/deal/views/{view_id}", status=404)
    assert "跨企业" not in client.get("/o/deal/views").text
    body = [("csrf_token", csrf(client.get("/o/deal"))),
            ("owner", other.admin_id), ("ids", shared.deals["上海地铁"]["id"])]
    report = client.post("/o/deal/transfer", body, status=200)
    assert "0 条记录已转移" in report.text
    assert shared.admin.read("deal", shared.deals["上海地铁"]["id"])["owner"] == \
        shared.users["rep"]
