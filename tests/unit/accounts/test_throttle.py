"""Failed-login counters: the captcha threshold, exponential back-off capped at
15 minutes, forgiveness on success (without letting an attacker buy it)."""

from __future__ import annotations

import datetime as dt
import uuid

from propolis.platform.accounts import throttle
from propolis.platform.db import Database

T0 = dt.datetime(2026, 11, 28, 9, 0, tzinfo=dt.UTC)


def test_the_delay_doubles_from_the_fifth_failure_up_to_15_minutes() -> None:
    limits = throttle.Limits()
    assert [limits.delay(n) for n in range(5)] == [None] * 5
    assert [limits.delay(n).total_seconds() for n in range(5, 11)] == [
        1, 2, 4, 8, 16, 32]
    assert limits.delay(15).total_seconds() == 900
    assert limits.delay(10_000).total_seconds() == 900


def _subject(account: str | None = None) -> str:
    return throttle.login_subject(account or f"acme{uuid.uuid4().hex[:8]}",
                                  "13800000000")


def test_failures_lead_to_a_captcha_then_to_a_back_off(database: Database) -> None:
    account = f"acme{uuid.uuid4().hex[:8]}"
    subject, ip = _subject(account), f"198.51.100.{uuid.uuid4().int % 250}"
    engine = database.system_engine
    states = []
    for n in range(6):
        with engine.begin() as conn:
            throttle.record_failure(conn, subject, None, T0 + dt.timedelta(seconds=n))
        with engine.connect() as conn:
            states.append(throttle.check(conn, subject, ip,
                                         T0 + dt.timedelta(seconds=n)))
    assert [s.captcha_required for s in states] == [False] * 2 + [True] * 4
    assert [s.retry_after for s in states] == [None, None, None, None, 1, 2]
    with engine.connect() as conn:
        later = throttle.check(conn, subject, ip, T0 + dt.timedelta(seconds=7))
        assert later.retry_after is None and later.captcha_required
        # typed differently (case, spaces), it is the same login
        typed = throttle.login_subject(f" {account.upper()}", " 13800000000 ")
        same = throttle.check(conn, typed, ip, T0 + dt.timedelta(seconds=7))
        assert same.subject_failures == 6
        # forgotten a day after the last failure
        assert throttle.check(conn, subject, ip, T0 + dt.timedelta(days=1, seconds=6)
                              ).failures == 0


def test_success_forgives_only_what_the_same_login_failed(database: Database) -> None:
    ip = f"2001:db8::{uuid.uuid4().hex[:4]}"
    victim, own = _subject(), _subject()
    engine = database.system_engine
    with engine.begin() as conn:
        for _ in range(3):
            throttle.record_failure(conn, victim, ip, T0)
        throttle.record_failure(conn, own, ip, T0)
    with engine.connect() as conn:
        assert throttle.check(conn, own, ip, T0).failures == 4
    # an attacker's own successful login takes back only its own failure
    with engine.begin() as conn:
        throttle.record_success(conn, own, ip)
    with engine.connect() as conn:
        state = throttle.check(conn, own, ip, T0)
        assert (state.failures, state.subject_failures) == (3, 0)
        assert state.captcha_required
    # the person who mistyped three times is forgiven when they get it right
    with engine.begin() as conn:
        throttle.record_success(conn, victim, ip)
    with engine.connect() as conn:
        assert throttle.check(conn, victim, ip, T0).failures == 0


def test_a_rate_is_read_from_its_setting() -> None:
    assert throttle.parse_rate("30/minute") == throttle.Rate(
        30, dt.timedelta(minutes=1))
    assert throttle.parse_rate(" 5 / hours ") == throttle.Rate(5, dt.timedelta(hours=1))
    assert throttle.parse_rate("100/10minutes") == throttle.Rate(
        100, dt.timedelta(minutes=10))
    assert throttle.parse_rate("off") is None
    for bad in ("30", "minute", "0/hour", "5/0hours", "-1/day", "5/week"):
        try:
            throttle.parse_rate(bad)
        except ValueError as exc:
            assert "30/minute" in str(exc)
        else:
            raise AssertionError(bad)


def test_a_rate_counts_calls_per_address_and_window(database: Database) -> None:
    rate = throttle.Rate(3, dt.timedelta(minutes=1))
    name = f"test{uuid.uuid4().hex[:8]}"
    engine = database.system_engine

    def hit(ip: str | None, seconds: float) -> int | None:
        with engine.begin() as conn:
            return throttle.hit(conn, name, ip, T0 + dt.timedelta(seconds=seconds),
                                rate)

    assert [hit("198.51.100.1", n) for n in range(3)] == [None] * 3
    assert hit("198.51.100.1", 20) == 40  # the window started at T0
    assert hit("198.51.100.1", 59.5) == 1
    # another address has a budget of its own; so have calls without one
    assert hit("198.51.100.2", 30) is None
    assert [hit(None, 30) for _ in range(3)] == [None] * 3
    assert hit(None, 31) == 59  # its window started at 30 s
    # a new window starts afresh
    assert [hit("198.51.100.1", 60 + n) for n in range(3)] == [None] * 3
    assert hit("198.51.100.1", 70) == 50
