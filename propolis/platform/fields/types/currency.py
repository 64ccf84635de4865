"""``currency``: an amount of money, exact to ``precision`` places (2: cents)."""

from __future__ import annotations

from propolis.platform.errors import _
from propolis.platform.fields.numeric import NumberLike


class Currency(NumberLike):
    name = "currency"
    description = _("Currency: exact amounts of money")
