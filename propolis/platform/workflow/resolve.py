"""Approvers from the organisation: who an approval step's ``approver`` names, for
one submitter (CONTRACT §2, kind: approval).

``relation``: ``direct_superior`` (also written ``superior``), ``nth_superior``
with ``level`` (1 is the direct superior), ``department_head`` (of the submitter's
main department; when the submitter heads it, the head of the department above),
``parent_department_head``. ``position``: every active user with that position
(职务). ``role``: every active user with that role. ``users``: the named users that
are active. ``submitter_choice``: the users the submitter chose for the step.
Disabled users, users in the recycle bin and pending users never approve.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Connection, Row, select

from propolis.platform.meta.effective import Effective
from propolis.platform.storage.platform_tables import user_hierarchy

Approver = Mapping[str, Any]  # one ``approver`` of a definition


class Directory:
    """Reads the organisation for approver resolution, inside the caller's
    transaction."""

    def __init__(self, conn: Connection, effective: Effective) -> None:
        self.conn = conn
        self.users = effective.tables.main["user"]
        self.departments = effective.tables.main["department"]

    def _active(self) -> ColumnElement[bool]:
        u = self.users.c
        return (u.status == "active") & u.deleted_at.is_(None)

    def user(self, user_id: str | None) -> Row[*tuple[Any, ...]] | None:
        """The active user ``user_id`` (None when there is none)."""
        if not user_id:
            return None
        u = self.users.c
        return self.conn.execute(
            select(u.id, u.name, u.superior, u.main_department, u.position, u.roles)
            .where(u.id == user_id, self._active())).first()

    def active_ids(self, ids: Sequence[str]) -> list[str]:
        """Those of ``ids`` that are active users, in the given order."""
        if not ids:
            return []
        u = self.users.c
        found = set(self.conn.execute(
            select(u.id).where(u.id.in_(list(ids)), self._active())).scalars())
        return [i for i in dict.fromkeys(ids) if i in found]

    def names(self, ids: Sequence[str]) -> dict[str, str]:
        """Display names of users by id (whatever their status)."""
        if not ids:
            return {}
        u = self.users.c
        return dict(self.conn.execute(select(u.id, u.name).where(
            u.id.in_(sorted(set(ids))))).all())

    def resolve(self, approver: Approver, submitter: str,
                chosen: Sequence[str] = ()) -> list[str]:
        """The active users ``approver`` names for ``submitter`` (may be empty)."""
        if "users" in approver:
            return self.active_ids(approver["users"])
        if "submitter_choice" in approver:
            return self.active_ids(chosen)
        if "position" in approver:
            return self._where(self.users.c.position == approver["position"])
        if "role" in approver:
            u = self.users.c
            rows = self.conn.execute(select(u.id, u.roles).where(
                self._active(), u.roles.is_not(None)).order_by(u.id))
            return [r.id for r in rows if approver["role"] in (r.roles or ())]
        relation = approver["relation"]
        if relation in ("direct_superior", "superior"):
            return self._superior(submitter, 1)
        if relation == "nth_superior":
            return self._superior(submitter, int(approver["level"]))
        me = self.user(submitter)
        department = me.main_department if me is not None else None
        if relation == "parent_department_head":
            department = self._parent(department)
        return self._head(department, submitter)

    def _where(self, condition: Any) -> list[str]:
        u = self.users.c
        return list(self.conn.execute(select(u.id).where(condition, self._active())
                                      .order_by(u.id)).scalars())

    def _superior(self, submitter: str, level: int) -> list[str]:
        h = user_hierarchy.c
        found = self.conn.execute(select(h.ancestor).where(
            h.descendant == submitter, h.depth == level)).scalar()
        return self.active_ids([found]) if found else []

    def _parent(self, department: str | None) -> str | None:
        if department is None:
            return None
        d = self.departments.c
        return self.conn.execute(select(d.parent).where(d.id == department)).scalar()

    def _head(self, department: str | None, submitter: str) -> list[str]:
        # a head's own request goes to the head above them (at most the tree's
        # depth; the set guards against a cycle left in old data)
        seen: set[str] = set()
        d = self.departments.c
        while department is not None and department not in seen:
            seen.add(department)
            row = self.conn.execute(select(d.head, d.parent).where(
                d.id == department, d.deleted_at.is_(None))).first()
            if row is None:
                return []
            if row.head and row.head != submitter:
                return self.active_ids([row.head])
            department = row.parent
        return []
