"""Replies, likes, receipts, topics and the feed of the records of any object that
enables them (``social:`` in its metadata)."""

from __future__ import annotations

from zope.interface import Interface


class ISocialService(Interface):
    """What people do around records they may read, on the actor's behalf:
    every call first reads the record through the record service, so a record
    the actor may not read is the same 404 as a missing one."""

    def comments(object: str, id: str):
        """``{"comments": [{"id", "content", "files", "mentions", "created_by",
        "created_at"}]}``, oldest first."""

    def add_comment(object: str, id: str, body: dict):
        """Adds a reply ``{"content", "files", "mentions"}``; those @mentioned
        gain read access and are told, and so is the record's author."""

    def like(object: str, id: str):
        """Toggles the actor's like: ``{"liked", "count"}``."""

    def confirm(object: str, id: str):
        """The actor (a recipient) confirms the record's receipt."""

    def receipts(object: str, id: str):
        """The author's view: ``{"confirmed": [ids], "pending": [ids]}``."""

    def remind(object: str, id: str):
        """The author reminds the recipients still pending: ``{"reminded": n}``."""

    def feed(*, type: str | None, topic: str | None, author: str | None,
             q: str | None, cursor: str | None, limit: int):
        """``{"items": [{"object", "id", "created_at", "created_by", "record"}],
        "next_cursor"}``, newest first, what the actor may read."""

    def topics():
        """``{"topics": [{"name", "pinned", "company_wide", "count", "latest",
        "followed"}]}``: pinned first, then the latest."""

    def topic(name: str):
        """One topic's settings and whether the actor follows it."""

    def follow(name: str, follow: bool):
        """Follows (or stops following) a topic."""

    def set_topic(name: str, body: dict):
        """Admin: ``{"pinned", "company_wide"}`` of a topic."""

    def drafts(object: str):
        """``{"drafts": [{"id", "data", "created_at", "updated_at"}]}``: the
        actor's own drafts of ``object``, newest first."""

    def save_draft(object: str, id: str | None, data: dict):
        """Saves a draft (a new one when ``id`` is None); only field names are
        checked, since a draft may be incomplete."""

    def delete_draft(object: str, id: str):
        """Discards one of the actor's drafts."""

    def submit_draft(object: str, id: str):
        """Creates the record from the draft through the record service and
        discards the draft; a refusal leaves the draft as it was."""
