"""``user``: an employee of the enterprise (a record of the system object
``user``)."""

from __future__ import annotations

from propolis.platform.errors import t
from propolis.platform.fields.references import SystemReference


class User(SystemReference):
    name = "user"
    description = t("人员：本企业的一名员工", "User: an employee")
    target = "user"
