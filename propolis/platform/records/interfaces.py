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
    a 404 like a missing one, a verb their roles do not grant a 403 (the methods
    for other domains say when they ask no right). Errors are ``AppError``s.
    Every change notifies a record event (``records/events.py``) inside the
    transaction.
    """

    def create(object: str, data: dict[str, Any]):
        """Validates and stores a new record; returns it."""

    def create_many(object: str, rows: Any):
        """Creates the records of ``rows`` (a sequence of what ``create`` takes)
        with the same checks, written in bulk: a ``Created`` of the records
        written and the ``AppError`` of each refused one, by index."""

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

    def duplicates(object: str, data: dict[str, Any], exclude: str | None):
        """The records whose ``duplicates:`` values equal those of ``data`` (the
        查重 tool): ``[{"name", "owner_name", "field", "id"?}]``."""

    def timeline(object: str, id: str, *, limit: int, cursor: str | None):
        """The records on a record's timeline, newest first: ``{"items": [{"object",
        "id", "name", "created_at", "created_by", "record"}], "next_cursor"}``."""

    def release(object: str, id: str):
        """Leaves a record without an owner (the ``transfer`` verb); returns it."""

    def privileged():
        """The same service, in the same transaction and for the same user, with
        every right (for code that checked the rights itself)."""

    def set_life_status(object: str, id: str, status: str):
        """Sets a record's ``life_status`` for the approval engine (no right
        asked)."""

    def set_password(user_id: str, password: str, *, hashed: bool):
        """Sets a user's password for the accounts (no right asked; the caller
        ends the sessions)."""

    def hand_over(from_user: str, to_user: str, to_department: str | None):
        """Gives every record of ``from_user`` to ``to_user`` (an employee's
        handover; no right asked); ``{object: count}``."""

    def check(object: str, id: str, verb: str):
        """Raises as acting on the record would: 404 when the actor cannot reach
        it, 403 when ``verb`` is not theirs on it."""

    def file_holders(file_id: str):
        """The records holding the uploaded file ``file_id`` in a file or image
        field (``FileHolder``: object, record id, whether the actor sees that
        field and reaches the record)."""

    def variables(object: str, id: str, *, verb: str | None, lock: bool):
        """The record as expressions see it (Python values, system fields, table
        rows as lists of maps); raises as ``check`` with ``verb`` (None: no right
        asked)."""

    def scan(object: str, *, after: str | None, limit: int):
        """The next ``limit`` live records the actor may read after the id
        ``after``, in id order, as expressions see them."""

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

    def team(object: str, id: str):
        """The record's joint followers (``user_id``, ``name``, ``access`` …)."""

    def add_to_team(object: str, id: str, body: dict[str, Any]):
        """Adds a joint follower (``{"user", "access": "read" | "edit"}``) or
        changes their access (``edit`` on the record); returns the team."""

    def remove_from_team(object: str, id: str, user: str):
        """Removes a joint follower (``edit`` on the record)."""

    def explain(object: str, id: str, user: str):
        """Why ``user`` can or cannot read, edit and delete the record."""


class IFileService(Interface):
    """The files uploaded to one enterprise for its file and image fields."""

    def store(name: str, content_type: str, source: Any):
        """Keeps the file read from ``source`` (a binary stream); returns it
        (``id name content_type size path``). Removed again when the caller's
        transaction aborts."""

    def get(file_id: str):
        """The file ``file_id`` of the enterprise (``id name content_type size
        path uploaded_by``); 404 when there is none. Who may read it is the
        caller's question (``IRecordService.file_holders``)."""

    def names(ids: Any):
        """``{id: name}`` of those of ``ids`` that are the enterprise's files."""
