"""The record pages through the real application, as a logged-in browser uses them:
new and edit forms for an object with a field of every type, inline errors from the
record service, version conflicts, the detail page with its related lists, history
and joint followers, the recycle bin, lookup search, and what no page may show."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import lxml.html
import pytest
from webob.multidict import MultiDict
from webtest import TestApp, TestResponse

from tests.common.accounts import browser, form_of, web_login
from tests.common.api import ApiClient, Tenant, login, login_admin
from tests.common.objects import PAYMENT, PRODUCT, order_doc

SUB_STAGE = {"api_name": "sub_stage", "type": "select", "depends_on": "stage",
             "label": {"zh": "细分阶段", "en": "Sub-stage"},
             "options": [
                 {"value": "signed", "label": {"zh": "已签约", "en": "Signed"},
                  "parent": "won"},
                 {"value": "paid", "label": {"zh": "已回款", "en": "Paid"},
                  "parent": "won"},
                 {"value": "lost_price", "label": {"zh": "价格原因", "en": "Price"},
                  "parent": "lost"}]}
SECRET = {"api_name": "secret", "type": "text", "label": {"zh": "底价", "en": "Floor"}}
CHECKED = {"api_name": "checked", "type": "text",
           "label": {"zh": "审核意见", "en": "Review"}}
RULE = {"rule": "qty == null || qty <= 1000",
        "message": {"zh": "数量不能超过 1000", "en": "At most 1000"}}
EMPLOYEE_PHONE, EMPLOYEE_PASSWORD = "13900000001", "clerk-pass-1"


def order_object() -> dict[str, Any]:
    doc = order_doc(SUB_STAGE, SECRET, CHECKED, without=("payment_count", "paid"))
    return {**doc, "validations": [RULE], "permissions": {
        "employee": {"verbs": ["create", "read", "edit", "delete", "transfer"],
                     "scope": "own",
                     "fields": {"secret": "hidden", "checked": "read"}}}}


@dataclass
class Shop:
    app: TestApp
    tenant: Tenant
    api: ApiClient
    admin: TestApp  # the admin's browser
    products: list[dict[str, Any]]

    def employee(self) -> tuple[TestApp, ApiClient, dict[str, Any]]:
        """A plain employee (own records; ``secret`` hidden, ``checked`` read-only),
        logged in to a browser and to the API."""
        user = self.api.create("user", {
            "name": "小王", "phone": EMPLOYEE_PHONE, "password": EMPLOYEE_PASSWORD,
            "main_department": self.tenant.department_id})
        client = browser(self.app, ip="203.0.113.8")
        web_login(client, dataclasses.replace(self.tenant, phone=EMPLOYEE_PHONE,
                                              password=EMPLOYEE_PASSWORD))
        api = login(self.app, self.tenant.account, EMPLOYEE_PHONE, EMPLOYEE_PASSWORD)
        return client, api, user


@pytest.fixture
def shop(app: TestApp, enterprise: Callable[..., Tenant]) -> Shop:
    tenant = enterprise()
    api = login_admin(app, tenant)
    api.define("product", {**PRODUCT, "fields": [
        *PRODUCT["fields"], {"api_name": "note", "type": "text", "searchable": True}]})
    api.define("sales_order", order_object())
    api.define("payment", PAYMENT)
    products = [api.create("product", {"name": name, "price": price, "note": note})
                for name, price, note in (("螺丝", 0.1, "五金"), ("螺母", 0.2, "五金"),
                                          ("扳手", 19.99, "工具"))]
    client = browser(app)
    web_login(client, tenant)
    return Shop(app, tenant, api, client, products)


def doc(response: TestResponse) -> Any:
    return lxml.html.fromstring(response.text)


def csrf(client: TestApp) -> str:
    """The session's CSRF token, as every page carries it (the logout form)."""
    page = client.get("/app", status=200)
    return str(doc(page).xpath('//input[@name="csrf_token"]/@value')[0])


def post(client: TestApp, path: str, fields: list[tuple[str, str]],
         status: Any = "*") -> TestResponse:
    """A form submission as the browser would send it (CSRF token included)."""
    data = MultiDict([("csrf_token", csrf(client)), *fields])
    return client.post(path, data, status=status)


def errors_of(page: Any, field_id: str) -> list[str]:
    return [li.text_content() for li in page.xpath(f'//*[@id="{field_id}-errors"]/li')]


def new_order(shop: Shop, **changes: str) -> list[tuple[str, str]]:
    screw, nut, wrench = shop.products
    fields = {
        "title": "浦东项目", "notes": "第一行\n第二行", "qty": "3", "amount": "1234.5",
        "discount": "12.5", "due": "2026-12-31", "remind_at": "09:30",
        "signed_at": "2026-11-28T09:30", "urgent": "y", "stage": "won",
        "sub_stage": "signed", "product": wrench["id"], "phone": "13800000000",
        "email": "a@example.cn", "site": "https://example.cn",
        "place-lat": "31.2304", "place-lng": "121.4737", "place-address": "人民广场",
        "region-province": "浙江省", "region-city": "杭州市",
        "region-district": "西湖区",
        "handler": shop.tenant.admin_id, "dept": shop.tenant.department_id,
        "items-0-product": screw["id"], "items-0-qty": "2", "items-0-price": "0.1",
        "items-3-product": nut["id"], "items-3-qty": "1", "items-3-price": "0.2",
        **changes}
    return [*fields.items(), ("tags", "vip"), ("tags", "cold")]


def test_a_record_of_every_field_type_is_created_through_the_page(shop: Shop) -> None:
    contract = shop.api.upload("合同.pdf", b"%PDF-1.4", "application/pdf")
    page = shop.admin.get("/o/sales_order/new", status=200)
    form = doc(page)
    # native inputs for each type, every one labelled
    assert form.xpath('//input[@name="due"]/@type') == ["date"]
    assert form.xpath('//input[@name="remind_at"]/@type') == ["time"]
    assert form.xpath('//input[@name="signed_at"]/@type') == ["datetime-local"]
    assert form.xpath('//input[@name="amount"]/@step') == ["0.01"]
    assert form.xpath('//input[@id="product"]/@role') == ["combobox"]
    assert form.xpath('//input[@id="contract"]/@type') == ["file"]
    assert form.xpath('//template[@data-table-template="items"]')
    for control in form.xpath('//form[@class="record-form"]//input[not(@type="hidden")]'
                              ' | //form[@class="record-form"]//select'
                              ' | //form[@class="record-form"]//textarea'):
        assert form.xpath(f'//label[@for="{control.get("id")}"]'), control.get("id")
    # computed fields are not inputs
    assert not form.xpath('//*[@name="total"] | //*[@name="code"]')

    saved = post(shop.admin, "/o/sales_order/new",
                 [*new_order(shop), ("contract", contract["id"])], status=303)
    record_id = saved.location.rsplit("/", 1)[1]
    record = shop.api.read("sales_order", record_id)
    assert {k: record[k] for k in ("title", "notes", "qty", "amount", "discount",
                                   "due", "remind_at", "signed_at", "urgent", "stage",
                                   "sub_stage", "tags", "contract", "place",
                                   "region")} == {
        "title": "浦东项目", "notes": "第一行\n第二行", "qty": 3, "amount": 1234.5,
        "discount": 12.5, "due": "2026-12-31", "remind_at": "09:30",
        "signed_at": "2026-11-28T09:30:00+08:00", "urgent": True, "stage": "won",
        "sub_stage": "signed", "tags": ["vip", "cold"], "contract": [contract["id"]],
        "place": {"lat": 31.2304, "lng": 121.4737, "address": "人民广场"},
        "region": {"province": "浙江省", "city": "杭州市", "district": "西湖区"}}
    assert [(r["qty"], r["price"]) for r in record["items"]] == [(2, 0.1), (1, 0.2)]
    assert record["total"] == 0.4
    detail = shop.admin.get(saved.location, status=200)
    assert "记录已创建" in detail.text or "Record created" in detail.text
    shown = doc(detail)
    # references by name, with links; files by name
    assert shown.xpath('//output[@id="product"]/a/text()') == ["扳手"]
    assert shown.xpath('//output[@id="contract"]//a/text()') == ["合同.pdf"]
    assert "螺丝" in shown.xpath('string(//table[@id="items"])')
    assert shown.xpath('//output[@id="region"]/text()') == ["浙江省 杭州市 西湖区"]


def test_inline_errors_keep_the_input_and_a_fix_saves(shop: Shop) -> None:
    shop.api.create("sales_order", {"title": "重复的标题"})
    # a required field missing, a CEL rule broken, an unreadable number
    refused = post(shop.admin, "/o/sales_order/new",
                   new_order(shop, title="", qty="5000", amount="12a"), status=400)
    page = doc(refused)
    assert errors_of(page, "amount") == ["请输入数字"]
    assert page.xpath('//input[@name="qty"]/@value') == ["5000"]  # kept
    assert page.xpath('//input[@name="notes"] | //textarea[@name="notes"]')[0
           ].text_content().strip() == "第一行\n第二行"
    assert page.xpath('//*[@id="amount"]/@aria-invalid') == ["true"]
    # the form's own parse errors come first; then the service's: the schema's
    refused = post(shop.admin, "/o/sales_order/new",
                   new_order(shop, title="", qty="5000"), status=400)
    assert errors_of(doc(refused), "title") == ["必填"]
    # … and the object's validation rules
    refused = post(shop.admin, "/o/sales_order/new",
                   new_order(shop, qty="5000"), status=400)
    assert "数量不能超过 1000" in doc(refused).xpath('string(//*[@id="form-errors"])')
    # a row of the table: the message names the row
    refused = post(shop.admin, "/o/sales_order/new",
                   new_order(shop, **{"items-3-qty": "0"}), status=400)
    assert errors_of(doc(refused), "items") == ["第 2 行 qty：不能小于 1"]
    # nothing was written by any of that
    assert len(shop.api.query("sales_order")["records"]) == 1
    # fixed, it saves
    post(shop.admin, "/o/sales_order/new", new_order(shop), status=303)
    assert len(shop.api.query("sales_order")["records"]) == 2


def test_a_unique_value_taken_is_an_inline_error(shop: Shop) -> None:
    page = post(shop.admin, "/o/product/new", [("name", "螺丝"), ("price", "1")],
                status=400)
    assert errors_of(doc(page), "name") == ["已被其他记录使用（包括回收站中的记录）"]
    assert doc(page).xpath('//input[@name="name"]/@value') == ["螺丝"]


def test_editing_keeps_table_rows_and_shows_in_history(shop: Shop) -> None:
    screw, _nut, _wrench = shop.products
    record = shop.api.create("sales_order", {
        "title": "待改", "amount": 10, "items": [
            {"product": screw["id"], "qty": 1, "price": 1},
            {"product": screw["id"], "qty": 2, "price": 1}]})
    path = f"/o/sales_order/r/{record['id']}/edit"
    form = form_of(shop.admin.get(path, status=200), path)
    assert form["items-0-qty"].value == "1"
    assert form["title"].value == "待改"
    # without a script: change a cell of an existing row and a field
    form["items-1-qty"] = "5"
    form["amount"] = "20.5"
    saved = form.submit(status=303)
    assert saved.location.endswith(f"/o/sales_order/r/{record['id']}")
    again = shop.api.read("sales_order", record["id"])
    assert (again["amount"], [r["qty"] for r in again["items"]]) == (20.5, [1, 5])
    assert [r["id"] for r in again["items"]] == [r["id"] for r in record["items"]]
    history = doc(shop.admin.get(f"/o/sales_order/r/{record['id']}/history",
                                 status=200))
    rows = [[td.text_content() for td in tr.xpath("td")]
            for tr in history.xpath('//ol[@class="history"]/li[1]//tbody/tr')]
    assert ["金额", "¥10.00", "¥20.50"] in rows  # money as the pages show it
    newest = history.xpath('string(//ol[@class="history"]/li[1]/p)')
    assert newest.startswith("管理员 修改了 · ") and newest.endswith(" · v2")


def test_a_stale_version_is_a_conflict_message_with_the_input_kept(shop: Shop
                                                                    ) -> None:
    record = shop.api.create("sales_order", {"title": "并发", "amount": 1})
    path = f"/o/sales_order/r/{record['id']}/edit"
    form = form_of(shop.admin.get(path, status=200), path)
    shop.api.patch(f"/objects/sales_order/records/{record['id']}", {"amount": 2},
                   status=200)
    form["amount"] = "3"
    refused = form.submit(status=409)
    page = doc(refused)
    assert "其他人修改了它" in page.xpath('string(//*[@id="form-errors"])')
    assert page.xpath('//*[@id="form-errors"]//a/@href') == [path]
    assert page.xpath('//input[@name="amount"]/@value') == ["3"]
    assert shop.api.read("sales_order", record["id"])["amount"] == 2
    # reloaded, the same change goes through
    form = form_of(shop.admin.get(path, status=200), path)
    form["amount"] = "3"
    form.submit(status=303)
    assert shop.api.read("sales_order", record["id"])["amount"] == 3


def test_hidden_fields_are_absent_and_read_only_ones_cannot_be_changed(shop: Shop
                                                                        ) -> None:
    client, api, _user = shop.employee()
    mine = api.create("sales_order", {"title": "我的单"})
    shop.api.patch(f"/objects/sales_order/records/{mine['id']}",
                   {"secret": "底价九折", "checked": "通过"}, status=200)
    for path in ("/o/sales_order/new", f"/o/sales_order/r/{mine['id']}",
                 f"/o/sales_order/r/{mine['id']}/edit",
                 f"/o/sales_order/r/{mine['id']}/history"):
        page = client.get(path, status=200)
        assert "底价" not in page.text, path
    edit = doc(client.get(f"/o/sales_order/r/{mine['id']}/edit", status=200))
    assert edit.xpath('//output[@id="checked"]/text()') == ["通过"]
    assert not edit.xpath('//*[@name="checked"] | //*[@name="secret"]')
    # posting them anyway changes nothing (the form never reads them)
    fields = [("version", str(mine["version"] + 1)), ("title", "我的单"),
              ("checked", "我自己批的"), ("secret", "偷看")]
    post(client, f"/o/sales_order/r/{mine['id']}/edit", fields, status=303)
    after = shop.api.read("sales_order", mine["id"])
    assert (after["checked"], after["secret"]) == ("通过", "底价九折")


def test_the_detail_page_lists_related_records_and_actions(shop: Shop) -> None:
    order = shop.api.create("sales_order", {"title": "有回款的单"})
    for amount in (100, 200):
        shop.api.create("payment", {"sales_order": order["id"], "amount": amount})
    page = doc(shop.admin.get(f"/o/sales_order/r/{order['id']}", status=200))
    related = page.xpath('//section[@aria-labelledby="related"]')[0]
    assert len(related.xpath(".//ul/li/a")) == 2
    # the list page's filter of one field: ?<field>=<value>
    assert f"/o/payment?sales_order={order['id']}" in related.xpath(".//p/a/@href")
    actions = page.xpath('//div[@class="actions"]/a/text()')
    assert len(actions) == 3  # edit, transfer, delete
    tabs = page.xpath('//nav[@class="tabs"]/a/@href')
    assert tabs == [f"/o/sales_order/r/{order['id']}",
                    f"/o/sales_order/r/{order['id']}/history",
                    f"/o/sales_order/r/{order['id']}/team"]


def test_followers_are_added_and_removed(shop: Shop) -> None:
    client, api, user = shop.employee()
    order = shop.api.create("sales_order", {"title": "跟进"})
    client.get(f"/o/sales_order/r/{order['id']}", status=404)  # not theirs
    path = f"/o/sales_order/r/{order['id']}/team"
    refused = post(shop.admin, path, [("op", "add"), ("user", "nobody")], status=400)
    assert errors_of(doc(refused), "pick-user") == ["找不到该员工"]
    post(shop.admin, path, [("op", "add"), ("user", user["id"]), ("access", "read")],
         status=303)
    page = doc(shop.admin.get(path, status=200))
    assert "小王" in page.xpath('string(//ul[@class="members"])')
    # the follower now sees the record, but may not change its team
    client.get(f"/o/sales_order/r/{order['id']}", status=200)
    post(client, path, [("op", "remove"), ("user", user["id"])], status=403)
    post(shop.admin, path, [("op", "remove"), ("user", user["id"])], status=303)
    assert not doc(shop.admin.get(path, status=200)).xpath('//ul[@class="members"]')
    client.get(f"/o/sales_order/r/{order['id']}", status=404)


def test_delete_goes_to_the_recycle_bin_and_restore_brings_it_back(shop: Shop
                                                                   ) -> None:
    order = shop.api.create("sales_order", {"title": "要删的单"})
    path = f"/o/sales_order/r/{order['id']}"
    confirm = shop.admin.get(f"{path}/delete", status=200)
    assert "回收站" in confirm.text
    binned = post(shop.admin, f"{path}/delete", [], status=303)
    assert binned.location.endswith("/o/sales_order/deleted")
    shop.admin.get(path, status=404)
    bin_page = doc(shop.admin.get("/o/sales_order/deleted", status=200))
    assert bin_page.xpath("//tbody/tr/td[1]/text()") == ["要删的单"]
    restored = post(shop.admin, "/o/sales_order/deleted", [], status="*")
    assert restored.status_int in (404, 405)  # the bin itself takes no POST
    back = post(shop.admin, f"{path}/restore", [], status=303)
    assert back.location.endswith(path)
    shop.admin.get(path, status=200)
    assert not doc(shop.admin.get("/o/sales_order/deleted", status=200)).xpath(
        "//tbody/tr")
    history = doc(shop.admin.get(f"{path}/history", status=200))
    assert len(history.xpath('//ol[@class="history"]/li')) == 3


def test_transfer_hands_the_record_to_another_user(shop: Shop) -> None:
    _client, _api, user = shop.employee()
    order = shop.api.create("sales_order", {"title": "转交"})
    path = f"/o/sales_order/r/{order['id']}/transfer"
    refused = post(shop.admin, path, [("owner", "")], status=400)
    assert errors_of(doc(refused), "pick-owner")
    post(shop.admin, path, [("owner", user["id"])], status=303)
    assert shop.api.read("sales_order", order["id"])["owner"] == user["id"]


def test_lookup_search_finds_only_readable_records(shop: Shop) -> None:
    client, api, _user = shop.employee()
    api.create("sales_order", {"title": "员工的订单"})
    shop.api.create("sales_order", {"title": "老板的订单"})
    found = client.get("/o/sales_order/lookup", {"q": "订单"}, status=200).json
    assert [r["name"] for r in found["records"]] == ["员工的订单"]
    # by name and by keyword (a searchable field)
    names = shop.admin.get("/o/product/lookup", {"q": "螺"}, status=200).json
    assert sorted(r["name"] for r in names["records"]) == sorted(["螺母", "螺丝"])
    tools = shop.admin.get("/o/product/lookup", {"q": "工具"}, status=200).json
    assert [r["name"] for r in tools["records"]] == ["扳手"]
    fragment = shop.admin.get("/o/product/lookup", {"q": "扳手", "for": "product"},
                              headers={"HX-Request": "true"}, status=200)
    option = lxml.html.fragment_fromstring(fragment.text, create_parent=True)
    assert option.xpath("//li/@role") == ["option"]
    assert option.xpath("//li/@data-value") == [shop.products[2]["id"]]
    # users for the user pickers
    users = shop.admin.get("/o/user/lookup", {"q": "小王"}, status=200).json
    assert [r["name"] for r in users["records"]] == ["小王"]


def test_dependent_options_follow_the_parent(shop: Shop) -> None:
    page = shop.admin.get("/o/sales_order/options/sub_stage?stage=won&sub_stage=",
                          status=200)
    select = lxml.html.fromstring(page.text)
    assert select.xpath("//option/@value") == ["", "signed", "paid"]
    lost = lxml.html.fromstring(shop.admin.get(
        "/o/sales_order/options/sub_stage?stage=lost", status=200).text)
    assert lost.xpath("//option/@value") == ["", "lost_price"]
    city = lxml.html.fromstring(shop.admin.get(
        "/o/sales_order/options/region", {"part": "city", "region-province": "浙江省"},
        status=200).text)
    assert "杭州市" in city.xpath("//option/@value")
    assert city.get("name") == "region-city"
    shop.admin.get("/o/sales_order/options/title", status=404)


def test_logged_out_pages_send_to_the_login(app: TestApp, shop: Shop) -> None:
    order = shop.api.create("sales_order", {"title": "x"})
    anonymous = browser(app, ip="203.0.113.9")
    for path in ("/o/sales_order/new", f"/o/sales_order/r/{order['id']}",
                 f"/o/sales_order/r/{order['id']}/edit", "/o/sales_order/deleted",
                 "/o/product/lookup?q=a"):
        response = anonymous.get(path, status=303)
        assert response.location.startswith("/login?next=") or \
            "/login?next=" in response.location, path


def test_another_enterprises_records_are_a_not_found_page(
        app: TestApp, shop: Shop, enterprise: Callable[..., Tenant]) -> None:
    other = enterprise("乙公司")
    other_api = login_admin(app, other)
    other_api.define("product", PRODUCT)
    other_api.define("sales_order", order_object())
    theirs = other_api.create("sales_order", {"title": "乙的秘密订单"})
    binned = other_api.create("sales_order", {"title": "乙的旧订单"})
    other_api.delete(f"/objects/sales_order/records/{binned['id']}", status=204)
    base = f"/o/sales_order/r/{theirs['id']}"
    for path in (base, f"{base}/edit", f"{base}/history", f"{base}/team",
                 f"{base}/delete", f"{base}/transfer"):
        page = shop.admin.get(path, status=404)
        assert "乙" not in page.text and "text/html" in page.content_type, path
    for path in (f"{base}/delete", f"{base}/transfer", f"{base}/team",
                 f"/o/sales_order/r/{binned['id']}/restore", f"{base}/edit"):
        page = post(shop.admin, path, [("owner", shop.tenant.admin_id),
                                       ("title", "stolen")], status=404)
        assert "乙" not in page.text
    assert "乙" not in shop.admin.get("/o/sales_order/lookup", {"q": "乙"}).text
    assert "乙" not in shop.admin.get("/o/sales_order/deleted").text
    assert other_api.read("sales_order", theirs["id"])["title"] == "乙的秘密订单"


def test_posts_need_the_csrf_token(shop: Shop) -> None:
    order = shop.api.create("sales_order", {"title": "csrf"})
    for path in ("/o/sales_order/new", f"/o/sales_order/r/{order['id']}/edit",
                 f"/o/sales_order/r/{order['id']}/delete"):
        page = shop.admin.post(path, {"title": "forged"}, status=400)
        assert "text/html" in page.content_type
    assert shop.api.read("sales_order", order["id"])["title"] == "csrf"
    assert len(shop.api.query("sales_order")["records"]) == 1


def test_pages_follow_the_language(shop: Shop) -> None:
    shop.admin.get("/lang/en?next=/app", status=303)
    page = doc(shop.admin.get("/o/sales_order/new", status=200))
    assert page.xpath('//label[@for="title"]/text()') == ["Title"]
    assert page.xpath('//button[@type="submit"]/text()')[-1] == "Save"
    refused = post(shop.admin, "/o/sales_order/new", new_order(shop, title=""),
                   status=400)
    assert errors_of(doc(refused), "title") == ["is required"]
