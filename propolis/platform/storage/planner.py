"""The storage planner: what a metadata change does to an enterprise's tables.

``plan_changes`` compares two versions of the effective object documents and returns
a ``Plan``: the storage operations to run, the new effective documents (with their
archive of removed fields) and the computed fields that existing rows need filled.
``apply_plan`` runs a plan with Alembic's operations inside the caller's transaction,
so a failure anywhere leaves the enterprise's storage as it was (PostgreSQL and
SQLite both have transactional DDL).

Nothing is ever dropped. A removed field is archived: it leaves the document's
``fields`` for its ``archived_fields``, its column and values stay, and re-adding it
with the same api_name and a compatible type brings the values back. A type change
that could lose data is refused with a ``PlanError`` that names the field and the way
out.

SQLite never rebuilds a table here. Alembic's batch mode would copy the table and
drop the original, and with ``PRAGMA foreign_keys=ON`` (see db.py) that drop deletes
every child-table row through ``ON DELETE CASCADE``. SQLite does not enforce column
lengths or declared types, so a widening is a metadata change there; the one change
that does need work, a precision increase, rescales the stored integers of
``ExactDecimal`` in place.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from decimal import Decimal
from typing import Any

from alembic.migration import MigrationContext
from alembic.operations import Operations
from sqlalchemy import (
    BigInteger,
    Connection,
    ForeignKeyConstraint,
    Numeric,
    String,
    Table,
    Text,
    column,
    func,
    inspect,
    literal,
    or_,
    select,
    table,
    text,
    update,
)
from sqlalchemy.types import TypeEngine

from propolis.platform.db import FTS_KEY, new_metadata
from propolis.platform.errors import AppError, t
from propolis.platform.storage.tables import (
    IN_RECYCLE_BIN,
    SYSTEM_COLUMNS,
    child_table_name,
    column_type,
    identifier,
    object_tables,
    recycle_bin_index_name,
    table_name,
)
from propolis.platform.storage.types import DIGITS, ExactDecimal

# The pseudo-field of a backfill that rebuilds ``search_text`` (and so the search
# index) after the set of searchable fields of an existing object changed.
SEARCH_TEXT = "search_text"

# Field types whose stored value is computed by the platform: added to an object
# that already has rows, they must be computed for those rows.
COMPUTED_TYPES = frozenset({"formula", "autonumber", "rollup"})
# Keys whose change makes the stored values of a formula or rollup stale.
COMPUTATION_KEYS = (
    "expression",
    "returns",
    "precision",
    "from",
    "via",
    "function",
    "field",
)

# Conversions that keep every stored value. Widths (max_length, precision) are
# checked on the columns afterwards.
STRING_TYPES = frozenset({"text", "phone", "email", "url", "select", "autonumber"})
DECIMAL_TYPES = frozenset({"number", "currency", "percent"})
REFERENCE_PAIR = frozenset({"lookup", "master_detail"})

CHILD_COLUMNS = frozenset({"id", "parent_id", "row_order"})

# Largest scaled integer SQLite can hold before its arithmetic silently turns into
# floating point.
SQLITE_MAX_INT = 2**63 - 1


def search_table_name(object_name: str) -> str:
    """SQLite: the FTS5 table ``(record_id UNINDEXED, body)`` of an object."""
    return identifier(f"{table_name(object_name)}__fts")


def search_index_name(object_name: str) -> str:
    """PostgreSQL: the trigram GIN index on the object's ``search_text``."""
    return identifier(f"ix_{table_name(object_name)}_search_text")


def unique_index_name(table: str, column_name: str) -> str:
    return identifier(f"uq_{table}_{column_name}")


# --- the plan -------------------------------------------------------------------

_DESCRIPTIONS: dict[str, tuple[str, str]] = {
    "create_table": (
        "为对象 {object} 新建数据表 {table}",
        "Create table {table} for object {object}",
    ),
    "create_child_table": (
        "为子表字段 {object}.{field} 新建数据表 {table}",
        "Create table {table} for table field {object}.{field}",
    ),
    "add_column": (
        "在 {table} 中新增列 {column}（{type}）",
        "Add column {column} ({type}) to {table}",
    ),
    "create_index": (
        "为 {object}.{field} 创建唯一索引 {name}（已有数据不能重复）",
        "Create unique index {name} on {object}.{field} (existing values "
        "must not repeat)",
    ),
    "drop_index": (
        "删除唯一索引 {name}：{object}.{field} 不再要求唯一",
        "Drop unique index {name}: {object}.{field} no longer unique",
    ),
    "alter_type": (
        "把 {object}.{field} 的类型从 {from} 改为 {to}",
        "Change {object}.{field} from {from} to {to}",
    ),
    "alter_precision": (
        "把 {object}.{field} 的小数位数从 {from} 提高到 {to}",
        "Raise the precision of {object}.{field} from {from} to {to} decimal places",
    ),
    "archive_field": (
        "归档字段 {object}.{field}：不再显示，已存的数据保留，可以恢复",
        "Archive field {object}.{field}: hidden, its stored values are "
        "kept and can be restored",
    ),
    "restore_field": (
        "从归档中恢复字段 {object}.{field}，连同已存的数据",
        "Restore field {object}.{field} from the archive with its stored values",
    ),
    "create_search_index": (
        "为对象 {object} 建立全文搜索索引 {name}",
        "Create search index {name} for object {object}",
    ),
    "backfill": (
        "为已有记录计算 {object}.{field}",
        "Compute {object}.{field} for the existing records",
    ),
}


@dataclass(frozen=True)
class Operation:
    """One storage step of a plan.

    ``field`` is a field api_name, ``<table field>.<sub-field>`` for a column of a
    child table, or None for a step on the whole object. ``details`` holds what the
    step needs beyond that (table and column names, the old and new types …); it is
    plain JSON.
    """

    kind: str
    object: str
    field: str | None = None
    details: Mapping[str, Any] = dataclass_field(default_factory=dict)

    def describe(self, lang: str = "zh") -> str:
        """A one-line description for the admin, in ``lang`` (zh or en)."""
        zh, en = _DESCRIPTIONS[self.kind]
        template = zh if lang == "zh" else en
        if self.kind == "backfill" and self.field == SEARCH_TEXT:
            template = (
                "重建对象 {object} 已有记录的搜索文本"
                if lang == "zh"
                else "Rebuild the search text of the existing {object} records"
            )
        return template.format(object=self.object, field=self.field, **self.details)

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "object": self.object,
            "field": self.field,
            "details": dict(self.details),
            "description": {"zh": self.describe("zh"), "en": self.describe("en")},
        }


@dataclass
class Plan:
    """The result of ``plan_changes``.

    ``effective``: the new effective object documents by api_name, each with its
    ``archived_fields``. ``backfills``: (object, field) pairs whose values the caller
    computes for the existing rows in a job after the commit; ``field`` may be a
    child-table path (``items.amount``) or ``SEARCH_TEXT``.
    """

    dialect: str
    operations: list[Operation]
    effective: dict[str, dict[str, Any]]
    backfills: list[tuple[str, str]]

    def describe(self, lang: str = "zh") -> list[str]:
        return [op.describe(lang) for op in self.operations]

    def as_json(self) -> dict[str, Any]:
        return {
            "dialect": self.dialect,
            "operations": [op.as_json() for op in self.operations],
            "backfills": [list(pair) for pair in self.backfills],
        }


class PlanError(AppError):
    """A metadata change that storage refuses: it could lose data (a narrowing type
    change, a retargeted lookup, a removed object) or collides with platform names.
    ``fields`` maps ``object.field`` to its messages; ``message`` lists them all."""

    def __init__(self, problems: list[tuple[str, dict[str, str]]]) -> None:
        fields: dict[str, list[Mapping[str, str]]] = {}
        for path, message in problems:
            fields.setdefault(path, []).append(message)
        message = t(
            "；".join(m["zh"] for _, m in problems),
            " ".join(m["en"] for _, m in problems),
        )
        super().__init__("metadata_change_refused", message, fields)


_FIX = t(
    "请新增一个字段并把数据复制过去。", "Add a new field and copy the values instead."
)


def _refusal(zh: str, en: str) -> dict[str, str]:
    return t(f"{zh}{_FIX['zh']}", f"{en} {_FIX['en']}")


# --- planning -------------------------------------------------------------------


def _type_label(f: Mapping[str, Any]) -> str:
    """The type of a field as shown in plans: ``text(200)``, ``currency(2)``."""
    ftype = f["type"]
    if ftype == "formula":
        return f"formula({_type_label({**f, 'type': f['returns']})})"
    if ftype in ("lookup", "master_detail"):
        return f"{ftype}({f.get('to')})"
    ctype = column_type(f)
    if isinstance(ctype, ExactDecimal):
        return f"{ftype}({ctype.scale})"
    if ftype == "text" and isinstance(ctype, String):
        return f"text({ctype.length})"
    return ftype


def _storage(ctype: TypeEngine[Any] | None) -> tuple[str, int | None]:
    """A column type reduced to what matters for a change: kind and width."""
    if isinstance(ctype, ExactDecimal):
        return "decimal", ctype.scale
    if isinstance(ctype, Text):  # before String: Text is a String subclass
        return "text", None
    if isinstance(ctype, String):
        return "string", ctype.length
    return type(ctype).__name__, None


def _type_change_allowed(old: Mapping[str, Any], new: Mapping[str, Any]) -> bool:
    """Whether a field may change type from ``old`` to ``new`` without losing a value
    (widths are checked on the columns afterwards). A computed field may become the
    plain type it stores (its values are kept); a plain field never becomes computed,
    since computing would overwrite what users entered."""
    ot, nt = old["type"], new["type"]
    if ot == nt:
        return True
    if ot == "formula":
        return _type_change_allowed({**old, "type": old["returns"]}, new)
    if ot == "rollup":
        return _type_change_allowed({**old, "type": "number"}, new)
    if ot in STRING_TYPES and nt in ("text", "textarea"):
        return True
    if {ot, nt} <= DECIMAL_TYPES and "number" in (ot, nt):
        return True
    return {ot, nt} == REFERENCE_PAIR


# Column kinds with a width that may grow but not shrink: what the width is called
# and what shrinking it would do to the stored values.
_NARROWING = {
    "decimal": (("小数位数", "precision"),
                ("已存的数值会被舍入", "stored values would be rounded")),
    "string": (("最大长度", "max_length"),
               ("较长的已存值会被截断", "longer stored values would be cut")),
}


class _Planner:
    def __init__(self, dialect: str) -> None:
        self.dialect = dialect
        self.operations: list[Operation] = []
        self.backfills: list[tuple[str, str]] = []
        self.problems: list[tuple[str, dict[str, str]]] = []

    def op(self, kind: str, obj: str, fname: str | None = None, **details: Any) -> None:
        self.operations.append(Operation(kind, obj, fname, details))

    def backfill(self, obj: str, path: str) -> None:
        if (obj, path) not in self.backfills:
            self.backfills.append((obj, path))

    def refuse(self, path: str, message: dict[str, str]) -> None:
        self.problems.append((path, message))

    def check_names(self, obj: str, fields: Iterable[Mapping[str, Any]]) -> None:
        """Field names that would collide with the platform's own columns or with
        the object's search table (``o_x__fts`` and its ``_data``… shadow tables)."""
        for f in fields:
            name = f["api_name"]
            if name in SYSTEM_COLUMNS:
                self.refuse(
                    f"{obj}.{name}",
                    t(
                        f"字段名 {name} 是系统字段，请换一个 api_name。",
                        f"{name} is a system field; choose another api_name.",
                    ),
                )
            if f["type"] == "table" and (name == "fts" or name.startswith("fts_")):
                self.refuse(
                    f"{obj}.{name}",
                    t(
                        f"子表字段不能叫 {name}（与搜索索引的表重名），"
                        "请换一个 api_name。",
                        f"A table field cannot be called {name} (the search index uses "
                        "that table name); choose another api_name.",
                    ),
                )
            for sub in f.get("fields", ()) if f["type"] == "table" else ():
                if sub["api_name"] in CHILD_COLUMNS:
                    self.refuse(
                        f"{obj}.{name}.{sub['api_name']}",
                        t(
                            f"子表列名 {sub['api_name']} 是系统列，请换一个 api_name。",
                            f"{sub['api_name']} is a system column of table fields; "
                            "choose another api_name.",
                        ),
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
            if f["type"] == "table":
                self.op(
                    "create_child_table",
                    obj,
                    f["api_name"],
                    table=child_table_name(obj, f["api_name"]),
                )
            elif f.get("unique") and column_type(f) is not None:
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
            if self.dialect == "sqlite"
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
            # a quote field has no column: nothing to keep
            if of["api_name"] not in kept and of["type"] != "quote":
                self.op("archive_field", obj, prefix + of["api_name"], table=table)
                archived.append(copy.deepcopy(dict(of)))
        return fields, archived

    def add_field(
        self, obj: str, table: str, path: str, nf: dict[str, Any], *, main: bool
    ) -> dict[str, Any]:
        name = nf["api_name"]
        if nf["type"] == "table":
            nf.pop("archived_fields", None)
            self.op("create_child_table", obj, path, table=child_table_name(obj, name))
            return nf
        if column_type(nf) is None:
            return nf
        self.op("add_column", obj, path, table=table, column=name, type=_type_label(nf))
        if main and nf.get("unique"):
            self.unique_index(obj, table, name)
        if nf["type"] in COMPUTED_TYPES:
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
        ot, nt = of["type"], nf["type"]
        if ot == "quote" and nt != "quote":
            return self.add_field(obj, table, path, nf, main=main)
        if not _type_change_allowed(of, nf):
            self.refuse_type(obj, path, of, nf, restoring)
            return nf
        if nt in REFERENCE_PAIR and of.get("to") != nf.get("to"):
            self.refuse(
                f"{obj}.{path}",
                _refusal(
                    f"对象 {obj} 的字段 {path} 不能从指向 {of.get('to')} 改为指向 "
                    f"{nf.get('to')}：已存的记录 id 属于 {of.get('to')}。",
                    f"{obj}.{path} cannot be pointed from {of.get('to')} to "
                    f"{nf.get('to')}: its stored ids are {of.get('to')} records.",
                ),
            )
            return nf
        if nt == "table":
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
        if nt in ("formula", "rollup") and (
            restoring
            or ot != nt
            or any(of.get(k) != nf.get(k) for k in COMPUTATION_KEYS)
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
        (okind, owidth), (nkind, nwidth) = (
            _storage(column_type(of)),
            _storage(column_type(nf)),
        )
        where = f"{obj}.{path}"
        label = {"from": _type_label(of), "to": _type_label(nf)}
        ddl = False
        if okind == nkind and okind in _NARROWING:
            assert owidth is not None and nwidth is not None
            if nwidth < owidth:
                (what_zh, what_en), (loss_zh, loss_en) = _NARROWING[okind]
                self.refuse(
                    where,
                    _refusal(
                        f"对象 {obj} 的字段 {path} 的{what_zh}不能从 {owidth} 降到 "
                        f"{nwidth}：{loss_zh}。",
                        f"The {what_en} of {where} cannot go down from {owidth} to "
                        f"{nwidth}: {loss_en}.",
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
        if ddl or of["type"] != nf["type"] or of.get("returns") != nf.get("returns"):
            self.op(
                "alter_type",
                obj,
                path,
                table=table,
                column=nf["api_name"],
                ddl=ddl and self.dialect != "sqlite",
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
                t(
                    f"对象 {obj} 曾有字段 {path}（{old}），删除后数据仍保留；"
                    f"不能以 {new} 类型重新添加。请用兼容的类型恢复它，"
                    "或换一个 api_name。",
                    f"{obj}.{path} was a {old} field whose values are still kept; it "
                    f"cannot come back as {new}. Restore it with a compatible type or "
                    "choose another api_name.",
                ),
            )
            return
        self.refuse(
            f"{obj}.{path}",
            _refusal(
                f"{obj}.{path} 不能从 {old} 改为 {new}：这样可能丢失数据。",
                f"{obj}.{path} cannot change from {old} to {new}: "
                "values could be lost.",
            ),
        )


def plan_changes(
    old: Mapping[str, Mapping[str, Any]],
    new: Mapping[str, Mapping[str, Any]],
    *,
    dialect: str,
) -> Plan:
    """Plans the storage changes from the effective objects ``old`` to ``new`` (both
    normalized object documents by api_name; ``old`` ones carry ``archived_fields``).

    Raises ``PlanError`` listing every change that storage refuses: removing an
    object, a type change that could lose data, a lowered max_length or precision,
    a lookup pointed at another object, names that collide with platform columns.
    """
    if dialect not in ("sqlite", "postgresql"):
        raise ValueError(f"no storage planner for {dialect!r}")
    planner = _Planner(dialect)
    for name in old:
        if name not in new:
            planner.refuse(
                name,
                t(
                    f"对象 {name} 不能删除：它的数据表和记录会一直保留。请改为隐藏它"
                    "（在各角色的权限中去掉它）。",
                    f"Object {name} cannot be removed; its table and records are kept. "
                    "Hide it instead (take it out of the roles' permissions).",
                ),
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


# --- applying -------------------------------------------------------------------


def tenant_schema(conn: Connection) -> str | None:
    """The PostgreSQL schema a tenant connection writes to (None on SQLite).

    Alembic compiles some statements itself (ALTER COLUMN …) without the connection's
    ``schema_translate_map``; every operation therefore names the schema explicitly.
    """
    if conn.dialect.name == "sqlite":
        return None
    schema = (conn.get_execution_options().get("schema_translate_map") or {}).get(None)
    if not schema:
        raise ValueError(
            "apply_plan needs a tenant connection "
            "(Database.tenant_engine), not the system one"
        )
    return str(schema)


def ensure_trigram(conn: Connection) -> str:
    """Installs pg_trgm if missing and returns the schema holding it. It goes to
    ``public``, never to a tenant schema: dropping that tenant would otherwise take
    the extension, and every other tenant's search index, with it."""
    found = conn.execute(
        text(
            "SELECT n.nspname FROM pg_extension e "
            "JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm'"
        )
    ).scalar()
    if found is not None:
        return str(found)
    conn.execute(text("CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public"))
    return "public"


def _field_at(doc: Mapping[str, Any], path: str) -> Mapping[str, Any]:
    head, _, sub = path.partition(".")
    found = next(f for f in doc["fields"] if f["api_name"] == head)
    if sub:
        return next(f for f in found["fields"] if f["api_name"] == sub)
    return found


class _Applier:
    def __init__(self, conn: Connection, plan: Plan) -> None:
        self.conn = conn
        self.plan = plan
        self.schema = tenant_schema(conn)
        self.quote = conn.dialect.identifier_preparer.quote
        # the naming convention of new_metadata() names the indexes that columns
        # declare (index=True) exactly as TenantTables does
        context = MigrationContext.configure(
            conn, opts={"target_metadata": new_metadata()}
        )
        self.ops = Operations(context)
        self._tables: dict[str, tuple[Table, dict[str, Table]]] = {}

    def run(self) -> None:
        handlers: dict[str, Callable[[Operation], None]] = {
            "create_table": self.create_table,
            "create_child_table": self.create_child_table,
            "add_column": self.add_column,
            "create_index": self.create_index,
            "drop_index": self.drop_index,
            "alter_type": self.alter_type,
            "alter_precision": self.alter_precision,
            "create_search_index": self.create_search_index,
        }
        for op in self.plan.operations:
            # archive, restore and backfill change no storage
            handler = handlers.get(op.kind)
            if handler is not None:
                handler(op)

    def tables(self, obj: str) -> tuple[Table, dict[str, Table]]:
        """The object's tables as TenantTables declares them, placed in the tenant
        schema (``to_metadata`` also points the child tables' foreign keys there)."""
        if obj not in self._tables:
            main, children = object_tables(new_metadata(), self.plan.effective[obj])
            if self.schema is not None:
                target = new_metadata()
                main = main.to_metadata(target, schema=self.schema)
                children = {
                    k: c.to_metadata(target, schema=self.schema)
                    for k, c in children.items()
                }
            self._tables[obj] = (main, children)
        return self._tables[obj]

    def _lightweight(self, op: Operation, ctype: TypeEngine[Any] | None = None) -> Any:
        return table(
            op.details["table"], column(op.details["column"], ctype), schema=self.schema
        )

    def create_table(self, op: Operation) -> None:
        main, _ = self.tables(op.object)
        self.ops.create_table(main.name, *main.columns, schema=self.schema)
        _create_recycle_bin_index(self.ops, main.name, self.schema)

    def create_child_table(self, op: Operation) -> None:
        assert op.field is not None
        child = self.tables(op.object)[1][op.field]
        # columns alone would lose the foreign key: a copied column leaves behind
        # the table-level constraint its ForeignKey belongs to
        foreign_keys = [
            c for c in child.constraints if isinstance(c, ForeignKeyConstraint)
        ]
        self.ops.create_table(
            child.name, *child.columns, *foreign_keys, schema=self.schema
        )

    def add_column(self, op: Operation) -> None:
        assert op.field is not None
        main, children = self.tables(op.object)
        head, _, sub = op.field.partition(".")
        target = children[head] if sub else main
        self.ops.add_column(target.name, target.c[sub or head], schema=self.schema)

    def create_index(self, op: Operation) -> None:
        rows = self._lightweight(op)
        col = rows.c[op.details["column"]]
        duplicates = (
            self.conn.execute(
                select(col)
                .where(col.is_not(None))
                .group_by(col)
                .having(func.count() > 1)
                .limit(3)
            )
            .scalars()
            .all()
        )
        if duplicates:
            shown = ", ".join(str(v) for v in duplicates)
            raise AppError(
                "duplicate_values",
                t(
                    f"不能把 {op.object}.{op.field} 设为唯一："
                    f"已有记录的值重复（{shown}）。请先修改这些记录。",
                    f"{op.object}.{op.field} cannot become unique: existing records "
                    f"share values ({shown}). Change those records first.",
                ),
                {op.field or "": [t("已有重复的值", "has duplicate values")]},
            )
        self.ops.create_index(
            op.details["name"],
            op.details["table"],
            [op.details["column"]],
            unique=True,
            schema=self.schema,
        )

    def drop_index(self, op: Operation) -> None:
        self.ops.drop_index(
            op.details["name"],
            table_name=op.details["table"],
            schema=self.schema,
            if_exists=True,
        )

    def alter_type(self, op: Operation) -> None:
        if not op.details["ddl"]:
            return
        assert op.field is not None
        new = column_type(_field_at(self.plan.effective[op.object], op.field))
        self.ops.alter_column(
            op.details["table"], op.details["column"], type_=new, schema=self.schema
        )

    def alter_precision(self, op: Operation) -> None:
        old, new = op.details["from"], op.details["to"]
        if self.schema is None:
            # SQLite keeps 12.34 at scale 2 as 1234: at scale 4 it must be 123400
            factor = 10 ** (new - old)
            rows = self._lightweight(op, BigInteger())
            col = rows.c[op.details["column"]]
            self._refuse_if_any(
                op,
                rows,
                or_(col > SQLITE_MAX_INT // factor, col < -(SQLITE_MAX_INT // factor)),
            )
            self.conn.execute(
                update(rows).where(col.is_not(None)).values({col.name: col * factor})
            )
            return
        rows = self._lightweight(op, Numeric())
        col = rows.c[op.details["column"]]
        bound = Decimal(10) ** (DIGITS - new)
        self._refuse_if_any(op, rows, or_(col >= bound, col <= -bound))
        self.ops.alter_column(
            op.details["table"],
            op.details["column"],
            type_=Numeric(DIGITS, new),
            schema=self.schema,
        )

    def _refuse_if_any(self, op: Operation, rows: Any, condition: Any) -> None:
        if (
            self.conn.execute(
                select(literal(1)).select_from(rows).where(condition).limit(1)
            ).first()
            is not None
        ):
            raise AppError(
                "value_too_large",
                t(
                    f"{op.object}.{op.field} 中有数值太大，不能再增加小数位数。",
                    f"{op.object}.{op.field} holds values too large for more decimal "
                    "places.",
                ),
                {op.field or "": [t("数值太大", "values too large")]},
            )

    def create_search_index(self, op: Operation) -> None:
        if self.schema is None:
            self._create_fts(op)
            return
        trgm = ensure_trigram(self.conn)
        self.ops.create_index(
            op.details["name"],
            op.details["table"],
            ["search_text"],
            schema=self.schema,
            postgresql_using="gin",
            postgresql_ops={"search_text": f"{self.quote(trgm)}.gin_trgm_ops"},
            if_not_exists=True,
        )

    def _create_fts(self, op: Operation) -> None:
        """SQLite: the FTS5 table and the triggers that keep it equal to the main
        table's ``search_text``, so writing ``search_text`` is all the record code
        does on either database (PostgreSQL's GIN index follows by itself). An FTS
        row's rowid is a hash of the record id (``FTS_KEY``, registered on every
        connection), so a trigger finds the row to replace by its key instead of
        scanning the FTS table."""
        fts, main = op.details["name"], op.details["table"]
        exists = self.conn.execute(
            text("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = :n"),
            {"n": fts},
        ).first()
        if exists:
            return
        q = self.quote
        statements = [
            f"CREATE VIRTUAL TABLE {q(fts)} USING fts5("
            "record_id UNINDEXED, body, tokenize='trigram')",
            f"CREATE TRIGGER {q(identifier(fts + '_ai'))} AFTER INSERT ON {q(main)} "
            f"WHEN new.search_text IS NOT NULL BEGIN "
            f"INSERT INTO {q(fts)} (rowid, record_id, body) "
            f"VALUES ({FTS_KEY}(new.id), new.id, new.search_text); END",
            f"CREATE TRIGGER {q(identifier(fts + '_au'))} "
            f"AFTER UPDATE OF search_text ON {q(main)} "
            f"WHEN old.search_text IS NOT new.search_text BEGIN "
            f"DELETE FROM {q(fts)} WHERE rowid = {FTS_KEY}(old.id); "
            f"INSERT INTO {q(fts)} (rowid, record_id, body) "
            f"SELECT {FTS_KEY}(new.id), new.id, new.search_text "
            f"WHERE new.search_text IS NOT NULL; END",
            f"CREATE TRIGGER {q(identifier(fts + '_ad'))} AFTER DELETE ON {q(main)} "
            f"BEGIN DELETE FROM {q(fts)} WHERE rowid = {FTS_KEY}(old.id); END",
            f"INSERT INTO {q(fts)} (rowid, record_id, body) "
            f"SELECT {FTS_KEY}(id), id, search_text "
            f"FROM {q(main)} WHERE search_text IS NOT NULL",
        ]
        for statement in statements:
            self.ops.execute(text(statement))


def _create_recycle_bin_index(ops: Operations, table: str, schema: str | None) -> None:
    ops.create_index(
        recycle_bin_index_name(table),
        table,
        ["deleted_at"],
        schema=schema,
        sqlite_where=text(IN_RECYCLE_BIN),
        postgresql_where=text(IN_RECYCLE_BIN),
    )


def upgrade_recycle_bin_indexes(conn: Connection, objects: Iterable[str]) -> None:
    """Gives the tables of an enterprise made by an older release the partial index
    on ``deleted_at`` (see ``storage.tables``) in place of their full one. Safe to
    run again: a table that has it is left alone."""
    schema = tenant_schema(conn)
    ops = Operations(MigrationContext.configure(conn))
    if conn.dialect.name == "sqlite":
        definition = text("SELECT sql FROM sqlite_master WHERE name = :n")
    else:
        definition = text(
            "SELECT indexdef FROM pg_indexes WHERE schemaname = :s AND indexname = :n"
        )
    for obj in objects:
        table = table_name(obj)
        names = [
            index["name"]
            for index in inspect(conn).get_indexes(table, schema=schema)
            if index["column_names"] == ["deleted_at"]
        ]
        ddl = [conn.execute(definition, {"s": schema, "n": n}).scalar() for n in names]
        if any(" WHERE " in (d or "").upper() for d in ddl):
            continue
        for name in names:
            ops.drop_index(name, table_name=table, schema=schema)
        _create_recycle_bin_index(ops, table, schema)


def apply_plan(conn: Connection, plan: Plan) -> None:
    """Runs ``plan`` on a tenant connection, in the caller's transaction.

    Raises ``AppError`` when the data forbids a step (duplicate values for a new
    unique index, values too large for a higher precision); the caller then rolls
    back and nothing has changed. Never commits.
    """
    if conn.dialect.name != plan.dialect:
        raise ValueError(
            f"a {plan.dialect} plan given a {conn.dialect.name} connection"
        )
    _Applier(conn, plan).run()
