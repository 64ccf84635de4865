"""A password set through the record API (``PATCH /objects/user/records/{id}``)
ends sessions exactly as the password routes do: one's own, the other login
sessions (personal API tokens stay); someone else's, every token of theirs."""

from __future__ import annotations

from collections.abc import Callable

from webtest import TestApp

from tests.common.api import ApiClient, Tenant, login, login_admin


def bearer(app: TestApp, token: str) -> ApiClient:
    return ApiClient(app, token)


def test_setting_ones_own_password_ends_the_other_login_sessions(
    app: TestApp, enterprise: Callable[..., Tenant]
) -> None:
    tenant = enterprise()
    current, other = login_admin(app, tenant), login_admin(app, tenant)
    personal = bearer(app, current.post("/tokens", {"label": "ci"}, status=201
                                        ).json["token"])
    # a change that leaves the password alone ends nothing
    current.patch(f"/objects/user/records/{tenant.admin_id}", {"position": "ceo"},
                  status=200)
    other.get("/objects", status=200)

    current.patch(f"/objects/user/records/{tenant.admin_id}",
                  {"password": "another-pass-1"}, status=200)
    current.get("/objects", status=200)
    other.get("/objects", status=401)
    personal.get("/objects", status=200)  # API tokens stay, as with POST /password
    login(app, tenant.account, tenant.phone, "another-pass-1")


def test_setting_someone_elses_password_ends_all_their_tokens(
    app: TestApp, enterprise: Callable[..., Tenant]
) -> None:
    tenant = enterprise()
    admin = login_admin(app, tenant)
    clerk = admin.create("user", {"name": "小王", "phone": "13900000001",
                                  "password": "clerk-pass-1",
                                  "main_department": tenant.department_id})
    session = login(app, tenant.account, "13900000001", "clerk-pass-1")
    personal = bearer(app, session.post("/tokens", {"label": "ci"}, status=201
                                        ).json["token"])
    admin.patch(f"/objects/user/records/{clerk['id']}",
                {"password": "fresh-start-1"}, status=200)
    session.get("/objects", status=401)
    personal.get("/objects", status=401)
    admin.get("/objects", status=200)
    login(app, tenant.account, "13900000001", "fresh-start-1")
