"""What the pages and the API ask of the enterprise itself."""

from __future__ import annotations

from typing import Any

from zope.interface import Interface


class ITenancyService(Interface):
    """The caller's enterprise: its settings. Changing them is for its admins (the
    caller checks); every change is in the admin audit log."""

    def settings():
        """``{"account", "name", "time_zone"}``."""

    def time_zones():
        """The time zones the enterprise may choose (IANA names), sorted."""

    def put_settings(data: dict[str, Any]):
        """Changes the settings ``data`` names (``time_zone``: an IANA zone such
        as ``Asia/Shanghai``) and returns them all; a bad value is an
        ``AppError`` naming the key. The enterprise's requests see the change
        from the next one on."""
