import datetime as dt
from zoneinfo import ZoneInfo

from sqlalchemy import insert

from propolis.platform.auth.tokens import PERSONAL, issue
from propolis.platform.ids import new_id
from propolis.platform.org.services import OrgService
from propolis.platform.org.summary import console_summary
from propolis.platform.storage.platform_tables import org_join_requests
from propolis.platform.storage.system import LoginEvent
from tests.common.org import OrgTenant

# Noon today in the enterprise's zone, as the UTC instant the system database
# stores (as the login code does).
NOON = dt.datetime.now(ZoneInfo("Asia/Shanghai")).replace(
    hour=12, minute=0, second=0, microsecond=0).astimezone(dt.UTC)


def summary(org: OrgService, tenant: OrgTenant) -> dict[str, int]:
    assert org.sysdb is not None
    return console_summary(org.conn, org.sysdb, tenant.enterprise_id, now=NOON)


def login_event(org: OrgService, tenant: OrgTenant, user_id: str, at: dt.datetime,
                success: bool) -> None:
    assert org.sysdb is not None
    org.sysdb.execute(insert(LoginEvent).values(
        enterprise_id=tenant.enterprise_id, user_id=user_id, at=at,
        success=success, flags=[]))


def join_request(org: OrgService, status: str, phone: str) -> None:
    org.conn.execute(insert(org_join_requests).values(
        id=new_id(), invitation_id="i", status=status, name="申请人", phone=phone,
        password_hash="$argon2-not-used", created_at=dt.datetime.now(dt.UTC)))


def test_console_summary_counts(org: OrgService, tenant: OrgTenant) -> None:
    assert summary(org, tenant) == {
        "employees": 1, "pending_join_requests": 0, "without_department": 0,
        "never_activated": 1, "logged_in_today": 0}
    assert org.sysdb is not None
    sysdb, eid = org.sysdb, tenant.enterprise_id
    dept = [tenant.head_office]
    loner = org.create_user({"name": "无部门", "phone": "13700000001",
                             "departments": []})["id"]
    org.create_user({"name": "待激活", "phone": "13700000002", "status": "pending"})
    gone = org.create_user({"name": "已停用", "phone": "13700000003",
                            "departments": dept})["id"]
    old_hand = org.create_user({"name": "老员工", "phone": "13700000004",
                                "departments": dept})["id"]
    failed = org.create_user({"name": "输错密码", "phone": "13700000005",
                              "departments": dept})["id"]
    issue(sysdb, eid, tenant.admin_id, now=NOON - dt.timedelta(hours=1))
    issue(sysdb, eid, loner, kind=PERSONAL, now=NOON)  # a personal token is no login
    issue(sysdb, eid, gone, now=NOON)
    org.disable_user(gone, None)
    login_event(org, tenant, old_hand, NOON - dt.timedelta(days=3), True)
    login_event(org, tenant, failed, NOON, False)
    for status, phone in (("pending", "1"), ("pending", "2"), ("rejected", "3")):
        join_request(org, status, phone)
    assert summary(org, tenant) == {
        "employees": 4,  # admin, loner, old_hand, failed
        "pending_join_requests": 2,
        "without_department": 1,  # loner
        "never_activated": 3,  # loner, the pending one, failed
        "logged_in_today": 1,  # the admin
    }
    # a login today recorded only as an event counts as well
    login_event(org, tenant, old_hand, NOON, True)
    assert summary(org, tenant)["logged_in_today"] == 2
    # yesterday is not today
    late = NOON - dt.timedelta(hours=12, minutes=1)
    issue(sysdb, eid, failed, now=late)
    found = summary(org, tenant)
    assert (found["logged_in_today"], found["never_activated"]) == (2, 2)
