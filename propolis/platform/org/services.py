"""The organisation's service: employees (on the department tree of
``departments``), the defaults new users get, disabling an employee with the
handover of their records (``handover``).

Departments and users are system objects (CONTRACT §5). Every change of one goes
through the record service, so validation, history, permissions and whatever the
record service maintains on a change (the superior chain, the department tree)
apply exactly as for any other entry point; this module adds the organisation's
own rules on top (no cycles, one main department among the departments, what may
be disabled) and an admin audit entry per change. The ownership handover moves
every record of an employee in one statement per object
(``RecordService.hand_over``).
"""


from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

from sqlalchemy import ColumnElement, func, insert, or_, select, update
from zope.interface import implementer

from propolis.platform.accounts.services import password_problems
from propolis.platform.auth.tokens import revoke_user_tokens
from propolis.platform.errors import AppError, _, _c
from propolis.platform.org.base import (
    INVALID,
    NOT_A_STRING,
    check_keys,
    invalid,
    optional_id,
)
from propolis.platform.org.departments import Departments
from propolis.platform.org.imports import Importer
from propolis.platform.org.interfaces import IOrgService
from propolis.platform.org.summary import console_summary
from propolis.platform.storage.platform_tables import org_settings

DEFAULTS_KEY = "new_user_defaults"


@implementer(IOrgService)
class OrgService(Departments):
    """The organisation of one enterprise, changed on behalf of the record
    service's actor (an admin, checked by the views), inside the caller's
    transaction."""


    @property
    def user_keys(self) -> frozenset[str]:
        """What a request may set on an employee: the user object's fields (those
        an enterprise added included); the record service refuses the computed
        ones."""
        return frozenset(self.effective.objects["user"].fields)

    def employees(self, *, q: str | None = None, department: str | None = None,
                  without_department: bool = False, status: str | None = None,
                  offset: int = 0, limit: int = 50,
                  ) -> tuple[list[dict[str, Any]], int]:
        """A page of employees ordered by name, and how many match in all: ``q``
        within the name or phone, ``department`` among their departments (main
        or other) or ``without_department``, ``status`` one of the user
        statuses."""
        u, ud = self.users, self.user_departments
        where: list[ColumnElement[bool]] = [u.c.deleted_at.is_(None)]
        if q and q.strip():
            pattern = "%" + re.sub(r"([\\%_])", r"\\\1", q.strip()) + "%"
            where.append(or_(u.c.name.ilike(pattern, escape="\\"),
                             u.c.phone.ilike(pattern, escape="\\")))
        if department:
            where.append(or_(u.c.main_department == department, u.c.id.in_(
                select(ud.c.parent_id).where(ud.c.department == department))))
        if without_department:
            where += [u.c.main_department.is_(None),
                      u.c.id.not_in(select(ud.c.parent_id))]
        if status:
            where.append(u.c.status == status)
        total = self.conn.execute(
            select(func.count()).select_from(u).where(*where)).scalar_one()
        rows = self.conn.execute(
            select(u.c.id, u.c.name, u.c.phone, u.c.position, u.c.status,
                   u.c.main_department, u.c.superior)
            .where(*where).order_by(u.c.name, u.c.id).offset(offset).limit(limit))
        return [dict(r._mapping) for r in rows], int(total)

    def colleagues(self) -> list[dict[str, Any]]:
        """The active employees (id, name, phone) by name: who may be a head, a
        superior or receive a handover."""
        u = self.users
        return [dict(r._mapping) for r in self.conn.execute(
            select(u.c.id, u.c.name, u.c.phone)
            .where(u.c.deleted_at.is_(None), u.c.status == "active")
            .order_by(u.c.name, u.c.id))]

    def _superiors(self) -> dict[str, str | None]:
        u = self.users
        return dict(self.conn.execute(
            select(u.c.id, u.c.superior).where(u.c.deleted_at.is_(None))
        ).all())

    def check_superior(self, user_id: str | None, superior: str | None) -> None:
        """A superior is a present colleague, not the user, and not anyone below
        the user in the chain (that would make a cycle)."""
        if superior is None:
            return
        if superior == user_id:
            raise invalid("superior", _("cannot be the user themselves"))
        self._present_user(superior, "superior")
        if user_id is None:
            return
        chain = self._superiors()
        seen: set[str] = set()
        current: str | None = superior
        while current is not None and current not in seen:
            if current == user_id:
                raise invalid("superior", _("cannot be one of the user's "
                                            "subordinates (that would make a cycle)"),
                              code="superior_cycle")
            seen.add(current)
            current = chain.get(current)

    def _department_ids(self, value: Any) -> list[str]:
        """The ``departments`` of a request: a list of ids (or of table rows with
        ``department``), without repeats."""
        if value is None:
            return []
        if not isinstance(value, list):
            raise invalid("departments", _("must be a list of department ids"))
        ids: list[str] = []
        for item in value:
            dept = item.get("department") if isinstance(item, Mapping) else item
            if not isinstance(dept, str) or not dept:
                raise invalid("departments", NOT_A_STRING)
            if dept not in ids:
                ids.append(dept)
        return ids

    def _placement(
        self,
        data: Mapping[str, Any],
        current: Mapping[str, Any] | None,
    ) -> dict[str, Any]:
        """``main_department`` and ``departments`` kept consistent: the main one is
        always among the departments. Given both, the main one must be listed;
        given only the departments, the main one stays if still listed, else the
        first becomes main; given only the main one, it is added to the list."""
        has_main, has_list = "main_department" in data, "departments" in data
        if not has_main and not has_list:
            return {}
        old_rows = list(current.get("departments") or ()) if current else []
        old_ids = [r["department"] for r in old_rows]
        main = optional_id(data, "main_department") if has_main \
            else (current or {}).get("main_department")
        ids = self._department_ids(data["departments"]) if has_list else old_ids
        if main is not None and main not in ids:
            if has_main and has_list:
                raise invalid("main_department", _("must be one of the departments"))
            if has_main:
                ids = [main, *ids]
            else:
                main = None
        if main is None and ids:
            main = ids[0]
        for dept in ids:
            if dept not in old_ids:
                self.enabled_department(
                    dept, "main_department" if has_main and dept == main
                    and not has_list else "departments")
        row_ids = {r["department"]: r["id"] for r in old_rows}
        rows = [{"id": row_ids[i], "department": i} if i in row_ids
                else {"department": i} for i in ids]
        return {"main_department": main, "departments": rows}

    def create_user(self, data: Mapping[str, Any], *,
                    action: str | None = "user.create",
                    details: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """A new employee with the enterprise's defaults for what ``data`` leaves
        out (roles; the department when neither ``main_department`` nor
        ``departments`` is given). Audited as ``action`` (None: the caller audits
        the whole batch)."""
        data = check_keys(data, self.user_keys)
        defaults = self.settings()
        if "roles" not in data:
            data["roles"] = list(defaults["default_roles"])
        if "main_department" not in data and "departments" not in data \
                and defaults["default_department"] is not None:
            data["departments"] = [defaults["default_department"]]
        if data.get("status") == "disabled":
            raise invalid("status", _("a new user cannot be disabled"))
        data.update(self._placement(data, None))
        self.check_superior(None, optional_id(data, "superior"))
        _check_password(data)
        created = self.records.create("user", data)
        if action is not None:
            self.audit(action, created["id"], {"name": created["name"],
                                               "phone": created["phone"],
                                               **(details or {})})
        return created

    def update_user(self, id: str, data: Mapping[str, Any]) -> dict[str, Any]:
        """Changes an employee. Disabling and enabling have routes of their own
        (disabling hands the employee's records over)."""
        data = check_keys(data, self.user_keys)
        current = self.records.get("user", id)
        status = data.get("status", current["status"])
        if status != current["status"] and "disabled" in (status, current["status"]):
            raise invalid("status", _("use the disable or enable action (disabling "
                                      "hands the user's records over)"))
        data.update(self._placement(data, current))
        _check_password(data)
        if "superior" in data:
            self.check_superior(id, optional_id(data, "superior"))
        updated = self.records.update("user", id, data)
        changed = sorted(k for k in data if k != "password"
                         and current.get(k) != updated.get(k))
        if changed or "password" in data:
            self.audit("user.update", id, {
                "fields": changed + (["password"] if "password" in data else [])})
        return updated

    def set_password_hash(self, user_id: str, password_hash: str) -> None:
        """Stores a password that is already an argon2 hash (the one chosen in a
        join request): the one place a hash made by the platform itself is
        stored as is (``RecordService.set_password``)."""
        self.records.set_password(user_id, password_hash, hashed=True)

    def owned_counts(self, user_id: str) -> dict[str, int]:
        """How many records (live or in the recycle bin) the user owns, by object."""
        counts = {}
        for name in sorted(self.effective.objects):
            table = self.effective.tables.main[name]
            n = self.conn.execute(select(func.count()).select_from(table)
                                  .where(table.c.owner == user_id)).scalar_one()
            if n:
                counts[name] = n
        return counts

    def disable_user(self, id: str, handover_to: Any) -> dict[str, Any]:
        """Disables an employee: their status becomes ``disabled``, every token they
        hold is revoked, and every record they own, in every object and in the
        recycle bin too, goes to ``handover_to`` (an active colleague; it may be
        left out only when they own nothing)."""
        if handover_to is not None and (not isinstance(handover_to, str)
                                        or not handover_to):
            raise invalid("handover_to", NOT_A_STRING)
        user = self.records.get("user", id)
        if user["status"] == "disabled":
            raise invalid("status", _("the user is already disabled"),
                          code="already_disabled")
        if id == self.actor_id:
            raise invalid("id", _("you cannot disable yourself"))
        owned = self.owned_counts(id)
        recipient = None
        if handover_to is None:
            if owned:
                total = sum(owned.values())
                message = _("the user owns ${total} record: choose who takes them "
                            "over") if total == 1 else _(
                    "the user owns ${total} records: choose who takes them over")
                raise invalid("handover_to", _(message, mapping={"total": total}))
        else:
            if handover_to == id:
                raise invalid("handover_to", _c("platform.org.services",
                        "cannot be the user themselves"))
            recipient = self._present_user(handover_to, "handover_to")
            if recipient["status"] != "active":
                raise invalid("handover_to", _("must be an active user"))
        # revoked first, to count them: the record service's change of status
        # revokes whatever is left (none)
        revoked = self.revoke_tokens(id)
        disabled = self.records.update("user", id, {"status": "disabled"})
        transferred: dict[str, int] = {}
        if recipient is not None:
            transferred = self.records.hand_over(id, recipient["id"],
                                                 recipient["main_department"])
        self.audit("user.disable", id, {"handover_to": handover_to,
                                        "transferred": transferred,
                                        "tokens_revoked": revoked})
        return {"user": disabled, "handover_to": handover_to,
                "transferred": transferred, "tokens_revoked": revoked}

    def revoke_tokens(self, user_id: str) -> int:
        if self.sysdb is None or self.enterprise_id is None:
            return 0
        return revoke_user_tokens(self.sysdb, self.enterprise_id, user_id)

    def enable_user(self, id: str) -> dict[str, Any]:
        user = self.records.get("user", id)
        if user["status"] != "disabled":
            return user
        enabled = self.records.update("user", id, {"status": "active"})
        self.audit("user.enable", id, {"name": user["name"]})
        return enabled

    def settings(self) -> dict[str, Any]:
        """The defaults new users get: ``default_roles`` and
        ``default_department`` (None: no department)."""
        stored = self.conn.execute(select(org_settings.c.value).where(
            org_settings.c.key == DEFAULTS_KEY)).scalar_one_or_none() or {}
        return {"default_roles": list(stored.get("roles") or ["employee"]),
                "default_department": stored.get("department")}

    def put_settings(self, data: Mapping[str, Any]) -> dict[str, Any]:
        data = check_keys(data, ("default_roles", "default_department"))
        current = self.settings()
        roles = data.get("default_roles", current["default_roles"])
        known = {o["value"] for o in
                 self.effective.objects["user"].fields["roles"].get("options", ())}
        if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
            raise invalid("default_roles", _("must be a list of role names"))
        unknown = sorted(set(roles) - known)
        if unknown:
            raise invalid("default_roles", _("unknown roles: ${unknown}",
                                             mapping={"unknown": ', '.join(unknown)}))
        if "admin" in roles:
            raise invalid("default_roles", _("new users cannot all be enterprise "
                                             "admins"))
        roles = list(dict.fromkeys(roles))
        department = optional_id(data, "default_department") \
            if "default_department" in data else current["default_department"]
        if department is not None and department != current["default_department"]:
            self.enabled_department(department, "default_department")
        value = {"roles": roles, "department": department}
        now = dt.datetime.now(dt.UTC)
        conn = self.conn
        done = conn.execute(update(org_settings).where(
            org_settings.c.key == DEFAULTS_KEY).values(
            value=value, updated_by=self.actor_id, updated_at=now))
        if not done.rowcount:
            conn.execute(insert(org_settings).values(
                key=DEFAULTS_KEY, value=value, updated_by=self.actor_id,
                updated_at=now))
        new = {"default_roles": roles, "default_department": department}
        if new != current:
            self.audit("org.settings", DEFAULTS_KEY, {"from": current, "to": new})
        return new

    def user_names(self, ids: list[str]) -> dict[str, str]:
        """``{id: name}`` of those employees."""
        if not ids:
            return {}
        return dict(self.conn.execute(select(self.users.c.id, self.users.c.name)
                                      .where(self.users.c.id.in_(ids))).all())

    def import_users(self, data: bytes, filename: str | None) -> dict[str, Any]:
        return Importer(self).run(data, filename)

    def import_report(self, id: str) -> bytes:
        return Importer(self).report(id)

    def summary(self, now: dt.datetime) -> dict[str, int]:
        """The numbers of the admin console's home page (days of the enterprise's
        time zone)."""
        if self.sysdb is None or self.enterprise_id is None:
            raise RuntimeError("the console's numbers need the system database")
        return console_summary(self.conn, self.sysdb, self.enterprise_id,
                               tz=self.records.tz, now=now)


def _check_password(data: Mapping[str, Any]) -> None:
    """The platform's password rules, for a password an admin sets."""
    if data.get("password") is not None:
        problems = password_problems(data["password"])
        if problems:
            raise AppError("invalid", INVALID, problems)
