"""The storage planner: what a metadata change does to an enterprise's tables.

``plan_changes`` compares two versions of the effective object documents and returns
a ``Plan``: the storage operations to run, the new effective documents (with their
archive of removed fields) and the computed fields that existing rows need filled.
``applier.apply_plan`` runs it. The diff is pure: it reads no database.

Nothing is ever dropped. A removed field is archived: it leaves the document's
``fields`` for its ``archived_fields``, its column and values stay, and re-adding it
with the same api_name and a compatible type brings the values back. A type change
that could lose data is refused with a ``PlanError`` that names the field and the way
out.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import Any

from propolis.platform.db import Dialect, dialect_by_name
from propolis.platform.errors import Message, _
from propolis.platform.fields.registry import field_type
from propolis.platform.storage.plan import (
    SEARCH_TEXT,
    Operation,
    Plan,
    PlanError,
    search_index_name,
    search_table_name,
    unique_index_name,
)
from propolis.platform.storage.tables import (
    SYSTEM_COLUMNS,
    child_table_name,
    table_name,
)

CHILD_COLUMNS = frozenset({"id", "parent_id", "row_order"})

_FIX = _("Add a new field and copy the values instead.")


def _refusal(message: Message) -> Message:
    return _("${message} ${fix}", mapping={"message": message, "fix": _FIX})


def _type_label(f: Mapping[str, Any]) -> str:
    """The type of a field as shown in plans: ``text(200)``, ``currency(2)``."""
    return field_type(f).plan_label(f)


def _storage(f: Mapping[str, Any]) -> tuple[str, int | None]:
    """A field's column reduced to what matters for a change: kind and width."""
    spec = field_type(f).column(f)
    return ("none", None) if spec is None else (spec.kind, spec.width)


def _type_change_allowed(old: Mapping[str, Any], new: Mapping[str, Any]) -> bool:
    """Whether a field may change type from ``old`` to ``new`` without losing a value
    (widths are checked on the columns afterwards): the old type says
    (``FieldType.converts_to``). A computed field may become the plain type it
    stores (its values are kept); a plain field never becomes computed, since
    computing would overwrite what users entered."""
    return field_type(old).converts_to(old, field_type(new), new)


# Column kinds with a width that may grow but not shrink: what the width is called
# and what shrinking it would do to the stored values.
_NARROWING = {
    "decimal": (_("precision"), _("stored values would be rounded")),
    "string": (_("max_length"), _("longer stored values would be cut")),
}


class _Planner:
    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect
        self.operations: list[Operation] = []
        self.backfills: list[tuple[str, str]] = []
        self.problems: list[tuple[str, Message]] = []

    def op(self, kind: str, obj: str, fname: str | None = None, **details: Any) -> None:
        self.operations.append(Operation(kind, obj, fname, details))

    def backfill(self, obj: str, path: str) -> None:
        if (obj, path) not in self.backfills:
            self.backfills.append((obj, path))

    def refuse(self, path: str, message: Message) -> None:
        self.problems.append((path, message))

    def check_names(self, obj: str, fields: Iterable[Mapping[str, Any]]) -> None:
        """Field names that would collide with the platform's own columns or with
        the object's search table (``o_x__fts`` and its ``_data``… shadow tables)."""
        for f in fields:
            name = f["api_name"]
            if name in SYSTEM_COLUMNS:
                self.refuse(
                    f"{obj}.{name}",
                    _("${name} is a system field; choose another api_name.",
                      mapping={"name": name}),
                )
            rows = field_type(f).has_rows
            if rows and (name == "fts" or name.startswith("fts_")):
                self.refuse(
                    f"{obj}.{name}",
                    _("A table field cannot be called ${name} (the search index uses "
                      "that table name); choose another api_name.",
                      mapping={"name": name}),
                )
            for sub in f.get("fields", ()) if rows else ():
                if sub["api_name"] in CHILD_COLUMNS:
                    self.refuse(
                        f"{obj}.{name}.{sub['api_name']}",
                        _("${api_name} is a system column of table fields; choose "
                          "another api_name.",
                          mapping={"api_name": sub['api_name']}),
                    )

    # objects

    def new_object(self, doc: dict[str, Any]) -> dict[str, Any]:
        obj = doc["api_name"]
        main = table_name(obj)
        result = copy.deepcopy(doc)
        result["archived_fields"] = []
        for f in result["fields"]:
            f.pop("archived_fields", None)
        self.check_names(obj, result["fields"])
        self.op("create_table", obj, table=main)
        for f in result["fields"]:
            if field_type(f).has_rows:
                self.op(
                    "create_child_table",
                    obj,
                    f["api_name"],
                    table=child_table_name(obj, f["api_name"]),
                )
            elif f.get("unique") and field_type(f).stored(f):
                self.unique_index(obj, main, f["api_name"])
        if any(f.get("searchable") for f in result["fields"]):
            self.search_index(obj)
        return result

    def changed_object(
        self, old: Mapping[str, Any], new: dict[str, Any]
    ) -> dict[str, Any]:
        obj = new["api_name"]
        result = copy.deepcopy(new)
        self.check_names(obj, result["fields"])
        result["fields"], result["archived_fields"] = self.diff_fields(
            obj,
            table_name(obj),
            "",
            old["fields"],
            old.get("archived_fields", []),
            result["fields"],
            main=True,
        )
        before = {f["api_name"] for f in old["fields"] if f.get("searchable")}
        after = {f["api_name"] for f in result["fields"] if f.get("searchable")}
        if after and not before:
            self.search_index(obj)
        if before != after:
            self.backfill(obj, SEARCH_TEXT)
        return result

    def search_index(self, obj: str) -> None:
        name = (
            search_table_name(obj)
            if self.dialect.search_table
            else search_index_name(obj)
        )
        self.op("create_search_index", obj, table=table_name(obj), name=name)

    def unique_index(self, obj: str, table: str, fname: str) -> None:
        self.op(
            "create_index",
            obj,
            fname,
            table=table,
            column=fname,
            name=unique_index_name(table, fname),
        )

    # fields

    def diff_fields(
        self,
        obj: str,
        table: str,
        prefix: str,
        old_fields: Iterable[Mapping[str, Any]],
        old_archived: Iterable[Mapping[str, Any]],
        new_fields: list[dict[str, Any]],
        *,
        main: bool,
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """Plans the changes of the fields of one table; returns the new fields
        and the new archive of that table."""
        old_by = {f["api_name"]: f for f in old_fields}
        archive_by = {f["api_name"]: f for f in old_archived}
        fields = []
        for nf in new_fields:
            name = nf["api_name"]
            if name in old_by:
                fields.append(
                    self.change_field(
                        obj, table, prefix + name, old_by[name], nf, main=main
                    )
                )
            elif name in archive_by:
                self.op("restore_field", obj, prefix + name, table=table)
                fields.append(
                    self.change_field(
                        obj,
                        table,
                        prefix + name,
                        archive_by[name],
                        nf,
                        main=main,
                        restoring=True,
                    )
                )
            else:
                fields.append(self.add_field(obj, table, prefix + name, nf, main=main))
        kept = {f["api_name"] for f in new_fields}
        archived = [
            copy.deepcopy(dict(f)) for f in old_archived if f["api_name"] not in kept
        ]
        for of in old_by.values():
            # a field without a column or rows (a quote) leaves nothing to keep
            if of["api_name"] not in kept and not field_type(of).stores_nothing(of):
                self.op("archive_field", obj, prefix + of["api_name"], table=table)
                archived.append(copy.deepcopy(dict(of)))
        return fields, archived

    def add_field(
        self, obj: str, table: str, path: str, nf: dict[str, Any], *, main: bool
    ) -> dict[str, Any]:
        name = nf["api_name"]
        ftype = field_type(nf)
        if ftype.has_rows:
            nf.pop("archived_fields", None)
            self.op("create_child_table", obj, path, table=child_table_name(obj, name))
            return nf
        if not ftype.stored(nf):
            return nf
        self.op("add_column", obj, path, table=table, column=name, type=_type_label(nf))
        if main and nf.get("unique"):
            self.unique_index(obj, table, name)
        if ftype.backfilled(nf):
            self.backfill(obj, path)
        return nf

    def change_field(
        self,
        obj: str,
        table: str,
        path: str,
        of: Mapping[str, Any],
        nf: dict[str, Any],
        *,
        main: bool,
        restoring: bool = False,
    ) -> dict[str, Any]:
        old_type, new_type = field_type(of), field_type(nf)
        if old_type.stores_nothing(of) and new_type is not old_type:
            return self.add_field(obj, table, path, nf, main=main)
        if not _type_change_allowed(of, nf):
            self.refuse_type(obj, path, of, nf, restoring)
            return nf
        old_target = old_type.reference_target(of)
        new_target = new_type.reference_target(nf)
        if new_target is not None and old_target != new_target:
            self.refuse(
                f"{obj}.{path}",
                _refusal(
                    _("${obj}.${path} cannot be pointed from ${old} to ${new}: "
                      "its stored ids are ${old} records.",
                      mapping={"obj": obj, "path": path,
                               "old": of.get("to"), "new": nf.get("to")}),
                ),
            )
            return nf
        if new_type.has_rows:
            nf["fields"], archived = self.diff_fields(
                obj,
                child_table_name(obj, nf["api_name"]),
                path + ".",
                of["fields"],
                of.get("archived_fields", []),
                nf["fields"],
                main=False,
            )
            nf.pop("archived_fields", None)
            if archived:
                nf["archived_fields"] = archived
            return nf
        self.change_column(obj, table, path, of, nf, restoring)
        if main and nf.get("unique") and not of.get("unique"):
            self.unique_index(obj, table, nf["api_name"])
        if main and of.get("unique") and not nf.get("unique"):
            self.op(
                "drop_index",
                obj,
                path,
                table=table,
                column=nf["api_name"],
                name=unique_index_name(table, nf["api_name"]),
            )
        if new_type.recomputed_keys and (
            restoring
            or new_type is not old_type
            or any(of.get(k) != nf.get(k) for k in new_type.recomputed_keys)
        ):
            self.backfill(obj, path)
        return nf

    def change_column(
        self,
        obj: str,
        table: str,
        path: str,
        of: Mapping[str, Any],
        nf: Mapping[str, Any],
        restoring: bool,
    ) -> None:
        (okind, owidth), (nkind, nwidth) = _storage(of), _storage(nf)
        where = f"{obj}.{path}"
        label = {"from": _type_label(of), "to": _type_label(nf)}
        ddl = False
        if okind == nkind and okind in _NARROWING:
            assert owidth is not None and nwidth is not None
            if nwidth < owidth:
                what, loss = _NARROWING[okind]
                self.refuse(
                    where,
                    _refusal(
                        _("The ${what} of ${where} cannot go down from ${owidth} to "
                          "${nwidth}: ${loss}.",
                          mapping={"what": what,
                                   "where": where,
                                   "owidth": owidth,
                                   "nwidth": nwidth,
                                   "loss": loss,
                                   "obj": obj,
                                   "path": path}),
                    ),
                )
                return
            if okind == "decimal" and nwidth > owidth:
                self.op(
                    "alter_precision",
                    obj,
                    path,
                    table=table,
                    column=nf["api_name"],
                    **{"from": owidth, "to": nwidth},
                )
            # SQLite ignores declared lengths; PostgreSQL needs the wider column
            ddl = okind == "string" and nwidth > owidth
        elif (okind, nkind) == ("string", "text"):
            ddl = True
        elif okind != nkind:
            self.refuse_type(obj, path, of, nf, restoring)
            return
        values_changed = field_type(of).value_type(of) != field_type(nf).value_type(nf)
        if ddl or of["type"] != nf["type"] or values_changed:
            self.op(
                "alter_type",
                obj,
                path,
                table=table,
                column=nf["api_name"],
                ddl=ddl and self.dialect.typed_columns,
                **label,
            )

    def refuse_type(
        self,
        obj: str,
        path: str,
        of: Mapping[str, Any],
        nf: Mapping[str, Any],
        restoring: bool,
    ) -> None:
        old, new = _type_label(of), _type_label(nf)
        if restoring:
            self.refuse(
                f"{obj}.{path}",
                _("${obj}.${path} was a ${old} field whose values are still kept; it "
                  "cannot come back as ${new}. Restore it with a compatible type or "
                  "choose another api_name.",
                  mapping={"obj": obj, "path": path, "old": old, "new": new}),
            )
            return
        self.refuse(
            f"{obj}.{path}",
            _refusal(
                _("${obj}.${path} cannot change from ${old} to ${new}: values could "
                  "be lost.",
                  mapping={"obj": obj, "path": path, "old": old, "new": new}),
            ),
        )


def plan_changes(
    old: Mapping[str, Mapping[str, Any]],
    new: Mapping[str, Mapping[str, Any]],
    *,
    dialect: str,
) -> Plan:
    """Plans the storage changes from the effective objects ``old`` to ``new`` (both
    normalized object documents by api_name; ``old`` ones carry ``archived_fields``)
    on the database ``dialect`` names (``Dialect.name``).

    Raises ``PlanError`` listing every change that storage refuses: removing an
    object, a type change that could lose data, a lowered max_length or precision,
    a lookup pointed at another object, names that collide with platform columns.
    """
    planner = _Planner(dialect_by_name(dialect))
    for name in old:
        if name not in new:
            planner.refuse(
                name,
                _("Object ${name} cannot be removed; its table and records are kept. "
                  "Hide it instead (take it out of the roles' permissions).",
                  mapping={"name": name}),
            )
    effective = {}
    for name, doc in new.items():
        if name in old:
            effective[name] = planner.changed_object(old[name], dict(doc))
        else:
            effective[name] = planner.new_object(dict(doc))
    if planner.problems:
        raise PlanError(planner.problems)
    operations = planner.operations + [
        Operation("backfill", obj, path) for obj, path in planner.backfills
    ]
    return Plan(dialect, operations, effective, planner.backfills)
