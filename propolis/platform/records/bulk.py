"""Creating many records in one go (an import's batch): the rules of ``create``
for every record, the writes in bulk.

Each record passes the checks a single save runs (the create permission, unknown
and read-only fields, the JSON Schema, dependent selects, references, uniqueness
and the duplicate checks of ``duplicates:`` — against the stored records and
against the other records of the batch —,
formulas and validation rules); a record that fails is left out with its
``AppError`` and the others are written: one multi-row INSERT per table
(executemany), the search text with the row, the history rows in one statement,
the autonumbers reserved in one block per field, the rollups of the parents fed
refreshed once per batch, ``RecordCreated`` told of each record (when someone
listens). What a single save does per record costs one query per
batch here, so a batch of a thousand records takes a handful of statements.

Where it differs from saving the records one by one: the autonumbers of records
refused by a validation rule or by a subscriber are skipped (numbers are reserved
before the formulas run), and a unique value is checked against the batch's
records that passed the checks before the rules.

The caller owns the transaction: a batch that fails while writing (a unique
value taken by a concurrent save between the check and the INSERT) raises, and
the caller's SAVEPOINT takes the whole batch back. Objects that keep a closure
table (users, departments) are saved one by one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, delete, insert, select

from propolis.platform.errors import AppError, _
from propolis.platform.fields.registry import field_type
from propolis.platform.fields.values import zone
from propolis.platform.ids import new_id
from propolis.platform.permissions.policy import READ
from propolis.platform.records import history
from propolis.platform.records.checks import Checks
from propolis.platform.records.compute import empty_rollup, reserve_numbers
from propolis.platform.records.derived import Derived
from propolis.platform.records.duplicates import (
    Duplicates,
    normalized_key,
    record_key_rows,
)
from propolis.platform.records.events import RecordCreated
from propolis.platform.records.plan import (
    MASK,
    MISSING,
    SYSTEM_COLUMNS,
    TAKEN,
    ObjectPlan,
    invalid,
    stored,
)
from propolis.platform.records.schema import Errors
from propolis.platform.storage.platform_tables import (
    CLOSURES,
    record_history,
    record_keys,
)

LOOKUP_CHUNK = 500  # values in one IN (...)
REPEATED = _("duplicates an earlier row of this import")


@dataclass
class Created:
    """The outcome of ``create_many``: the records written (JSON values as the
    actor may see them) and the refused ones, each by its index in the input."""

    records: dict[int, dict[str, Any]] = field(default_factory=dict)
    errors: dict[int, AppError] = field(default_factory=dict)


class Bulk(Checks, Derived, Duplicates):
    """``create_many``: the record service's bulk path."""

    def create_many(self, object: str, rows: Sequence[Mapping[str, Any]]
                    ) -> Created:
        """Validates every record of ``rows`` as ``create`` would and stores the
        valid ones together (see the module docstring)."""
        plan = self._plan(object)
        self.policy.require(plan.name, "create")
        result = Created()
        if CLOSURES.get(plan.name) is not None:
            return self._one_by_one(plan, rows, result)
        conn = self.session.connection()
        now = dt.datetime.now(dt.UTC)
        recs: dict[int, dict[str, Any]] = {}
        for index, data in enumerate(rows):
            try:
                recs[index] = self._new_record(plan, data, now)
            except AppError as error:
                result.errors[index] = error
        self._refuse(recs, result, self._missing_references(conn, plan, recs))
        self._refuse(recs, result, self._taken(conn, plan, recs))
        if plan.duplicate_fields:
            self._no_duplicates(conn, plan, recs, result)
        if plan.autonumbers and recs:
            day = now.astimezone(zone(self.tz)).date()
            for name, numbering in plan.autonumbers:
                numbers = reserve_numbers(conn, plan.name, name, numbering, day,
                                          len(recs))
                for rec, number in zip(recs.values(), numbers, strict=True):
                    rec[name] = number
        for index, rec in list(recs.items()):
            try:
                self._compute(plan, rec)
            except AppError as error:
                result.errors[index] = error
                del recs[index]
                continue
            rec["search_text"] = self._search_text(plan, rec)
        if recs:
            self._write_many(conn, plan, list(recs.values()), now)
            if plan.duplicate_fields:
                keys = [row for rec in recs.values() for row in record_key_rows(
                    plan.name, plan.duplicate_rules, rec)]
                if keys:
                    conn.execute(insert(record_keys), keys)
        quoted = self._quotes(conn, plan, list(recs.values()))
        for index, rec in recs.items():
            result.records[index] = self._json(plan, rec, quoted[rec["id"]])
        self._history_many(conn, plan, recs.values(), result.records.values(), now)
        if self._listens(RecordCreated):
            self._tell_created(conn, plan, recs, result)
        index = self._index  # type: ignore[attr-defined]  # the service's
        for rec in recs.values():
            # the audience and topic indexes, as a single save writes them
            index(conn, plan, rec, None)
        refresh = self._refresh  # type: ignore[attr-defined]  # the service's
        for link in plan.links:
            refresh(conn, link, plan, [rec[link.via] for rec in recs.values()])
        result.records = {i: self.policy.strip(plan.name, out)
                          for i, out in result.records.items()}
        return result

    def _tell_created(self, conn: Connection, plan: ObjectPlan,
                      recs: dict[int, dict[str, Any]], result: Created) -> None:
        """``RecordCreated`` for each record, each in a SAVEPOINT: a subscriber
        that refuses one (an ``AppError``) takes back what it wrote for it, and
        the record is removed again, as a single save would not have kept it."""
        refused: list[str] = []
        for index, out in list(result.records.items()):
            try:
                with self.session.begin_nested():
                    self._tell(RecordCreated, plan, out)
            except AppError as error:
                result.errors[index] = error
                del result.records[index]
                refused.append(recs.pop(index)["id"])
        if not refused:
            return
        for child in plan.children.values():
            conn.execute(delete(child).where(child.c.parent_id.in_(refused)))
        conn.execute(delete(record_keys).where(
            record_keys.c.object == plan.name, record_keys.c.record_id.in_(refused)))
        conn.execute(delete(record_history).where(
            record_history.c.object == plan.name,
            record_history.c.record_id.in_(refused)))
        conn.execute(delete(plan.table).where(plan.table.c.id.in_(refused)))

    def _one_by_one(self, plan: ObjectPlan, rows: Sequence[Mapping[str, Any]],
                    result: Created) -> Created:
        create = self.create  # type: ignore[attr-defined]  # the service's
        for index, data in enumerate(rows):
            try:
                with self.session.begin_nested():
                    result.records[index] = create(plan.name, data)
            except AppError as error:
                result.errors[index] = error
        return result

    def _new_record(self, plan: ObjectPlan, data: Mapping[str, Any],
                    now: dt.datetime) -> dict[str, Any]:
        """``create``'s checks of one record that need no query, and the record
        they give."""
        self._check_keys(plan, data)
        data = {**{n: self._default(f, now) for n, f in plan.defaults.items()
                   if n not in data}, **data}
        errors = plan.create_validator.errors(data)
        if errors:
            raise invalid(errors)
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
        return rec

    @staticmethod
    def _refuse(recs: dict[int, dict[str, Any]], result: Created,
                errors: Mapping[int, Errors]) -> None:
        for index, found in errors.items():
            result.errors[index] = invalid(found)
            del recs[index]

    def _missing_references(self, conn: Connection, plan: ObjectPlan,
                            recs: Mapping[int, dict[str, Any]]) -> dict[int, Errors]:
        """The records' references to records that do not exist or that the actor
        cannot read, one query per referenced object; table rows and files are
        checked record by record, as a single save does."""
        errors: dict[int, Errors] = {}
        wanted: dict[str, set[str]] = {}
        for rec in recs.values():
            for name, target in plan.references:
                if rec[name] is not None:
                    wanted.setdefault(target, set()).add(rec[name])
        existing = {target: self._existing(conn, target, ids)
                    for target, ids in wanted.items()}
        for index, rec in recs.items():
            for name, target in plan.references:
                if rec[name] is not None and rec[name] not in existing[target]:
                    errors.setdefault(index, {})[name] = [MISSING]
            if index in errors or not (plan.tables or plan.file_fields):
                continue
            try:
                self._check_references(conn, plan, {
                    **rec, **{n: None for n, _ in plan.references}}, None)
            except AppError as error:
                errors[index] = {n: list(m) for n, m in error.fields.items()}
        return errors

    def _existing(self, conn: Connection, target: str, ids: set[str]) -> set[str]:
        table = self.effective.tables.main.get(target)
        # a record the actor cannot read is one that does not exist
        if table is None or not self.policy.allows(target, READ):
            return set()
        found: set[str] = set()
        reach = self.policy.condition(target, table, READ)
        wanted = sorted(ids)
        for start in range(0, len(wanted), LOOKUP_CHUNK):
            stmt = select(table.c.id).where(
                table.c.id.in_(wanted[start:start + LOOKUP_CHUNK]),
                table.c.deleted_at.is_(None))
            if reach is not None:
                stmt = stmt.where(reach)
            found.update(conn.execute(stmt).scalars())
        return found

    def _taken(self, conn: Connection, plan: ObjectPlan,
               recs: Mapping[int, dict[str, Any]]) -> dict[int, Errors]:
        """Unique values already stored (the recycle bin included) or given by an
        earlier record of the batch."""
        errors: dict[int, Errors] = {}
        for name in plan.unique:
            f = plan.fields[name]
            column = plan.table.c[name]
            values = {index: field_type(f).to_column(f, rec[name])
                      for index, rec in recs.items() if rec[name] is not None}
            wanted = sorted(set(values.values()))
            stored_values: set[Any] = set()
            for start in range(0, len(wanted), LOOKUP_CHUNK):
                stored_values.update(conn.execute(select(column).where(
                    column.in_(wanted[start:start + LOOKUP_CHUNK]))).scalars())
            seen: set[Any] = set()
            for index, value in values.items():
                if value in stored_values or value in seen:
                    errors.setdefault(index, {})[name] = [TAKEN]
                seen.add(value)
        return errors

    def _no_duplicates(self, conn: Connection, plan: ObjectPlan,
                       recs: dict[int, dict[str, Any]], result: Created) -> None:
        """The duplicate checks (``duplicates:``) of each record: against the
        stored records as a single save does (one query per value), and against
        the batch's earlier records."""
        seen: dict[tuple[int, str], str] = {}  # (rule, key) -> the field
        for index, rec in list(recs.items()):
            try:
                self._check_duplicates(conn, plan, rec, None)
            except AppError as error:
                result.errors[index] = error
                del recs[index]
                continue
            mine: dict[tuple[int, str], str] = {}
            for rule, fields in enumerate(plan.duplicate_rules):
                for name in fields:
                    key = normalized_key(rec.get(name))
                    if key is not None:
                        mine.setdefault((rule, key), name)
            repeated = [name for k, name in mine.items() if k in seen]
            if repeated:
                result.errors[index] = invalid({name: [REPEATED]
                                                for name in repeated})
                del recs[index]
                continue
            seen.update(mine)

    def _write_many(self, conn: Connection, plan: ObjectPlan,
                    recs: list[dict[str, Any]], now: dt.datetime) -> None:
        columns = [(f["api_name"], field_type(f), f) for f in plan.stored]
        params = []
        for rec in recs:
            row = {name: ftype.to_column(f, rec[name]) for name, ftype, f in columns}
            for name in SYSTEM_COLUMNS:
                row[name] = rec[name]
            params.append(row)
        conn.execute(plan.insert, params)
        for f in plan.tables:
            name = f["api_name"]
            subs = [s for s in f["fields"] if stored(s)]
            children = [
                {"id": row["id"], "parent_id": rec["id"], "row_order": order,
                 **{s["api_name"]: field_type(s).to_column(s, row.get(s["api_name"]))
                    for s in subs}}
                for rec in recs for order, row in enumerate(rec[name])]
            if children:
                conn.execute(plan.child_inserts[name], children)

    def _history_many(self, conn: Connection, plan: ObjectPlan,
                      recs: Any, outs: Any, now: dt.datetime) -> None:
        actor = self.actor.user_id
        history.write_many(conn, [
            {"object": plan.name, "record_id": rec["id"], "version": 1,
             "action": "create", "actor_id": actor, "at": now,
             "changes": {**{n: [None, out[n]] for n in plan.history_names
                            if out[n] not in (None, [])},
                         **{n: [None, MASK] for n in plan.secrets if rec[n]}}}
            for rec, out in zip(recs, outs, strict=True)])

    def ids_by(self, object: str, name: str, values: Sequence[Any]
               ) -> dict[Any, list[str]]:
        """``{value: [ids]}``: the live records the actor may read whose field
        ``name`` holds one of ``values`` (JSON values), one query per chunk —
        how an import finds the records its key column names."""
        plan = self._plan(object)
        f = plan.fields[name]
        column = plan.table.c[name]
        by_column = {field_type(f).to_column(f, field_type(f).from_json(f, v)): v
                     for v in values if v is not None}
        found: dict[Any, list[str]] = {}
        if not by_column or not self.policy.allows(plan.name, READ):
            return found
        reach = self.policy.condition(plan.name, plan.table, READ)
        conn = self.session.connection()
        wanted = list(by_column)
        for start in range(0, len(wanted), LOOKUP_CHUNK):
            stmt = select(plan.table.c.id, column).where(
                column.in_(wanted[start:start + LOOKUP_CHUNK]),
                plan.table.c.deleted_at.is_(None))
            if reach is not None:
                stmt = stmt.where(reach)
            for row in conn.execute(stmt.order_by(plan.table.c.id)):
                found.setdefault(by_column[row[1]], []).append(row[0])
        return found
