"""Access tokens: login sessions (API and browser) and personal API tokens.

The system database keeps only a token's SHA-256, with the enterprise it belongs
to: a token alone decides the tenant of a request. Each token also has a public id
(what lists and revocations name) and the device it was issued to."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Connection,
    CursorResult,
    bindparam,
    delete,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session

from propolis.platform.db import Database
from propolis.platform.ids import new_id
from propolis.platform.storage.system import (
    DEFAULT_TIME_ZONE,
    AccessToken,
    Enterprise,
)

SESSION_LIFETIME = dt.timedelta(days=30)
# A browser session without "remember me" ends with the browser, and on the server
# after this long at the latest.
BROWSER_LIFETIME = dt.timedelta(hours=12)
# last_used_at is written at most this often per token, so that a busy client costs
# one write a minute rather than one per request.
TOUCH_INTERVAL = dt.timedelta(minutes=1)

SESSION = "session"  # POST /api/v1/session
BROWSER = "browser"  # the login page; the token lives in the session cookie
PERSONAL = "personal"  # a personal API token, made by its user
LOGIN_KINDS = (SESSION, BROWSER)

Executor = Session | Connection


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class Identity:
    """Who is calling: the enterprise (from the token, never the URL) and the user,
    and which token (its kind, its public id) and how it came (``bearer`` header or
    ``cookie``)."""

    enterprise_id: int
    account: str
    metadata_version: int
    user_id: str
    token_hash: str
    kind: str = SESSION
    public_id: str = ""
    via: str = "bearer"
    last_used_at: dt.datetime | None = None
    # the enterprise's name and clock, read with the token (no second query)
    enterprise_name: str = ""
    time_zone: str = DEFAULT_TIME_ZONE


@dataclass(frozen=True)
class Issued:
    token: str  # shown once, never stored
    public_id: str
    expires_at: dt.datetime | None


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue(
    sysdb: Executor,
    enterprise_id: int,
    user_id: str,
    *,
    kind: str = SESSION,
    label: str | None = None,
    lifetime: dt.timedelta | None = SESSION_LIFETIME,
    now: dt.datetime | None = None,
    user_agent: str | None = None,
    ip: str | None = None,
    device_id: str | None = None,
    flags: Sequence[str] = (),
) -> Issued:
    token = secrets.token_urlsafe(32)
    now = now or utcnow()
    public_id = new_id()
    expires_at = now + lifetime if lifetime else None
    sysdb.execute(
        insert(AccessToken).values(
            token_hash=token_hash(token),
            public_id=public_id,
            enterprise_id=enterprise_id,
            user_id=user_id,
            kind=kind,
            label=label,
            created_at=now,
            expires_at=expires_at,
            user_agent=(user_agent or "")[:300] or None,
            ip=ip,
            device_id=device_id,
            last_used_at=now,
            flags=list(flags),
        )
    )
    return Issued(token, public_id, expires_at)


# Built once: the statement every authenticated request runs.
_RESOLVE = (
    select(
        Enterprise.id, Enterprise.account, Enterprise.metadata_version,
        AccessToken.user_id, AccessToken.kind, AccessToken.public_id,
        AccessToken.last_used_at, Enterprise.name, Enterprise.time_zone,
    )
    .join(Enterprise, Enterprise.id == AccessToken.enterprise_id)
    .where(
        AccessToken.token_hash == bindparam("hashed"),
        Enterprise.status == "active",
        or_(AccessToken.expires_at.is_(None),
            AccessToken.expires_at
            > bindparam("now", type_=AccessToken.expires_at.type)),
    )
)


def resolve_token(database: Database, token: str, *, now: dt.datetime | None = None,
                  via: str = "bearer") -> Identity | None:
    """One indexed read of the system database, outside the request's transaction
    (read-only, so on SQLite it never waits behind writers)."""
    hashed = token_hash(token)
    with database.system_reader.connect().execution_options(readonly=True) as conn:
        row = conn.execute(_RESOLVE, {"hashed": hashed,
                                      "now": now or utcnow()}).first()
    if row is None:
        return None
    return Identity(row[0], row[1], row[2], row[3], hashed, kind=row[4],
                    public_id=row[5], via=via, last_used_at=_aware(row[6]),
                    enterprise_name=row[7], time_zone=row[8])


def needs_touch(identity: Identity, now: dt.datetime) -> bool:
    last = identity.last_used_at
    return last is None or now - last >= TOUCH_INTERVAL


def touch(database: Database, identity: Identity, now: dt.datetime) -> None:
    """Records that the token was used (its own short transaction)."""
    with database.system_engine.begin() as conn:
        conn.execute(update(AccessToken)
                     .where(AccessToken.token_hash == identity.token_hash)
                     .values(last_used_at=now))


def revoke_token(sysdb: Executor, hashed: str) -> None:
    sysdb.execute(delete(AccessToken).where(AccessToken.token_hash == hashed))


def revoke_by_id(sysdb: Executor, enterprise_id: int, public_id: str,
                 *, user_id: str | None = None,
                 kinds: Collection[str] | None = None) -> bool:
    """Revokes one token of the enterprise (of ``user_id`` when given); False when
    there is no such token."""
    stmt = delete(AccessToken).where(AccessToken.enterprise_id == enterprise_id,
                                     AccessToken.public_id == public_id)
    if user_id is not None:
        stmt = stmt.where(AccessToken.user_id == user_id)
    if kinds is not None:
        stmt = stmt.where(AccessToken.kind.in_(list(kinds)))
    result: CursorResult[Any] = sysdb.execute(stmt)  # type: ignore[assignment]
    return bool(result.rowcount)


def token_owner(sysdb: Executor, enterprise_id: int, public_id: str
                ) -> tuple[str, str] | None:
    """The user and kind of one of the enterprise's tokens."""
    row = sysdb.execute(select(AccessToken.user_id, AccessToken.kind).where(
        AccessToken.enterprise_id == enterprise_id,
        AccessToken.public_id == public_id)).first()
    return (row[0], row[1]) if row is not None else None


def revoke_user_tokens(sysdb: Executor, enterprise_id: int, user_id: str, *,
                       kinds: Collection[str] | None = None,
                       keep: str | None = None) -> int:
    """Revokes every token of a user (of the given kinds; but the one whose hash is
    ``keep``); returns how many."""
    stmt = delete(AccessToken).where(AccessToken.enterprise_id == enterprise_id,
                                     AccessToken.user_id == user_id)
    if kinds is not None:
        stmt = stmt.where(AccessToken.kind.in_(list(kinds)))
    if keep is not None:
        stmt = stmt.where(AccessToken.token_hash != keep)
    result: CursorResult[Any] = sysdb.execute(stmt)  # type: ignore[assignment]
    return int(result.rowcount or 0)


def list_tokens(sysdb: Executor, enterprise_id: int, *,
                user_ids: Collection[str] | None = None,
                kinds: Collection[str] | None = None,
                now: dt.datetime | None = None) -> list[dict[str, Any]]:
    """The live tokens of an enterprise (of some users, of some kinds), newest
    first, without anything that would let one use them."""
    now = now or utcnow()
    stmt = (select(AccessToken.public_id, AccessToken.user_id, AccessToken.kind,
                   AccessToken.label, AccessToken.created_at, AccessToken.expires_at,
                   AccessToken.last_used_at, AccessToken.user_agent, AccessToken.ip,
                   AccessToken.flags, AccessToken.token_hash)
            .where(AccessToken.enterprise_id == enterprise_id,
                   or_(AccessToken.expires_at.is_(None), AccessToken.expires_at > now))
            .order_by(AccessToken.created_at.desc(), AccessToken.public_id.desc()))
    if user_ids is not None:
        stmt = stmt.where(AccessToken.user_id.in_(list(user_ids)))
    if kinds is not None:
        stmt = stmt.where(AccessToken.kind.in_(list(kinds)))
    out = []
    for row in sysdb.execute(stmt):
        item = dict(row._mapping)
        for key in ("created_at", "expires_at", "last_used_at"):
            item[key] = _aware(item[key])
        item["flags"] = list(item["flags"] or [])
        out.append(item)
    return out


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    # SQLite gives back naive datetimes; everything stored is UTC
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value
