"""What the approval pages, the JSON API and the SLA task ask of approvals."""

from __future__ import annotations

from typing import Any

from zope.interface import Interface


class IApprovalService(Interface):
    """The approvals of one enterprise on behalf of one actor (CONTRACT §4, §5):
    starting one, acting on it, the boxes, the inbox, delegation, statistics and
    the SLA pass. Refusals are ``AppError``s; an instance the actor may not see is
    a 404."""

    def definitions():
        """The approval types the enterprise has, with their forms."""

    def start(body: dict[str, Any]):
        """Starts an approval (``{"definition", "data" | "record",
        "next_approver"}``); returns the instance."""

    def get(instance_id: str):
        """One instance with its steps, record and timeline."""

    def takes_part_in(object: str, record_id: str):
        """Whether the actor takes part in an approval of the record (what lets
        them see it on the approval's page, and so its files)."""

    def act(instance_id: str, body: dict[str, Any]):
        """``approve reject return transfer withdraw add_approver comment urge``;
        returns the instance after it."""

    def box(box: str, *, limit: int, cursor: str | None, status: str | None):
        """A page of ``todo``, ``submitted``, ``cc`` or ``done``, newest first."""

    def notifications(*, unread: bool, limit: int, cursor: str | None, lang: str):
        """The actor's notifications, newest first, with the unread count."""

    def mark_read(ids: list[str] | None):
        """Marks those (None: every one) read; returns how many."""

    def delegation():
        """The actor's delegation (代批), or None."""

    def set_delegation(body: dict[str, Any]):
        """Delegates the actor's approvals for a period; returns it."""

    def clear_delegation():
        """Ends the actor's delegation."""

    def statistics(by: str, start: str | None, end: str | None):
        """``(query, rows)``: the statistics ``by`` type, department or person
        of the instances submitted from ``start`` to ``end`` (approval and
        enterprise admins only)."""

    def process_overdue(now: Any = None):
        """The SLA pass: reminders, then escalations, of steps past their time
        limit; ``{"reminded", "escalated"}``."""
