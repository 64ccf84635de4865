import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select, update

from propolis.platform.audit import entries
from propolis.platform.auth.passwords import verify_password
from propolis.platform.errors import AppError, both
from propolis.platform.org.invitations import (
    Invitations,
    file_join_request,
    token_account,
)
from propolis.platform.org.services import OrgService
from propolis.platform.storage.platform_tables import org_invitations, org_join_requests
from tests.common.org import ADMIN_PHONE, OrgTenant


@pytest.fixture
def invites(org: OrgService, tenant: OrgTenant) -> Invitations:
    return Invitations(org, enterprise_name="组织测试", account=tenant.account,
                       base_url="https://propolis.example")


def refused(fn: Any, *args: Any, **kw: Any) -> AppError:
    with pytest.raises(AppError) as info:
        fn(*args, **kw)
    return info.value


def join(org: OrgService, **data: Any) -> dict[str, Any]:
    body = {"name": "新人", "phone": "13700000001", "password": "long-enough", **data}
    return file_join_request(org.conn, org.users, body, ip="10.0.0.1")


def test_link_invitation_to_approval(org: OrgService, invites: Invitations,
                                     tenant: OrgTenant) -> None:
    sales = org.create_department({"name": "销售部", "parent": tenant.head_office})
    made = invites.create({"department": sales["id"], "expires_in_days": 3})
    assert made["kind"] == "link" and made["max_uses"] is None
    assert made["url"] == f"https://propolis.example/join/{made['token']}"
    assert token_account(made["token"]) == tenant.account
    assert made["url"] in made["message"]["zh"] and made["url"] in made["message"]["en"]
    assert "销售部" in made["message"]["zh"]
    assert [i["id"] for i in invites.listing()] == [made["id"]]
    first = join(org, token=made["token"])
    join(org, token=made["token"], phone="13700000002", name="另一位")
    assert first["status"] == "pending"
    stored = org.conn.execute(select(org_join_requests).where(
        org_join_requests.c.id == first["id"])).one()
    assert verify_password(stored.password_hash, "long-enough")
    pending = invites.requests("pending")
    assert [r["phone"] for r in pending] == ["13700000001", "13700000002"]
    assert "password_hash" not in pending[0]
    # nobody is a user yet
    assert org.conn.execute(select(org.users.c.id).where(
        org.users.c.phone == "13700000001")).first() is None
    approved = invites.approve(first["id"], {"position": "销售"})
    user = approved["user"]
    assert (user["status"], user["main_department"], user["position"]) == \
        ("active", sales["id"], "销售")
    assert approved["request"]["status"] == "approved"
    # the password chosen when joining is the user's, hashed once
    password = org.conn.execute(select(org.users.c.password).where(
        org.users.c.id == user["id"])).scalar_one()
    assert password == stored.password_hash
    assert verify_password(password, "long-enough")
    assert org.records.history("user", user["id"])[-1]["changes"] == {
        "password": [None, "******"]}
    assert approved["request"]["user"] == user["id"]
    assert [e["action"] for e in entries(org.conn, limit=2)] == [
        "join_request.approve", "user.join"]
    assert refused(invites.approve, first["id"], {}).status == 409
    rejected = invites.reject(pending[1]["id"], {"reason": "不认识"})
    assert (rejected["status"], rejected["reason"]) == ("rejected", "不认识")
    assert [r["status"] for r in invites.requests(None)] == ["approved", "rejected"]
    assert list(refused(invites.requests, "maybe").fields) == ["status"]


def test_phone_invitation_is_for_that_phone_once(org: OrgService,
                                                 invites: Invitations) -> None:
    made = invites.create({"phone": "13700000005"})
    assert (made["kind"], made["target"], made["max_uses"]) == \
        ("phone", "13700000005", 1)
    error = refused(join, org, token=made["token"], phone="13700000006")
    assert list(error.fields) == ["phone"]
    join(org, token=made["token"], phone="13700000005")
    error = refused(join, org, token=made["token"], phone="13700000005")
    assert error.code == "invalid_invitation" and list(error.fields) == ["token"]
    assert "already been used" in both(error.message)["en"]
    assert invites.listing() == []
    assert len(invites.listing(usable_only=False)) == 1
    # an email invitation takes the invited email
    mail = invites.create({"email": "new@example.com"})
    filed = join(org, token=mail["token"], phone="13700000007")
    assert invites.requests("pending")[-1]["email"] == "new@example.com"
    assert filed["status"] == "pending"


@pytest.mark.parametrize(("body", "field"), [
    ({"phone": "13700000001", "email": "a@b.cn"}, "email"),
    ({"phone": ADMIN_PHONE}, "phone"),
    ({"phone": "call me"}, "phone"),
    ({"email": "nope"}, "email"),
    ({"department": "missing"}, "department"),
    ({"expires_in_days": 0}, "expires_in_days"),
    ({"expires_in_days": 91}, "expires_in_days"),
    ({"expires_in_days": True}, "expires_in_days"),
    ({"uses": 3}, "uses"),
])
def test_invitation_refused(invites: Invitations, body: dict[str, Any],
                            field: str) -> None:
    assert list(refused(invites.create, body).fields) == [field]


def test_join_refusals(org: OrgService, invites: Invitations) -> None:
    made = invites.create({})
    token = made["token"]
    error = refused(join, org, token=token, name=" ", phone="x", password="short")
    assert set(error.fields) == {"name", "phone", "password"}
    assert list(refused(join, org, token=token, phone=ADMIN_PHONE).fields) == ["phone"]
    join(org, token=token)
    error = refused(join, org, token=token)  # already waiting for review
    assert "waiting" in both(error.fields["phone"][0])["en"]
    for bad in ("nope", None, 5, made["token"] + "x", "zz." + "a" * 30):
        assert list(refused(join, org, token=bad).fields) == ["token"]
    assert list(refused(join, org, token=token, extra=1).fields) == ["extra"]
    # expired, then revoked
    org.conn.execute(update(org_invitations).values(
        expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)))
    assert "expired" in both(refused(join, org, token=token,
                                     phone="13700000009").message)["en"]
    org.conn.execute(update(org_invitations).values(
        expires_at=dt.datetime.now(dt.UTC) + dt.timedelta(days=1)))
    assert invites.revoke(made["id"])["usable"] is False
    assert "revoked" in both(refused(join, org, token=token,
                                     phone="13700000009").message)["en"]
    assert list(refused(invites.reject, invites.requests("pending")[0]["id"],
                        {"reason": ""}).fields) == ["reason"]
