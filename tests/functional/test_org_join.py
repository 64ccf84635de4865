"""Joining by invitation: link → join request → admin review → login."""

from __future__ import annotations

from collections.abc import Callable

from webtest import TestApp

from tests.common.api import Tenant, error, login_admin
from tests.common.org import login_as

JOIN = "/api/v1/org/join"


def test_link_invitation_to_approval_and_login(
        app: TestApp, enterprise: Callable[..., Tenant]) -> None:
    tenant = enterprise("蜂胶科技")
    admin = login_admin(app, tenant)
    sales = admin.post("/org/departments", {"name": "销售部",
                                            "parent": tenant.department_id},
                       status=201).json
    invitation = admin.post("/org/invitations", {"department": sales["id"]},
                            status=201).json
    assert invitation["kind"] == "link" and invitation["usable"] is True
    token = invitation["token"]
    assert invitation["url"].endswith(f"/join/{token}")
    # the join page's data, without logging in
    info = app.get(f"{JOIN}/{token}", status=200).json
    assert info["enterprise"] == "蜂胶科技"
    assert info["department"] == {"id": sales["id"], "name": "销售部"}
    filed = app.post_json(JOIN, {"token": token, "name": "新同事",
                                 "phone": "13900000001",
                                 "password": "new-colleague-1"}, status=201).json
    assert filed["status"] == "pending"
    # a pending request never logs in
    response = app.post_json("/api/v1/session", {
        "account": tenant.account, "login": "13900000001",
        "password": "new-colleague-1"}, status=401)
    assert error(response)["code"] == "login_failed"
    pending = admin.get("/org/join-requests?status=pending").json["requests"]
    assert [(r["id"], r["name"], r["status"]) for r in pending] == [
        (filed["id"], "新同事", "pending")]
    assert admin.get("/org/summary").json["pending_join_requests"] == 1
    approved = admin.post(f"/org/join-requests/{filed['id']}/approve",
                          {"position": "销售代表"}, status=200).json
    user = approved["user"]
    assert (user["status"], user["main_department"], user["position"]) == \
        ("active", sales["id"], "销售代表")
    assert user["roles"] == ["employee"]
    assert admin.get("/org/join-requests?status=pending").json["requests"] == []
    # now the password chosen when joining works
    newcomer = login_as(app, tenant.account, "13900000001", "new-colleague-1")
    me = newcomer.get(f"/objects/user/records/{user['id']}", status=200).json
    assert me["name"] == "新同事"
    # an approved request cannot be reviewed again
    response = admin.post(f"/org/join-requests/{filed['id']}/reject",
                          {"reason": "x"}, status=409)
    assert error(response)["code"] == "already_reviewed"
    events = admin.get("/org/summary").json
    assert events["pending_join_requests"] == 0


def test_rejection_with_a_reason(app: TestApp,
                                 enterprise: Callable[..., Tenant]) -> None:
    tenant = enterprise()
    admin = login_admin(app, tenant)
    token = admin.post("/org/invitations", {}, status=201).json["token"]
    filed = app.post_json(JOIN, {"token": token, "name": "陌生人",
                                 "phone": "13900000002",
                                 "password": "stranger-pass"}, status=201).json
    response = admin.post(f"/org/join-requests/{filed['id']}/reject", {},
                          status=400)
    assert list(error(response)["fields"]) == ["reason"]
    rejected = admin.post(f"/org/join-requests/{filed['id']}/reject",
                          {"reason": "不是本公司员工"}, status=200).json
    assert (rejected["status"], rejected["reason"]) == ("rejected", "不是本公司员工")
    app.post_json("/api/v1/session", {"account": tenant.account,
                                      "login": "13900000002",
                                      "password": "stranger-pass"}, status=401)
    listed = admin.get("/org/join-requests?status=rejected").json["requests"]
    assert [r["id"] for r in listed] == [filed["id"]]
    # the same phone may ask again after a rejection
    app.post_json(JOIN, {"token": token, "name": "陌生人", "phone": "13900000002",
                         "password": "stranger-pass"}, status=201)


def test_phone_invitation_message_and_bad_tokens(
        app: TestApp, enterprise: Callable[..., Tenant]) -> None:
    tenant = enterprise("蜂胶科技")
    admin = login_admin(app, tenant)
    invitation = admin.in_language("en").post(
        "/org/invitations", {"phone": "13900000003", "expires_in_days": 2},
        status=201).json
    # not sent from here: the admin forwards the stored message
    assert invitation["kind"] == "phone" and invitation["target"] == "13900000003"
    assert invitation["url"] in invitation["message"]["zh"]
    assert "蜂胶科技" in invitation["message"]["en"]
    listed = admin.get("/org/invitations").json["invitations"]
    assert [i["message"] for i in listed] == [invitation["message"]]
    response = app.post_json(JOIN, {"token": invitation["token"], "name": "别人",
                                    "phone": "13900000004",
                                    "password": "someone-else"}, status=400)
    assert list(error(response)["fields"]) == ["phone"]
    for token in ("garbage", f"{tenant.account}.{'x' * 32}",
                  "nosuch.abcdefghijklmnopqrstuvwxyz"):
        response = app.post_json(JOIN, {"token": token, "name": "x",
                                        "phone": "13900000005",
                                        "password": "whatever-1"}, status=400)
        assert error(response)["code"] == "invalid_invitation"
        app.get(f"{JOIN}/{token}", status=400)
    # revoked: the link is dead
    admin.delete(f"/org/invitations/{invitation['id']}", status=200)
    response = app.post_json(JOIN, {"token": invitation["token"], "name": "本人",
                                    "phone": "13900000003",
                                    "password": "the-invitee"}, status=400)
    assert "撤销" in error(response)["message"]
    assert admin.get("/org/invitations").json["invitations"] == []
    # another enterprise's admin sees none of it
    other = login_admin(app, enterprise())
    assert other.get("/org/invitations?all=1").json["invitations"] == []
    assert other.get("/org/join-requests").json["requests"] == []
