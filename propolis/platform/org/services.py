"""The organisation: the department tree, employees, the defaults new users get,
disabling an employee with the handover of their records, and the numbers of the
admin console's home page.

Departments and users are system objects (CONTRACT §5). Every change of one goes
through the record service, so validation, history, permissions and whatever the
record service maintains on a change (the superior chain, the department tree)
apply exactly as for any other entry point; this module adds the organisation's
own rules on top (no cycles, one main department among the departments, what may
be disabled) and an admin audit entry per change. The one exception is the
ownership handover, which moves every record of an employee in one statement per
object (see ``transfer_records``).
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import (
    Connection,
    String,
    cast,
    distinct,
    func,
    insert,
    literal,
    or_,
    select,
    type_coerce,
    union_all,
    update,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement

from propolis.metadata.validation import load_system_objects
from propolis.platform.accounts.services import password_problems
from propolis.platform.audit import record_event
from propolis.platform.auth.tokens import PERSONAL, revoke_user_tokens
from propolis.platform.errors import AppError, NotFound, Text, t
from propolis.platform.fields.values import zone
from propolis.platform.meta.effective import Effective
from propolis.platform.records import history
from propolis.platform.records.plan import MASK
from propolis.platform.records.services import RecordService
from propolis.platform.storage.platform_tables import (
    org_join_requests,
    org_settings,
    record_history,
)
from propolis.platform.storage.system import AccessToken, LoginEvent
from propolis.platform.storage.tables import TenantTables
from propolis.platform.storage.types import UTCDateTime, json_type

INVALID = t("数据有误", "Invalid data")
UNKNOWN_KEY = t("不支持的字段", "unknown key")
NOT_A_STRING = t("应为记录 id（字符串）", "must be a record id (a string)")
DEFAULTS_KEY = "new_user_defaults"
# Statuses of people who still belong to the organisation.
PRESENT = ("active", "pending")


def invalid(field: str, message: Text, summary: Text = INVALID,
            code: str = "invalid") -> AppError:
    """A 400 naming one field."""
    return AppError(code, summary, {field: [message]})


def check_keys(data: Any, allowed: Iterable[str]) -> dict[str, Any]:
    """``data`` as a dict, refused (400 naming each) when it has other keys."""
    if not isinstance(data, Mapping):
        raise AppError("invalid", t("请求体应为 JSON 对象",
                                    "The body must be a JSON object"))
    unknown = sorted(str(k) for k in set(data) - set(allowed))
    if unknown:
        raise AppError("invalid", t("请求中有不支持的字段",
                                    "The request has unknown keys"),
                       {k: [UNKNOWN_KEY] for k in unknown})
    return dict(data)


def optional_id(data: Mapping[str, Any], name: str) -> str | None:
    value = data.get(name)
    if value is not None and (not isinstance(value, str) or not value):
        raise invalid(name, NOT_A_STRING)
    return value


class OrgService:
    """The organisation of one enterprise, changed on behalf of the record
    service's actor (an admin, checked by the views), inside the caller's
    transaction."""

    def __init__(
        self,
        records: RecordService,
        *,
        sysdb: Session | Connection | None = None,
        enterprise_id: int | None = None,
        ip: str | None = None,
    ) -> None:
        self.records = records
        self.effective: Effective = records.effective
        self.sysdb = sysdb
        self.enterprise_id = enterprise_id
        self.ip = ip
        tables = self.effective.tables
        self.departments = tables.main["department"]
        self.users = tables.main["user"]
        self.user_departments = tables.children["user"]["departments"]

    @property
    def conn(self) -> Connection:
        return self.records.session.connection()

    @property
    def actor_id(self) -> str | None:
        return self.records.actor.user_id

    def audit(self, action: str, target: str | None,
              details: Mapping[str, Any] | None = None) -> None:
        record_event(self.conn, actor_id=self.actor_id, action=action, target=target,
                     details=details, ip=self.ip)

    # -- departments ---------------------------------------------------------

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
                raise invalid(field, t("找不到该部门（可能已删除）",
                                       "no such department (or it was deleted)"))
            raise NotFound("not_found", t("部门不存在或已删除",
                                          "The department does not exist or was "
                                          "deleted"))
        return dict(row._mapping)

    def enabled_department(self, id: str, field: str) -> dict[str, Any]:
        found = self._department(id, field)
        if found["disabled"]:
            raise invalid(field, t(f"部门「{found['name']}」已停用",
                                   f"the department {found['name']!r} is disabled"))
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
                    t("不能移到该部门自身或其下级部门之下",
                      "cannot be the department itself or one of its "
                      "sub-departments"),
                    t("部门不能移到自身或下级部门之下（会形成循环）",
                      "A department cannot move under itself or a sub-department "
                      "(that would make a cycle)"), code="department_cycle")
            if target["disabled"] and not moving["disabled"]:
                raise invalid("parent", t(f"部门「{target['name']}」已停用",
                                          f"the department {target['name']!r} is "
                                          "disabled"))
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
            zh, en = [], []
            if members:
                zh.append(f"{members} 名员工")
                en.append(f"{members} employee{'s' if members != 1 else ''}")
            if children:
                zh.append(f"{children} 个未停用的下级部门")
                en.append(f"{children} enabled sub-department"
                          f"{'s' if children != 1 else ''}")
            message = t(f"部门下还有 {'、'.join(zh)}，不能停用",
                        f"The department still has {' and '.join(en)}; it cannot "
                        "be disabled")
            raise AppError("department_not_empty", message, {"disabled": [message]})
        disabled = self.records.update("department", id, {"disabled": True})
        self.audit("department.disable", id, {"name": found["name"]})
        return disabled

    def enable_department(self, id: str) -> dict[str, Any]:
        found = self._department(id)
        if found["parent"] is not None:
            parent = self._department(found["parent"])
            if parent["disabled"]:
                raise invalid("parent", t(
                    f"上级部门「{parent['name']}」已停用，请先启用它",
                    f"the parent department {parent['name']!r} is disabled: "
                    "enable it first"))
        if not found["disabled"]:
            return self.records.get("department", id)
        enabled = self.records.update("department", id, {"disabled": False})
        self.audit("department.enable", id, {"name": found["name"]})
        return enabled

    # -- employees -----------------------------------------------------------

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
        where = [u.c.deleted_at.is_(None)]
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

    def _present_user(self, id: str, field: str) -> dict[str, Any]:
        u = self.users
        row = self.conn.execute(
            select(u.c.id, u.c.name, u.c.status, u.c.main_department, u.c.superior)
            .where(u.c.id == id, u.c.deleted_at.is_(None))).first()
        if row is None:
            raise invalid(field, t("找不到该员工", "no such user"))
        if row.status == "disabled":
            raise invalid(field, t(f"员工「{row.name}」已停用",
                                   f"the user {row.name!r} is disabled"))
        return dict(row._mapping)

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
            raise invalid("superior", t("不能是本人", "cannot be the user themselves"))
        self._present_user(superior, "superior")
        if user_id is None:
            return
        chain = self._superiors()
        seen: set[str] = set()
        current: str | None = superior
        while current is not None and current not in seen:
            if current == user_id:
                raise invalid("superior", t("不能是该员工的下属（会形成循环）",
                                            "cannot be one of the user's "
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
            raise invalid("departments", t("应为部门 id 列表", "must be a list of "
                                           "department ids"))
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
                raise invalid("main_department", t("主属部门必须是所属部门之一",
                                                   "must be one of the departments"))
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
            raise invalid("status", t("新员工不能是已停用状态",
                                      "a new user cannot be disabled"))
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
            raise invalid("status", t(
                "停用或启用员工请用对应的操作（停用时需移交数据）",
                "use the disable or enable action (disabling hands the user's "
                "records over)"))
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
        join request). The record service hashes whatever it is given, so that no
        client can plant a hash of its choice; this is the one place a hash made
        by the platform itself is stored as is, with a history entry like a
        change through the record service."""
        u = self.users
        now = dt.datetime.now(dt.UTC)
        version = self.conn.execute(
            update(u).where(u.c.id == user_id).values(
                password=password_hash, version=u.c.version + 1,
                updated_by=self.actor_id, updated_at=now).returning(u.c.version)
        ).scalar_one()
        history.write(self.conn, object="user", record_id=user_id, version=version,
                      action="update", actor_id=self.actor_id, at=now,
                      changes={"password": [None, MASK]})

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
            raise invalid("status", t("该员工已停用", "the user is already disabled"),
                          code="already_disabled")
        if id == self.actor_id:
            raise invalid("id", t("不能停用自己", "you cannot disable yourself"))
        owned = self.owned_counts(id)
        recipient = None
        if handover_to is None:
            if owned:
                total = sum(owned.values())
                raise invalid("handover_to", t(
                    f"该员工负责 {total} 条数据，请选择接收人",
                    f"the user owns {total} record{'s' if total != 1 else ''}: "
                    "choose who takes them over"))
        else:
            if handover_to == id:
                raise invalid("handover_to", t("不能移交给本人",
                                               "cannot be the user themselves"))
            recipient = self._present_user(handover_to, "handover_to")
            if recipient["status"] != "active":
                raise invalid("handover_to", t("接收人必须是在职员工",
                                               "must be an active user"))
        disabled = self.records.update("user", id, {"status": "disabled"})
        transferred: dict[str, int] = {}
        if recipient is not None:
            transferred = transfer_records(
                self.conn, self.effective, from_user=id, to_user=recipient["id"],
                to_department=recipient["main_department"], actor_id=self.actor_id)
        revoked = self.revoke_tokens(id)
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

    # -- settings --------------------------------------------------------------

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
            raise invalid("default_roles", t("应为角色名列表",
                                             "must be a list of role names"))
        unknown = sorted(set(roles) - known)
        if unknown:
            raise invalid("default_roles", t(f"没有这些角色：{', '.join(unknown)}",
                                             f"unknown roles: {', '.join(unknown)}"))
        if "admin" in roles:
            raise invalid("default_roles", t("不能让每个新员工都成为企业管理员",
                                             "new users cannot all be enterprise "
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


def _check_password(data: Mapping[str, Any]) -> None:
    """The platform's password rules, for a password an admin sets."""
    if data.get("password") is not None:
        problems = password_problems(data["password"])
        if problems:
            raise AppError("invalid", INVALID, problems)


def _json_pairs(dialect: str, pairs: list[tuple[str, Any, Any]]) -> ColumnElement[Any]:
    """``{key: [old, new], …}`` built by the database, for INSERT … SELECT (each
    value a column or a bound string)."""

    def text_value(value: Any) -> ColumnElement[Any]:
        if isinstance(value, ColumnElement):
            return value
        # typed, or PostgreSQL cannot tell what the parameters of *_build_* are
        return cast(literal(value, String()), String())

    obj = func.jsonb_build_object if dialect == "postgresql" else func.json_object
    arr = func.jsonb_build_array if dialect == "postgresql" else func.json_array
    args: list[Any] = []
    for key, old, new in pairs:
        args += [text_value(key), arr(text_value(old), text_value(new))]
    return obj(*args)


def transfer_records(
    conn: Connection,
    effective: Effective,
    *,
    from_user: str,
    to_user: str,
    to_department: str | None,
    actor_id: str | None,
) -> dict[str, int]:
    """Gives every record ``from_user`` owns, in every object (the recycle bin
    included), to ``to_user``, whose main department becomes the records'
    ``owner_department``. Per object: the rows are locked, one INSERT … SELECT
    writes a history row per record (action ``transfer``, changes ``owner`` and,
    where it differs, ``owner_department``) and one UPDATE moves them with a new
    version. Returns how many records moved, by object."""
    now = dt.datetime.now(dt.UTC)
    dialect = conn.dialect.name
    moved = {}
    for name in sorted(effective.objects):
        table = effective.tables.main[name]
        mine = table.c.owner == from_user
        # Locks the rows (PostgreSQL; SQLite's write lock is already held) so the
        # versions the history rows name are the ones the UPDATE writes.
        count = conn.execute(select(func.count()).select_from(
            select(table.c.id).where(mine).with_for_update().subquery())).scalar_one()
        if not count:
            continue
        same_department = table.c.owner_department.is_not_distinct_from(to_department)
        columns = ["object", "record_id", "version", "action", "changed_at",
                   "changed_by", "changes"]
        for changes, where in (
            (_json_pairs(dialect, [("owner", from_user, to_user)]), same_department),
            (_json_pairs(dialect, [("owner", from_user, to_user),
                                   ("owner_department", table.c.owner_department,
                                    to_department)]), ~same_department),
        ):
            conn.execute(insert(record_history).from_select(columns, select(
                literal(name, String()), table.c.id, table.c.version + 1,
                literal("transfer", String()), literal(now, UTCDateTime()),
                literal(actor_id, String()), type_coerce(changes, json_type()),
            ).where(mine, where)))
        conn.execute(update(table).where(mine).values(
            owner=to_user, owner_department=to_department,
            version=table.c.version + 1, updated_by=actor_id, updated_at=now))
        moved[name] = count
    return moved


@functools.cache
def _system_tables() -> TenantTables:
    # The summary only reads system columns of the system objects, which every
    # enterprise has whatever else its metadata adds.
    return TenantTables({o["api_name"]: o for o in load_system_objects()})


def console_summary(
    conn: Connection | Session,
    sysdb: Connection | Session,
    enterprise_id: int,
    *,
    tz: str = "Asia/Shanghai",
    now: dt.datetime | None = None,
) -> dict[str, int]:
    """The numbers on the admin console's home page:

    - ``employees``: active users;
    - ``pending_join_requests``: join requests waiting for review (待审核);
    - ``without_department``: active users in no department;
    - ``never_activated``: active or pending users who never logged in;
    - ``logged_in_today``: users who logged in since midnight in ``tz``.

    A login is a successful login event, or — for tokens issued without one — an
    access token other than a personal API token. ``conn`` is the enterprise's
    storage, ``sysdb`` the system database."""
    tables = _system_tables()
    users = tables.main["user"]
    user_departments = tables.children["user"]["departments"]
    live = users.c.deleted_at.is_(None)

    def scalar(stmt: Any) -> int:
        return int(conn.execute(stmt).scalar_one())

    def logged_in(since: dt.datetime | None) -> set[str]:
        events = select(LoginEvent.user_id).where(
            LoginEvent.enterprise_id == enterprise_id, LoginEvent.success.is_(True))
        tokens = select(AccessToken.user_id).where(
            AccessToken.enterprise_id == enterprise_id,
            AccessToken.kind != PERSONAL)
        if since is not None:
            events = events.where(LoginEvent.at >= since)
            tokens = tokens.where(AccessToken.created_at >= since)
        return set(sysdb.execute(events.union(tokens)).scalars())

    employees = scalar(select(func.count()).select_from(users).where(
        live, users.c.status == "active"))
    pending = scalar(select(func.count()).select_from(org_join_requests).where(
        org_join_requests.c.status == "pending"))
    without = scalar(select(func.count()).select_from(users).where(
        live, users.c.status == "active", users.c.main_department.is_(None),
        ~users.c.id.in_(select(user_departments.c.parent_id))))
    present = set(conn.execute(select(users.c.id).where(
        live, users.c.status.in_(PRESENT))).scalars())
    midnight = (now or dt.datetime.now(dt.UTC)).astimezone(zone(tz)).replace(
        hour=0, minute=0, second=0, microsecond=0)
    return {"employees": employees, "pending_join_requests": pending,
            "without_department": without,
            "never_activated": len(present - logged_in(None)),
            "logged_in_today": len(logged_in(midnight.astimezone(dt.UTC)))}
