"""``richtext``: formatted text, kept as HTML without scripts, handlers or unknown
tags (sanitised on the way in); searched and matched by its words."""

from __future__ import annotations

from typing import Any

import nh3

from propolis.platform.errors import _
from propolis.platform.fields.base import Field
from propolis.platform.fields.textual import LongText


class Richtext(LongText):
    name = "richtext"
    description = _("Rich text: formatted text")
    value_kind = "richtext"
    limit = 1_000_000
    filter_ops = frozenset({"contains", "isnull"})
    sortable = False

    def parse(self, field: Field, value: Any) -> Any:
        return nh3.clean(value)

    def words(self, field: Field, value: Any) -> str:
        return nh3.clean(value, tags=set())
