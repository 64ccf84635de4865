"""The department tree: departments created, renamed, moved, disabled and enabled,
never into a cycle, and what the admin sees of the tree (members, heads)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import distinct, func, or_, select, union_all

from propolis.platform.errors import AND, AppError, NotFound, _, joined
from propolis.platform.org.base import (
    NOT_A_STRING,
    PRESENT,
    OrgBase,
    check_keys,
    invalid,
    optional_id,
)


class Departments(OrgBase):
    """The department tree's changes and reads."""

    def department_tree(self, *, include_disabled: bool = True) -> list[dict[str, Any]]:
        """Every department as a forest (roots first, children nested), ordered by
        ``sort_order`` then name; each node with the number of employees (active
        or pending) who belong to it directly."""
        d = self.departments
        rows = self.conn.execute(
            select(d.c.id, d.c.name, d.c.parent, d.c.head, d.c.disabled,
                   d.c.sort_order).where(d.c.deleted_at.is_(None))).all()
        counts = self._member_counts()
        nodes = {r.id: {"id": r.id, "name": r.name, "parent": r.parent,
                        "head": r.head, "disabled": bool(r.disabled),
                        "sort_order": int(r.sort_order or 0),
                        "employees": counts.get(r.id, 0), "children": []}
                 for r in rows}
        roots: list[dict[str, Any]] = []
        for node in nodes.values():
            parent = nodes.get(node["parent"]) if node["parent"] else None
            (parent["children"] if parent is not None else roots).append(node)

        def arrange(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
            if not include_disabled:
                items = [n for n in items if not n["disabled"]]
            items.sort(key=lambda n: (n["sort_order"], n["name"], n["id"]))
            for n in items:
                n["children"] = arrange(n["children"])
            return items

        return arrange(roots)

    def _member_counts(self) -> dict[str, int]:
        u, ud = self.users, self.user_departments
        present = [u.c.deleted_at.is_(None), u.c.status.in_(PRESENT)]
        pairs = union_all(
            select(u.c.main_department.label("dept"), u.c.id.label("uid"))
            .where(u.c.main_department.is_not(None), *present),
            select(ud.c.department.label("dept"), u.c.id.label("uid"))
            .join(u, u.c.id == ud.c.parent_id).where(*present),
        ).subquery()
        return {row.dept: row.n for row in self.conn.execute(
            select(pairs.c.dept, func.count(distinct(pairs.c.uid)).label("n"))
            .group_by(pairs.c.dept))}

    def _department(self, id: str, field: str | None = None) -> dict[str, Any]:
        """A live department; 404 (or, when ``field`` names where the id came from,
        a 400 naming it)."""
        d = self.departments
        row = self.conn.execute(
            select(d.c.id, d.c.name, d.c.parent, d.c.disabled)
            .where(d.c.id == id, d.c.deleted_at.is_(None))).first()
        if row is None:
            if field is not None:
                raise invalid(field, _("no such department (or it was deleted)"))
            raise NotFound("not_found", _("The department does not exist or was "
                                          "deleted"))
        return dict(row._mapping)

    def enabled_department(self, id: str, field: str) -> dict[str, Any]:
        found = self._department(id, field)
        if found["disabled"]:
            raise invalid(field, _("the department '${name}' is disabled",
                                   mapping={"name": found['name']}))
        return found

    def _check_head(self, head: str | None) -> None:
        if head is not None:
            self._present_user(head, "head")

    def create_department(self, data: Mapping[str, Any]) -> dict[str, Any]:
        data = check_keys(data, ("name", "parent", "head", "sort_order"))
        parent = optional_id(data, "parent")
        if parent is not None:
            self.enabled_department(parent, "parent")
        self._check_head(optional_id(data, "head"))
        created = self.records.create("department", {**data, "disabled": False})
        self.audit("department.create", created["id"],
                   {"name": created["name"], "parent": parent})
        return created

    def update_department(self, id: str, data: Mapping[str, Any]) -> dict[str, Any]:
        """Renames a department or changes its head or sort order (moving and
        disabling have routes of their own, with their rules)."""
        data = check_keys(data, ("name", "head", "sort_order"))
        before = self.records.get("department", id)
        self._check_head(optional_id(data, "head"))
        after = self.records.update("department", id, data)
        changed = {k: [before.get(k), after.get(k)] for k in data
                   if before.get(k) != after.get(k)}
        if changed:
            action = "department.rename" if set(changed) == {"name"} \
                else "department.update"
            self.audit(action, id, {"changes": changed})
        return after

    def move_department(self, id: str, parent: Any) -> dict[str, Any]:
        """Puts a department (with its whole subtree) under ``parent`` (None: at
        the top). Refused, naming ``parent``, when that is the department itself
        or one of its descendants, or a disabled department."""
        if parent is not None and (not isinstance(parent, str) or not parent):
            raise invalid("parent", NOT_A_STRING)
        moving = self._department(id)
        if parent is not None:
            target = self._department(parent, "parent")
            if parent == id or id in self._ancestors(parent):
                raise invalid(
                    "parent",
                    _("cannot be the department itself or one of its sub-departments"),
                    _("A department cannot move under "
                      "itself or a sub-department (that "
                      "would make a cycle)"), code="department_cycle")
            if target["disabled"] and not moving["disabled"]:
                raise invalid("parent", _("the department '${name}' is disabled",
                                          mapping={"name": target['name']}))
        if moving["parent"] == parent:
            return self.records.get("department", id)
        moved = self.records.update("department", id, {"parent": parent})
        self.audit("department.move", id, {"from": moving["parent"], "to": parent})
        return moved

    def _ancestors(self, id: str) -> list[str]:
        """The chain of parents above ``id``, nearest first (stops at a cycle
        already in the data rather than looping)."""
        d = self.departments
        parents = dict(self.conn.execute(
            select(d.c.id, d.c.parent).where(d.c.deleted_at.is_(None))).all())
        chain: list[str] = []
        current = parents.get(id)
        while current is not None and current not in chain and current != id:
            chain.append(current)
            current = parents.get(current)
        return chain

    def disable_department(self, id: str) -> dict[str, Any]:
        """Refused while employees (active or pending) belong to it or any of its
        sub-departments is still enabled; the message says how many."""
        found = self._department(id)
        if found["disabled"]:
            return self.records.get("department", id)
        members = self._member_counts().get(id, 0)
        d = self.departments
        children = self.conn.execute(
            select(func.count()).select_from(d).where(
                d.c.parent == id, d.c.deleted_at.is_(None),
                or_(d.c.disabled.is_(None), d.c.disabled.is_(False)))).scalar_one()
        if members or children:
            left = []
            if members:
                left.append(_("${count} employee", mapping={"count": members})
                            if members == 1 else
                            _("${count} employees", mapping={"count": members}))
            if children:
                left.append(
                    _("${count} enabled sub-department", mapping={"count": children})
                    if children == 1 else
                    _("${count} enabled sub-departments", mapping={"count": children}))
            message = _("The department still has ${left}; it cannot be disabled",
                        mapping={"left": joined(left, AND)})
            raise AppError("department_not_empty", message, {"disabled": [message]})
        disabled = self.records.update("department", id, {"disabled": True})
        self.audit("department.disable", id, {"name": found["name"]})
        return disabled

    def enable_department(self, id: str) -> dict[str, Any]:
        found = self._department(id)
        if found["parent"] is not None:
            parent = self._department(found["parent"])
            if parent["disabled"]:
                raise invalid("parent", _("the parent department '${name}' is "
                                          "disabled: enable it first",
                                          mapping={"name": parent['name']}))
        if not found["disabled"]:
            return self.records.get("department", id)
        enabled = self.records.update("department", id, {"disabled": False})
        self.audit("department.enable", id, {"name": found["name"]})
        return enabled
