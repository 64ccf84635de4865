"""Logging in through the API under attack (captcha, back-off), registration,
sessions and devices, passwords and personal tokens (issue 3, part 1)."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import DatabaseError
from webtest import TestApp, TestResponse

from propolis.platform.audit import entries
from propolis.platform.db import Database
from propolis.platform.storage.platform_tables import audit_log
from propolis.platform.web.client import trusted_networks
from tests.common.accounts import (
    Clock,
    api_login,
    bearer,
    browser,
    clock,
    solved_captcha,
)
from tests.common.api import PASSWORD, Tenant, error, login, login_admin
from tests.conftest import unique_account

__all__ = ["clock"]  # the fixture


def unique_ip() -> str:
    return f"2001:db8:{uuid.uuid4().hex[:4]}::{uuid.uuid4().hex[:4]}"


def test_brute_force_needs_a_captcha_then_waits(
        app: TestApp, enterprise: Callable[..., Tenant], clock: Clock):
    tenant = enterprise()
    client = browser(app, ip=unique_ip())
    for _ in range(3):
        assert error(api_login(client, tenant, "wrong-password", status=401))[
            "code"] == "login_failed"
    # the 4th attempt needs a captcha, whatever the password
    for password in ("wrong-password", PASSWORD):
        response = api_login(client, tenant, password, status=401)
        assert error(response) == {"code": "captcha_required",
                                   "message": "请输入验证码",
                                   "fields": {"captcha": ["必填"]}}
    # the right password with a wrong captcha fails
    captcha_id, answer = solved_captcha(app)
    wrong = "".join("A" if c != "A" else "C" for c in answer)
    response = api_login(client, tenant, captcha_id=captcha_id, captcha=wrong,
                         status=401)
    assert error(response)["code"] == "captcha_invalid"
    # and a captcha answers once: the right answer to a used one fails too
    response = api_login(client, tenant, captcha_id=captcha_id, captcha=answer,
                         status=401)
    assert error(response)["code"] == "captcha_invalid"
    # five failures: back-off; inside the window even everything right is a 429
    captcha_id, answer = solved_captcha(app)
    response = api_login(client, tenant, captcha_id=captcha_id, captcha=answer,
                         headers={"Accept-Language": "en"}, status=429)
    assert response.headers["Retry-After"] == "1"
    assert error(response) == {"code": "too_many_attempts",
                               "message": "Too many attempts; try again in 1 s",
                               "fields": {}}
    clock.advance(seconds=1)
    # the captcha was not used up by the refused attempt; a 6th failure doubles
    api_login(client, tenant, "wrong-password", captcha_id=captcha_id,
              captcha=answer, status=401)
    captcha_id, answer = solved_captcha(app)
    response = api_login(client, tenant, captcha_id=captcha_id, captcha=answer,
                         status=429)
    assert response.headers["Retry-After"] == "2"
    assert error(response)["message"] == "尝试次数过多，请 2 秒后再试"
    clock.advance(seconds=1)
    assert api_login(client, tenant, captcha_id=captcha_id, captcha=answer,
                     status=429).headers["Retry-After"] == "1"
    clock.advance(seconds=1)
    token = api_login(client, tenant, captcha_id=captcha_id, captcha=answer
                      ).json["token"]
    bearer(app, token).get("/objects", status=200)
    # success resets the counters: no captcha, no wait
    api_login(client, tenant, status=200)
    for _ in range(3):
        api_login(client, tenant, "wrong-password", status=401)
    api_login(client, tenant, status=401)  # counting from zero again


def test_failures_from_one_address_count_across_logins(
        app: TestApp, enterprise: Callable[..., Tenant], clock: Clock):
    tenant = enterprise()
    ip = unique_ip()
    client = browser(app, ip=ip)
    # guessing over logins that do not exist looks exactly like any failure
    for n in range(3):
        response = client.post_json("/api/v1/session", {
            "account": f"nosuch{n}", "login": "13800000000", "password": "x"},
            status=401)
        assert error(response)["code"] == "login_failed"
    assert error(api_login(client, tenant, status=401))["code"] == "captcha_required"
    # elsewhere, the same person logs in without a captcha
    api_login(browser(app, ip=unique_ip()), tenant, status=200)
    captcha_id, answer = solved_captcha(app)
    api_login(client, tenant, captcha_id=captcha_id, captcha=answer, status=200)
    # logging into one's own account does not forgive the guesses at others
    assert error(api_login(client, tenant, status=401))["code"] == "captcha_required"


def test_registration_through_the_api(app: TestApp):
    account = unique_account("r")
    response = app.post_json("/api/v1/enterprises", {
        "account": account.upper(), "name": "蜂胶科技", "admin_name": "张三",
        "phone": "13800000001", "password": "a-good-password"}, status=201)
    assert response.json == {"account": account,
                             "admin_id": response.json["admin_id"]}
    admin = login(app, account, "13800000001", "a-good-password")
    me = admin.read("user", response.json["admin_id"])
    assert me["name"] == "张三" and "admin" in me["roles"]
    # the account is taken now
    response = app.post_json("/api/v1/enterprises", {
        "account": account, "name": "x", "admin_name": "x", "phone": "13800000002",
        "password": "a-good-password"}, status=409)
    assert error(response)["fields"] == {"account": ["已被使用"]}


def test_registration_names_every_bad_field(app: TestApp):
    response = app.post_json("/api/v1/enterprises", {
        "account": "1bad", "name": "", "phone": "abc", "password": "short"},
        status=400)
    assert error(response)["fields"] == {
        "account": ["企业账号须以小写字母开头，由 2–31 个小写字母、数字或下划线组成"],
        "name": ["必填"], "admin_name": ["必填"], "phone": ["请填写有效的手机号"],
        "password": ["密码至少 8 位"]}
    english = app.post_json("/api/v1/enterprises", {"account": "ok_name", "x": 1},
                            headers={"Accept-Language": "en"}, status=400)
    assert error(english)["fields"] == {"x": ["unknown key"]}
    english = app.post_json("/api/v1/enterprises", {
        "account": "ok_name", "name": "n", "admin_name": "a", "phone": "13800000000",
        "password": "p" * 129}, headers={"Accept-Language": "en"}, status=400)
    assert error(english)["fields"] == {
        "password": ["The password has at most 128 characters"]}


def test_logout_everywhere_ends_every_token(app: TestApp,
                                            enterprise: Callable[..., Tenant]):
    tenant = enterprise()
    first, second = login_admin(app, tenant), login_admin(app, tenant)
    personal = bearer(app, first.post("/tokens", {"label": "ci"}, status=201
                                      ).json["token"])
    other = enterprise()
    bystander = login_admin(app, other)
    assert len(first.get("/sessions").json["sessions"]) == 2
    second.delete("/sessions", status=204)
    for client in (first, second, personal):
        client.get("/objects", status=401)
    bystander.get("/objects", status=200)


def test_each_login_is_a_new_session_listed_with_its_device(
        app: TestApp, enterprise: Callable[..., Tenant], clock: Clock):
    tenant = enterprise()
    office = browser(app, ip="203.0.113.10", user_agent="Office/1.0")
    first = api_login(office, tenant).json["token"]
    again = api_login(office, tenant).json["token"]
    assert first != again
    client = bearer(app, again)
    sessions = client.get("/sessions").json["sessions"]
    assert [(s["user_agent"], s["ip"], s["current"], s["flags"]) for s in sessions] \
        == [("Office/1.0", "203.0.113.10", True, []),
            ("Office/1.0", "203.0.113.10", False, [])]
    # "last used" is written at most once a minute
    used = sessions[0]["last_used_at"]
    clock.advance(seconds=30)
    client.get("/objects", status=200)
    assert client.get("/sessions").json["sessions"][0]["last_used_at"] == used
    clock.advance(seconds=31)
    client.get("/objects", status=200)
    assert client.get("/sessions").json["sessions"][0]["last_used_at"] > used
    # end the older one
    older = sessions[1]["id"]
    client.delete(f"/sessions/{older}", status=204)
    bearer(app, first).get("/objects", status=401)
    client.delete(f"/sessions/{older}", status=404)


def test_abnormal_logins_are_flagged_and_the_admin_can_end_them(
        app: TestApp, enterprise: Callable[..., Tenant], database: Database,
        clock: Clock):
    tenant = enterprise()
    admin = bearer(app, api_login(browser(app, ip="203.0.113.10",
                                          user_agent="Office/1.0"), tenant
                                  ).json["token"])
    # same network, same device: nothing unusual
    api_login(browser(app, ip="203.0.113.99", user_agent="Office/1.0"), tenant)
    # another network and another device
    away = api_login(browser(app, ip="198.51.100.5", user_agent="Phone/2.0"), tenant
                     ).json["token"]
    # after many failures
    late = browser(app, ip="203.0.113.10", user_agent="Office/1.0")
    for _ in range(3):
        api_login(late, tenant, "wrong-password", status=401)
    captcha_id, answer = solved_captcha(app)
    api_login(late, tenant, captcha_id=captcha_id, captcha=answer)

    overview = admin.get("/admin/sessions").json
    [user] = overview["users"]
    assert user["id"] == tenant.admin_id and user["phone"] == tenant.phone
    assert [s["flags"] for s in user["sessions"]] == [
        ["after_failures"], ["new_device", "new_ip_range"], [], []]
    assert [e["flags"] for e in overview["abnormal_logins"]] == [
        ["after_failures"], ["new_device", "new_ip_range"]]
    away_id = user["sessions"][1]["id"]
    admin.delete(f"/admin/sessions/{away_id}", status=204)
    bearer(app, away).get("/objects", status=401)
    admin.delete(f"/admin/sessions/{away_id}", status=404)
    # another enterprise's admin cannot see or end these sessions
    stranger = login_admin(app, enterprise())
    assert stranger.get("/admin/sessions").json["users"][0]["id"] != tenant.admin_id
    stranger.delete(f"/admin/sessions/{user['sessions'][0]['id']}", status=404)
    with database.tenant_engine(tenant.account).connect() as conn:
        [entry] = [e for e in entries(conn) if e["action"] == "session.revoke"]
    assert entry["actor_id"] == tenant.admin_id
    assert entry["target"] == f"user:{tenant.admin_id}"
    assert entry["details"] == {"session": away_id, "kind": "session"}


def test_password_change_needs_the_old_one_and_ends_other_sessions(
        app: TestApp, enterprise: Callable[..., Tenant]):
    tenant = enterprise()
    current, other = login_admin(app, tenant), login_admin(app, tenant)
    personal = bearer(app, current.post("/tokens", {"label": "ci"}, status=201
                                        ).json["token"])
    response = current.post("/password", {"old_password": "nope-nope",
                                          "new_password": "another-pass-1"},
                            status=400)
    assert error(response) == {"code": "wrong_password", "message": "原密码错误",
                               "fields": {"old_password": ["原密码错误"]}}
    response = current.post("/password", {"old_password": PASSWORD,
                                          "new_password": "short"}, status=400)
    assert error(response)["fields"] == {"new_password": ["密码至少 8 位"]}
    # a personal token may not change the password
    personal.post("/password", {"old_password": PASSWORD,
                                "new_password": "another-pass-1"}, status=403)
    assert current.post("/password", {"old_password": PASSWORD,
                                      "new_password": "another-pass-1"},
                        status=200).json == {"ended_sessions": 1}
    current.get("/objects", status=200)
    other.get("/objects", status=401)
    personal.get("/objects", status=200)  # API tokens stay
    login(app, tenant.account, tenant.phone, "another-pass-1")
    app.post_json("/api/v1/session", {"account": tenant.account, "login": tenant.phone,
                                      "password": PASSWORD}, status=401)


def test_an_admin_resets_a_password_and_the_audit_log_keeps_it(
        app: TestApp, enterprise: Callable[..., Tenant], database: Database):
    tenant = enterprise()
    admin = login_admin(app, tenant)
    clerk = admin.create("user", {"name": "小王", "phone": "13900000001",
                                  "password": "clerk-pass-1",
                                  "main_department": tenant.department_id})
    clerk_client = login(app, tenant.account, "13900000001", "clerk-pass-1")
    # not for employees
    response = clerk_client.post(f"/users/{tenant.admin_id}/password",
                                 {"password": "taken-over-1"}, status=403)
    assert error(response)["code"] == "admin_only"
    response = admin.post(f"/users/{clerk['id']}/password", {"password": "x"},
                          status=400)
    assert error(response)["fields"] == {"password": ["密码至少 8 位"]}
    assert admin.post(f"/users/{clerk['id']}/password",
                      {"password": "fresh-start-1"}, status=200
                      ).json == {"revoked_tokens": 1}
    clerk_client.get("/objects", status=401)
    login(app, tenant.account, "13900000001", "fresh-start-1")
    # a user of another enterprise is not found
    other = enterprise()
    admin.post(f"/users/{other.admin_id}/password", {"password": "fresh-start-1"},
               status=404)
    login_admin(app, other)
    engine = database.tenant_engine(tenant.account)
    with engine.connect() as conn:
        [entry] = [e for e in entries(conn) if e["action"] == "user.password_reset"]
    assert (entry["actor_id"], entry["target"], entry["details"]) == (
        tenant.admin_id, f"user:{clerk['id']}", {"revoked_tokens": 1})
    # the audit log refuses to be rewritten
    try:
        with engine.begin() as conn:
            conn.execute(update(audit_log).where(audit_log.c.id == entry["id"])
                         .values(actor_id="someone-else"))
    except DatabaseError as exc:
        assert "audit log cannot be changed" in str(exc)
    else:
        raise AssertionError("the audit log accepted an UPDATE")
    with engine.connect() as conn:
        assert conn.execute(select(audit_log.c.actor_id).where(
            audit_log.c.id == entry["id"])).scalar_one() == tenant.admin_id


def test_personal_tokens(app: TestApp, enterprise: Callable[..., Tenant],
                         clock: Clock):
    tenant = enterprise()
    me = login_admin(app, tenant)
    app.post_json("/api/v1/tokens", {"label": "x"}, status=401)
    response = me.post("/tokens", {"expires_in_days": 0, "scope": "all"}, status=400)
    assert error(response)["fields"] == {
        "label": ["必填"], "expires_in_days": ["应为 1–3650 的整数"],
        "scope": ["不支持的参数"]}
    made = me.post("/tokens", {"label": "报表脚本", "expires_in_days": 1},
                   status=201).json
    assert set(made) == {"id", "token", "label", "expires_at"}
    forever = me.post("/tokens", {"label": "sync"}, status=201).json
    assert forever["expires_at"] is None
    listed = me.get("/tokens").json["tokens"]
    assert [(t["id"], t["label"]) for t in listed] == [
        (forever["id"], "sync"), (made["id"], "报表脚本")]
    assert all("token" not in t for t in listed)  # shown once, at creation
    script = bearer(app, made["token"])
    assert script.get("/objects", status=200)
    # a token cannot make more tokens
    assert error(script.post("/tokens", {"label": "more"}, status=403))[
        "code"] == "session_required"
    # expiry
    clock.advance(days=1, seconds=1)
    script.get("/objects", status=401)
    sync = bearer(app, forever["token"])
    sync.get("/objects", status=200)
    # revoking
    me = login_admin(app, tenant)
    me.delete(f"/tokens/{forever['id']}", status=204)
    sync.get("/objects", status=401)
    me.delete(f"/tokens/{forever['id']}", status=404)


def test_remember_false_gives_a_short_session(app: TestApp,
                                              enterprise: Callable[..., Tenant],
                                              clock: Clock):
    tenant = enterprise()
    short = bearer(app, api_login(app, tenant, remember=False).json["token"])
    long = bearer(app, api_login(app, tenant).json["token"])
    clock.advance(hours=12, seconds=1)
    short.get("/objects", status=401)
    long.get("/objects", status=200)
    assert error(api_login(app, tenant, remember="yes", status=400))["fields"] == {
        "remember": ["应为布尔值"]}


def test_the_captcha_route_gives_an_image(app: TestApp):
    response = app.get("/api/v1/captcha", status=200)
    assert set(response.json) == {"id", "image"}
    assert response.json["image"].startswith("data:image/png;base64,")
    assert response.headers["Cache-Control"] == "no-store"


def test_guessing_the_password_through_a_session_is_throttled(
        app: TestApp, enterprise: Callable[..., Tenant], clock: Clock):
    tenant = enterprise()
    me = login_admin(app, tenant)
    for _ in range(5):
        me.post("/password", {"old_password": "guess-guess",
                              "new_password": "another-pass-1"}, status=400)
    response = me.post("/password", {"old_password": PASSWORD,
                                     "new_password": "another-pass-1"}, status=429)
    assert response.headers["Retry-After"] == "1"
    clock.advance(seconds=1)
    me.post("/password", {"old_password": PASSWORD,
                          "new_password": "another-pass-1"}, status=200)


def test_a_logged_in_users_failures_count_against_them_alone(
        app: TestApp, enterprise: Callable[..., Tenant], clock: Clock):
    """Issue 10.3: wrong old passwords and step-ups counted against the shared
    per-IP key, so one user behind a proxy locked everyone out of logging in."""
    ip = unique_ip()
    guesser_tenant, other = enterprise(), enterprise()
    office = browser(app, ip=ip)
    guesser = bearer(office, api_login(office, guesser_tenant).json["token"])
    for _ in range(6):
        guesser.post("/password", {"old_password": "guess-guess",
                                   "new_password": "another-pass-1"},
                     status=(400, 429))
    assert guesser.post("/password", {"old_password": PASSWORD,
                                      "new_password": "another-pass-1"},
                        status=429).headers["Retry-After"]
    # the others behind the same address log in without a captcha or a wait
    api_login(browser(app, ip=ip), other, status=200)
    api_login(browser(app, ip=ip), guesser_tenant, status=200)


def test_behind_a_trusted_proxy_the_forwarded_address_counts(
        app: TestApp, enterprise: Callable[..., Tenant], clock: Clock,
        monkeypatch: pytest.MonkeyPatch):
    tenant = enterprise()
    proxy = browser(app, ip="127.0.0.1")
    guesser, colleague = unique_ip(), unique_ip()

    def via_proxy(client_ip: str, password: str | None = None, status: int = 200
                  ) -> TestResponse:
        return api_login(proxy, tenant, password, status=status,
                         headers={"X-Forwarded-For": f"192.0.2.1, {client_ip}"})

    # untrusted, the header is ignored: everyone behind the proxy is one address
    token = via_proxy(guesser).json["token"]
    assert {s["ip"] for s in bearer(app, token).get("/sessions").json["sessions"]} \
        == {"127.0.0.1"}
    monkeypatch.setattr(app.app.registry, "trusted_proxies",
                        trusted_networks("127.0.0.1"))
    token = via_proxy(guesser).json["token"]
    assert guesser in {s["ip"] for s in
                       bearer(app, token).get("/sessions").json["sessions"]}
    for _ in range(3):
        via_proxy(guesser, "wrong-password", status=401)
    assert error(via_proxy(guesser, status=401))["code"] == "captcha_required"
    # the guesser's address is throttled, not the proxy's
    other = enterprise()
    api_login(proxy, other, status=200,
              headers={"X-Forwarded-For": colleague})
