"""``lookup``: a record of another object (``to``)."""

from __future__ import annotations

from propolis.platform.errors import t
from propolis.platform.fields.references import RecordReference


class Lookup(RecordReference):
    name = "lookup"
    description = t("查找关联：指向另一个对象的一条记录",
                    "Lookup: a record of another object")
