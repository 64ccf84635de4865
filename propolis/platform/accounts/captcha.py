"""Image captchas, drawn on the server (the ``captcha`` package, on Pillow).

Only a keyed hash of the answer is stored, with an expiry; checking one deletes it,
right or wrong, so each image answers one attempt."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from captcha.image import ImageCaptcha
from sqlalchemy import Connection, delete, insert

from propolis.platform.ids import new_id
from propolis.platform.storage.system import Captcha

# No 0/O, 1/I/L, 2/Z, 5/S, 8/B: what people misread in a distorted image.
ALPHABET = "ACDEFGHJKMNPQRTUVWXY34679"
LENGTH = 4
LIFETIME = dt.timedelta(minutes=5)

_image = ImageCaptcha(width=160, height=60)


@dataclass(frozen=True)
class NewCaptcha:
    id: str
    image: str  # a data: URL of the PNG
    answer: str  # for the tests' eyes only; never sent to a client


def _hash(key: str, captcha_id: str, answer: str) -> str:
    normalized = "".join(answer.split()).upper()
    return hmac.new(key.encode(), f"{captcha_id}:{normalized}".encode(),
                    hashlib.sha256).hexdigest()


def create(conn: Connection, key: str, now: dt.datetime) -> NewCaptcha:
    """A new captcha; expired ones are cleared on the way (an indexed delete)."""
    conn.execute(delete(Captcha).where(Captcha.expires_at < now))
    answer = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
    captcha_id = new_id()
    conn.execute(insert(Captcha).values(id=captcha_id,
                                        answer_hash=_hash(key, captcha_id, answer),
                                        expires_at=now + LIFETIME))
    png = _image.generate(answer, format="png").getvalue()
    url = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
    return NewCaptcha(captcha_id, url, answer)


def verify(conn: Connection, key: str, captcha_id: str | None, answer: str | None,
           now: dt.datetime) -> bool:
    """True when ``answer`` solves the captcha and it has not expired. The captcha
    is used up either way (deleted with RETURNING, so of two concurrent checks
    only one sees it)."""
    if not captcha_id or not answer or len(captcha_id) > 32:
        return False
    stored = conn.execute(delete(Captcha).where(Captcha.id == captcha_id)
                          .returning(Captcha.answer_hash, Captcha.expires_at)).first()
    if stored is None:
        return False
    expires_at = stored.expires_at
    if expires_at.tzinfo is None:
        expires_at = expires_at.replace(tzinfo=dt.UTC)
    if expires_at <= now:
        return False
    return hmac.compare_digest(stored.answer_hash, _hash(key, captcha_id, answer))
