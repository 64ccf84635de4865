"""The boxes (to do, submitted, copied to me, done) and the inbox of
notifications, a keyset page at a time."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select, update

from propolis.platform.errors import _
from propolis.platform.ids import ID_LENGTH
from propolis.platform.query.services import bad_cursor
from propolis.platform.storage.platform_tables import (
    approval_cc,
    approval_instances,
    approval_tasks,
    notifications,
)
from propolis.platform.workflow.engine import (
    ACTED,
    BOXES,
    ApprovalEngine,
    both_languages,
    invalid,
    utcnow,
)


class Boxes(ApprovalEngine):
    """What a user sees of approvals."""

    def box(self, box: str, *, limit: int = 20, cursor: str | None = None,
            status: str | None = None) -> dict[str, Any]:
        """A page of one of the actor's boxes, newest first: ``todo`` (waiting for
        them), ``submitted`` (theirs), ``cc`` (copied to them), ``done`` (they
        acted on); ``next_cursor`` continues it."""
        if box not in BOXES:
            raise invalid("box", _("must be one of ${boxes}",
                                   mapping={"boxes": ' | '.join(BOXES)}))
        me = self.me
        i, c = approval_instances.c, approval_tasks.c
        if box == "todo":
            stmt = (select(approval_instances, c.id.label("task_id"),
                           c.id.label("key"))
                    .join(approval_tasks, c.instance_id == i.id)
                    .where(c.assignee == me, c.status == "pending")
                    .order_by(c.id.desc()))
            key = c.id
        else:
            stmt = select(approval_instances, i.id.label("key")).order_by(i.id.desc())
            key = i.id
            if box == "submitted":
                stmt = stmt.where(i.submitter == me)
            elif box == "cc":
                stmt = stmt.where(i.id.in_(select(approval_cc.c.instance_id).where(
                    approval_cc.c.user_id == me)))
            else:
                stmt = stmt.where(i.id.in_(select(c.instance_id).where(
                    c.assignee == me, c.status.in_(ACTED + ("transferred",)))))
        if status is not None:
            stmt = stmt.where(i.status == status)
        if cursor:
            stmt = stmt.where(key < _cursor(cursor))
        rows = list(self.conn.execute(stmt.limit(limit + 1)))
        more = len(rows) > limit
        rows = rows[:limit]
        names = self.directory.names([r.submitter for r in rows])
        items = []
        for r in rows:
            item = {"id": r.id,
                    "definition": {"api_name": r.definition_name,
                                   "label": r.definition["label"]},
                    "object": r.object, "record_id": r.record_id, "title": r.title,
                    "status": r.status,
                    "submitter": {"id": r.submitter, "name": names.get(r.submitter)},
                    "current_step": r.current_step, "created_at": r.created_at,
                    "finished_at": r.finished_at}
            if box == "todo":
                item["task_id"] = r.task_id
            items.append(item)
        return {"items": items, "next_cursor": rows[-1].key if more else None}

    def notifications(self, *, unread: bool = False, limit: int = 20,
                      cursor: str | None = None, lang: str = "zh") -> dict[str, Any]:
        """The actor's notifications, newest first, with the unread count."""
        n = notifications.c
        stmt = select(notifications).where(n.user_id == self.me).order_by(n.id.desc())
        if unread:
            stmt = stmt.where(n.read_at.is_(None))
        if cursor:
            stmt = stmt.where(n.id < _cursor(cursor))
        rows = list(self.conn.execute(stmt.limit(limit + 1)))
        more = len(rows) > limit
        rows = rows[:limit]
        count = self.conn.execute(select(func.count()).where(
            n.user_id == self.me, n.read_at.is_(None))).scalar_one()
        return {"items": [{"id": r.id, "kind": r.kind, "instance_id": r.instance_id,
                           "object": r.object, "record_id": r.record_id,
                           "message": both_languages(r.message)[lang],
                           "created_at": r.created_at,
                           "read": r.read_at is not None} for r in rows],
                "unread": count, "next_cursor": rows[-1].id if more else None}

    def mark_read(self, ids: Sequence[str] | None) -> int:
        """Marks the actor's notifications read (``ids``; None: all of them)."""
        n = notifications.c
        stmt = update(notifications).where(n.user_id == self.me, n.read_at.is_(None))
        if ids is not None:
            stmt = stmt.where(n.id.in_(list(ids)))
        return int(self.conn.execute(stmt.values(read_at=utcnow())).rowcount or 0)


def _cursor(value: Any) -> str:
    """A box's or the inbox's cursor: the id the previous page ended with (never
    text a database could choke on, such as a NUL byte on PostgreSQL)."""
    if not isinstance(value, str) or len(value) > ID_LENGTH \
            or not (value.isascii() and value.isalnum()):
        raise bad_cursor()
    return value
