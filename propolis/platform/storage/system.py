"""The system database's tables: the enterprises, the tokens that route a request
to one, and what logging in keeps (captchas, login events, back-off). Plain
declarations, below every service that reads them; Alembic migrates them
(``propolis/platform/migrations``)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Index, Integer, String, func
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from propolis.platform.db import new_metadata

# an enterprise's clock until its admin picks another zone (most users are in China)
DEFAULT_TIME_ZONE = "Asia/Shanghai"


class SystemBase(DeclarativeBase):
    metadata = new_metadata()


class Enterprise(SystemBase):
    __tablename__ = "enterprises"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account: Mapped[str] = mapped_column(String(31), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default="active")
    extensions: Mapped[list[str]] = mapped_column(JSON, default=list)
    # bumped by every metadata change; keys the per-process metadata cache
    metadata_version: Mapped[int] = mapped_column(Integer, default=0)
    # the IANA zone its days and times are in: today(), date buckets, pages, exports
    time_zone: Mapped[str] = mapped_column(String(64), default=DEFAULT_TIME_ZONE,
                                           server_default=DEFAULT_TIME_ZONE)
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


class AccessToken(SystemBase):
    """A bearer token. Only its SHA-256 is stored; the token itself is shown once."""

    __tablename__ = "access_tokens"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(
        ForeignKey("enterprises.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[str] = mapped_column(String(32), index=True)
    kind: Mapped[str] = mapped_column(String(16), default="session")
    label: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    # What lists and revokes a token without knowing it (the hash never leaves).
    public_id: Mapped[str] = mapped_column(String(26), unique=True)
    # The device it was issued to, for the security pages.
    user_agent: Mapped[str | None] = mapped_column(String(300))
    ip: Mapped[str | None] = mapped_column(String(64))
    device_id: Mapped[str | None] = mapped_column(String(64))
    # Written at most once a minute (see auth.tokens.touch) to keep reads cheap.
    last_used_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    # Why its login looked abnormal: new_device, new_ip_range, after_failures.
    flags: Mapped[list[str]] = mapped_column(JSON, default=list)


class LoginEvent(SystemBase):
    """A login of a user (or a failed one of a login that exists): the history the
    abnormal-login checks compare with, and what the admin's security page shows."""

    __tablename__ = "login_events"
    __table_args__ = (
        Index("ix_login_events_user_id_at", "user_id", "at"),
        Index("ix_login_events_enterprise_id_at", "enterprise_id", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(
        ForeignKey("enterprises.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(String(32))
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    success: Mapped[bool] = mapped_column(Boolean)
    ip: Mapped[str | None] = mapped_column(String(64))
    ip_range: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(300))
    device_id: Mapped[str | None] = mapped_column(String(64))
    flags: Mapped[list[str]] = mapped_column(JSON, default=list)


class LoginThrottle(SystemBase):
    """Failed logins per key (an account's login, an IP, or both), shared by every
    web process: the captcha and the back-off are decided from these rows."""

    __tablename__ = "login_throttle"

    # sha256 of the scope and the values, so any input fits and none is stored
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer)
    last_failure_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True),
                                                         index=True)
    blocked_until: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class Captcha(SystemBase):
    """An image captcha's answer, keyed-hashed; deleted when checked (single use)."""

    __tablename__ = "captchas"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    answer_hash: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)
