"""``percent``: a percentage, written as its number (12.5 for 12.5 %)."""

from __future__ import annotations

from propolis.platform.errors import _
from propolis.platform.fields.numeric import NumberLike


class Percent(NumberLike):
    name = "percent"
    description = _("Percent: 12.5 means 12.5 %")
