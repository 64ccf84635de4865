"""Failed-login counting: a captcha after a few failures, then exponential back-off.

Counters live in the system database (``login_throttle``) so every web process
sees the same ones. Three keys count each failure:

- the *subject* (an enterprise account with the login typed, or a user confirming
  their password): protects one person whatever the attacker's address;
- the client's *IP*: slows down guessing spread over many logins;
- the *pair* of both: what a success may take back. A success clears the subject
  and subtracts the pair's failures from the IP's count, so a colleague behind the
  same NAT who mistyped is forgiven, while an attacker who logs into an account of
  their own between guesses wins nothing back.

Keys are hashes of what was typed, whether or not such a login exists, so the
answers never tell which accounts exist. A counter is forgotten a day after its
last failure.

The same table holds the rate limits of the public routes (captchas, registration,
joining): a fixed budget of calls per client IP and window (``Rate``, ``hit``). A
window's row counts its calls in ``failures``, has its start in
``last_failure_at`` and its end in ``blocked_until``, so the clean-up above keeps
it until the window is over."""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import re
from dataclasses import dataclass
from typing import Any, overload

from sqlalchemy import Connection, case, delete, select, update

from propolis.platform.db import dialect_for
from propolis.platform.storage.system import LoginThrottle


@dataclass(frozen=True)
class Limits:
    captcha_after: int = 3  # this many failures, and the next attempt needs a captcha
    backoff_after: int = 5  # this many, and each further failure blocks for a while
    first_delay: dt.timedelta = dt.timedelta(seconds=1)  # doubling from here
    max_delay: dt.timedelta = dt.timedelta(minutes=15)
    forget_after: dt.timedelta = dt.timedelta(days=1)

    def delay(self, failures: int) -> dt.timedelta | None:
        if failures < self.backoff_after:
            return None
        exponent = min(failures - self.backoff_after, 32)  # 2**32 s is past any cap
        return min(self.first_delay * (2 ** exponent), self.max_delay)


LIMITS = Limits()


@dataclass(frozen=True)
class State:
    failures: int  # the larger of the subject's and the IP's counts
    subject_failures: int
    captcha_required: bool
    retry_after: int | None  # whole seconds to wait, None when not blocked


def login_subject(account: str, login: str) -> str:
    return f"login\0{account.strip().lower()}\0{login.strip().lower()}"


def user_subject(enterprise_id: int, user_id: str) -> str:
    return f"user\0{enterprise_id}\0{user_id}"


def _key(*parts: str) -> str:
    return hashlib.sha256("\0\0".join(parts).encode()).hexdigest()


def _keys(subject: str, ip: str | None) -> tuple[str, str | None, str | None]:
    if not ip:
        return _key("s", subject), None, None
    return _key("s", subject), _key("ip", ip), _key("pair", subject, ip)


@overload
def _aware(value: dt.datetime) -> dt.datetime:
    ...


@overload
def _aware(value: None) -> None:
    ...


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value


def check(conn: Connection, subject: str, ip: str | None, now: dt.datetime,
          limits: Limits = LIMITS) -> State:
    """What the next attempt must satisfy; changes nothing."""
    subject_key, ip_key, _ = _keys(subject, ip)
    wanted = [k for k in (subject_key, ip_key) if k]
    rows = conn.execute(
        select(LoginThrottle.key, LoginThrottle.failures,
               LoginThrottle.last_failure_at, LoginThrottle.blocked_until)
        .where(LoginThrottle.key.in_(wanted))).all()
    counts = {}
    retry_after = None
    for row in rows:
        last = _aware(row.last_failure_at)
        if last is None or last < now - limits.forget_after:
            continue
        counts[row.key] = row.failures
        until = _aware(row.blocked_until)
        if until is not None and until > now:
            wait = math.ceil((until - now).total_seconds())
            retry_after = max(retry_after or 0, wait)
    failures = max(counts.values(), default=0)
    return State(failures, counts.get(subject_key, 0),
                 failures >= limits.captcha_after, retry_after)


def record_failure(conn: Connection, subject: str, ip: str | None, now: dt.datetime,
                   limits: Limits = LIMITS) -> None:
    """Counts one failure under each key (atomically, so concurrent failures in
    several processes all count) and starts the back-off where it is due."""
    subject_key, ip_key, pair_key = _keys(subject, ip)
    stale = now - limits.forget_after
    _forget_stale(conn, now, limits)
    table: Any = LoginThrottle.__table__
    dialect = dialect_for(conn)
    for key in (subject_key, ip_key, pair_key):
        if key is None:
            continue
        stmt = dialect.upsert(
            table, {"key": key, "failures": 1, "last_failure_at": now},
            keys=[table.c.key],
            set_={"failures": case((table.c.last_failure_at < stale, 1),
                                   else_=table.c.failures + 1),
                  "last_failure_at": now},
        ).returning(table.c.failures)
        failures = conn.execute(stmt).scalar_one()
        delay = limits.delay(failures)
        if delay is not None and key != pair_key:
            conn.execute(update(LoginThrottle).where(LoginThrottle.key == key)
                         .values(blocked_until=now + delay))


def _forget_stale(conn: Connection, now: dt.datetime, limits: Limits = LIMITS
                  ) -> None:
    conn.execute(delete(LoginThrottle).where(
        LoginThrottle.last_failure_at < now - limits.forget_after,
        (LoginThrottle.blocked_until.is_(None)) | (LoginThrottle.blocked_until < now)))


def record_success(conn: Connection, subject: str, ip: str | None,
                   limits: Limits = LIMITS) -> None:
    """Clears the subject's counter and takes back from the IP's what this subject
    failed from there."""
    subject_key, ip_key, pair_key = _keys(subject, ip)
    if pair_key is not None:
        own = conn.execute(delete(LoginThrottle).where(LoginThrottle.key == pair_key)
                           .returning(LoginThrottle.failures)).scalar_one_or_none()
        if own:
            left = LoginThrottle.failures - own
            conn.execute(update(LoginThrottle).where(LoginThrottle.key == ip_key)
                         .values(failures=case((left < 0, 0), else_=left)))
            conn.execute(update(LoginThrottle).where(
                LoginThrottle.key == ip_key,
                LoginThrottle.failures < limits.backoff_after,
            ).values(blocked_until=None))
    conn.execute(delete(LoginThrottle).where(LoginThrottle.key == subject_key))


# -- rate limits of the public routes -------------------------------------------

WINDOWS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}
RATE_RE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*(second|minute|hour|day)s?\s*$")


@dataclass(frozen=True)
class Rate:
    """At most ``budget`` calls per client IP in each window of ``window``."""

    budget: int
    window: dt.timedelta


def parse_rate(text: str) -> Rate | None:
    """``"30/minute"``, ``"5/hour"``, ``"100/10minutes"``, ``"2/day"``; ``"off"``
    means no limit (None). ValueError, saying the form, for anything else."""
    if text.strip().lower() in {"off", "none", "0"}:
        return None
    found = RATE_RE.match(text.lower())
    if found is None or int(found.group(1)) < 1 or found.group(2) in {"0"}:
        raise ValueError(f"{text!r} is not a rate: write it as 30/minute, 5/hour, "
                         "100/10minutes, 2/day or off")
    seconds = WINDOWS[found.group(3)] * int(found.group(2) or 1)
    return Rate(int(found.group(1)), dt.timedelta(seconds=seconds))


def hit(conn: Connection, name: str, ip: str | None, now: dt.datetime,
        rate: Rate) -> int | None:
    """Counts one call of ``name`` from ``ip`` (atomically, so calls in several
    processes all count) and answers None while within the budget, else how many
    whole seconds are left until the window ends. Calls without a known address
    share one count: a WSGI server always gives one, and behind a proxy it must be
    told to pass the client's on (see ``client_of``)."""
    key = _key("rate", name, ip or "")
    _forget_stale(conn, now)
    table: Any = LoginThrottle.__table__
    ended = table.c.blocked_until <= now
    stmt = dialect_for(conn).upsert(
        table, {"key": key, "failures": 1, "last_failure_at": now,
                "blocked_until": now + rate.window},
        keys=[table.c.key],
        set_={"failures": case((ended, 1), else_=table.c.failures + 1),
              "last_failure_at": case((ended, now), else_=table.c.last_failure_at),
              "blocked_until": case((ended, now + rate.window),
                                    else_=table.c.blocked_until)},
    ).returning(table.c.failures, table.c.blocked_until)
    calls, until = conn.execute(stmt).one()
    if calls <= rate.budget:
        return None
    return max(1, math.ceil((_aware(until) - now).total_seconds()))
