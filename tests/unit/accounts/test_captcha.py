"""Image captchas: a PNG, an answer stored only as a keyed hash, single use,
expiring after five minutes."""

from __future__ import annotations

import base64
import datetime as dt

from sqlalchemy import select

from propolis.platform.accounts import captcha
from propolis.platform.db import Database
from propolis.platform.storage.system import Captcha

T0 = dt.datetime(2026, 11, 28, 9, 0, tzinfo=dt.UTC)
KEY = "test-key"


def test_a_captcha_is_a_png_whose_answer_is_not_stored(database: Database) -> None:
    with database.system_engine.begin() as conn:
        made = captcha.create(conn, KEY, T0)
    assert made.image.startswith("data:image/png;base64,")
    png = base64.b64decode(made.image.split(",", 1)[1])
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(made.answer) == captcha.LENGTH
    with database.system_engine.connect() as conn:
        stored = conn.execute(select(Captcha.answer_hash).where(
            Captcha.id == made.id)).scalar_one()
    assert made.answer not in stored and made.answer.lower() not in stored


def test_a_captcha_answers_once(database: Database) -> None:
    with database.system_engine.begin() as conn:
        made = captcha.create(conn, KEY, T0)
        other = captcha.create(conn, KEY, T0)
    with database.system_engine.begin() as conn:
        # case and spaces do not matter
        assert captcha.verify(conn, KEY, made.id, " " + made.answer.lower(), T0)
        assert not captcha.verify(conn, KEY, made.id, made.answer, T0)
        # a wrong answer uses it up too
        assert not captcha.verify(conn, KEY, other.id, "????", T0)
        assert not captcha.verify(conn, KEY, other.id, other.answer, T0)


def test_a_captcha_expires_and_needs_the_right_key(database: Database) -> None:
    with database.system_engine.begin() as conn:
        late = captcha.create(conn, KEY, T0)
        keyed = captcha.create(conn, KEY, T0)
    with database.system_engine.begin() as conn:
        assert not captcha.verify(conn, KEY, late.id, late.answer,
                                  T0 + captcha.LIFETIME)
        assert not captcha.verify(conn, "another-key", keyed.id, keyed.answer, T0)
        assert not captcha.verify(conn, KEY, None, "x", T0)
        assert not captcha.verify(conn, KEY, "x" * 40, "x", T0)
