"""Steps several browser tests share."""

from __future__ import annotations

from tests.common.api import Tenant


def log_in(page, tenant: Tenant, login: str | None = None,  # noqa: ANN001
           password: str | None = None) -> None:
    """Logs in through the login page, by the labels a user reads (zh)."""
    page.goto("/login")
    page.get_by_label("企业账号").fill(tenant.account)
    page.get_by_label("手机号或登录名").fill(login or tenant.phone)
    page.get_by_label("密码").fill(password or tenant.password)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(lambda url: "/login" not in url)
