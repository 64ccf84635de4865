"""The record service: the one way records are created, read, changed, deleted and
found, whatever the entry point (JSON API, HTML forms, import, extension code).

A save runs in the order of ARCHITECTURE.md: the object permission, unknown and
read-only fields (the user's field permissions included), the object's JSON
Schema, references that must exist, uniqueness, defaults, autonumbers, formulas,
validation rules; then one INSERT (or UPDATE) of the record, its table rows, its
search row and one history row; then the rollups of the records it feeds.

What an object needs for that (validators, compiled expressions, statements) is
prepared once per metadata version and kept in ``ObjectMeta.cache``. Writing
``search_text`` is all a save does for keyword search: PostgreSQL's trigram index
follows by itself and on SQLite the storage planner's triggers keep the FTS5 table
in step.

Every way in goes through the actor's ``AccessPolicy``
(``propolis.platform.permissions``): the verbs their roles grant, the records each
verb reaches (a SQL condition inside the service's own statements: record reads,
pages, keyword search, lookup checks and quotes), the fields they may not see or
change. A record the actor cannot reach is a 404 exactly like a missing id; a
reachable one without the verb is a 403. Saving a user or a department also keeps
the superior chain and the department tree (closure tables) in step, in the same
transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Table,
    bindparam,
    delete,
    insert,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.sql import Executable
from zope.interface import implementer

from propolis.metadata.expressions import (
    ExpressionError,
    compile_expression,
    evaluate_rule,
)
from propolis.platform.auth.passwords import hash_password
from propolis.platform.errors import (
    AppError,
    Conflict,
    Forbidden,
    NotFound,
    Text,
    t,
)
from propolis.platform.fields.values import (
    OUTPUT_SYSTEM_FIELDS,
    SYSTEM_FIELDS,
    ValueProblem,
    file_problem,
    from_column,
    from_json,
    kind,
    search_words,
    to_column,
    to_json,
    to_json_value,
    zone,
)
from propolis.platform.ids import new_id
from propolis.platform.meta.effective import Effective, ObjectMeta
from propolis.platform.permissions.actor import Actor
from propolis.platform.permissions.policy import READ, AccessPolicy, forbidden
from propolis.platform.query.search import keyword_over_fields
from propolis.platform.query.services import fts_table, grouped_count, query_page
from propolis.platform.records import history
from propolis.platform.records.compute import (
    Autonumber,
    RollupLink,
    empty_rollup,
    next_number,
    ordered_formulas,
    refresh_rollups,
    rollup_links,
)
from propolis.platform.records.interfaces import IRecordService
from propolis.platform.records.schema import (
    Errors,
    make_validator,
    object_schema,
    writable,
)
from propolis.platform.storage.planner import search_table_name
from propolis.platform.storage.platform_tables import CLOSURES, files
from propolis.platform.storage.tables import column_type

REFERENCE_TARGETS = {"user": "user", "department": "department"}
# Write-only fields: stored as an argon2 hash, never read back, searched or filtered
# on, and only their change (not the value) goes into the history.
SECRETS = {"user": frozenset({"password"})}
MASK = "******"
INVALID = t("数据有误", "Invalid data")
CACHE_KEY = "records.plan"
# Columns a save writes besides the fields.
SYSTEM_COLUMNS = ("id", "owner", "owner_department", "created_by", "created_at",
                  "updated_by", "updated_at", "life_status", "version", "deleted_at",
                  "deleted_by", "search_text")
UNKNOWN = t("没有这个字段", "unknown field")
READ_ONLY = t("没有修改该字段的权限", "you may not change this field")
COMPUTED = t("由系统计算，不能写入", "is computed and cannot be written")
SYSTEM = t("系统字段不能写入", "is a system field and cannot be written")
MISSING = t("找不到所选的记录（可能已删除）", "the chosen record does not exist "
            "(or is in the recycle bin)")
MISSING_FILE = t("找不到上传的文件", "unknown file id")
TAKEN = t("已被其他记录使用（包括回收站中的记录）",
          "is already used by another record (the recycle bin included)")


def _text(message: Any) -> dict[str, str]:
    if isinstance(message, str):
        return t(message, message)
    return t(message.get("zh") or message.get("en", ""),
             message.get("en") or message.get("zh", ""))


def _invalid(errors: Errors) -> AppError:
    return AppError("invalid", INVALID, errors)


def _add(errors: Errors, name: str, message: Text) -> None:
    if message not in errors.setdefault(name, []):
        errors[name].append(message)


def reference_target(field: Mapping[str, Any]) -> str | None:
    """The object a reference field points to (None for other fields)."""
    ftype = field["type"]
    if ftype in REFERENCE_TARGETS:
        return REFERENCE_TARGETS[ftype]
    if ftype in ("lookup", "master_detail"):
        return str(field["to"])
    return None


def _references(fields: Iterable[Mapping[str, Any]]) -> list[tuple[str, str]]:
    return [(f["api_name"], target) for f in fields
            if (target := reference_target(f)) is not None]


class _Plan:
    """Everything about one object that saves and reads need, built once per
    metadata version."""

    def __init__(self, effective: Effective, obj: ObjectMeta) -> None:
        self.name = obj.api_name
        self.table: Table = effective.tables.main[self.name]
        # one record by id: built once, it is the statement of every read
        self.by_id = select(self.table).where(self.table.c.id == bindparam("_id"))
        self.children: dict[str, Table] = effective.tables.children[self.name]
        self.fields = obj.fields
        self.deletable = bool(obj.doc.get("deletable", True))
        fields = list(obj.fields.values())
        self.stored = [f for f in fields if column_type(f) is not None]
        self.tables = [f for f in fields if f["type"] == "table"]
        self.writable = frozenset(f["api_name"] for f in fields if writable(f))
        self.create_validator = make_validator(object_schema(fields, create=True))
        self.update_validator = make_validator(object_schema(fields, create=False))
        self.unique = [f["api_name"] for f in self.stored if f.get("unique")]
        self.defaults = {f["api_name"]: f for f in fields
                         if f.get("default") is not None and writable(f)}
        self.references = _references(self.stored)
        self.row_references = {f["api_name"]: _references(f["fields"])
                               for f in self.tables}
        self.file_fields = [f for f in self.stored if kind(f) == "files"]
        self.row_file_fields = {
            f["api_name"]: [s for s in f["fields"]
                            if column_type(s) is not None and kind(s) == "files"]
            for f in self.tables}
        self.autonumbers = [(f["api_name"], Autonumber(f["format"]))
                            for f in self.stored if f["type"] == "autonumber"]
        self.formulas = ordered_formulas(fields)
        self.row_formulas = {f["api_name"]: ordered_formulas(f["fields"])
                             for f in self.tables}
        self.rules = [(compile_expression(v["rule"]), _text(v["message"]))
                      for v in obj.doc.get("validations", ())]
        self.dependent = [f for f in fields if f.get("depends_on")
                          and f["type"] in ("select", "multiselect")]
        self.searchable = [f for f in fields
                           if f.get("searchable") and column_type(f) is not None]
        self.searchable_rows = {
            f["api_name"]: [s for s in f["fields"]
                            if s.get("searchable") and column_type(s) is not None]
            for f in self.tables}
        self.has_search = bool(self.searchable
                               or any(self.searchable_rows.values()))
        # the fields whose values are in search_text
        self.searched = frozenset({f["api_name"] for f in self.searchable}
                                  | {n for n, s in self.searchable_rows.items() if s})
        self.own_rollups = [f for f in self.stored if f["type"] == "rollup"]
        # formulas that use a rollup, directly or through another formula: they
        # change when a child record does
        derived = {f["api_name"] for f in self.own_rollups}
        self.rollup_formulas = []
        for formula in self.formulas:  # in dependency order: one pass suffices
            if formula.expression.references & derived:
                derived.add(formula.name)
                self.rollup_formulas.append(formula)
        self.links: list[RollupLink] = rollup_links(
            {n: o.doc for n, o in effective.objects.items()}, self.name)
        # quote fields grouped by the lookup they read through: one query each
        self.quotes: dict[str, list[tuple[str, Table, Mapping[str, Any]]]] = {}
        self.quote_targets: dict[str, str] = {}
        for f in fields:
            if f["type"] == "quote":
                target = reference_target(obj.fields[f["via"]]) or ""
                if f["field"] in SECRETS.get(target, ()):
                    continue  # reads as null
                self.quote_targets[f["via"]] = target
                self.quotes.setdefault(f["via"], []).append(
                    (f["api_name"], effective.tables.main[target],
                     effective.objects[target].fields[f["field"]]))
        self.secrets = SECRETS.get(self.name, frozenset()) & obj.fields.keys()
        self.visible = {n: f for n, f in obj.fields.items() if n not in self.secrets}
        self.history_names = [n for n, f in self.visible.items()
                              if f["type"] not in ("quote", "rollup")]
        self.insert = insert(self.table)
        self.child_inserts = {n: insert(c) for n, c in self.children.items()}
        self.fts = fts_table(search_table_name(self.name))


@implementer(IRecordService)
class RecordService:
    """Records of one enterprise, on behalf of one actor, inside the caller's
    transaction (the service never commits)."""

    def __init__(
        self,
        session: Session,
        effective: Effective,
        actor: Actor,
        *,
        lang: str = "zh",
        tz: str = "Asia/Shanghai",
        policy: AccessPolicy | None = None,
        on_password_set: Callable[[str], None] | None = None,
    ) -> None:
        self.session = session
        self.effective = effective
        self.actor = actor
        self.policy = policy or AccessPolicy(effective, actor)
        self.lang = lang  # the language API callers render AppErrors in
        self.tz = tz
        zone(tz)  # an unknown zone fails here rather than in the middle of a save
        # called with a user's id after their password was changed (the web ends
        # their sessions there: the record service knows no tokens)
        self.on_password_set = on_password_set

    # -- public API ----------------------------------------------------------

    def create(self, object: str, data: Mapping[str, Any]) -> dict[str, Any]:
        """Validates and stores a new record; returns it as JSON values."""
        plan = self._plan(object)
        self.policy.require(plan.name, "create")
        self._check_keys(plan, data)
        conn = self.session.connection()
        now = dt.datetime.now(dt.UTC)
        data = {**{n: self._default(f, now) for n, f in plan.defaults.items()
                   if n not in data}, **data}
        errors = plan.create_validator.errors(data)
        if errors:
            raise _invalid(errors)
        actor = self.actor.user_id
        rec: dict[str, Any] = {
            "id": new_id(), "owner": actor,
            "owner_department": self.actor.department_id, "created_by": actor,
            "created_at": now, "updated_by": actor, "updated_at": now,
            "life_status": "normal", "version": 1, "deleted_at": None,
            "deleted_by": None}
        for f in plan.stored:
            rec[f["api_name"]] = None
        for f in plan.own_rollups:
            rec[f["api_name"]] = empty_rollup(f)
        for f in plan.tables:
            rec[f["api_name"]] = []
        rec.update(self._parse(plan, data, {}))
        self._check_dependent(plan, rec, None)
        self._check_references(conn, plan, rec, None)
        self._check_unique(conn, plan, rec, plan.unique, exclude=None)
        if plan.autonumbers:
            day = now.astimezone(zone(self.tz)).date()
            for name, numbering in plan.autonumbers:
                rec[name] = next_number(conn, plan.name, name, numbering, day)
        self._compute(plan, rec)
        rec["search_text"] = self._search_text(plan, rec)
        params = {f["api_name"]: to_column(f, rec[f["api_name"]]) for f in plan.stored}
        for name in SYSTEM_COLUMNS:
            params[name] = rec[name]
        self._guarded(conn, plan, plan.insert, params, rec,
                      any(rec[n] is not None for n in plan.unique))
        for f in plan.tables:
            self._insert_rows(conn, plan, f, rec)
        closure = CLOSURES.get(plan.name)
        if closure is not None:
            closure.added(conn, rec["id"], rec[closure.field])
        out = self._json(plan, rec, self._quotes(conn, plan, [rec])[rec["id"]])
        history.write(conn, object=plan.name, record_id=rec["id"], version=1,
                      action="create", actor_id=actor, at=now,
                      changes={**{n: [None, out[n]] for n in plan.history_names
                                  if out[n] not in (None, [])},
                               **{n: [None, MASK] for n in plan.secrets if rec[n]}})
        for link in plan.links:
            self._refresh(conn, link, plan, [rec[link.via]])
        return self.policy.strip(plan.name, out)

    def get(self, object: str, id: str) -> dict[str, Any]:
        """One record; 404 when it does not exist or is in the recycle bin."""
        plan = self._plan(object)
        conn = self.session.connection()
        rec = self._load(conn, plan, id, verb=READ)
        return self._out(plan, rec, self._quotes(conn, plan, [rec])[rec["id"]])

    def update(
        self,
        object: str,
        id: str,
        data: Mapping[str, Any],
        *,
        version: int | None = None,
    ) -> dict[str, Any]:
        """Changes the fields in ``data``. ``version``, when given, must be the
        record's current version (else 409 naming the current one). Nothing is
        written, and the version stays, when no value changes."""
        plan = self._plan(object)
        self._check_keys(plan, data)
        conn = self.session.connection()
        old = self._load(conn, plan, id, lock=True, verb="edit")
        self._check_unlocked(old)
        if version is not None and version != old["version"]:
            raise Conflict(
                "conflict",
                t(f"记录已被他人修改，当前版本为 {old['version']}，请刷新后重试",
                  f"The record was changed by someone else: it is now at version "
                  f"{old['version']}; reload and try again"))
        errors = plan.update_validator.errors(data)
        if errors:
            raise _invalid(errors)
        rec = dict(old)
        rec.update(self._parse(plan, data, old))
        self._check_dependent(plan, rec, set(data))
        self._check_references(conn, plan, rec, old)
        closure = CLOSURES.get(plan.name)
        moved = (closure if closure is not None
                 and rec[closure.field] != old[closure.field] else None)
        if moved is not None:
            moved.check_move(conn, id, rec[moved.field])
        changed_unique = [n for n in plan.unique if rec[n] != old[n]]
        self._check_unique(conn, plan, rec, changed_unique, exclude=id)
        self._compute(plan, rec)
        rec["search_text"] = self._search_text(plan, rec)
        old_out = self._json(plan, old, {})
        out = self._json(plan, rec, {})
        changes = history.diff(old_out, out, plan.history_names)
        for name in plan.secrets & data.keys():
            changes[name] = [MASK if old[name] else None, MASK if rec[name] else None]
        quoted = self._quotes(conn, plan, [rec])[id]
        if not changes:
            return self.policy.strip(plan.name, {**out, **quoted})
        now = dt.datetime.now(dt.UTC)
        rec.update(version=old["version"] + 1, updated_by=self.actor.user_id,
                   updated_at=now)
        values = {f["api_name"]: to_column(f, rec[f["api_name"]])
                  for f in plan.stored if f["api_name"] in changes}
        values.update(version=rec["version"], updated_by=rec["updated_by"],
                      updated_at=now, search_text=rec["search_text"])
        stmt = (update(plan.table)
                .where(plan.table.c.id == id, plan.table.c.version == old["version"])
                .values(values))
        result = self._guarded(conn, plan, stmt, None, rec,
                               any(rec[n] is not None for n in changed_unique))
        if result.rowcount != 1:  # changed between our read and our write
            raise Conflict("conflict", t("记录已被他人修改，请刷新后重试",
                                         "The record was changed by someone else; "
                                         "reload and try again"))
        for f in plan.tables:
            if f["api_name"] in changes:
                conn.execute(delete(plan.children[f["api_name"]]).where(
                    plan.children[f["api_name"]].c.parent_id == id))
                self._insert_rows(conn, plan, f, rec)
        if moved is not None:
            moved.moved(conn, id, rec[moved.field])
        out.update(version=rec["version"], updated_by=rec["updated_by"],
                   updated_at=to_json_value(now, self.tz))
        history.write(conn, object=plan.name, record_id=id, version=rec["version"],
                      action="update", actor_id=self.actor.user_id, at=now,
                      changes=changes)
        for link in plan.links:
            if link.watched & changes.keys():
                self._refresh(conn, link, plan, [old[link.via], rec[link.via]])
        if plan.name == "user" and "password" in changes and self.on_password_set:
            self.on_password_set(id)
        return self.policy.strip(plan.name, {**out, **quoted})

    def delete(self, object: str, id: str) -> None:
        """Moves a record to the recycle bin (403 for objects whose records can
        never be deleted)."""
        plan = self._plan(object)
        if not plan.deletable:
            raise Forbidden("not_deletable", t("该对象的记录不能删除",
                                               "Records of this object cannot be "
                                               "deleted"))
        conn = self.session.connection()
        rec = self._load(conn, plan, id, lock=True, verb="delete")
        self._check_unlocked(rec)
        self._move(conn, plan, rec, "delete")

    def restore(self, object: str, id: str) -> dict[str, Any]:
        """Takes a record out of the recycle bin (the ``delete`` verb again); 404
        unless it is in there."""
        plan = self._plan(object)
        conn = self.session.connection()
        rec = self._load(conn, plan, id, deleted=True, lock=True, verb="delete")
        self._move(conn, plan, rec, "restore")
        return self._out(plan, rec, self._quotes(conn, plan, [rec])[id])

    def list_deleted(
        self, object: str, limit: int = 50, cursor: str | None = None
    ) -> dict[str, Any]:
        """The recycle bin, most recently deleted first, a page at a time."""
        plan = self._plan(object)
        self.policy.require(plan.name, READ)
        conn = self.session.connection()
        rows, next_cursor = query_page(
            conn, plan.table, self._readable(plan), sort=["-deleted_at"],
            limit=limit, cursor=cursor, deleted=True,
            visible=self.policy.branches(plan.name, plan.table, READ, conn))
        return {"records": self._page(conn, plan, rows), "next_cursor": next_cursor}

    def history(self, object: str, id: str) -> list[dict[str, Any]]:
        """A record's field-level changes, oldest first (also while it is in the
        recycle bin)."""
        plan = self._plan(object)
        conn = self.session.connection()
        self._load(conn, plan, id, deleted=None, verb=READ)
        entries = history.read(conn, plan.name, id, self.tz)
        hidden = self.policy.hidden(plan.name)
        if hidden:
            for entry in entries:
                entry["changes"] = {n: v for n, v in entry["changes"].items()
                                    if n not in hidden}
        return entries

    def query(
        self,
        object: str,
        *,
        filters: list[dict[str, Any]] | None = None,
        sort: list[str] | None = None,
        limit: int = 50,
        cursor: str | None = None,
        q: str | None = None,
    ) -> dict[str, Any]:
        """A page of live records matching every filter and every keyword of
        ``q``, in ``sort`` order (``id`` breaks ties), and the next page's
        cursor."""
        plan = self._plan(object)
        self.policy.require(plan.name, READ)
        conn = self.session.connection()
        q, where = self._keyword(conn, plan, q)
        rows, next_cursor = query_page(
            conn, plan.table, self._readable(plan), filters=filters, sort=sort,
            limit=limit, cursor=cursor, q=q,
            fts=plan.fts if self._fts(conn, plan) else None, where=where,
            visible=self.policy.branches(plan.name, plan.table, READ, conn))
        return {"records": self._page(conn, plan, rows), "next_cursor": next_cursor}

    def count_by(
        self,
        object: str,
        field: str,
        *,
        filters: list[dict[str, Any]] | None = None,
        q: str | None = None,
    ) -> list[tuple[Any, int]]:
        """How many of the records ``query`` would find hold each value of the
        select or boolean ``field`` (as stored; None for empty), largest first."""
        plan = self._plan(object)
        self.policy.require(plan.name, READ)
        conn = self.session.connection()
        q, where = self._keyword(conn, plan, q)
        return grouped_count(
            conn, plan.table, self._readable(plan), field, filters=filters, q=q,
            fts=plan.fts if self._fts(conn, plan) else None, where=where,
            visible=self.policy.branches(plan.name, plan.table, READ))

    def _keyword(
        self, conn: Connection, plan: _Plan, q: str | None
    ) -> tuple[str | None, list[ColumnElement[bool]]]:
        """``q`` for the query layer, or, when some searched field is hidden from
        the actor, None and the keyword as a condition over the visible fields
        (``search_text`` holds the hidden values too)."""
        hidden = self.policy.hidden(plan.name)
        if q is None or not hidden & plan.searched:
            return q, []
        keyword = keyword_over_fields(
            plan.table, [f for f in plan.searchable if f["api_name"] not in hidden],
            {n: (plan.children[n], subs)
             for n, subs in plan.searchable_rows.items()
             if subs and n not in hidden},
            q, conn.dialect.name)
        return None, [keyword] if keyword is not None else []

    def transfer(self, object: str, id: str, owner: Any) -> dict[str, Any]:
        """Hands a record to another user (the ``transfer`` verb): ``owner`` and
        ``owner_department`` (the new owner's main department) change, a new
        version with its history row (action ``transfer``)."""
        plan = self._plan(object)
        conn = self.session.connection()
        if not isinstance(owner, str) or not owner:
            raise _invalid({"owner": [t("应为员工 id", "must be a user id")]})
        rec = self._load(conn, plan, id, lock=True, verb="transfer")
        self._check_unlocked(rec)
        users = self.effective.tables.main["user"]
        stmt = select(users.c.main_department).where(users.c.id == owner,
                                                     users.c.deleted_at.is_(None))
        reach = self.policy.condition("user", users, READ)
        if reach is not None:
            stmt = stmt.where(reach)
        found = conn.execute(stmt).first()
        if found is None or not self.policy.allows("user", READ):
            raise _invalid({"owner": [MISSING]})
        if owner == rec["owner"]:
            return self._out(plan, rec, self._quotes(conn, plan, [rec])[id])
        now = dt.datetime.now(dt.UTC)
        changes = {"owner": [rec["owner"], owner],
                   "owner_department": [rec["owner_department"], found.main_department]}
        rec.update(owner=owner, owner_department=found.main_department,
                   version=rec["version"] + 1, updated_by=self.actor.user_id,
                   updated_at=now)
        conn.execute(update(plan.table).where(plan.table.c.id == id).values(
            owner=owner, owner_department=rec["owner_department"],
            version=rec["version"], updated_by=rec["updated_by"], updated_at=now))
        history.write(conn, object=plan.name, record_id=id, version=rec["version"],
                      action="transfer", actor_id=self.actor.user_id, at=now,
                      changes={k: v for k, v in changes.items() if v[0] != v[1]})
        return self._out(plan, rec, self._quotes(conn, plan, [rec])[id])

    def check(self, object: str, id: str, verb: str) -> None:
        """Raises as a read or change of the record would: 404 when the actor
        cannot reach the record (or it does not exist), 403 when ``verb`` is not
        theirs on it."""
        plan = self._plan(object)
        self._load(self.session.connection(), plan, id, verb=verb)

    def backfill(
        self, object: str, fields: Iterable[str], *, after: str | None, limit: int
    ) -> tuple[str | None, int]:
        """Fills computed values of existing records after a metadata change, for
        up to ``limit`` records with ids after ``after`` (in the recycle bin too).
        ``fields`` are what the plan asked for: rollups are recomputed in SQL,
        autonumbers given to records that have none (in creation order), every
        formula recomputed, ``search_text`` rebuilt. Returns the last id done (None
        when no records were left) and how many were done. Derived values: no new
        version, no history row, no validation rule can refuse them."""
        plan = self._plan(object)
        wanted = set(fields)
        conn = self.session.connection()
        stmt = select(plan.table.c.id).order_by(plan.table.c.id).limit(limit)
        if after is not None:
            stmt = stmt.where(plan.table.c.id > after)
        ids = list(conn.execute(stmt).scalars())
        if not ids:
            return None, 0
        rollups = {f["api_name"] for f in plan.own_rollups} & wanted
        if rollups:
            for child in self.effective.objects.values():
                child_plan = self._plan(child.api_name)
                for link in child_plan.links:
                    if link.parent == plan.name and any(
                            r["api_name"] in rollups for r in link.rollups):
                        refresh_rollups(conn, link, child_plan.table, plan.table, ids)
        rows = conn.execute(select(plan.table).where(plan.table.c.id.in_(ids))
                            .order_by(plan.table.c.created_at, plan.table.c.id)).all()
        recs = [self._from_row(plan, row._mapping) for row in rows]
        children = self._load_rows(conn, plan, ids) if plan.tables else {}
        for rec in recs:
            for f in plan.tables:
                rec[f["api_name"]] = children[f["api_name"]].get(rec["id"], [])
            before = {f["api_name"]: rec[f["api_name"]] for f in plan.stored}
            before_rows = {n: [dict(r) for r in rec[n]] for n in plan.row_formulas}
            for name, numbering in plan.autonumbers:
                if name in wanted and rec[name] is None:
                    day = rec["created_at"].astimezone(zone(self.tz)).date()
                    rec[name] = next_number(conn, plan.name, name, numbering, day)
            self._formulas(plan, rec, None)
            values = {f["api_name"]: to_column(f, rec[f["api_name"]])
                      for f in plan.stored
                      if rec[f["api_name"]] != before[f["api_name"]]}
            if "search_text" in wanted:
                values["search_text"] = self._search_text(plan, rec)
            if values:
                conn.execute(update(plan.table)
                             .where(plan.table.c.id == rec["id"]).values(values))
            for name, formulas in plan.row_formulas.items():
                child = plan.children[name]
                for row, old in zip(rec[name], before_rows[name], strict=True):
                    changed = {f.name: to_column(f.field, row[f.name])
                               for f in formulas if row[f.name] != old.get(f.name)}
                    if changed:
                        conn.execute(update(child).where(child.c.id == row["id"])
                                     .values(changed))
        return ids[-1], len(ids)

    def _formulas(
        self, plan: _Plan, rec: dict[str, Any], errors: Errors | None
    ) -> None:
        """Every formula of a record: table row formulas first, then the record's in
        dependency order. One that cannot be computed is empty, and named in
        ``errors`` when given (a save refuses it; a backfill leaves it empty)."""
        tz = self.tz
        for name, formulas in plan.row_formulas.items():
            for row in rec[name]:
                variables = {**rec, **row}
                for formula in formulas:
                    try:
                        value = formula.compute(variables, tz)
                    except ExpressionError as exc:
                        value = None
                        if errors is not None:
                            _add(errors, name, t(
                                f"{formula.name} 无法计算：{exc}",
                                f"{formula.name} cannot be computed: {exc}"))
                    row[formula.name] = variables[formula.name] = value
        for formula in plan.formulas:
            try:
                rec[formula.name] = formula.compute(rec, tz)
            except ExpressionError as exc:
                rec[formula.name] = None
                if errors is not None:
                    _add(errors, formula.name, t(f"无法计算：{exc}",
                                                 f"cannot be computed: {exc}"))

    # -- reading ---------------------------------------------------------------

    def _plan(self, object: str) -> _Plan:
        obj = self.effective.object(object)
        if obj is None:
            raise NotFound("no_such_object",
                           t(f"没有对象 {object}", f"There is no object {object!r}"))
        plan = obj.cache.get(CACHE_KEY)
        if plan is None:
            plan = obj.cache[CACHE_KEY] = _Plan(self.effective, obj)
        return plan

    @staticmethod
    def _fts(conn: Connection, plan: _Plan) -> bool:
        return plan.has_search and conn.dialect.name == "sqlite"

    def _from_row(self, plan: _Plan, row: Mapping[Any, Any]) -> dict[str, Any]:
        rec = {name: row[name] for name in SYSTEM_COLUMNS}
        for f in plan.stored:
            rec[f["api_name"]] = from_column(f, row[f["api_name"]])
        return rec

    def _load(
        self,
        conn: Connection,
        plan: _Plan,
        id: str,
        *,
        deleted: bool | None = False,
        lock: bool = False,
        verb: str | None = None,
    ) -> dict[str, Any]:
        """The record ``id``. With ``verb``, on the actor's behalf: the record must
        be one they reach (else the same 404 as a missing id) and ``verb`` theirs
        on it (else 403)."""
        table = plan.table
        policy = self.policy
        checked = None if policy.unrestricted else verb
        stmt = plan.by_id
        if checked is not None:
            reach = policy.condition(plan.name, table, checked)
            stmt = stmt.add_columns((true() if reach is None else reach)
                                    .label("_reach"))
            visible = policy.condition(plan.name, table)
            if visible is not None:
                stmt = stmt.where(visible)
        if lock:
            stmt = stmt.with_for_update(of=table)
        row = conn.execute(stmt, {"_id": id}).first()
        if row is None or (deleted is not None
                           and (row.deleted_at is not None) != deleted):
            raise NotFound("not_found", t("记录不存在或已删除",
                                          "The record does not exist or was deleted"))
        if checked is not None and not (policy.allows(plan.name, checked)
                                        and row._mapping["_reach"]):
            raise forbidden()
        rec = self._from_row(plan, row._mapping)
        rows = self._load_rows(conn, plan, [id])
        for f in plan.tables:
            rec[f["api_name"]] = rows[f["api_name"]].get(id, [])
        return rec

    def _load_rows(
        self, conn: Connection, plan: _Plan, ids: list[str]
    ) -> dict[str, dict[str, list[dict[str, Any]]]]:
        found: dict[str, dict[str, list[dict[str, Any]]]] = {}
        for f in plan.tables:
            child = plan.children[f["api_name"]]
            by_parent: dict[str, list[dict[str, Any]]] = {}
            subs = [s for s in f["fields"] if column_type(s) is not None]
            if ids:
                for row in conn.execute(
                        select(child).where(child.c.parent_id.in_(ids))
                        .order_by(child.c.parent_id, child.c.row_order)):
                    m = row._mapping
                    item = {"id": m["id"]}
                    for s in subs:
                        item[s["api_name"]] = from_column(s, m[s["api_name"]])
                    by_parent.setdefault(m["parent_id"], []).append(item)
            found[f["api_name"]] = by_parent
        return found

    def _page(
        self, conn: Connection, plan: _Plan, rows: list[Any]
    ) -> list[dict[str, Any]]:
        recs = [self._from_row(plan, row._mapping) for row in rows]
        if plan.tables:
            children = self._load_rows(conn, plan, [r["id"] for r in recs])
            for rec in recs:
                for f in plan.tables:
                    rec[f["api_name"]] = children[f["api_name"]].get(rec["id"], [])
        quoted = self._quotes(conn, plan, recs)
        return [self._out(plan, rec, quoted[rec["id"]]) for rec in recs]

    def _out(
        self, plan: _Plan, rec: Mapping[str, Any], quoted: Mapping[str, Any]
    ) -> dict[str, Any]:
        """A record as the actor may see it."""
        return self.policy.strip(plan.name, self._json(plan, rec, quoted))

    def _readable(self, plan: _Plan) -> dict[str, Mapping[str, Any]]:
        """The fields the actor may filter and sort on."""
        hidden = self.policy.hidden(plan.name)
        return {n: f for n, f in plan.visible.items() if n not in hidden}

    def _quotes(
        self, conn: Connection, plan: _Plan, recs: list[dict[str, Any]]
    ) -> dict[str, dict[str, Any]]:
        """Quote values of a page of records: one query per lookup field quoted
        through, whatever the page size."""
        quoted: dict[str, dict[str, Any]] = {r["id"]: {} for r in recs}
        policy = self.policy
        for via, quotes in plan.quotes.items():
            target = quotes[0][1]
            target_object = plan.quote_targets[via]
            ids = {r[via] for r in recs if r.get(via)}
            found: dict[str, Mapping[Any, Any]] = {}
            # a quote shows only what the actor could read on the quoted record
            hidden = policy.hidden(target_object)
            columns = [target.c[f["api_name"]] for _, _, f in quotes
                       if column_type(f) is not None and f["api_name"] not in hidden]
            if ids and columns and policy.allows(target_object, READ):
                stmt = select(target.c.id, *columns).where(
                    target.c.id.in_(sorted(ids)), target.c.deleted_at.is_(None))
                reach = policy.condition(target_object, target, READ)
                if reach is not None:
                    stmt = stmt.where(reach)
                found = {row.id: row._mapping for row in conn.execute(stmt)}
            for rec in recs:
                source = found.get(rec.get(via))  # type: ignore[arg-type]
                for name, _, f in quotes:
                    value = None
                    if source is not None and f["api_name"] in source:
                        value = from_column(f, source[f["api_name"]])
                    quoted[rec["id"]][name] = to_json(f, value, self.tz)
        return quoted

    def _json(
        self, plan: _Plan, rec: Mapping[str, Any], quoted: Mapping[str, Any]
    ) -> dict[str, Any]:
        out: dict[str, Any] = {"id": rec["id"]}
        tz = self.tz
        for name, f in plan.visible.items():
            ftype = f["type"]
            if ftype == "quote":
                out[name] = quoted.get(name)
            elif ftype == "table":
                out[name] = [
                    {"id": row["id"], **{s["api_name"]: to_json(s, row.get(
                        s["api_name"]), tz) for s in f["fields"]}}
                    for row in rec[name]]
            else:
                out[name] = to_json(f, rec[name], tz)
        for name in OUTPUT_SYSTEM_FIELDS:
            out[name] = to_json_value(rec[name], tz)
        if rec["deleted_at"] is not None:
            out["deleted_at"] = to_json_value(rec["deleted_at"], tz)
            out["deleted_by"] = rec["deleted_by"]
        return out

    # -- saving ----------------------------------------------------------------

    def _check_keys(self, plan: _Plan, data: Any) -> None:
        if not isinstance(data, Mapping):
            raise AppError("invalid", t("记录应为 JSON 对象",
                                        "A record is a JSON object"))
        errors: Errors = {}
        hidden = self.policy.hidden(plan.name)
        readonly = self.policy.readonly(plan.name)
        for name in data:
            if name in hidden:  # as if it did not exist
                errors[str(name)] = [UNKNOWN]
            elif name in plan.writable:
                if name in readonly:
                    errors[name] = [READ_ONLY]
            elif name in plan.fields:
                errors[name] = [COMPUTED]
            elif name in SYSTEM_FIELDS or name == "search_text":
                errors[name] = [SYSTEM]
            else:
                errors[str(name)] = [UNKNOWN]
        if errors:
            raise _invalid(errors)

    @staticmethod
    def _check_unlocked(rec: Mapping[str, Any]) -> None:
        if rec["life_status"] == "in_review":
            raise Conflict("locked", t("记录正在审批中，已锁定",
                                       "The record is under approval and locked"))

    def _default(self, field: Mapping[str, Any], now: dt.datetime) -> Any:
        value = field["default"]
        # date and datetime defaults may name the moment of the save
        if field["type"] == "date" and value == "today":
            return now.astimezone(zone(self.tz)).date().isoformat()
        if field["type"] == "datetime" and value == "now":
            return now.isoformat()
        return value

    def _parse(
        self, plan: _Plan, data: Mapping[str, Any], old: Mapping[str, Any]
    ) -> dict[str, Any]:
        """The written fields as Python values; table rows that name one of the
        record's existing rows keep its id, others get a new one."""
        values: dict[str, Any] = {}
        errors: Errors = {}
        for name, raw in data.items():
            field = plan.fields[name]
            try:
                if name in plan.secrets:
                    # always hashed here: a client can't plant a hash of its choice
                    values[name] = None if raw is None else hash_password(raw)
                    continue
                if field["type"] != "table":
                    values[name] = from_json(field, raw)
                    continue
                known = {row["id"] for row in old.get(name, ())}
                rows = []
                for raw_row in raw or ():
                    row_id = raw_row.get("id")
                    row = {"id": row_id if row_id in known else new_id()}
                    for sub in field["fields"]:
                        if column_type(sub) is not None:
                            row[sub["api_name"]] = (
                                from_json(sub, raw_row.get(sub["api_name"]))
                                if writable(sub) else None)
                    known.discard(row_id)  # a row id sent twice is one row
                    rows.append(row)
                values[name] = rows
            except ValueProblem as problem:
                _add(errors, name, problem.message)
        if errors:
            raise _invalid(errors)
        return values

    def _check_dependent(
        self, plan: _Plan, rec: Mapping[str, Any], written: set[str] | None
    ) -> None:
        """A select that depends on another takes only the options under the
        other's value."""
        errors: Errors = {}
        for f in plan.dependent:
            name, parent = f["api_name"], f["depends_on"]
            if written is not None and not written & {name, parent}:
                continue
            value, chosen = rec[name], rec.get(parent)
            allowed = set(chosen) if isinstance(chosen, list) else {chosen}
            parents = {o["value"]: o.get("parent") for o in f.get("options", ())}
            for v in (value if isinstance(value, list) else [value]):
                if v is not None and parents.get(v) is not None \
                        and parents[v] not in allowed:
                    _add(errors, name, t(f"与「{parent}」的选择不匹配",
                                         f"does not go with the chosen {parent}"))
        if errors:
            raise _invalid(errors)

    def _check_references(
        self,
        conn: Connection,
        plan: _Plan,
        rec: Mapping[str, Any],
        old: Mapping[str, Any] | None,
    ) -> None:
        """Referenced records and files must exist, and files must fit their
        field's ``max_size_mb`` and ``accept``; only new values are checked
        (keeping a reference to a record deleted since is allowed, and so is a
        file attached before its field's limits changed)."""
        wanted: dict[str, dict[str, set[str]]] = {}  # target -> id -> fields
        # file id -> (where an error goes, the file or image field)
        new_files: dict[str, list[tuple[str, Mapping[str, Any]]]] = {}

        def want(target: str, value: Any, field: str) -> None:
            wanted.setdefault(target, {}).setdefault(value, set()).add(field)

        def attach(file_ids: set[str], where: str, field: Mapping[str, Any]) -> None:
            for file_id in file_ids:
                new_files.setdefault(file_id, []).append((where, field))

        for name, target in plan.references:
            value = rec[name]
            if value is not None and (old is None or old[name] != value):
                want(target, value, name)
        for f in plan.file_fields:
            name = f["api_name"]
            before = set(old[name] or ()) if old is not None else set()
            attach(set(rec[name] or ()) - before, name, f)
        for f in plan.tables:
            name = f["api_name"]
            old_rows = old[name] if old is not None else []
            for sub, target in plan.row_references[name]:
                before = {r.get(sub) for r in old_rows}
                for row in rec[name]:
                    if row.get(sub) is not None and row[sub] not in before:
                        want(target, row[sub], name)
            for sub in plan.row_file_fields[name]:
                key = sub["api_name"]
                before = {i for r in old_rows for i in r.get(key) or ()}
                for row in rec[name]:
                    attach(set(row.get(key) or ()) - before, name, sub)
        errors: Errors = {}
        for target, ids in wanted.items():
            table = self.effective.tables.main.get(target)
            existing: set[str] = set()
            # a record the actor cannot read is one that does not exist
            if table is not None and self.policy.allows(target, READ):
                stmt = select(table.c.id).where(table.c.id.in_(sorted(ids)),
                                                table.c.deleted_at.is_(None))
                reach = self.policy.condition(target, table, READ)
                if reach is not None:
                    stmt = stmt.where(reach)
                existing = set(conn.execute(stmt).scalars())
            for missing in ids.keys() - existing:
                for name in ids[missing]:
                    _add(errors, name, MISSING)
        if new_files:
            stored = {row.id: row for row in conn.execute(
                select(files.c.id, files.c.name, files.c.size, files.c.content_type)
                .where(files.c.id.in_(sorted(new_files))))}
            for file_id, uses in new_files.items():
                row = stored.get(file_id)
                for where, field in uses:
                    problem = MISSING_FILE if row is None else file_problem(
                        field, row.name, row.size, row.content_type)
                    if problem is not None:
                        _add(errors, where, problem)
        if errors:
            raise _invalid(errors)

    def _check_unique(
        self,
        conn: Connection,
        plan: _Plan,
        rec: Mapping[str, Any],
        names: Iterable[str],
        *,
        exclude: str | None,
    ) -> None:
        """A clear 400 before the unique index would refuse the write. Records in
        the recycle bin count: the index covers them, so they can be restored."""
        values = {n: rec[n] for n in names if rec[n] is not None}
        if not values:
            return
        table = plan.table
        fields = plan.fields
        stmt = select(*[table.c[n] for n in values]).where(or_(*[
            table.c[n] == to_column(fields[n], v) for n, v in values.items()]))
        if exclude is not None:
            stmt = stmt.where(table.c.id != exclude)
        errors: Errors = {}
        for row in conn.execute(stmt):
            for n, v in values.items():
                if row._mapping[n] == v:
                    errors[n] = [TAKEN]
        if errors:
            raise _invalid(errors)

    def _guarded(
        self,
        conn: Connection,
        plan: _Plan,
        stmt: Executable,
        params: dict[str, Any] | None,
        rec: Mapping[str, Any],
        unique: bool,
    ) -> Any:
        """Runs the record's INSERT/UPDATE; when it writes unique values, inside a
        SAVEPOINT so that losing a race to a concurrent save becomes the same 400
        as the check before it, with the transaction still usable."""
        if not unique:
            return conn.execute(stmt, params)
        try:
            with self.session.begin_nested():
                # the SAVEPOINT is emitted when the session hands out its connection
                return self.session.connection().execute(stmt, params)
        except IntegrityError:
            self._check_unique(conn, plan, rec, plan.unique, exclude=rec["id"])
            raise _invalid({n: [TAKEN] for n in plan.unique}) from None

    def _compute(self, plan: _Plan, rec: dict[str, Any]) -> None:
        """Formulas (table row formulas first, then the record's in dependency
        order), then the validation rules over the complete record."""
        errors: Errors = {}
        tz = self.tz
        self._formulas(plan, rec, errors)
        if errors:
            raise _invalid(errors)
        failed = []
        for rule, message in plan.rules:
            try:
                passed = evaluate_rule(rule, rec, tz=tz)
            except ExpressionError:
                passed = False  # a rule that cannot be checked does not pass
            if not passed:
                failed.append((rule, message))
        if failed:
            for rule, message in failed:
                for ref in sorted(rule.references & plan.fields.keys()):
                    _add(errors, ref, message)
            raise AppError("invalid", t("；".join(m["zh"] for _, m in failed),
                                        "; ".join(m["en"] for _, m in failed)),
                           errors)

    def _search_text(self, plan: _Plan, rec: Mapping[str, Any]) -> str | None:
        if not plan.has_search:
            return None
        words = [search_words(f, rec[f["api_name"]]) for f in plan.searchable]
        for name, subs in plan.searchable_rows.items():
            for row in rec[name]:
                words.extend(search_words(s, row.get(s["api_name"])) for s in subs)
        return " ".join(w for w in words if w).lower() or None

    def _insert_rows(
        self, conn: Connection, plan: _Plan, field: Mapping[str, Any],
        rec: Mapping[str, Any],
    ) -> None:
        name = field["api_name"]
        subs = [s for s in field["fields"] if column_type(s) is not None]
        params = []
        for order, row in enumerate(rec[name]):
            item = {"id": row["id"], "parent_id": rec["id"], "row_order": order}
            for s in subs:
                item[s["api_name"]] = to_column(s, row.get(s["api_name"]))
            params.append(item)
        if params:
            conn.execute(plan.child_inserts[name], params)

    def _move(
        self, conn: Connection, plan: _Plan, rec: dict[str, Any], action: str
    ) -> None:
        """To the recycle bin (``delete``) or out of it (``restore``)."""
        now = dt.datetime.now(dt.UTC)
        deleting = action == "delete"
        rec.update(version=rec["version"] + 1,
                   deleted_at=now if deleting else None,
                   deleted_by=self.actor.user_id if deleting else None)
        conn.execute(update(plan.table).where(plan.table.c.id == rec["id"]).values(
            version=rec["version"], deleted_at=rec["deleted_at"],
            deleted_by=rec["deleted_by"]))
        history.write(conn, object=plan.name, record_id=rec["id"],
                      version=rec["version"], action=action,
                      actor_id=self.actor.user_id, at=now, changes={})
        closure = CLOSURES.get(plan.name)
        if closure is not None:
            if deleting:
                closure.removed(conn, rec["id"])
            else:
                closure.restored(conn, rec["id"], rec[closure.field])
        for link in plan.links:
            self._refresh(conn, link, plan, [rec[link.via]])

    def _refresh(
        self, conn: Connection, link: RollupLink, plan: _Plan, parents: list[Any]
    ) -> None:
        """Recomputes the parents' rollups fed through ``link``, then their formulas
        that use them. Derived values: no new version, no history row."""
        ids = sorted({p for p in parents if p})
        parent = self._plan(link.parent)
        refresh_rollups(conn, link, plan.table, parent.table, ids)
        if not parent.rollup_formulas:
            return
        for pid in ids:
            try:
                rec = self._load(conn, parent, pid, deleted=None)
            except NotFound:  # a dangling reference feeds nothing
                continue
            values = {}
            for formula in parent.rollup_formulas:
                try:
                    value = formula.compute(rec, self.tz)
                except ExpressionError:
                    value = None  # the child's save is not the parent's to refuse
                if value != rec[formula.name]:
                    rec[formula.name] = value
                    values[formula.name] = to_column(formula.field, value)
            if values:
                conn.execute(update(parent.table).where(parent.table.c.id == pid)
                             .values(values))
