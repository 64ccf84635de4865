"""The browser session: a signed cookie (Pyramid's) holding the session's id, the
CSRF token, whether to be remembered, and when the password was last confirmed
for the admin console. Nothing in it is secret from its own browser, but nobody
can forge or alter it without the server's secret.

The session itself is kept on the server: its id (``SESSION_ID``) is the secret of
a token of kind ``browser`` (stored hashed, listed with the user's sessions, ended
by logging out, a password change or disabling the user). Such a token is accepted
only from the cookie, and a bearer token only from the ``Authorization`` header,
so the cookie never carries anything the API would take as a bearer token."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from pyramid.interfaces import ISessionFactory
from pyramid.session import SignedCookieSessionFactory

COOKIE_NAME = "propolis_session"
SESSION_ID = "sid"  # the session's key in the cookie
DEVICE_COOKIE = "propolis_device"
REMEMBER_SECONDS = 30 * 24 * 3600
DEVICE_SECONDS = 2 * 365 * 24 * 3600


def derived_secret(secret: str, purpose: str) -> str:
    """A key per use, so the session's signature and (say) the captcha hashes
    never share a key."""
    return hmac.new(secret.encode(), purpose.encode(), hashlib.sha256).hexdigest()


def session_factory(secret: str, *, secure: bool = False) -> ISessionFactory:
    base: Any = SignedCookieSessionFactory(
        derived_secret(secret, "session"),
        cookie_name=COOKIE_NAME,
        secure=secure,
        httponly=True,
        samesite="Lax",
        # The token's own expiry ends a session; the cookie only carries it.
        timeout=None,
        reissue_time=None,
    )

    class CookieSession(base):  # type: ignore[misc, valid-type]
        """"Remember me" makes the cookie outlive the browser (30 days); without
        it the cookie is a browser-session cookie."""

        def _set_cookie(self, response: Any) -> bool:
            self._cookie_max_age = REMEMBER_SECONDS if self.get("remember") else None
            return bool(super()._set_cookie(response))

    return CookieSession
