"""What every entry point (JSON API, HTML forms, import, extensions) talks to."""

from __future__ import annotations

from typing import Any

from zope.interface import Interface


class IRecordService(Interface):
    """Create, read, change, delete and find the records of one enterprise.
    (Return types live in the docstrings and on ``RecordService``: zope interface
    methods have no bodies for a type checker to check.)

    Values in and out are the JSON values of CONTRACT §2; records out are JSON-ready
    dicts with ``id``, every field the actor may see and the system fields. Every
    method acts on the actor's behalf (CONTRACT §5): a record they cannot reach is
    a 404 like a missing one, a verb their roles do not grant a 403. Errors are
    ``AppError``s.
    """

    def create(object: str, data: dict[str, Any]):
        """Validates and stores a new record; returns it."""

    def get(object: str, id: str):
        """One record; 404 when it does not exist or is in the recycle bin."""

    def update(
        object: str, id: str, data: dict[str, Any], *, version: int | None
    ):
        """Changes the given fields; ``version`` (when given) must be the current
        one, else 409."""

    def delete(object: str, id: str):
        """Moves a record to the recycle bin."""

    def restore(object: str, id: str):
        """Takes a record out of the recycle bin."""

    def list_deleted(object: str, limit: int, cursor: str | None):
        """Records in the recycle bin, most recently deleted first."""

    def history(object: str, id: str):
        """Field-level changes of a record, oldest first."""

    def transfer(object: str, id: str, owner: str):
        """Hands a record to another user (the ``transfer`` verb); returns it."""

    def check(object: str, id: str, verb: str):
        """Raises as acting on the record would: 404 when the actor cannot reach
        it, 403 when ``verb`` is not theirs on it."""

    def query(
        object: str,
        *,
        filters: list[dict[str, Any]],
        sort: list[str],
        limit: int,
        cursor: str | None,
        q: str | None,
    ):
        """A page of records: ``{"records": [...], "next_cursor": str | None}``."""
