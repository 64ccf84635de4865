"""Logging in and out (CONTRACT §4: ``POST /api/v1/session`` → token)."""

from __future__ import annotations

from collections.abc import Callable

from webtest import TestApp

from tests.common.api import PASSWORD, ApiClient, Tenant, error, login_admin


def test_login_gives_a_token_for_the_enterprise(app: TestApp,
                                                enterprise: Callable[..., Tenant]):
    tenant = enterprise()
    response = app.post_json("/api/v1/session", {
        "account": tenant.account.upper(), "login": " 13800000000 ",
        "password": PASSWORD}, status=200)
    body = response.json
    assert set(body) == {"token", "user_id", "account"}
    assert body["user_id"] == tenant.admin_id
    assert body["account"] == tenant.account
    assert len(body["token"]) >= 40
    client = ApiClient(app, body["token"])
    me = client.read("user", tenant.admin_id)
    assert me["phone"] == "13800000000"
    assert [o["api_name"] for o in client.get("/objects").json["objects"]] == [
        "department", "user"]


def test_wrong_password_and_unknown_account_answer_alike(
        app: TestApp, enterprise: Callable[..., Tenant]):
    tenant = enterprise()
    answers = []
    for body in (
        {"account": tenant.account, "login": tenant.phone, "password": "wrong-pass"},
        {"account": tenant.account, "login": "13999999999", "password": PASSWORD},
        {"account": "nosuchaccount", "login": tenant.phone, "password": PASSWORD},
    ):
        response = app.post_json("/api/v1/session", body, status=401)
        assert response.headers["WWW-Authenticate"] == "Bearer"
        answers.append(error(response))
    # one message for every case: nothing tells which part was wrong
    assert answers[0] == answers[1] == answers[2] == {
        "code": "login_failed", "message": "企业账号、登录名或密码错误", "fields": {}}
    english = app.post_json("/api/v1/session", {
        "account": "nosuchaccount", "login": "x", "password": "y"},
        headers={"Accept-Language": "en"}, status=401)
    assert error(english)["message"] == "Wrong enterprise account, login or password"


def test_login_needs_every_part(app: TestApp):
    response = app.post_json("/api/v1/session", {"account": "a", "login": ""},
                             status=400)
    assert error(response) == {"code": "invalid", "message": "请填写 login",
                               "fields": {"login": ["必填"]}}
    response = app.post_json("/api/v1/session", {"account": "a", "login": "b"},
                             status=400)
    assert error(response)["fields"] == {"password": ["必填"]}


def test_logout_revokes_the_token(app: TestApp, enterprise: Callable[..., Tenant]):
    tenant = enterprise()
    client = login_admin(app, tenant)
    other = login_admin(app, tenant)
    client.get("/objects", status=200)
    client.delete("/session", status=204)
    response = client.get("/objects", status=401)
    assert error(response) == {"code": "unauthenticated", "message": "请先登录",
                               "fields": {}}
    client.delete("/session", status=401)  # already gone
    # another session of the same user is not affected
    other.get("/objects", status=200)


def test_a_made_up_token_is_refused(app: TestApp):
    for header in ("Bearer not-a-token", "Bearer ", "Basic dXNlcjpwYXNz", "Bearer"):
        response = app.get("/api/v1/objects", headers={"Authorization": header},
                           status=401)
        assert error(response)["code"] == "unauthenticated"
