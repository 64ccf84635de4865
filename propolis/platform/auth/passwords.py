"""Password hashing with argon2 (argon2-cffi's recommended parameters)."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()

# Verifying against this when the login is unknown keeps the response time the same,
# so timing does not tell which logins exist.
_DUMMY = _hasher.hash("propolis-no-such-user")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def is_hash(value: str | None) -> bool:
    return bool(value) and str(value).startswith("$argon2")


def verify_password(stored: str | None, password: str) -> bool:
    real = stored if stored and is_hash(stored) else None
    try:
        return _hasher.verify(real or _DUMMY, password) and real is not None
    except (VerificationError, InvalidHashError):
        return False
