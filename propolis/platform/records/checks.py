"""The checks of a save before anything is written: unknown and read-only fields,
the JSON Schema, locked records, references that must exist and be reachable,
records that depend on this one, uniqueness."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import Connection, String, cast, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql import Executable

from propolis.platform.auth.passwords import hash_password
from propolis.platform.errors import AppError, Conflict, _
from propolis.platform.fields.files import file_problem
from propolis.platform.fields.registry import field_type
from propolis.platform.fields.schema import writable
from propolis.platform.fields.values import SYSTEM_FIELDS, ValueProblem
from propolis.platform.ids import new_id
from propolis.platform.permissions.policy import READ
from propolis.platform.records.plan import (
    COMPUTED,
    MISSING,
    MISSING_FILE,
    READ_ONLY,
    SYSTEM,
    TAKEN,
    UNKNOWN,
    ObjectPlan,
    RecordServiceBase,
    add_error,
    invalid,
    stored,
)
from propolis.platform.records.schema import Errors
from propolis.platform.storage.platform_tables import files


class Checks(RecordServiceBase):
    """What a save must pass before it writes."""

    def _check_keys(self, plan: ObjectPlan, data: Any) -> None:
        if not isinstance(data, Mapping):
            raise AppError("invalid", _("A record is a JSON object"))
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
            raise invalid(errors)

    @staticmethod
    def _check_unlocked(rec: Mapping[str, Any]) -> None:
        if rec["life_status"] == "in_review":
            raise Conflict("locked", _("The record is under approval and locked"))

    def _check_user_status(self, conn: Connection, plan: ObjectPlan,
                           old: Mapping[str, Any] | None,
                           rec: Mapping[str, Any]) -> None:
        """The users' own rules, whoever writes them: a status is required; nobody
        makes themselves inactive, and no change leaves the enterprise without
        an active admin (disabling the last one, or taking the role away)."""
        if plan.name != "user":
            return
        if rec["status"] is None:
            raise invalid({"status": [_("required: active, pending or disabled")]})
        if old is None:
            return
        if old["status"] == "active" and rec["status"] != "active" \
                and old["id"] == self.actor.user_id:
            raise invalid({"status": [_("you cannot disable yourself")]})
        if _active_admin(old) and not _active_admin(rec):
            users = plan.table
            others = conn.execute(select(users.c.id).where(
                users.c.id != old["id"], users.c.status == "active",
                users.c.deleted_at.is_(None),
                cast(users.c.roles, String).like('%"admin"%')).limit(1)).first()
            if others is None:
                name = "status" if rec["status"] != "active" else "roles"
                raise invalid({name: [_("this is the only active administrator: "
                                        "make another user an administrator first")]})

    def _default(self, field: Mapping[str, Any], now: dt.datetime) -> Any:
        # date and datetime defaults may name the moment of the save
        return field_type(field).default_value(field, now, self.tz)

    def _parse(
        self, plan: ObjectPlan, data: Mapping[str, Any], old: Mapping[str, Any]
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
                if not field_type(field).has_rows:
                    values[name] = field_type(field).from_json(field, raw)
                    continue
                known = {row["id"] for row in old.get(name, ())}
                rows = []
                for raw_row in raw or ():
                    row_id = raw_row.get("id")
                    row = {"id": row_id if row_id in known else new_id()}
                    for sub in field["fields"]:
                        if stored(sub):
                            row[sub["api_name"]] = (
                                field_type(sub).from_json(sub,
                                                          raw_row.get(sub["api_name"]))
                                if writable(sub) else None)
                    known.discard(row_id)  # a row id sent twice is one row
                    rows.append(row)
                values[name] = rows
            except ValueProblem as problem:
                add_error(errors, name, problem.message)
        if errors:
            raise invalid(errors)
        return values

    def _check_dependent(
        self, plan: ObjectPlan, rec: Mapping[str, Any], written: set[str] | None
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
                    add_error(errors, name, _("does not go with the chosen ${parent}",
                                              mapping={"parent": parent}))
        if errors:
            raise invalid(errors)

    def _check_references(
        self,
        conn: Connection,
        plan: ObjectPlan,
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
        for name, target in plan.list_references:
            before = set(old[name] or ()) if old is not None else set()
            for value in set(rec[name] or ()) - before:
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
                    add_error(errors, name, MISSING)
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
                        add_error(errors, where, problem)
        if errors:
            raise invalid(errors)

    def _check_unique(
        self,
        conn: Connection,
        plan: ObjectPlan,
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
            table.c[n] == field_type(fields[n]).to_column(fields[n], v)
            for n, v in values.items()]))
        if exclude is not None:
            stmt = stmt.where(table.c.id != exclude)
        errors: Errors = {}
        for row in conn.execute(stmt):
            for n, v in values.items():
                if row._mapping[n] == v:
                    errors[n] = [TAKEN]
        if errors:
            raise invalid(errors)

    def _guarded(
        self,
        conn: Connection,
        plan: ObjectPlan,
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
            raise invalid({n: [TAKEN] for n in plan.unique}) from None


def _active_admin(user: Mapping[str, Any]) -> bool:
    return user["status"] == "active" and "admin" in (user["roles"] or ())
