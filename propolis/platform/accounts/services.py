"""Accounts: registering an enterprise, logging in (with captcha and back-off),
passwords, sessions and devices, personal API tokens.

Logging in works in transactions of its own rather than the request's: a failed
attempt answers with an error, which rolls the request's transaction back, and
the failure must be counted all the same."""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, insert, or_, select
from sqlalchemy.orm import Session

from propolis.platform.accounts import captcha, throttle
from propolis.platform.auth import tokens
from propolis.platform.auth.passwords import verify_password
from propolis.platform.auth.session import derived_secret
from propolis.platform.db import ACCOUNT_RE, Database
from propolis.platform.errors import AppError, Message, NotFound, _, _c
from propolis.platform.meta.effective import Effective, effective_cache, load_effective
from propolis.platform.records.services import RecordService
from propolis.platform.storage.system import Enterprise, LoginEvent
from propolis.platform.tenancy.services import CreatedEnterprise, create_enterprise

PASSWORD_MIN = 8
PASSWORD_MAX = 128
PHONE_RE = re.compile(r"^\+?[0-9][0-9 -]{4,18}[0-9]$")

WRONG = _("Wrong enterprise account, login or password")
REQUIRED = _("required")

# Flags of an abnormal login
NEW_DEVICE = "new_device"
NEW_IP_RANGE = "new_ip_range"
AFTER_FAILURES = "after_failures"


class Throttled(AppError):
    """Too many failures: wait ``retry_after`` seconds (HTTP 429, Retry-After)."""

    status = 429

    def __init__(self, retry_after: int) -> None:
        super().__init__("too_many_attempts", _("Too many attempts; try again in "
                                                "${retry_after} s",
                                                mapping={"retry_after": retry_after}))
        self.retry_after = retry_after


class RateLimited(Throttled):
    """Too many calls of a public route from one address (HTTP 429, Retry-After)."""

    def __init__(self, retry_after: int) -> None:
        AppError.__init__(self, "rate_limited", _("Too many requests; try again in "
                                                  "${retry_after} s",
                                                  mapping={"retry_after": retry_after}))
        self.retry_after = retry_after


# The public routes' budgets, by the name their settings use
# (``propolis.rate_limit.<name>``).
RATE_LIMITED = ("captcha", "register", "join")


def rate_limits(settings: Mapping[str, Any]) -> dict[str, throttle.Rate | None]:
    """The budgets the settings give (ValueError naming the setting if one is not
    a rate)."""
    found = {}
    for name in RATE_LIMITED:
        key = f"propolis.rate_limit.{name}"
        try:
            found[name] = throttle.parse_rate(str(settings.get(key, "off")))
        except ValueError as exc:
            raise ValueError(f"{key}: {exc}") from None
    return found


def limit_rate(request: Any, name: str) -> None:
    """Counts this call of the public route ``name`` against its client's budget,
    in a transaction of its own (a refused or failed call counts all the same);
    RateLimited once the budget is spent. Call it before the request touches the
    system database: on SQLite its own transaction holds the write lock."""
    rate = request.registry.rate_limits.get(name)
    if rate is None:
        return
    with request.registry.database.system_engine.begin() as conn:
        wait = throttle.hit(conn, name, client_of(request).ip, request.now, rate)
    if wait is not None:
        raise RateLimited(wait)


@dataclass(frozen=True)
class Client:
    """Where a request comes from, as far as the server can tell."""

    ip: str | None = None
    user_agent: str | None = None
    device_id: str | None = None  # the device cookie of a browser


@dataclass(frozen=True)
class LoggedIn:
    token: str
    public_id: str
    enterprise_id: int
    account: str
    user_id: str
    roles: frozenset[str] = frozenset()
    flags: list[str] = field(default_factory=list)


DEVICE_RE = re.compile(r"^[0-9a-f]{32}$")
# A logged-in user confirming their password: counted by who they are, never by
# their address (see ``_not_blocked``).
AUTHENTICATED = Client()


def client_of(request: Any) -> Client:
    """The client of a Pyramid request; its address is ``request.client_ip``
    (behind the proxies ``propolis.trusted_proxy`` names, the one they forward)."""
    from propolis.platform.auth.session import DEVICE_COOKIE

    device = request.cookies.get(DEVICE_COOKIE)
    return Client(ip=request.client_ip,
                  user_agent=request.user_agent or None,
                  device_id=device if device and DEVICE_RE.match(device) else None)


def captcha_key(secret: str) -> str:
    return derived_secret(secret, "captcha")


def ip_range(ip: str | None) -> str | None:
    """The network a login comes from: /24 for IPv4, /48 for IPv6."""
    if not ip:
        return None
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    prefix = 24 if address.version == 4 else 48
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))


# -- registration ----------------------------------------------------------------

Problems = dict[str, list[Message]]
NOT_VALID = _("The new password is not valid")


def password_problems(password: Any, name: str = "password") -> Problems:
    if not isinstance(password, str) or not password:
        return {name: [REQUIRED]}
    if len(password) < PASSWORD_MIN:
        return {name: [_("The password needs at least ${password_min} characters",
                         mapping={"password_min": PASSWORD_MIN})]}
    if len(password) > PASSWORD_MAX:
        return {name: [_("The password has at most ${password_max} characters",
                         mapping={"password_max": PASSWORD_MAX})]}
    return {}


def register(database: Database, data: Mapping[str, Any]) -> CreatedEnterprise:
    """A new enterprise from the registration form or API: ``account``, ``name``,
    ``admin_name``, ``phone``, ``password``. Every problem is reported at once,
    under the name of its field."""
    def text(key: str) -> str:
        value = data.get(key)
        return value.strip() if isinstance(value, str) else ""

    account, name = text("account").lower(), text("name")
    admin_name, phone = text("admin_name"), text("phone")
    password = data.get("password")
    problems: Problems = {}
    if not account:
        problems["account"] = [REQUIRED]
    elif not ACCOUNT_RE.match(account):
        problems["account"] = [_("The account must be 2–31 lower-case letters, "
                                 "digits or underscores, starting with a letter")]
    if not name:
        problems["name"] = [REQUIRED]
    elif len(name) > 200:
        problems["name"] = [_("At most 200 characters")]
    if not admin_name:
        problems["admin_name"] = [REQUIRED]
    elif len(admin_name) > 100:
        problems["admin_name"] = [_("At most 100 characters")]
    if not phone:
        problems["phone"] = [REQUIRED]
    elif not PHONE_RE.match(phone):
        problems["phone"] = [_("Enter a valid phone number")]
    problems.update(password_problems(password))
    if problems:
        raise AppError("invalid", _("Invalid registration details"),
                       problems)
    try:
        return create_enterprise(database, account=account, name=name,
                                 admin_phone=phone, admin_password=str(password),
                                 admin_name=admin_name)
    except AppError as exc:
        renamed = {"admin_password": "password", "admin_phone": "phone",
                   "admin_name": "admin_name"}
        exc.fields = {renamed.get(k, k): v for k, v in exc.fields.items()}
        raise


# -- logging in ------------------------------------------------------------------

def throttle_state(database: Database, subject: str, client: Client,
                   now: dt.datetime) -> throttle.State:
    with database.system_engine.connect().execution_options(readonly=True) as conn:
        return throttle.check(conn, subject, client.ip, now)


def new_captcha(database: Database, secret: str, now: dt.datetime
                ) -> captcha.NewCaptcha:
    with database.system_engine.begin() as conn:
        return captcha.create(conn, captcha_key(secret), now)


def solve_captcha(database: Database, secret: str, captcha_id: str | None,
                  answer: str | None, now: dt.datetime) -> bool:
    """Checks (and uses up) a captcha, in a transaction of its own."""
    with database.system_engine.begin() as conn:
        return captcha.verify(conn, captcha_key(secret), captcha_id, answer, now)


# The reads below use connections of their own, read-only: on SQLite the request's
# own session may already hold the enterprise file's write lock, and a second
# writer would wait for it until the busy timeout.

def _user_table(database: Database, enterprise: Enterprise) -> Any:
    def load() -> Effective:
        with database.tenant_engine(enterprise.account).connect().execution_options(
            readonly=True) as conn:
            return load_effective(conn, enterprise.metadata_version)

    effective = effective_cache.get(enterprise.account, enterprise.metadata_version,
                                    load)
    return effective.tables.main["user"]


def _find_user(database: Database, account: str, login: str
               ) -> tuple[Enterprise | None, Any]:
    with database.system_sessionmaker() as sysdb:
        enterprise = sysdb.execute(
            select(Enterprise).where(Enterprise.account == account,
                                     Enterprise.status == "active")
        ).scalar_one_or_none()
        if enterprise is not None:
            sysdb.expunge(enterprise)
    if enterprise is None:
        return None, None
    users = _user_table(database, enterprise)
    with database.tenant_engine(enterprise.account).connect().execution_options(
            readonly=True) as conn:
        row = conn.execute(
            select(users.c.id, users.c.password, users.c.status, users.c.roles).where(
                or_(users.c.phone == login, users.c.login_name == login),
                users.c.deleted_at.is_(None),
            )
        ).first()
    return enterprise, row


def _login_flags(conn: Connection, enterprise_id: int, user_id: str, client: Client,
                 state: throttle.State) -> list[str]:
    """Why this login looks abnormal, compared with the user's earlier successful
    logins (none for a first login: there is nothing to compare with)."""
    flags = []
    seen = select(LoginEvent.id).where(LoginEvent.enterprise_id == enterprise_id,
                                       LoginEvent.user_id == user_id,
                                       LoginEvent.success.is_(True))
    if conn.execute(seen.limit(1)).first() is not None:
        same_device = seen.where(
            LoginEvent.device_id.is_(None) if client.device_id is None
            else LoginEvent.device_id == client.device_id,
            LoginEvent.user_agent.is_(None) if not client.user_agent
            else LoginEvent.user_agent == client.user_agent[:300])
        if conn.execute(same_device.limit(1)).first() is None:
            flags.append(NEW_DEVICE)
        network = ip_range(client.ip)
        if network is not None and conn.execute(
                seen.where(LoginEvent.ip_range == network).limit(1)).first() is None:
            flags.append(NEW_IP_RANGE)
    if state.subject_failures >= throttle.LIMITS.captcha_after:
        flags.append(AFTER_FAILURES)
    return flags


def _event(conn: Connection, enterprise_id: int, user_id: str, client: Client,
           now: dt.datetime, success: bool, flags: list[str]) -> None:
    conn.execute(insert(LoginEvent).values(
        enterprise_id=enterprise_id, user_id=user_id, at=now, success=success,
        ip=client.ip, ip_range=ip_range(client.ip),
        user_agent=(client.user_agent or "")[:300] or None,
        device_id=client.device_id, flags=flags))


def login(
    database: Database,
    secret: str,
    *,
    account: str,
    login: str,
    password: str,
    client: Client,
    now: dt.datetime,
    captcha_id: str | None = None,
    captcha_answer: str | None = None,
    kind: str = tokens.SESSION,
    lifetime: dt.timedelta | None = tokens.SESSION_LIFETIME,
) -> LoggedIn:
    """Checks a login and issues a token. In order: a back-off in force answers 429
    whatever else is right; a captcha that is due must be solved (and is used up);
    then the password. No answer tells whether the account or login exists."""
    account = account.strip().lower()
    login = login.strip()
    subject = throttle.login_subject(account, login)
    state = throttle_state(database, subject, client, now)
    if state.retry_after is not None:
        raise Throttled(state.retry_after)
    if state.captcha_required:
        if not captcha_id or not captcha_answer:
            raise AppError("captcha_required", _("Enter the captcha"),
                           {"captcha": [REQUIRED]}, status=401)
        with database.system_engine.begin() as conn:
            solved = captcha.verify(conn, captcha_key(secret), captcha_id,
                                    captcha_answer, now)
            if not solved:
                throttle.record_failure(conn, subject, client.ip, now)
        if not solved:
            raise AppError("captcha_invalid", _("Wrong or expired captcha"),
                           {"captcha": [_("wrong or expired")]}, status=401)
    enterprise, user = _find_user(database, account, login)
    password_ok = verify_password(user.password if user is not None else None, password)
    if enterprise is None or user is None or not password_ok or user.status != "active":
        with database.system_engine.begin() as conn:
            throttle.record_failure(conn, subject, client.ip, now)
            if enterprise is not None and user is not None:
                _event(conn, enterprise.id, user.id, client, now, False, [])
        raise AppError("login_failed", WRONG, status=401)
    with database.system_engine.begin() as conn:
        throttle.record_success(conn, subject, client.ip)
        flags = _login_flags(conn, enterprise.id, user.id, client, state)
        issued = tokens.issue(conn, enterprise.id, user.id, kind=kind,
                              lifetime=lifetime, now=now, user_agent=client.user_agent,
                              ip=client.ip, device_id=client.device_id, flags=flags)
        _event(conn, enterprise.id, user.id, client, now, True, flags)
    return LoggedIn(issued.token, issued.public_id, enterprise.id, enterprise.account,
                    user.id, frozenset(user.roles or ()), flags)


def _not_blocked(database: Database, identity: tokens.Identity,
                 now: dt.datetime) -> str:
    """The throttle subject of a logged-in user typing their password again (the
    step-up, a password change): a stolen session must not become a way to guess
    the password. Counted per user alone (``AUTHENTICATED``): the user is known,
    and a count per address would let anyone logged in behind the same proxy or
    NAT lock everyone else out of logging in."""
    subject = throttle.user_subject(identity.enterprise_id, identity.user_id)
    state = throttle_state(database, subject, AUTHENTICATED, now)
    if state.retry_after is not None:
        raise Throttled(state.retry_after)
    return subject


def confirm_password(database: Database, identity: tokens.Identity, password: str,
                     now: dt.datetime) -> bool:
    """Asks a logged-in user for their password again (the admin console's
    step-up), with the same back-off as logging in."""
    subject = _not_blocked(database, identity, now)
    with database.system_sessionmaker() as sysdb:
        enterprise = sysdb.get(Enterprise, identity.enterprise_id)
        assert enterprise is not None  # the token's enterprise
        sysdb.expunge(enterprise)
    users = _user_table(database, enterprise)
    with database.tenant_engine(enterprise.account).connect().execution_options(
            readonly=True) as conn:
        stored = conn.execute(select(users.c.password).where(
            users.c.id == identity.user_id)).scalar_one_or_none()
    return _counted_check(database, subject, stored, password, now)


def _counted_check(database: Database, subject: str, stored: str | None,
                   password: str, now: dt.datetime) -> bool:
    """A logged-in user's password checked, counted under their subject alone."""
    ok = verify_password(stored, password)
    with database.system_engine.begin() as conn:
        if ok:
            throttle.record_success(conn, subject, None)
        else:
            throttle.record_failure(conn, subject, None, now)
    return ok


# -- passwords ---------------------------------------------------------------------

def change_password(db: Session, sysdb: Session, effective: Effective,
                    identity: tokens.Identity, old: Any, new: Any,
                    now: dt.datetime, *, database: Database,
                    records: RecordService) -> int:
    """Changes the caller's own password (the old one is required) and ends their
    other login sessions; personal API tokens stay. Returns how many sessions
    ended."""
    users = effective.tables.main["user"]
    if not isinstance(old, str) or not old:
        raise AppError("invalid", _("Enter the current password"),
                       {"old_password": [REQUIRED]})
    problems = password_problems(new, "new_password")
    if problems:
        raise AppError("invalid", NOT_VALID, problems)
    subject = _not_blocked(database, identity, now)
    stored = db.execute(select(users.c.password).where(
        users.c.id == identity.user_id)).scalar_one_or_none()
    if not _counted_check(database, subject, stored, old, now):
        raise AppError("wrong_password",
                       _("The current password is wrong"),
                       {"old_password": [_("wrong password")]})
    records.set_password(identity.user_id, new)
    return end_sessions_after_password_set(sysdb, identity, identity.user_id)


def end_sessions_after_password_set(sysdb: Session, identity: tokens.Identity,
                                    user_id: str) -> int:
    """Ends sessions after ``identity``'s user set ``user_id``'s password (here or
    through the record service): their own, the other login sessions end and
    personal API tokens stay; someone else's, every token of theirs ends. Returns
    how many ended."""
    if user_id == identity.user_id:
        return tokens.revoke_user_tokens(sysdb, identity.enterprise_id, user_id,
                                         kinds=tokens.LOGIN_KINDS,
                                         keep=identity.token_hash)
    return tokens.revoke_user_tokens(sysdb, identity.enterprise_id, user_id)


def reset_password(db: Session, sysdb: Session, effective: Effective,
                   identity: tokens.Identity, user_id: str, new: Any,
                   ip: str | None, records: RecordService) -> int:
    """An enterprise admin sets another user's password: every token of that user
    is revoked, and the audit log says who did it. (The caller checks that the
    actor is an admin; the user must be of the caller's own enterprise, which
    ``db`` guarantees.)"""
    from propolis.platform.audit import record_event

    users = effective.tables.main["user"]
    problems = password_problems(new)
    if problems:
        raise AppError("invalid", NOT_VALID, problems)
    exists = db.execute(select(users.c.id).where(
        users.c.id == user_id, users.c.deleted_at.is_(None))).first()
    if exists is None:
        raise NotFound("not_found", _("No such user"))
    records.set_password(user_id, new)
    revoked = tokens.revoke_user_tokens(sysdb, identity.enterprise_id, user_id)
    record_event(db.connection(), actor_id=identity.user_id,
                 action="user.password_reset", target=f"user:{user_id}",
                 details={"revoked_tokens": revoked}, ip=ip)
    return revoked


# -- personal API tokens ---------------------------------------------------------

MAX_TOKEN_DAYS = 3650


def create_personal_token(sysdb: Session, identity: tokens.Identity,
                          body: Mapping[str, Any], client: Client,
                          now: dt.datetime) -> tuple[tokens.Issued, str]:
    label = body.get("label")
    days = body.get("expires_in_days")
    problems: Problems = {}
    if not isinstance(label, str) or not label.strip():
        problems["label"] = [REQUIRED]
    elif len(label.strip()) > 100:
        problems["label"] = [_c("platform.accounts.services", "At most 100 characters")]
    if days is not None and (isinstance(days, bool) or not isinstance(days, int)
                             or not 1 <= days <= MAX_TOKEN_DAYS):
        problems["expires_in_days"] = [_("a whole number from 1 to ${max_token_days}",
                                         mapping={"max_token_days": MAX_TOKEN_DAYS})]
    unknown = set(body) - {"label", "expires_in_days"}
    for key in sorted(unknown):
        problems[key] = [_("unknown key")]
    if problems:
        raise AppError("invalid", _("Invalid token details"), problems)
    assert isinstance(label, str)
    issued = tokens.issue(sysdb, identity.enterprise_id, identity.user_id,
                          kind=tokens.PERSONAL, label=label.strip(),
                          lifetime=dt.timedelta(days=days) if days else None, now=now,
                          user_agent=client.user_agent, ip=client.ip)
    return issued, label.strip()


def token_json(item: Mapping[str, Any], current: str | None = None) -> dict[str, Any]:
    out = {"id": item["public_id"], "kind": item["kind"], "label": item["label"],
           "created_at": item["created_at"], "expires_at": item["expires_at"],
           "last_used_at": item["last_used_at"], "user_agent": item["user_agent"],
           "ip": item["ip"], "flags": item["flags"]}
    if current is not None:
        out["current"] = item["token_hash"] == current
    return out


# -- the admin's views -----------------------------------------------------------

def login_events(sysdb: Session, enterprise_id: int, *, flagged_only: bool = False,
                 user_ids: Collection[str] | None = None,
                 since: dt.datetime | None = None, limit: int = 100,
                 ) -> list[dict[str, Any]]:
    stmt = (select(LoginEvent).where(LoginEvent.enterprise_id == enterprise_id)
            .order_by(LoginEvent.at.desc(), LoginEvent.id.desc()).limit(limit))
    if user_ids is not None:
        stmt = stmt.where(LoginEvent.user_id.in_(list(user_ids)))
    if since is not None:
        stmt = stmt.where(LoginEvent.at >= since)
    out = []
    for event in sysdb.execute(stmt).scalars():
        if flagged_only and not event.flags:
            continue
        at = event.at if event.at.tzinfo else event.at.replace(tzinfo=dt.UTC)
        out.append({"id": event.id, "user_id": event.user_id, "at": at,
                    "success": event.success, "ip": event.ip,
                    "user_agent": event.user_agent, "flags": list(event.flags or [])})
    return out
