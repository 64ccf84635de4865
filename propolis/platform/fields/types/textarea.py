"""``textarea``: long plain text (notes, descriptions)."""

from __future__ import annotations

from propolis.platform.errors import t
from propolis.platform.fields.textual import LongText


class Textarea(LongText):
    name = "textarea"
    description = t("多行文本：备注、说明", "Long text: notes, descriptions")
    limit = 100_000
    takes_text = True
