"""``percent``: a percentage, written as its number (12.5 for 12.5 %)."""

from __future__ import annotations

from propolis.platform.errors import t
from propolis.platform.fields.numeric import NumberLike


class Percent(NumberLike):
    name = "percent"
    description = t("百分比：12.5 表示 12.5%", "Percent: 12.5 means 12.5 %")
