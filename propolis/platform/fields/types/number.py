"""``number``: a quantity, exact to ``precision`` places (2 by default)."""

from __future__ import annotations

from propolis.platform.errors import _
from propolis.platform.fields.numeric import NumberLike


class Number(NumberLike):
    name = "number"
    description = _("Number: quantities, areas …")
    general = True
