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

import copy
import datetime as dt
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from sqlalchemy import Connection, delete, select, update
from zope.interface import implementer

from propolis.metadata.expressions import ExpressionError
from propolis.platform.auth.passwords import hash_password
from propolis.platform.errors import Conflict, Forbidden, NotFound, _
from propolis.platform.fields.registry import field_type
from propolis.platform.fields.values import to_json_value, zone
from propolis.platform.permissions.grants import ADMIN
from propolis.platform.permissions.policy import READ, AccessPolicy
from propolis.platform.query.interfaces import IQueryService
from propolis.platform.records import audience, history
from propolis.platform.records.bulk import Bulk
from propolis.platform.records.checks import Checks
from propolis.platform.records.compute import (
    RollupLink,
    next_number,
    refresh_rollups,
)
from propolis.platform.records.derived import Derived
from propolis.platform.records.duplicates import Duplicates
from propolis.platform.records.events import (
    LifeStatusChanged,
    OwnerChanged,
    PasswordSet,
    RecordCreated,
    RecordDeleted,
    RecordRestored,
    RecordUpdated,
    UserDeactivated,
    pairs,
)
from propolis.platform.records.handover import transfer_records
from propolis.platform.records.interfaces import IRecordService
from propolis.platform.records.plan import (
    MASK,
    MISSING,
    SYSTEM_COLUMNS,
    ObjectPlan,
    invalid,
    stored,
)
from propolis.platform.records.teams import Teams
from propolis.platform.records.timeline import Timeline
from propolis.platform.storage.platform_tables import CLOSURES


@implementer(IRecordService, IQueryService)
class RecordService(Bulk, Checks, Derived, Teams, Duplicates, Timeline):
    """Records of one enterprise, on behalf of one actor, inside the caller's
    transaction (the service never commits). The writes are here; reads, checks
    and derived values in their own modules."""

    def create(self, object: str, data: Mapping[str, Any]) -> dict[str, Any]:
        """Validates and stores a new record; returns it as JSON values."""
        plan = self._plan(object)
        self.policy.require(plan.name, "create")
        conn = self.session.connection()
        now = dt.datetime.now(dt.UTC)
        rec = self._new_record(plan, data, now)
        self._check_references(conn, plan, rec, None)
        self._check_user_status(conn, plan, None, rec)
        self._check_unique(conn, plan, rec, plan.unique, exclude=None)
        self._check_duplicates(conn, plan, rec, None)
        if plan.autonumbers:
            day = now.astimezone(zone(self.tz)).date()
            for name, numbering in plan.autonumbers:
                rec[name] = next_number(conn, plan.name, name, numbering, day)
        self._compute(plan, rec)
        rec["search_text"] = self._search_text(plan, rec)
        params = {f["api_name"]: field_type(f).to_column(f, rec[f["api_name"]])
                  for f in plan.stored}
        for name in SYSTEM_COLUMNS:
            params[name] = rec[name]
        self._guarded(conn, plan, plan.insert, params, rec,
                      any(rec[n] is not None for n in plan.unique))
        for f in plan.tables:
            self._insert_rows(conn, plan, f, rec)
        self._write_keys(conn, plan, rec, None)
        closure = CLOSURES.get(plan.name)
        if closure is not None:
            closure.added(conn, rec["id"], rec[closure.field])
        self._index(conn, plan, rec, None)
        out = self._json(plan, rec, self._quotes(conn, plan, [rec])[rec["id"]])
        history.write(conn, object=plan.name, record_id=rec["id"], version=1,
                      action="create", actor_id=self.actor.user_id, at=now,
                      changes={**{n: [None, out[n]] for n in plan.history_names
                                  if out[n] not in (None, [])},
                               **{n: [None, MASK] for n in plan.secrets if rec[n]}})
        for link in plan.links:
            self._refresh(conn, link, plan, [rec[link.via]])
        self._tell(RecordCreated, plan, out)
        return self.policy.strip(plan.name, out)

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
                _("The record was changed by someone else: it is now at version "
                  "${version}; reload and try again",
                  mapping={"version": old['version']}))
        errors = plan.update_validator.errors(data)
        if errors:
            raise invalid(errors)
        rec = dict(old)
        rec.update(self._parse(plan, data, old))
        self._check_dependent(plan, rec, set(data))
        self._check_references(conn, plan, rec, old)
        self._check_user_status(conn, plan, old, rec)
        closure = CLOSURES.get(plan.name)
        moved = (closure if closure is not None
                 and rec[closure.field] != old[closure.field] else None)
        if moved is not None:
            moved.check_move(conn, id, rec[moved.field])
        changed_unique = [n for n in plan.unique if rec[n] != old[n]]
        self._check_unique(conn, plan, rec, changed_unique, exclude=id)
        self._check_duplicates(conn, plan, rec, data.keys())
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
        values = {f["api_name"]: field_type(f).to_column(f, rec[f["api_name"]])
                  for f in plan.stored if f["api_name"] in changes}
        values.update(version=rec["version"], updated_by=rec["updated_by"],
                      updated_at=now, search_text=rec["search_text"])
        stmt = (update(plan.table)
                .where(plan.table.c.id == id, plan.table.c.version == old["version"])
                .values(values))
        result = self._guarded(conn, plan, stmt, None, rec,
                               any(rec[n] is not None for n in changed_unique))
        if result.rowcount != 1:  # changed between our read and our write
            raise Conflict("conflict", _("The record was changed by someone else; "
                                         "reload and try again"))
        for f in plan.tables:
            if f["api_name"] in changes:
                conn.execute(delete(plan.children[f["api_name"]]).where(
                    plan.children[f["api_name"]].c.parent_id == id))
                self._insert_rows(conn, plan, f, rec)
        self._write_keys(conn, plan, rec, changes.keys())
        if moved is not None:
            moved.moved(conn, id, rec[moved.field])
        self._index(conn, plan, rec, old)
        out.update(version=rec["version"], updated_by=rec["updated_by"],
                   updated_at=to_json_value(now, self.tz))
        history.write(conn, object=plan.name, record_id=id, version=rec["version"],
                      action="update", actor_id=self.actor.user_id, at=now,
                      changes=changes)
        for link in plan.links:
            if link.watched & changes.keys():
                self._refresh(conn, link, plan, [old[link.via], rec[link.via]])
        out.update(quoted)
        self._tell(RecordUpdated, plan, out, changes=pairs(changes))
        if plan.name == "user" and "password" in changes and self.request is not None:
            self.request.registry.notify(PasswordSet(self.request, id))
        if plan.name == "user" and old["status"] == "active" \
                and rec["status"] != "active" and self.request is not None:
            self.request.registry.notify(UserDeactivated(self.request, id))
        return self.policy.strip(plan.name, out)

    def delete(self, object: str, id: str) -> None:
        """Moves a record to the recycle bin (403 for objects whose records can
        never be deleted)."""
        plan = self._plan(object)
        if not plan.deletable:
            raise Forbidden("not_deletable", _("Records of this object cannot be "
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

    def transfer(self, object: str, id: str, owner: Any) -> dict[str, Any]:
        """Hands a record to another user (the ``transfer`` verb): ``owner`` and
        ``owner_department`` (the new owner's main department) change, a new
        version with its history row (action ``transfer``)."""
        plan = self._plan(object)
        conn = self.session.connection()
        if not isinstance(owner, str) or not owner:
            raise invalid({"owner": [_("must be a user id")]})
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
            raise invalid({"owner": [MISSING]})
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
        changes = {k: v for k, v in changes.items() if v[0] != v[1]}
        history.write(conn, object=plan.name, record_id=id, version=rec["version"],
                      action="transfer", actor_id=self.actor.user_id, at=now,
                      changes=changes)
        out = self._whole(conn, plan, rec)
        self._tell(OwnerChanged, plan, out, changes=pairs(changes))
        return self.policy.strip(plan.name, out)

    def hand_over(self, from_user: str, to_user: str, to_department: str | None
                  ) -> dict[str, int]:
        """Gives every record ``from_user`` owns, in every object and in the
        recycle bin too, to ``to_user`` (an employee leaving: the organisation
        checked the rights and the recipient), ``to_department`` becoming their
        ``owner_department``: one statement per object, a new version and a
        history row per record (``handover.transfer_records``), then
        ``OwnerChanged`` per record, read back only when someone listens.
        Returns how many records moved, by object."""
        conn = self.session.connection()
        moved = transfer_records(conn, self.effective, from_user=from_user,
                                 to_user=to_user, to_department=to_department,
                                 actor_id=self.actor.user_id)
        if self._listens(OwnerChanged):
            for name, found in moved.items():
                plan = self._plan(name)
                before = dict(found)
                for out in self._wholes(conn, plan, list(before)):
                    changes: dict[str, tuple[Any, Any]] = {
                        "owner": (from_user, to_user)}
                    if before[out["id"]] != to_department:
                        changes["owner_department"] = (before[out["id"]],
                                                       to_department)
                    self._tell(OwnerChanged, plan, out, changes=changes)
        return {name: len(found) for name, found in moved.items()}

    def adopt_unowned(self, owner: str) -> None:
        """Makes ``owner`` the owner, creator and last editor of the records that
        have no owner: a new enterprise's first department and first user, made
        before there was a user. Part of setting the enterprise up, not a change
        of its records: no new version, history row or event."""
        conn = self.session.connection()
        for name in sorted(self.effective.objects):
            table = self._plan(name).table
            conn.execute(update(table).where(table.c.owner.is_(None)).values(
                owner=owner, created_by=owner, updated_by=owner))

    def set_life_status(self, object: str, id: str, status: str) -> None:
        """Sets a record's ``life_status`` for the approval engine (``in_review``
        while an approval runs, then ``normal`` or ``invalid``), which has checked
        the actor's part in it: no right is asked here. A new version with its
        history row, and ``LifeStatusChanged``. Nothing happens when the object or
        the record is gone, or the status is that already."""
        if self.effective.object(object) is None:
            return  # the form object was removed since the submission
        plan = self._plan(object)
        conn = self.session.connection()
        try:
            rec = self._load(conn, plan, id, deleted=None, lock=True)
        except NotFound:
            return
        if rec["life_status"] == status:
            return
        changes = {"life_status": [rec["life_status"], status]}
        self._write_system(conn, plan, rec, changes, life_status=status)
        if self._listens(LifeStatusChanged):
            self._tell(LifeStatusChanged, plan, self._whole(conn, plan, rec),
                       changes=pairs(changes))

    def set_password(self, user_id: str, password: str, *, hashed: bool = False
                     ) -> None:
        """Sets a user's password for the accounts (the user changing their own,
        an admin's reset) and for a join request (``hashed``: an argon2 hash the
        platform made from the password its applicant chose; a client's
        ``update`` is always hashed, so that no client plants a hash of its
        choice). No right is asked: the caller checked it, and ends the sessions
        itself (no ``PasswordSet``). A new version, its history row (the change,
        never the value) and ``RecordUpdated``."""
        plan = self._plan("user")
        conn = self.session.connection()
        rec = self._load(conn, plan, user_id, lock=True)
        changes = {"password": [MASK if rec["password"] else None, MASK]}
        self._write_system(conn, plan, rec, changes,
                           password=password if hashed else hash_password(password))
        if self._listens(RecordUpdated):
            self._tell(RecordUpdated, plan, self._whole(conn, plan, rec),
                       changes=pairs(changes))

    def _write_system(
        self, conn: Connection, plan: ObjectPlan, rec: dict[str, Any],
        changes: Mapping[str, list[Any]], **values: Any,
    ) -> None:
        """Writes ``values`` (columns the platform sets, past the checks of a
        save) as a new version of ``rec``, with its history row."""
        now = dt.datetime.now(dt.UTC)
        rec.update(values, version=rec["version"] + 1, updated_by=self.actor.user_id,
                   updated_at=now)
        conn.execute(update(plan.table).where(plan.table.c.id == rec["id"]).values(
            **values, version=rec["version"], updated_by=rec["updated_by"],
            updated_at=now))
        history.write(conn, object=plan.name, record_id=rec["id"],
                      version=rec["version"], action="update",
                      actor_id=self.actor.user_id, at=now, changes=changes)

    def _index(self, conn: Connection, plan: ObjectPlan, rec: dict[str, Any],
               old: dict[str, Any] | None) -> None:
        """The record's audience and topics (``records/audience.py``)."""
        audience.index(conn, self.effective, plan.name, plan.fields, rec, old,
                       shared=plan.audience,
                       receipts=bool(plan.social.get("receipts")),
                       actor=self.actor.user_id,
                       name=str(rec.get(plan.name_field) or rec["id"]))

    def release(self, object: str, id: str) -> dict[str, Any]:
        """Leaves a record without an owner (the ``transfer`` verb): ``owner`` and
        ``owner_department`` become empty, a new version with its history row
        (action ``transfer``) and ``OwnerChanged``. A record nobody owns is
        reached only through a data scope of ``all`` or its team (a CRM customer
        in a public pool is read by the pool's members, its team)."""
        plan = self._plan(object)
        conn = self.session.connection()
        rec = self._load(conn, plan, id, lock=True, verb="transfer")
        self._check_unlocked(rec)
        if rec["owner"] is None and rec["owner_department"] is None:
            return self._out(plan, rec, self._quotes(conn, plan, [rec])[id])
        now = dt.datetime.now(dt.UTC)
        changes = {"owner": [rec["owner"], None],
                   "owner_department": [rec["owner_department"], None]}
        rec.update(owner=None, owner_department=None, version=rec["version"] + 1,
                   updated_by=self.actor.user_id, updated_at=now)
        conn.execute(update(plan.table).where(plan.table.c.id == id).values(
            owner=None, owner_department=None, version=rec["version"],
            updated_by=rec["updated_by"], updated_at=now))
        changes = {k: v for k, v in changes.items() if v[0] != v[1]}
        history.write(conn, object=plan.name, record_id=id, version=rec["version"],
                      action="transfer", actor_id=self.actor.user_id, at=now,
                      changes=changes)
        out = self._whole(conn, plan, rec)
        self._tell(OwnerChanged, plan, out, changes=pairs(changes))
        return self.policy.strip(plan.name, out)

    def privileged(self) -> RecordService:
        """This service, in the same transaction and for the same user, with
        every right: for extension code that checked the rights its own way (a
        pool member claiming a customer they may only read). The history and
        ``updated_by`` still name the user."""
        clone = copy.copy(self)
        clone.actor = replace(self.actor, roles=self.actor.roles | {ADMIN})
        clone.policy = AccessPolicy(self.effective, clone.actor)
        return clone

    def _insert_rows(
        self, conn: Connection, plan: ObjectPlan, field: Mapping[str, Any],
        rec: Mapping[str, Any],
    ) -> None:
        name = field["api_name"]
        subs = [s for s in field["fields"] if stored(s)]
        params = []
        for order, row in enumerate(rec[name]):
            item = {"id": row["id"], "parent_id": rec["id"], "row_order": order}
            for s in subs:
                item[s["api_name"]] = field_type(s).to_column(
                    s, row.get(s["api_name"]))
            params.append(item)
        if params:
            conn.execute(plan.child_inserts[name], params)

    def _move(
        self, conn: Connection, plan: ObjectPlan, rec: dict[str, Any], action: str
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
        event = RecordDeleted if deleting else RecordRestored
        if self._listens(event):
            self._tell(event, plan, self._whole(conn, plan, rec))

    def _refresh(
        self, conn: Connection, link: RollupLink, plan: ObjectPlan, parents: list[Any]
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
                    values[formula.name] = formula.type.to_column(formula.field, value)
            if values:
                conn.execute(update(parent.table).where(parent.table.c.id == pid)
                             .values(values))
