"""Record ids: opaque, 26 characters, time-ordered (a ULID) so that new rows land at
the end of primary-key indexes instead of all over them."""

from __future__ import annotations

import os
import time

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford's base32
# the width of every id column: room to spare beyond the 26 characters
ID_LENGTH = 32


def new_id() -> str:
    value = (int(time.time() * 1000) << 80) | int.from_bytes(os.urandom(10), "big")
    chars = []
    for _ in range(26):
        chars.append(_ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(chars))
