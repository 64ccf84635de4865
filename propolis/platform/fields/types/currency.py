"""``currency``: an amount of money, exact to ``precision`` places (2: cents)."""

from __future__ import annotations

from propolis.platform.errors import t
from propolis.platform.fields.numeric import NumberLike


class Currency(NumberLike):
    name = "currency"
    description = t("金额：精确到分的钱数", "Currency: exact amounts of money")
