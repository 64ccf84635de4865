"""``textarea``: long plain text (notes, descriptions)."""

from __future__ import annotations

from propolis.platform.errors import _
from propolis.platform.fields.textual import LongText


class Textarea(LongText):
    name = "textarea"
    description = _("Long text: notes, descriptions")
    limit = 100_000
    takes_text = True
