"""``lookup``: a record of another object (``to``)."""

from __future__ import annotations

from propolis.platform.errors import _
from propolis.platform.fields.references import RecordReference


class Lookup(RecordReference):
    name = "lookup"
    description = _("Lookup: a record of another object")
