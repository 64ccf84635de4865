"""``email``: an e-mail address."""

from __future__ import annotations

import re

from propolis.platform.errors import _
from propolis.platform.fields.textual import ShortText

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")


def is_email(value: object) -> bool:
    return not isinstance(value, str) or bool(EMAIL_RE.match(value))


class Email(ShortText):
    name = "email"
    description = _("Email address")
    length = 254
    text_format = "email"
    formats = {"email": (is_email, _("is not an e-mail address"))}
