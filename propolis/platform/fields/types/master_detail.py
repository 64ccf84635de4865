"""``master_detail``: the master record (of ``to``) this record belongs to; the
master's rollups sum up its details."""

from __future__ import annotations

from propolis.platform.errors import _
from propolis.platform.fields.references import RecordReference


class MasterDetail(RecordReference):
    name = "master_detail"
    description = _("Master-detail: the record belongs to a master record, which can "
                    "sum it up")
