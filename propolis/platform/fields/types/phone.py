"""``phone``: a telephone number (digits, an optional leading ``+``, spaces,
brackets, dashes, dots and ``# *``)."""

from __future__ import annotations

from propolis.platform.errors import _
from propolis.platform.fields.textual import ShortText

PHONE_PATTERN = r"^\+?[0-9()][0-9 ()\-.#*]*$"


class Phone(ShortText):
    name = "phone"
    description = _("Phone number")
    length = 40
    pattern = PHONE_PATTERN
