"""Joining an enterprise: invitations (by link, or addressed to a phone or an
email), join requests filed with an invitation's token, and the admin's review of
them (待审核). Nobody becomes a user before an admin approves, so a pending request
can never log in.

Sending the invitation by SMS or email is not done here: the platform has no
messaging service yet. The text to send is stored with the invitation and given
back to the admin, who forwards it through whatever channel they use.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import zope.sqlalchemy
from sqlalchemy import Connection, Table, insert, or_, select, update
from transaction import TransactionManager
from zope.interface import implementer
from zope.sqlalchemy.datamanager import STATUS_CHANGED

from propolis.platform.accounts.services import password_problems
from propolis.platform.audit import record_event
from propolis.platform.auth.passwords import hash_password
from propolis.platform.db import ACCOUNT_RE, Database
from propolis.platform.errors import (
    COMMA,
    AppError,
    Conflict,
    Message,
    NotFound,
    _,
    both,
    joined,
)
from propolis.platform.fields.types.email import EMAIL_RE
from propolis.platform.fields.types.phone import PHONE_PATTERN
from propolis.platform.fields.values import to_json_value
from propolis.platform.ids import new_id
from propolis.platform.meta.effective import Effective, effective_cache, load_effective
from propolis.platform.org.base import check_keys, invalid, optional_id
from propolis.platform.org.interfaces import IInvitationService, IJoinService
from propolis.platform.storage.platform_tables import org_invitations, org_join_requests
from propolis.platform.storage.system import Enterprise

if TYPE_CHECKING:
    from propolis.platform.org.services import OrgService

PHONE_RE = re.compile(PHONE_PATTERN)
DEFAULT_DAYS = 7
MAX_DAYS = 90
REQUIRED = _("required")
STATUSES = ("pending", "approved", "rejected")
BAD_TOKEN = _("The invitation link is not valid")


def new_token(account: str) -> str:
    """``<account>.<secret>``: the account routes the join to its enterprise (no
    URL names a tenant otherwise), the 32-character secret is the proof."""
    return f"{account}.{secrets.token_urlsafe(24)}"


def token_account(token: Any) -> str:
    """The enterprise account a token belongs to (400 naming ``token`` if it
    cannot be one)."""
    if not isinstance(token, str):
        raise invalid("token", BAD_TOKEN, BAD_TOKEN, code="invalid_invitation")
    account, _sep, secret = token.partition(".")
    if not ACCOUNT_RE.match(account) or len(secret) < 20:
        raise invalid("token", BAD_TOKEN, BAD_TOKEN, code="invalid_invitation")
    return account


def _phone(value: Any, field: str = "phone", required: bool = True) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise invalid(field, REQUIRED)
        return None
    if not isinstance(value, str) or not PHONE_RE.search(value.strip()) \
            or len(value.strip()) > 64:
        raise invalid(field, _("not a valid phone number"))
    return value.strip()


def _email(value: Any, field: str = "email") -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str) or not EMAIL_RE.match(value.strip()) \
            or len(value.strip()) > 200:
        raise invalid(field, _("not a valid email address"))
    return value.strip()


def _invitation_json(row: Mapping[str, Any], base_url: str, tz: str,
                     now: dt.datetime) -> dict[str, Any]:
    return {
        "id": row["id"], "kind": row["kind"], "target": row["target"],
        "token": row["token"], "url": join_url(base_url, row["token"]),
        "department": row["department"], "message": row["message"],
        "max_uses": row["max_uses"], "uses": row["uses"],
        "expires_at": to_json_value(row["expires_at"], tz),
        "revoked_at": to_json_value(row["revoked_at"], tz),
        "created_by": row["created_by"],
        "created_at": to_json_value(row["created_at"], tz),
        "usable": _problem(row, now) is None,
    }


def join_url(base_url: str, token: str) -> str:
    """The link sent to invitees: the join page of the site, with the token."""
    return f"{base_url.rstrip('/')}/join/{token}"


def _problem(row: Mapping[str, Any], now: dt.datetime) -> Message | None:
    """Why an invitation can no longer be used (None: it can)."""
    if row["revoked_at"] is not None:
        return _("The invitation was revoked")
    if row["expires_at"] <= now:
        return _("The invitation has expired")
    if row["max_uses"] is not None and row["uses"] >= row["max_uses"]:
        return _("The invitation has already been used")
    return None


@implementer(IInvitationService)
class Invitations:
    """Invitations and join requests of one enterprise, for its admins."""

    def __init__(self, org: OrgService, *, enterprise_name: str, account: str,
                 base_url: str) -> None:
        self.org = org
        self.enterprise_name = enterprise_name
        self.account = account
        self.base_url = base_url

    @property
    def conn(self) -> Connection:
        return self.org.conn

    @property
    def tz(self) -> str:
        return self.org.records.tz

    def create(self, data: Mapping[str, Any]) -> dict[str, Any]:
        """A link invitation (no ``phone``/``email``: usable by anyone holding it
        until it expires) or one addressed to a ``phone`` or an ``email`` (used
        once, by that phone or email). ``department``: where the newcomer goes;
        ``expires_in_days``: 1–90, 7 by default. The answer carries the link and
        the message to forward (nothing is sent from here)."""
        data = check_keys(data, ("phone", "email", "department", "expires_in_days"))
        phone = _phone(data.get("phone"), required=False)
        email = _email(data.get("email"))
        if phone and email:
            raise invalid("email", _("give a phone or an email, not both"))
        days = data.get("expires_in_days", DEFAULT_DAYS)
        if isinstance(days, bool) or not isinstance(days, int) \
                or not 1 <= days <= MAX_DAYS:
            raise invalid("expires_in_days", _("must be a whole number from 1 to "
                                               "${max_days}",
                                               mapping={"max_days": MAX_DAYS}))
        department = optional_id(data, "department")
        dept_name = None
        if department is not None:
            dept_name = self.org.enabled_department(department, "department")["name"]
        if phone is not None:
            self._not_member("phone", phone)
        now = dt.datetime.now(dt.UTC)
        token = new_token(self.account)
        expires = now + dt.timedelta(days=days)
        url = join_url(self.base_url, token)
        inviter = self._inviter_name()
        when = to_json_value(expires, self.tz)[:16].replace("T", " ")
        where = _(" (${department})", mapping={"department": dept_name}) \
            if dept_name else ""
        message = _("${inviter} invites you to join ${enterprise_name}${where}. Open "
                    "the link before ${when} and fill in your details; you can log "
                    "in once an admin approves: ${url}",
                    mapping={"inviter": inviter,
                             "enterprise_name": self.enterprise_name,
                             "where": where,
                             "when": when,
                             "url": url})
        invitation_id = new_id()
        row = {"id": invitation_id, "token": token,
               "kind": "phone" if phone else "email" if email else "link",
               "target": phone or email, "department": department,
               "message": both(message), "max_uses": 1 if (phone or email) else None,
               "uses": 0, "expires_at": expires, "revoked_at": None,
               "created_by": self.org.actor_id, "created_at": now}
        self.conn.execute(insert(org_invitations).values(row))
        self.org.audit("invitation.create", invitation_id, {
            "kind": row["kind"], "target": row["target"], "department": department,
            "expires_at": expires.isoformat()})
        return _invitation_json(row, self.base_url, self.tz, now)

    def _inviter_name(self) -> str:
        users = self.org.users
        name = None
        if self.org.actor_id is not None:
            name = self.conn.execute(select(users.c.name).where(
                users.c.id == self.org.actor_id)).scalar_one_or_none()
        return name or self.enterprise_name

    def _not_member(self, field: str, phone: str) -> None:
        users = self.org.users
        if self.conn.execute(select(users.c.id).where(users.c.phone == phone)).first():
            raise invalid(field, _("is already a member's phone"))

    def listing(self, *, usable_only: bool = True) -> list[dict[str, Any]]:
        now = dt.datetime.now(dt.UTC)
        rows = [dict(r._mapping) for r in self.conn.execute(
            select(org_invitations).order_by(org_invitations.c.created_at.desc(),
                                             org_invitations.c.id))]
        return [_invitation_json(r, self.base_url, self.tz, now) for r in rows
                if not usable_only or _problem(r, now) is None]

    def revoke(self, id: str) -> dict[str, Any]:
        row = self.conn.execute(select(org_invitations).where(
            org_invitations.c.id == id)).first()
        if row is None:
            raise NotFound("not_found", _("No such invitation"))
        now = dt.datetime.now(dt.UTC)
        found = dict(row._mapping)
        if found["revoked_at"] is None:
            self.conn.execute(update(org_invitations).where(
                org_invitations.c.id == id).values(revoked_at=now))
            found["revoked_at"] = now
            self.org.audit("invitation.revoke", id, {"kind": found["kind"]})
        return _invitation_json(found, self.base_url, self.tz, now)

    # -- review ------------------------------------------------------------------

    def requests(self, status: str | None) -> list[dict[str, Any]]:
        if status is not None and status not in STATUSES:
            raise invalid("status", _(
                    "must be one of ${statuses}",
                    mapping={"statuses": joined(list(STATUSES), COMMA)}))
        r = org_join_requests
        stmt = select(r).order_by(r.c.created_at, r.c.id)
        if status is not None:
            stmt = stmt.where(r.c.status == status)
        return [request_json(row._mapping, self.tz)
                for row in self.conn.execute(stmt)]

    def _pending(self, id: str) -> dict[str, Any]:
        row = self.conn.execute(select(org_join_requests).where(
            org_join_requests.c.id == id)).first()
        if row is None:
            raise NotFound("not_found", _("No such join request"))
        if row.status != "pending":
            raise Conflict("already_reviewed",
                           _("The join request was already reviewed"),
                           {"status": [_("is ${status}",
                                         mapping={"status": row.status})]})
        return dict(row._mapping)

    def approve(self, id: str, data: Mapping[str, Any]) -> dict[str, Any]:
        """Makes the applicant an active user with the enterprise's defaults; the
        admin may set ``departments``/``main_department``, ``roles``,
        ``position`` and ``superior`` on the way."""
        data = check_keys(data, ("departments", "main_department", "roles",
                                 "position", "superior"))
        found = self._pending(id)
        user = dict(data)
        if "departments" not in user and "main_department" not in user \
                and found["department"]:
            user["departments"] = [found["department"]]
        user.update(name=found["name"], phone=found["phone"], status="active")
        if found["email"]:
            user["email"] = found["email"]
        created = self.org.create_user(user, action="user.join",
                                       details={"join_request": id})
        self.org.set_password_hash(created["id"], found["password_hash"])
        now = dt.datetime.now(dt.UTC)
        self.conn.execute(update(org_join_requests).where(
            org_join_requests.c.id == id).values(
            status="approved", user_id=created["id"], reviewed_by=self.org.actor_id,
            reviewed_at=now))
        self.org.audit("join_request.approve", id, {"user": created["id"]})
        return {"request": self._json(id), "user": created}

    def reject(self, id: str, data: Mapping[str, Any]) -> dict[str, Any]:
        data = check_keys(data, ("reason",))
        reason = data.get("reason")
        if not isinstance(reason, str) or not reason.strip():
            raise invalid("reason", _("give the reason"))
        if len(reason) > 1000:
            raise invalid("reason", _("at most 1000 characters"))
        self._pending(id)
        self.conn.execute(update(org_join_requests).where(
            org_join_requests.c.id == id).values(
            status="rejected", reason=reason.strip(), reviewed_by=self.org.actor_id,
            reviewed_at=dt.datetime.now(dt.UTC)))
        self.org.audit("join_request.reject", id, {"reason": reason.strip()})
        return self._json(id)

    def _json(self, id: str) -> dict[str, Any]:
        row = self.conn.execute(select(org_join_requests).where(
            org_join_requests.c.id == id)).one()
        return request_json(row._mapping, self.tz)


def request_json(row: Mapping[Any, Any], tz: str) -> dict[str, Any]:
    """A join request as the API shows it (never the password hash)."""
    return {
        "id": row["id"], "status": row["status"], "name": row["name"],
        "phone": row["phone"], "email": row["email"],
        "department": row["department"], "invitation": row["invitation_id"],
        "reason": row["reason"], "user": row["user_id"],
        "created_at": to_json_value(row["created_at"], tz),
        "reviewed_by": row["reviewed_by"],
        "reviewed_at": to_json_value(row["reviewed_at"], tz),
    }


# -- the public side: whoever holds a token ---------------------------------------


def find_invitation(conn: Connection, token: Any) -> dict[str, Any]:
    """The invitation of a token, still usable (else 400 naming ``token``, saying
    why)."""
    token_account(token)
    row = conn.execute(select(org_invitations).where(
        org_invitations.c.token == token)).first()
    if row is None:
        raise invalid("token", BAD_TOKEN, BAD_TOKEN, code="invalid_invitation")
    found = dict(row._mapping)
    problem = _problem(found, dt.datetime.now(dt.UTC))
    if problem is not None:
        raise invalid("token", problem, problem, code="invalid_invitation")
    return found


def invitation_info(conn: Connection, departments: Table, token: str,
                    enterprise_name: str, tz: str) -> dict[str, Any]:
    """What a join page shows before the form: the enterprise, the department,
    until when the link works."""
    found = find_invitation(conn, token)
    department = None
    if found["department"]:
        name = conn.execute(select(departments.c.name).where(
            departments.c.id == found["department"])).scalar_one_or_none()
        department = {"id": found["department"], "name": name}
    return {"enterprise": enterprise_name, "department": department,
            "kind": found["kind"], "expires_at": to_json_value(found["expires_at"], tz)}


def file_join_request(
    conn: Connection,
    users: Table,
    data: Mapping[str, Any],
    *,
    ip: str | None = None,
) -> dict[str, Any]:
    """Files a join request with an invitation's ``token`` and the applicant's
    ``name``, ``phone``, ``password`` (and ``email``). It waits for an admin; the
    password is kept only hashed. An invitation addressed to a phone or an email
    takes only that phone or email."""
    data = check_keys(data, ("token", "name", "phone", "password", "email"))
    invitation = find_invitation(conn, data.get("token"))
    errors: dict[str, list[Message]] = {}
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        errors["name"] = [REQUIRED]
    elif len(name.strip()) > 200:
        errors["name"] = [_("at most 200 characters")]
    password = data.get("password")
    errors.update(password_problems(password))
    phone = email = None
    for field, check in (("phone", _phone), ("email", _email)):
        try:
            value = check(data.get(field))
        except AppError as exc:
            for key, messages in exc.fields.items():
                errors.setdefault(key, []).extend(messages)
            continue
        if field == "phone":
            phone = value
        else:
            email = value
    if invitation["kind"] == "phone" and phone and phone != invitation["target"]:
        errors.setdefault("phone", []).append(
            _("is not the phone the invitation was sent to"))
    if invitation["kind"] == "email":
        email = email or invitation["target"]
        if email != invitation["target"]:
            errors.setdefault("email", []).append(
                _("is not the email the invitation was sent to"))
    if phone and "phone" not in errors:
        if conn.execute(select(users.c.id).where(users.c.phone == phone)).first():
            errors["phone"] = [_("is already a member's phone: log in instead")]
        elif conn.execute(select(org_join_requests.c.id).where(
                org_join_requests.c.phone == phone,
                org_join_requests.c.status == "pending")).first():
            errors["phone"] = [_("has a join request waiting for review")]
    if errors:
        raise AppError("invalid", _("Invalid join request"), errors)
    inv = org_invitations
    taken = conn.execute(update(inv).where(
        inv.c.id == invitation["id"],
        or_(inv.c.max_uses.is_(None), inv.c.uses < inv.c.max_uses),
    ).values(uses=inv.c.uses + 1))
    if not taken.rowcount:  # the last use went to a concurrent request
        used = _("The invitation has already been used")
        raise invalid("token", used, used, code="invalid_invitation")
    row = {"id": new_id(), "invitation_id": invitation["id"], "status": "pending",
           "name": str(name).strip(), "phone": phone, "email": email,
           "password_hash": hash_password(str(password)),
           "department": invitation["department"], "reason": None, "user_id": None,
           "created_at": dt.datetime.now(dt.UTC), "reviewed_by": None,
           "reviewed_at": None}
    conn.execute(insert(org_join_requests).values(row))
    record_event(conn, actor_id=None, action="join_request.create", target=row["id"],
                 details={"invitation": invitation["id"], "phone": phone}, ip=ip)
    return {"id": row["id"], "status": "pending"}


@implementer(IJoinService)
class JoinService:
    """Joining by an invitation's token, with no login: the token names the
    enterprise, whose storage is opened in the caller's transaction (``tm``).

    The enterprise row is read outside that transaction, read-only: the join page
    writes captchas to the system database in transactions of their own, which on
    SQLite would wait behind the request's."""

    def __init__(self, database: Database, tm: TransactionManager) -> None:
        self.database = database
        self.tm = tm
        self._opened: dict[str, tuple[Any, Connection, Effective]] = {}

    def _open(self, token: Any) -> tuple[Any, Connection, Effective]:
        """The enterprise a token names (``id account name metadata_version
        time_zone``), its storage and metadata; each once per service."""
        account = token_account(token)
        if account in self._opened:
            return self._opened[account]
        with self.database.system_engine.connect().execution_options(
                readonly=True) as sysdb:
            enterprise = sysdb.execute(select(
                Enterprise.id, Enterprise.account, Enterprise.name,
                Enterprise.metadata_version, Enterprise.time_zone).where(
                Enterprise.account == account, Enterprise.status == "active")).first()
        if enterprise is None:
            raise AppError("invalid_invitation", BAD_TOKEN, {"token": [BAD_TOKEN]})
        session = self.database.tenant_session(account)
        zope.sqlalchemy.register(session, transaction_manager=self.tm,
                                 initial_state=STATUS_CHANGED)
        conn = session.connection()
        version = enterprise.metadata_version
        effective = effective_cache.get(account, version,
                                        lambda: load_effective(conn, version))
        self._opened[account] = (enterprise, conn, effective)
        return self._opened[account]

    def info(self, token: Any) -> dict[str, Any]:
        enterprise, conn, effective = self._open(token)
        return invitation_info(conn, effective.tables.main["department"], token,
                               enterprise.name, enterprise.time_zone)

    def file(self, data: Mapping[str, Any], ip: str | None) -> dict[str, Any]:
        _other, conn, effective = self._open(data.get("token"))
        return file_join_request(conn, effective.tables.main["user"], data, ip=ip)
