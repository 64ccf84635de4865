"""``department``: a department of the enterprise (a record of the system object
``department``)."""

from __future__ import annotations

from propolis.platform.errors import t
from propolis.platform.fields.references import SystemReference


class Department(SystemReference):
    name = "department"
    description = t("部门", "Department")
    target = "department"
