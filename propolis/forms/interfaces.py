"""What the pages of this package ask of their own service."""

from __future__ import annotations

from typing import Any

from zope.interface import Interface


class ISavedViewService(Interface):
    """The logged-in user's saved list views (named list query strings) of the
    enterprise's objects; nobody else's are reachable."""

    def list(object: str):
        """The user's saved views of ``object`` (``id name params``), by name."""

    def get(object: str, id: str):
        """One of them; 404 for anyone else's or a missing one."""

    def save(object: str, name: Any, params: Any):
        """Saves a list's query string ``params`` under ``name``."""

    def rename(object: str, id: str, name: Any):
        """Renames one of the user's views."""

    def delete(object: str, id: str):
        """Deletes one of the user's views."""
