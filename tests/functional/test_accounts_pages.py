"""The accounts pages through WebTest, the way a browser uses them: registration,
login with captcha and back-off, the cookie session and CSRF, the account page,
the admin console behind its password step-up, languages (issue 3, parts 1 and 5)."""

from __future__ import annotations

import re
from collections.abc import Callable

from pyramid.session import JSONSerializer
from webob.cookies import SignedSerializer
from webtest import TestApp

from propolis.platform.auth.session import SESSION_ID, derived_secret
from tests.common.accounts import (
    Clock,
    bearer,
    browser,
    clock,
    form_of,
    solved_captcha,
    web_login,
    web_step_up,
)
from tests.common.api import PASSWORD, Tenant, login, login_admin
from tests.conftest import unique_account

__all__ = ["clock"]  # the fixture


def test_registration_page(app: TestApp):
    client = browser(app)
    page = client.get("/register", status=200)
    assert 'src="data:image/png;base64,' in page.text
    for label in ("企业账号", "企业名称", "您的姓名", "手机号", "密码", "验证码"):
        assert f">{label}</label>" in page.text
    form = form_of(page, "/register")
    account = unique_account("w")
    form["account"] = account
    form["name"] = "<b>蜂巢</b>"
    form["admin_name"] = "李四"
    form["phone"] = "13800000009"
    form["password"] = "web-password-1"
    captcha_id, answer = solved_captcha(app)
    form["captcha_id"].force_value(captcha_id)
    form["captcha"] = answer
    done = form.submit(status=303)
    assert done.location.endswith(f"/login?account={account}")
    page = done.follow(status=200)
    assert "企业已创建，请用手机号和密码登录。" in page.text
    assert form_of(page, "/login")["account"].value == account
    login(app, account, "13800000009", "web-password-1")


def test_a_form_posted_without_its_csrf_token_is_refused(app: TestApp):
    client = browser(app)
    page = client.get("/register")
    fields = {name: value for name, value in form_of(page, "/register").submit_fields()}
    fields.update({"account": unique_account("w"), "name": "x", "admin_name": "x",
                   "phone": "13800000009", "password": "web-password-1"})
    del fields["csrf_token"]
    refused = client.post("/register", fields, status=400)
    assert "表单已过期" in refused.text
    fields["csrf_token"] = "forged"
    client.post("/register", fields, status=400)
    # nothing was made
    app.post_json("/api/v1/session", {"account": fields["account"],
                                      "login": "13800000009",
                                      "password": "web-password-1"}, status=401)


def test_registration_page_shows_errors_by_field(app: TestApp):
    client = browser(app)
    form = form_of(client.get("/register"), "/register")
    form["account"] = "9lives"
    form["phone"] = "phone"
    form["password"] = "short"
    captcha_id, answer = solved_captcha(app)
    form["captcha_id"].force_value(captcha_id)
    form["captcha"] = answer
    page = form.submit(status=400)
    errors = dict(re.findall(r'id="([a-z_]+)-error">([^<]+)</p>', page.text))
    assert errors == {
        "account": "企业账号须以小写字母开头，由 2–31 个小写字母、数字或下划线组成",
        "name": "必填", "admin_name": "必填", "phone": "请填写有效的手机号",
        "password": "密码至少 8 位"}
    assert 'aria-describedby="phone-error"' in page.text
    assert form_of(page, "/register")["password"].value == ""  # never sent back
    # in English, and a wrong captcha is an error of its own
    client.set_cookie("propolis_lang", "en")
    form = form_of(client.get("/register"), "/register")
    form["captcha"] = "nope"
    page = form.submit(status=400)
    errors = dict(re.findall(r'id="([a-z_]+)-error">([^<]+)</p>', page.text))
    assert errors == {"captcha": "Wrong or expired captcha; try the new one"}


def test_login_page_session_cookie_and_logout(app: TestApp,
                                              enterprise: Callable[..., Tenant]):
    tenant = enterprise()
    client = browser(app)
    before = client.get("/login")
    old_cookie = client.cookies.get("propolis_session")
    done = web_login(client, tenant)
    assert done.status_int == 303 and done.location.endswith("/app")
    cookie = done.headers.getall("Set-Cookie")
    session_cookie = next(c for c in cookie if c.startswith("propolis_session="))
    assert "HttpOnly" in session_cookie and "SameSite=Lax" in session_cookie
    assert "Max-Age" not in session_cookie  # a browser-session cookie
    assert any(c.startswith("propolis_device=") for c in cookie)
    # the session rotated at login
    assert client.cookies["propolis_session"] != old_cookie
    assert before.status_int == 200
    page = client.get("/account", status=200)
    assert "当前会话" in page.text
    # the cookie authenticates the API too, but a change needs the CSRF token
    client.get("/api/v1/objects", status=200)
    client.post_json("/api/v1/tokens", {"label": "x"}, status=400)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    client.post_json("/api/v1/tokens", {"label": "x"},
                     headers={"X-CSRF-Token": token}, status=201)
    # logging in again gives a new session id; the old one is gone
    first = client.cookies["propolis_session"]
    web_login(client, tenant)
    assert client.cookies["propolis_session"] != first
    page = client.get("/account")
    assert page.text.count("当前会话") == 1
    form = form_of(page, "/logout")
    assert form.submit(status=303).location.endswith("/login")
    client.get("/account", status=303)
    client.get("/api/v1/objects", status=401)


def test_remember_me_keeps_the_cookie_30_days(app: TestApp,
                                              enterprise: Callable[..., Tenant]):
    tenant = enterprise()
    done = web_login(browser(app), tenant, remember=True)
    session_cookie = next(c for c in done.headers.getall("Set-Cookie")
                          if c.startswith("propolis_session="))
    assert "Max-Age=2592000" in session_cookie


def test_login_page_asks_for_a_captcha_then_waits(app: TestApp,
                                                  enterprise: Callable[..., Tenant],
                                                  clock: Clock):
    tenant = enterprise()
    client = browser(app)
    for _ in range(2):
        page = web_login(client, tenant, "wrong-password")
        assert page.status_int == 200
        assert "企业账号、登录名或密码错误" in page.text
        assert "data:image/png" not in page.text
    page = web_login(client, tenant, "wrong-password")
    assert 'src="data:image/png;base64,' in page.text  # from now on
    form = form_of(page, "/login")
    form["login"] = tenant.phone
    form["password"] = PASSWORD
    page = form.submit(status=200)  # no answer given
    assert "请输入验证码" in page.text
    form = form_of(page, "/login")
    form["login"], form["password"] = tenant.phone, "wrong-again"
    captcha_id, answer = solved_captcha(app)
    form["captcha_id"].force_value(captcha_id)
    form["captcha"] = answer
    form.submit(status=200)  # 4th failure
    form["password"] = "wrong-again"
    captcha_id, answer = solved_captcha(app)
    form["captcha_id"].force_value(captcha_id)
    form["captcha"] = answer
    form.submit(status=200)  # 5th: back-off starts
    form["password"] = PASSWORD
    captcha_id, answer = solved_captcha(app)
    form["captcha_id"].force_value(captcha_id)
    form["captcha"] = answer
    page = form.submit(status=429)
    assert page.headers["Retry-After"] == "1"
    assert "尝试次数过多，请 1 秒后再试" in page.text
    clock.advance(seconds=1)
    form["password"] = PASSWORD
    assert form.submit(status=303).location.endswith("/app")


def test_admin_console_asks_for_the_password_again(
        app: TestApp, enterprise: Callable[..., Tenant], clock: Clock):
    tenant = enterprise()
    client = browser(app)
    # not logged in: the login page, then back here
    assert client.get("/admin", status=303).location.endswith("/login?next=%2Fadmin")
    web_login(client, tenant, next_path="/admin")
    assert client.get("/admin", status=303).location.endswith(
        "/admin/verify?next=%2Fadmin")
    client.get("/admin/security", status=303)
    client.get("/admin/audit", status=303)
    page = web_step_up(client, "wrong-password", status=400)
    assert "密码错误" in page.text
    assert web_step_up(client, PASSWORD).location.endswith("/admin")
    home = client.get("/admin", status=200)
    numbers = re.findall(r'class="number">([^<]+)</span>\s*<span class="label">'
                         r'([^<]+)</span>', home.text)
    assert {label: number for number, label in numbers} == {
        "员工数": "1", "待审核加入申请": "0", "无部门员工": "0", "从未激活": "0",
        "今日登录": "1"}
    audit = client.get("/admin/audit", status=200)
    assert "console.step_up" in audit.text
    # 30 minutes later it asks again
    clock.advance(minutes=29)
    client.get("/admin/security", status=200)
    clock.advance(minutes=1, seconds=1)
    client.get("/admin/security", status=303)
    web_step_up(client, PASSWORD)
    client.get("/admin/security", status=200)
    # a new login needs a new confirmation
    web_login(client, tenant)
    client.get("/admin", status=303)


def test_admin_console_is_for_admins_only(app: TestApp,
                                          enterprise: Callable[..., Tenant]):
    tenant = enterprise()
    admin = login_admin(app, tenant)
    admin.create("user", {"name": "小王", "phone": "13900000001",
                          "password": "clerk-pass-1",
                          "main_department": tenant.department_id})
    clerk = Tenant(tenant.account, tenant.enterprise_id, "", "", "13900000001",
                   "clerk-pass-1")
    client = browser(app)
    assert web_login(client, clerk).location.endswith("/app")
    assert client.get("/admin", status=403).status_int == 403
    client.get("/admin/verify", status=403)
    # a bearer token does not open the pages
    app.get("/admin", headers={"Authorization": f"Bearer {admin.token}"}, status=303)


def test_security_page_revokes_and_resets_with_an_audit_trail(
        app: TestApp, enterprise: Callable[..., Tenant], clock: Clock):
    tenant = enterprise()
    admin = login_admin(app, tenant)
    admin.create("user", {"name": "<i>小王</i>", "phone": "13900000001",
                          "password": "clerk-pass-1",
                          "main_department": tenant.department_id})
    clerk = login(app, tenant.account, "13900000001", "clerk-pass-1")
    client = browser(app)
    web_login(client, tenant)
    web_step_up(client, PASSWORD)
    page = client.get("/admin/security", status=200)
    assert "&lt;i&gt;小王&lt;/i&gt;" in page.text and "<i>小王" not in page.text
    form = next(f for f in page.forms.values()
                if f.action == "/admin/security/revoke-user"
                and f["id"].value != tenant.admin_id)
    form.submit(status=303)
    clerk.get("/objects", status=401)
    page = client.get("/admin/security")
    form = form_of(page, "/admin/security/reset")
    form["login"], form["password"] = "13900000001", "short"
    assert "密码至少 8 位" in form.submit(status=400).text
    form["login"], form["password"] = "13999999999", "long-enough-1"
    assert "没有使用该手机号或登录名的员工" in form.submit(status=400).text
    form["login"], form["password"] = "13900000001", "long-enough-1"
    done = form.submit(status=303).follow()
    assert "密码已重置" in done.text
    login(app, tenant.account, "13900000001", "long-enough-1")
    audit = client.get("/admin/audit").text
    for action in ("user.password_reset", "session.revoke_all", "console.step_up"):
        assert action in audit


def test_account_page_password_tokens_and_logout_everywhere(
        app: TestApp, enterprise: Callable[..., Tenant]):
    tenant = enterprise()
    elsewhere = login_admin(app, tenant)
    client = browser(app)
    web_login(client, tenant)
    page = client.get("/account")
    form = form_of(page, "/account/create-token")
    form["label"] = "备份脚本"
    made = form.submit(status=200)
    token = made.html.find(id="token-value")["value"]
    assert made.headers["Cache-Control"] == "no-store"
    bearer(app, token).get("/objects", status=200)
    assert token not in client.get("/account").text  # shown once
    form = form_of(client.get("/account"), "/account/password")
    form["old_password"], form["new_password"] = "wrong-one", "changed-pass-1"
    assert "原密码错误" in form.submit(status=400).text
    form["old_password"], form["new_password"] = PASSWORD, "changed-pass-1"
    assert "密码已修改" in form.submit(status=303).follow().text
    elsewhere.get("/objects", status=401)
    bearer(app, token).get("/objects", status=200)
    form = form_of(client.get("/account"), "/account/logout-all")
    assert form.submit(status=303).location.endswith("/login")
    bearer(app, token).get("/objects", status=401)
    client.get("/account", status=303)


def test_language_switch_and_accept_language(app: TestApp):
    client = browser(app)
    assert "<h1>登录</h1>" in client.get("/login").text
    assert "<h1>Log in</h1>" in client.get(
        "/login", headers={"Accept-Language": "en-US,en;q=0.9"}).text
    switched = client.get("/lang/en?next=/register", status=303)
    assert switched.location.endswith("/register")
    assert "<h1>Log in</h1>" in client.get("/login").text
    assert client.get("/lang/zh?next=//evil.example/x", status=303
                      ).location.endswith("/login")
    assert "<h1>登录</h1>" in client.get("/login").text


def test_the_front_door_leads_to_the_login(app: TestApp):
    response = app.get("/", status=303)
    assert response.location.endswith("/login?next=%2F")
    assert "<form" in response.follow().text


def _session_cookie(app: TestApp) -> SignedSerializer:
    """What signs the session cookie, as Pyramid's SignedCookieSessionFactory
    makes it (the test knows the server's secret)."""
    secret = derived_secret(app.app.registry.settings["propolis.secret"], "session")
    return SignedSerializer(secret, "pyramid.session.", "sha512",
                            serializer=JSONSerializer())


def test_the_cookie_carries_a_session_id_not_a_bearer_token(
        app: TestApp, enterprise: Callable[..., Tenant]):
    """Issue 10.5: the cookie carried the raw bearer token."""
    tenant = enterprise()
    client = browser(app)
    web_login(client, tenant)
    signer = _session_cookie(app)
    accessed, created, state = signer.loads(client.cookies["propolis_session"])
    assert "token" not in state
    sid = state[SESSION_ID]
    client.get("/api/v1/objects", status=200)
    # the session's id is no bearer token ...
    bearer(app, sid).get("/objects", status=401)
    # ... and a bearer token is no session id
    api_token = login_admin(app, tenant).token
    forged = browser(app)
    forged.set_cookie("propolis_session", signer.dumps(
        (accessed, created, {**state, SESSION_ID: api_token})).decode())
    forged.get("/api/v1/objects", status=401)
