"""A storage plan: the operations a metadata change runs on an enterprise's tables,
each described in both languages, and the refusal of a change that could lose
data; the names of the search tables and indexes the operations make."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any

from propolis.platform.errors import AppError, Message, _, joined, translate
from propolis.platform.storage.tables import identifier, table_name

# The pseudo-field of a backfill that rebuilds ``search_text`` (and so the search
# index) after the set of searchable fields of an existing object changed.
SEARCH_TEXT = "search_text"


def search_table_name(object_name: str) -> str:
    """SQLite: the FTS5 table ``(record_id UNINDEXED, body)`` of an object."""
    return identifier(f"{table_name(object_name)}__fts")


def search_index_name(object_name: str) -> str:
    """PostgreSQL: the trigram GIN index on the object's ``search_text``."""
    return identifier(f"ix_{table_name(object_name)}_search_text")


def unique_index_name(table: str, column_name: str) -> str:
    return identifier(f"uq_{table}_{column_name}")


_DESCRIPTIONS: dict[str, Message] = {
    "create_table": _("Create table ${table} for object ${object}"),
    "create_child_table": _("Create table ${table} for table field ${object}.${field}"),
    "add_column": _("Add column ${column} (${type}) to ${table}"),
    "create_index": _("Create unique index ${name} on ${object}.${field} (existing "
                      "values must not repeat)"),
    "drop_index": _("Drop unique index ${name}: ${object}.${field} no longer unique"),
    "alter_type": _("Change ${object}.${field} from ${from} to ${to}"),
    "alter_precision": _("Raise the precision of ${object}.${field} from ${from} to "
                         "${to} decimal places"),
    "archive_field": _("Archive field ${object}.${field}: hidden, its stored values "
                       "are kept and can be restored"),
    "restore_field": _("Restore field ${object}.${field} from the archive with its "
                       "stored values"),
    "create_search_index": _("Create search index ${name} for object ${object}"),
    "backfill": _("Compute ${object}.${field} for the existing records"),
}
_REBUILD_SEARCH = _("Rebuild the search text of the existing ${object} records")


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
        message = _DESCRIPTIONS[self.kind]
        if self.kind == "backfill" and self.field == SEARCH_TEXT:
            message = _REBUILD_SEARCH
        mapping = {"object": self.object, "field": self.field, **self.details}
        return translate(_(message, mapping=mapping), lang)

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

    def __init__(self, problems: list[tuple[str, Message]]) -> None:
        fields: dict[str, list[Message]] = {}
        for path, message in problems:
            fields.setdefault(path, []).append(message)
        message = joined([m for _path, m in problems], {"zh": "；", "en": " "})
        super().__init__("metadata_change_refused", message, fields)
