"""``user``: an employee of the enterprise (a record of the system object
``user``)."""

from __future__ import annotations

from propolis.platform.errors import _
from propolis.platform.fields.references import SystemReference


class User(SystemReference):
    name = "user"
    description = _("User: an employee")
    target = "user"
