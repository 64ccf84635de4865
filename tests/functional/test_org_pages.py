"""The organisation pages of the admin console and the join page, through WebTest
the way a browser uses them (issue 3, parts 2 and 5): step-up, CSRF, both
languages, the inline errors, and one enterprise never reaching another's."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

import pytest
from sqlalchemy import update
from webtest import TestApp, TestResponse, Upload

from propolis.platform.db import Database
from propolis.platform.org import pages
from propolis.platform.storage.platform_tables import org_invitations
from tests.common.accounts import (
    answer_captcha,
    browser,
    form_of,
    web_login,
    web_step_up,
)
from tests.common.api import PASSWORD, Tenant, login_admin
from tests.common.org import PROJECT, add_user, filled_template, login_as

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PAGES = ("/admin/org", "/admin/org/users", "/admin/org/invite",
         "/admin/org/requests", "/admin/org/import")


def console(app: TestApp, tenant: Tenant, ip: str = "203.0.113.7") -> TestApp:
    """A browser logged in as the tenant's admin, past the password step-up."""
    client = browser(app, ip)
    web_login(client, tenant)
    web_step_up(client, PASSWORD)
    return client


def errors_of(page: TestResponse) -> dict[str, str]:
    return dict(re.findall(r'id="([A-Za-z0-9_-]+)-error">([^<]+)</p>', page.text))


def alert_of(page: TestResponse) -> str:
    found = re.search(r'class="alert" role="alert">([^<]+)<', page.text)
    return found.group(1) if found else ""


def test_the_pages_need_an_admin_and_the_step_up(app: TestApp,
                                                 enterprise: Callable[..., Tenant]):
    tenant = enterprise()
    admin = login_admin(app, tenant)
    add_user(admin, "小王", "13900000001", departments=[tenant.department_id])
    anonymous = browser(app)
    for path in PAGES:
        assert "/login?next=" in anonymous.get(path, status=303).location
    client = browser(app)
    web_login(client, tenant)
    for path in (*PAGES, f"/admin/org/departments/{tenant.department_id}",
                 f"/admin/org/users/{tenant.admin_id}"):
        assert "/admin/verify?next=" in client.get(path, status=303).location
    # a POST before the step-up changes nothing either
    page = client.get("/account")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    client.post("/admin/org", {"csrf_token": token, "name": "偷建的部门"},
                status=303)
    clerk = browser(app)
    web_login(clerk, Tenant(tenant.account, tenant.enterprise_id, "", "",
                            "13900000001", PASSWORD))
    for path in PAGES:
        clerk.get(path, status=403)
    web_step_up(client, PASSWORD)
    page = client.get("/admin/org", status=200)
    assert "偷建的部门" not in page.text


@pytest.mark.parametrize("lang, labels", [
    ("zh", {"/admin/org": ["部门名称", "上级部门", "组织架构"],
            "/admin/org/users": ["姓名或手机号", "部门", "状态"],
            "/admin/org/invite": ["手机号（可选）", "邮箱（可选）", "有效天数",
                                  "默认部门", "默认角色"],
            "/admin/org/requests": ["加入申请"],
            "/admin/org/import": ["填好的模板（XLSX）", "下载模板"]}),
    ("en", {"/admin/org": ["Department name", "Parent department",
                           "Organisation chart"],
            "/admin/org/users": ["Name or phone", "Department", "Status"],
            "/admin/org/invite": ["Mobile phone (optional)", "Email (optional)",
                                  "Valid for (days)", "Default department",
                                  "Default roles"],
            "/admin/org/requests": ["Join requests"],
            "/admin/org/import": ["Filled-in template (XLSX)",
                                  "Download the template"]}),
])
def test_every_page_speaks_both_languages(app: TestApp,
                                          enterprise: Callable[..., Tenant],
                                          lang: str, labels: dict[str, list[str]]):
    tenant = enterprise()
    client = console(app, tenant)
    client.set_cookie("propolis_lang", lang)
    for path, texts in labels.items():
        page = client.get(path, status=200)
        assert page.headers["Cache-Control"] == "no-store"
        for text in texts:
            assert text in page.text, (path, text)
        # every page is in the console's navigation, marked where it is
        assert 'aria-current="page"' in page.text
    for path in (f"/admin/org/departments/{tenant.department_id}",
                 f"/admin/org/users/{tenant.admin_id}"):
        page = client.get(path, status=200)
        for field in page.html.select("input:not([type=hidden]), select, textarea"):
            assert page.html.find("label", attrs={"for": field["id"]}) or \
                field.find_parent("fieldset"), (path, field)


def test_a_post_without_the_csrf_token_is_refused(app: TestApp,
                                                  enterprise: Callable[..., Tenant]):
    tenant = enterprise()
    client = console(app, tenant)
    dept, admin_id = tenant.department_id, tenant.admin_id
    for path, data in (
            ("/admin/org", {"name": "x"}),
            (f"/admin/org/departments/{dept}/edit", {"name": "x"}),
            (f"/admin/org/departments/{dept}/disable", {}),
            (f"/admin/org/users/{admin_id}", {"name": "x"}),
            (f"/admin/org/users/{admin_id}/disable", {}),
            ("/admin/org/invite", {}),
            ("/admin/org/invite/settings", {}),
            ("/admin/org/requests/x/approve", {}),
            ("/admin/org/import", {})):
        client.post(path, data, status=400)
        client.post(path, {**data, "csrf_token": "forged"}, status=400)
    page = client.get("/admin/org")
    assert page.text.count("<li>") == 1  # still the one department, as it was
    assert "总部" in page.text


def test_departments_page(app: TestApp, enterprise: Callable[..., Tenant]):
    tenant = enterprise()
    client = console(app, tenant)
    page = client.get("/admin/org")
    form = form_of(page, "/admin/org")
    form["name"] = ""
    refused = form.submit(status=400)
    assert errors_of(refused) == {"name": "必填"}
    form = form_of(refused, "/admin/org")
    form["name"], form["parent"] = "销售部", tenant.department_id
    page = form.submit(status=303).follow()
    assert "已创建部门「销售部」" in page.text
    sales = page.html.find("a", string="销售部")["href"]
    page = client.get(sales)
    form = form_of(page, f"{sales}/create")
    form["name"] = "华东区"
    page = form.submit(status=303).follow()
    east = client.get("/admin/org").html.find("a", string="华东区")["href"]
    # moving a department under its own sub-department is refused, saying why
    form = form_of(page, f"{sales}/move")
    form["parent"] = east.rsplit("/", 1)[1]
    refused = form.submit(status=400)
    assert errors_of(refused) == {"parent": "不能移到该部门自身或其下级部门之下"}
    form = form_of(refused, f"{sales}/move")
    form["parent"] = ""
    form.submit(status=303)
    # rename and head
    form = form_of(client.get(sales), f"{sales}/edit")
    form["name"], form["head"] = "销售一部", tenant.admin_id
    page = form.submit(status=303).follow()
    assert "<h1>销售一部" in page.text
    tree = client.get("/admin/org").text
    assert re.search(r"销售一部</a>\s*<span class=\"aside\">0 名员工 · 负责人: ", tree)
    # disabling one that still has an enabled sub-department is refused
    refused = form_of(client.get(sales), f"{sales}/disable").submit(status=400)
    assert "部门下还有 1 个未停用的下级部门，不能停用" in alert_of(refused)
    form_of(client.get(east), f"{east}/disable").submit(status=303)
    page = form_of(client.get(sales), f"{sales}/disable").submit(status=303).follow()
    assert "部门已停用" in page.text
    assert "启用部门" in page.text
    page = form_of(page, f"{sales}/enable").submit(status=303).follow()
    assert "部门已启用" in page.text
    client.get("/admin/org/departments/no-such-id", status=404)
    audit = client.get("/admin/audit").text
    for action in ("department.create", "department.move", "department.disable",
                   "department.enable", "department.update"):
        assert action in audit


def test_employees_page(app: TestApp, enterprise: Callable[..., Tenant],
                        monkeypatch: pytest.MonkeyPatch):
    tenant = enterprise()
    admin = login_admin(app, tenant)
    sales = admin.post("/org/departments", {"name": "销售部",
                                            "parent": tenant.department_id},
                       status=201).json
    boss = add_user(admin, "王经理", "13900000001", departments=[sales["id"]])
    clerk = add_user(admin, "李员工", "13900000002", departments=[sales["id"]],
                     superior=boss["id"])
    add_user(admin, "赵待定", "13900000003", status="pending")
    client = console(app, tenant)
    def names(page: TestResponse) -> set[str]:
        return {a.text for a in page.html.select("td a")}

    assert names(client.get("/admin/org/users")) == {
        "李员工", "王经理", "赵待定", admin.read("user", tenant.admin_id)["name"]}
    assert names(client.get("/admin/org/users", {"q": "经理"})) == {"王经理"}
    assert names(client.get("/admin/org/users?q=0000002")) == {"李员工"}
    assert names(client.get(f"/admin/org/users?department={sales['id']}")) == {
        "李员工", "王经理"}
    assert names(client.get("/admin/org/users?status=pending")) == {"赵待定"}
    home = client.get("/admin")
    without = home.html.find("a", href=re.compile("department=none"))
    assert without.find("span", class_="number").text == "0"
    assert names(client.get(without["href"])) == set()  # only active ones
    assert names(client.get("/admin/org/users?department=none")) == {"赵待定"}
    assert names(client.get("/admin/org/users?q=%25")) == set()
    monkeypatch.setattr(pages, "PAGE_SIZE", 3)
    first = client.get("/admin/org/users")
    assert "第 1 / 2 页" in first.text
    second = client.get(first.html.find("a", rel="next")["href"])
    assert len(names(second)) == 1 and second.html.find("a", rel="prev")

    path = f"/admin/org/users/{boss['id']}"
    page = client.get(path)
    form = form_of(page, path)
    assert form["main_department"].value == sales["id"]
    # the boss's superior cannot be their own subordinate
    form["superior"] = clerk["id"]
    form["position"] = "销售经理"
    refused = form.submit(status=400)
    assert errors_of(refused) == {"superior": "不能是该员工的下属（会形成循环）"}
    form = form_of(refused, path)
    form["superior"] = ""
    form["departments"] = [tenant.department_id]
    form["roles"] = ["employee", "crm_admin"]
    form.submit(status=303)
    saved = admin.get(f"/objects/user/records/{boss['id']}").json
    assert saved["position"] == "销售经理"
    assert saved["main_department"] == sales["id"]
    assert sorted(r["department"] for r in saved["departments"]) == sorted(
        [sales["id"], tenant.department_id])
    assert sorted(saved["roles"]) == ["crm_admin", "employee"]
    client.get("/admin/org/users/no-such-id", status=404)


def test_disable_with_handover_and_enable(app: TestApp,
                                          enterprise: Callable[..., Tenant]):
    tenant = enterprise()
    admin = login_admin(app, tenant)
    admin.define("project", {k: v for k, v in PROJECT.items()
                             if k not in ("kind", "api_name")})
    leaver = add_user(admin, "离职者", "13900000001",
                      departments=[tenant.department_id])
    heir = add_user(admin, "接手人", "13900000002",
                    departments=[tenant.department_id])
    mine = login_as(app, tenant.account, "13900000001")
    for i in range(2):
        mine.create("project", {"title": f"项目{i}"})
    client = console(app, tenant)
    path = f"/admin/org/users/{leaver['id']}"
    page = client.get(path)
    assert "项目 2" in page.text
    refused = form_of(page, f"{path}/disable").submit(status=400)
    assert errors_of(refused) == {"handover_to": "该员工负责 2 条数据，请选择接收人"}
    form = form_of(refused, f"{path}/disable")
    form["handover_to"] = heir["id"]
    page = form.submit(status=303).follow()
    assert "员工已停用，已移交 2 条数据。" in page.text
    mine.get("/objects", status=401)
    heirs = login_as(app, tenant.account, "13900000002")
    assert len(heirs.query("project")["records"]) == 2
    page = form_of(page, f"{path}/enable").submit(status=303).follow()
    assert "员工已启用" in page.text
    login_as(app, tenant.account, "13900000001")


def test_invitations_page(app: TestApp, enterprise: Callable[..., Tenant]):
    tenant = enterprise()
    client = console(app, tenant)
    page = client.get("/admin/org/invite")
    form = form_of(page, "/admin/org/invite")
    form["expires_in_days"] = "100"
    refused = form.submit(status=400)
    assert errors_of(refused) == {"expires_in_days": "应为 1 到 90 之间的整数"}
    form = form_of(refused, "/admin/org/invite")
    form["expires_in_days"] = "3"
    form["department"] = tenant.department_id
    page = form.submit(status=303).follow()
    link = page.html.find("input", id=re.compile("^link-"))["value"]
    assert re.search(r"/join/[a-z0-9_]+\.[A-Za-z0-9_-]{20,}$", link)
    assert "邀请你加入「测试企业」的「总部」" in page.text
    # shown once, after the creation
    assert client.get("/admin/org/invite").html.find("section",
                                                     class_="notice") is None
    # by phone, once
    form = form_of(page, "/admin/org/invite")
    form["phone"], form["email"] = "13900000009", "a@example.com"
    refused = form.submit(status=400)
    assert errors_of(refused) == {"email": "手机号和邮箱只填一个"}
    form = form_of(refused, "/admin/org/invite")
    form["email"] = ""
    page = form.submit(status=303).follow()
    assert "13900000009" in page.text
    # revoking the link makes its page a friendly 404
    token = link.rsplit("/", 1)[1]
    # (the newest first: the link is the last one)
    revoke = [f for f in page.forms.values()
              if f.action == "/admin/org/invite/revoke"][-1]
    page = revoke.submit(status=303).follow()
    assert "邀请已撤销" in page.text and "已撤销" in page.text
    gone = browser(app, "198.51.100.20").get(f"/join/{token}", status=404)
    assert "邀请已被撤销" in gone.text
    # the defaults newcomers get
    form = form_of(page, "/admin/org/invite/settings")
    form["default_roles"] = ["employee", "crm_admin"]
    form["default_department"] = tenant.department_id
    form.submit(status=303)
    admin = login_admin(app, tenant)
    settings = admin.get("/org/settings").json
    assert sorted(settings["default_roles"]) == ["crm_admin", "employee"]
    assert settings["default_department"] == tenant.department_id
    # a crafted post making everyone an admin is refused on the field
    page = client.get("/admin/org/invite")
    token_field = page.html.find("input", attrs={"name": "csrf_token"})["value"]
    refused = client.post("/admin/org/invite/settings", {
        "csrf_token": token_field, "default_roles": ["admin"]}, status=400)
    assert errors_of(refused) == {"default_roles": "不能让每个新员工都成为企业管理员"}


def _join(app: TestApp, path: str, ip: str, **fields: str) -> TestResponse:
    joiner = browser(app, ip)
    form = form_of(joiner.get(path, status=200), path)
    for name, value in fields.items():
        form[name] = value
    answer_captcha(app, form)
    return form.submit(status="*")


def test_join_page_review_and_first_login(app: TestApp,
                                          enterprise: Callable[..., Tenant]):
    tenant = enterprise("蜂胶科技")
    client = console(app, tenant)
    form = form_of(client.get("/admin/org/invite"), "/admin/org/invite")
    page = form.submit(status=303).follow()
    link = page.html.find("input", id=re.compile("^link-"))["value"]
    path = "/join/" + link.rsplit("/join/", 1)[1]
    joiner = browser(app, "198.51.100.30")
    page = joiner.get(path, status=200)
    assert "加入蜂胶科技" in page.text
    for label in ("您的姓名", "手机号", "密码", "再次输入密码", "验证码"):
        assert f">{label}</label>" in page.text
    english = joiner.get(path, headers={"Accept-Language": "en"})
    assert "Join 蜂胶科技" in english.text and ">Password again</label>" in english.text
    # posted without its CSRF token
    fields = dict(form_of(page, path).submit_fields())
    del fields["csrf_token"]
    joiner.post(path, fields, status=400)
    # bad input, inline
    refused = _join(app, path, "198.51.100.30", name="", phone="phone",
                    password="new-colleague-1", password_again="other-one-22")
    assert refused.status_int == 400
    assert errors_of(refused) == {"password_again": "两次输入的密码不一致"}
    refused = _join(app, path, "198.51.100.30", name="", phone="phone",
                    password="new-colleague-1", password_again="new-colleague-1")
    assert errors_of(refused) == {"name": "必填", "phone": "手机号格式不正确"}
    assert form_of(refused, path)["password"].value == ""
    done = _join(app, path, "198.51.100.30", name="新同事", phone="13900000001",
                 password="new-colleague-1", password_again="new-colleague-1")
    assert done.status_int == 303 and done.location.endswith("/join/sent")
    # (each _join is a browser of its own: the sent page is that one's)
    requests = client.get("/admin/org/requests")
    assert "新同事" in requests.text and "13900000001" in requests.text
    home = client.get("/admin")
    assert 'href="/admin/org/requests"><span class="number">1</span>' in home.text
    request_id = re.search(r'/admin/org/requests/([^/]+)/reject', requests.text
                           ).group(1)
    reject = form_of(requests, f"/admin/org/requests/{request_id}/reject")
    refused = reject.submit(status=400)
    assert errors_of(refused) == {f"r{request_id}-reason": "请填写拒绝原因"}
    approve = form_of(refused, f"/admin/org/requests/{request_id}/approve")
    approve[f"a{request_id}-position"] = "销售代表"
    page = approve.submit(status=303).follow()
    assert "新同事 已加入企业" in page.text
    assert "新同事" not in page.html.find("main").text.replace(
        "新同事 已加入企业", "")
    approved = client.get("/admin/org/requests?status=approved")
    assert "新同事" in approved.text
    # the newcomer logs in with the password chosen on the join page
    newcomer = browser(app, "198.51.100.30")
    done = web_login(newcomer, Tenant(tenant.account, tenant.enterprise_id, "", "",
                                      "13900000001", "new-colleague-1"))
    assert done.status_int == 303 and done.location.endswith("/app")
    # a second approval of the same request says it was reviewed
    refused = approve.submit(status=409)
    assert "该申请已审核" in alert_of(refused)


def test_join_sent_page_and_bad_links(app: TestApp, database: Database,
                                      enterprise: Callable[..., Tenant]):
    tenant = enterprise("蜂胶科技")
    admin = login_admin(app, tenant)
    token = admin.post("/org/invitations", {"expires_in_days": 1},
                       status=201).json["token"]
    joiner = browser(app, "198.51.100.31")
    path = f"/join/{token}"
    form = form_of(joiner.get(path), path)
    form["name"], form["phone"] = "新同事", "13900000001"
    form["password"] = form["password_again"] = "new-colleague-1"
    answer_captcha(app, form)
    sent = form.submit(status=303).follow(status=200)
    assert "等待管理员审核" in sent.text and tenant.account in sent.text
    assert browser(app).get("/join/sent", status=303).location.endswith("/login")
    for bad in ("nope", "x" * 40, f"{tenant.account}.{'a' * 32}",
                f"nosuchaccount.{'a' * 32}"):
        page = joiner.get(f"/join/{bad}", status=404)
        assert "邀请链接无效" in page.text
        joiner.post(f"/join/{bad}", {"csrf_token": "x"}, status=400)
    # an expired link (its expiry moved into the past)
    with database.tenant_engine(tenant.account).begin() as conn:
        conn.execute(update(org_invitations).values(
            expires_at=dt.datetime(2020, 1, 1, tzinfo=dt.UTC)))
    page = joiner.get(path, status=404)
    assert "邀请已过期" in page.text


def test_import_page(app: TestApp, enterprise: Callable[..., Tenant]):
    tenant = enterprise()
    client = console(app, tenant)
    page = client.get("/admin/org/import")
    template = client.get(page.html.find("a", download=True)["href"], status=200)
    assert template.content_type == XLSX
    form = form_of(page, "/admin/org/import")
    refused = form.submit(status=400)
    assert errors_of(refused) == {"file": "请选择要上传的模板文件"}
    form = form_of(refused, "/admin/org/import")
    form["file"] = Upload("x.xlsx", b"not a workbook", XLSX)
    refused = form.submit(status=400)
    assert list(errors_of(refused)) == ["file"]
    bad = filled_template([{"name": "甲", "phone": "13900000001",
                            "departments": "没有的部门"},
                           {"name": "", "phone": "13900000002"}])
    form = form_of(refused, "/admin/org/import")
    form["file"] = Upload("员工.xlsx", bad, XLSX)
    report = form.submit(status=400)
    rows = [[td.text.strip() for td in tr.find_all("td")]
            for tr in report.html.select("tr.flagged")]
    assert rows == [["3", "部门", "找不到部门「没有的部门」"], ["4", "姓名", "必填"]]
    assert client.get(report.html.find("a", string=re.compile("下载报告"))["href"],
                      status=200).content_type == XLSX
    good = filled_template([{"name": "甲", "phone": "13900000001",
                             "departments": "总部"},
                            {"name": "乙", "phone": "13900000002"}])
    form = form_of(report, "/admin/org/import")
    form["file"] = Upload("员工.xlsx", good, XLSX)
    done = form.submit(status=200)
    assert "已导入 2 名员工" in done.text
    assert [a.text for a in done.html.select("section.notice li a")] == ["甲", "乙"]


def test_an_admin_never_reaches_another_enterprise(app: TestApp,
                                                   enterprise: Callable[..., Tenant]):
    a, b = enterprise("甲公司"), enterprise("乙公司")
    b_admin = login_admin(app, b)
    b_dept = b_admin.post("/org/departments", {"name": "乙的部门",
                                               "parent": b.department_id},
                          status=201).json
    b_user = add_user(b_admin, "乙的员工", "13900000001",
                      departments=[b_dept["id"]])
    invitation = b_admin.post("/org/invitations", {}, status=201).json
    app.post_json("/api/v1/org/join", {"token": invitation["token"], "name": "申请人",
                                       "phone": "13900000002",
                                       "password": "new-colleague-1"}, status=201)
    b_request = b_admin.get("/org/join-requests").json["requests"][0]
    client = console(app, a)
    token = client.get("/admin/org").html.find(
        "input", attrs={"name": "csrf_token"})["value"]
    for path in (f"/admin/org/departments/{b_dept['id']}",
                 f"/admin/org/departments/{b.department_id}",
                 f"/admin/org/users/{b_user['id']}",
                 f"/admin/org/users/{b.admin_id}"):
        page = client.get(path, status=404)
        assert "乙" not in page.text
    for path, data in (
            (f"/admin/org/departments/{b_dept['id']}/edit", {"name": "偷改"}),
            (f"/admin/org/departments/{b_dept['id']}/disable", {}),
            (f"/admin/org/departments/{b_dept['id']}/create", {"name": "偷建"}),
            (f"/admin/org/users/{b_user['id']}", {"name": "偷改"}),
            (f"/admin/org/users/{b_user['id']}/disable", {}),
            (f"/admin/org/requests/{b_request['id']}/approve", {}),
            (f"/admin/org/requests/{b_request['id']}/reject",
             {f"r{b_request['id']}-reason": "x"}),
            ("/admin/org/invite/revoke", {"id": invitation["id"]})):
        page = client.post(path, {"csrf_token": token, **data}, status=404)
        assert "乙" not in page.text
    # moving A's department under B's, or naming B's people, is refused too
    path = f"/admin/org/departments/{a.department_id}"
    form = form_of(client.get(path), f"{path}/edit")
    form["head"].force_value(b_user["id"])
    assert list(errors_of(form.submit(status=400))) == ["head"]
    for page in (client.get(f"/admin/org/users?department={b_dept['id']}"),
                 client.get("/admin/org/users", {"q": "乙"}),
                 client.get("/admin/org/requests"), client.get("/admin/org/invite")):
        assert "乙的" not in page.text and "申请人" not in page.text
    # nothing of B changed
    assert b_admin.get(f"/objects/department/records/{b_dept['id']}").json[
        "name"] == "乙的部门"
    assert b_admin.get(f"/objects/user/records/{b_user['id']}").json[
        "status"] == "active"
    assert b_admin.get("/org/join-requests?status=pending").json["requests"]
    assert b_admin.get("/org/invitations").json["invitations"]
