"""Bearer tokens. The system database keeps only a token's SHA-256, with the
enterprise it belongs to: a token alone decides the tenant of a request."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import delete, insert, or_, select
from sqlalchemy.orm import Session

from propolis.platform.db import Database
from propolis.platform.tenancy.models import AccessToken, Enterprise

SESSION_LIFETIME = dt.timedelta(days=30)


@dataclass(frozen=True)
class Identity:
    """Who is calling: the enterprise (from the token, never the URL) and the user."""

    enterprise_id: int
    account: str
    metadata_version: int
    user_id: str
    token_hash: str


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(
    sysdb: Session,
    enterprise_id: int,
    user_id: str,
    *,
    kind: str = "session",
    label: str | None = None,
    lifetime: dt.timedelta | None = SESSION_LIFETIME,
) -> str:
    token = secrets.token_urlsafe(32)
    now = dt.datetime.now(dt.UTC)
    sysdb.execute(
        insert(AccessToken).values(
            token_hash=token_hash(token),
            enterprise_id=enterprise_id,
            user_id=user_id,
            kind=kind,
            label=label,
            created_at=now,
            expires_at=now + lifetime if lifetime else None,
        )
    )
    return token


def revoke_token(sysdb: Session, hashed: str) -> None:
    sysdb.execute(delete(AccessToken).where(AccessToken.token_hash == hashed))


def resolve_token(database: Database, token: str) -> Identity | None:
    """One indexed read of the system database, outside the request's transaction
    (read-only, so on SQLite it never waits behind writers)."""
    hashed = token_hash(token)
    now = dt.datetime.now(dt.UTC)
    query = (
        select(
            Enterprise.id, Enterprise.account, Enterprise.metadata_version,
            AccessToken.user_id,
        )
        .join(Enterprise, Enterprise.id == AccessToken.enterprise_id)
        .where(
            AccessToken.token_hash == hashed,
            Enterprise.status == "active",
            or_(AccessToken.expires_at.is_(None), AccessToken.expires_at > now),
        )
    )
    with database.system_engine.connect().execution_options(readonly=True) as conn:
        row = conn.execute(query).first()
    if row is None:
        return None
    return Identity(row[0], row[1], row[2], row[3], hashed)
