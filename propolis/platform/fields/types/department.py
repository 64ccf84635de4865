"""``department``: a department of the enterprise (a record of the system object
``department``)."""

from __future__ import annotations

from propolis.platform.errors import _
from propolis.platform.fields.references import SystemReference


class Department(SystemReference):
    name = "department"
    description = _("Department")
    target = "department"
