"""``number``: a quantity, exact to ``precision`` places (2 by default)."""

from __future__ import annotations

from propolis.platform.errors import t
from propolis.platform.fields.numeric import NumberLike


class Number(NumberLike):
    name = "number"
    description = t("数字：数量、面积等", "Number: quantities, areas …")
    general = True
