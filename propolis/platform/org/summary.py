"""The numbers of the admin console's home page: employees, departments, requests
to join, logins."""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any

from sqlalchemy import Connection, func, select
from sqlalchemy.orm import Session

from propolis.metadata.validation import load_system_objects
from propolis.platform.auth.tokens import PERSONAL
from propolis.platform.fields.values import zone
from propolis.platform.org.base import PRESENT
from propolis.platform.storage.platform_tables import org_join_requests
from propolis.platform.storage.system import AccessToken, LoginEvent
from propolis.platform.storage.tables import TenantTables


@functools.cache
def _system_tables() -> TenantTables:
    # The summary only reads system columns of the system objects, which every
    # enterprise has whatever else its metadata adds.
    return TenantTables({o["api_name"]: o for o in load_system_objects()})


def console_summary(
    conn: Connection | Session,
    sysdb: Connection | Session,
    enterprise_id: int,
    *,
    tz: str = "Asia/Shanghai",
    now: dt.datetime | None = None,
) -> dict[str, int]:
    """The numbers on the admin console's home page:

    - ``employees``: active users;
    - ``pending_join_requests``: join requests waiting for review (待审核);
    - ``without_department``: active users in no department;
    - ``never_activated``: active or pending users who never logged in;
    - ``logged_in_today``: users who logged in since midnight in ``tz``.

    A login is a successful login event, or — for tokens issued without one — an
    access token other than a personal API token. ``conn`` is the enterprise's
    storage, ``sysdb`` the system database."""
    tables = _system_tables()
    users = tables.main["user"]
    user_departments = tables.children["user"]["departments"]
    live = users.c.deleted_at.is_(None)

    def scalar(stmt: Any) -> int:
        return int(conn.execute(stmt).scalar_one())

    def logged_in(since: dt.datetime | None) -> set[str]:
        events = select(LoginEvent.user_id).where(
            LoginEvent.enterprise_id == enterprise_id, LoginEvent.success.is_(True))
        tokens = select(AccessToken.user_id).where(
            AccessToken.enterprise_id == enterprise_id,
            AccessToken.kind != PERSONAL)
        if since is not None:
            events = events.where(LoginEvent.at >= since)
            tokens = tokens.where(AccessToken.created_at >= since)
        return set(sysdb.execute(events.union(tokens)).scalars())

    employees = scalar(select(func.count()).select_from(users).where(
        live, users.c.status == "active"))
    pending = scalar(select(func.count()).select_from(org_join_requests).where(
        org_join_requests.c.status == "pending"))
    without = scalar(select(func.count()).select_from(users).where(
        live, users.c.status == "active", users.c.main_department.is_(None),
        ~users.c.id.in_(select(user_departments.c.parent_id))))
    present = set(conn.execute(select(users.c.id).where(
        live, users.c.status.in_(PRESENT))).scalars())
    midnight = (now or dt.datetime.now(dt.UTC)).astimezone(zone(tz)).replace(
        hour=0, minute=0, second=0, microsecond=0)
    return {"employees": employees, "pending_join_requests": pending,
            "without_department": without,
            "never_activated": len(present - logged_in(None)),
            "logged_in_today": len(logged_in(midnight.astimezone(dt.UTC)))}
