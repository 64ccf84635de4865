"""Types whose value is the id of a record: of an object the definition names
(``RecordReference``: lookup, master_detail, pointing ``to`` it) or of a system
object (``SystemReference``: user, department). An export shows the record's
name beside the id (``propolis.platform.exchange``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from sqlalchemy import ColumnElement, null

from propolis.metadata.expressions.typecheck import STRING, CelType, list_of
from propolis.metadata.fieldtypes import Scope
from propolis.platform.db import Dialect
from propolis.platform.fields.base import (
    ApiSchemas,
    ColumnSpec,
    Field,
    FieldType,
    Schema,
)
from propolis.platform.fields.cells import SPLIT_VALUES
from propolis.platform.ids import ID_LENGTH

# a multiple user or department field: at most this many ids, filtered thus
MAX_IDS = 1000
LIST_OPS = frozenset({"contains", "isnull"})

if TYPE_CHECKING:
    from propolis.metadata.checks import Checks
    from propolis.metadata.errors import PathPart, Text


class Reference(FieldType):
    value_kind = "reference"
    keys = {"default": {"type": "string"}}
    filter_ops = frozenset({"eq", "ne", "in", "isnull"})
    sortable = True

    def column(self, field: Field) -> ColumnSpec | None:
        return ColumnSpec("string", ID_LENGTH, indexed=True)

    def value_schema(self, field: Field) -> Schema:
        return {"type": "string", "minLength": 1, "maxLength": ID_LENGTH}

    def cel_type(self, field: Field) -> CelType:
        return STRING

    def words(self, field: Field, value: Any) -> str:
        return ""

    def from_cell(self, field: Field, text: str, tz: str) -> Any:
        return text


class RecordReference(Reference):
    """Points to a record of the object named ``to``; the types of this family
    may become each other while they point to the same object."""

    keys = {"to": {"$ref": "#/$defs/api_name"}, "default": {"type": "string"}}
    required_keys = ("to",)

    def reference_target(self, field: Field) -> str | None:
        target = field.get("to")
        return None if target is None else str(target)

    def plan_label(self, field: Field) -> str:
        return f"{self.name}({field.get('to')})"

    def converts_to(self, field: Field, new: FieldType, new_field: Field) -> bool:
        return isinstance(new, RecordReference)

    def check(self, checks: Checks, field: Field, raw: Field,
              here: tuple[PathPart, ...], scope: Scope, owner: Text,
              object_name: str, *, in_record: bool) -> None:
        if field["to"] not in checks.objects:
            checks.unknown_object((*here, "to"), field["to"])


class SystemReference(Reference):
    """Points to a record of the system object ``target``; with ``multiple:
    true``, to several: a JSON list of ids (a JSON column; ``contains`` and
    ``isnull`` filter it, ``;`` separates them in a sheet). A list is no single
    reference: ``reference_target`` is None for it (so no quote, rollup,
    timeline or lookup input takes it) and ``targets`` names what its ids must
    be records of."""

    target: ClassVar[str]
    keys = {"default": {"type": ["string", "array"]},
            "multiple": {"type": "boolean"}}

    def reference_target(self, field: Field) -> str | None:
        return None if field.get("multiple") else self.target

    def targets(self, field: Field) -> str | None:
        """The object the ids of a ``multiple`` field point to (else None)."""
        return self.target if field.get("multiple") else None

    def column(self, field: Field) -> ColumnSpec | None:
        return ColumnSpec("json") if field.get("multiple") else super().column(field)

    def converts_to(self, field: Field, new: FieldType, new_field: Field) -> bool:
        return new is self and bool(field.get("multiple")) == bool(
            new_field.get("multiple"))

    def value_schema(self, field: Field) -> Schema:
        one = super().value_schema(field)
        if not field.get("multiple"):
            return one
        return {"type": "array", "uniqueItems": True, "maxItems": MAX_IDS,
                "items": one}

    def parse(self, field: Field, value: Any) -> Any:
        return (list(value) or None) if field.get("multiple") else value

    def to_column(self, field: Field, value: Any) -> Any:
        if field.get("multiple") and value is None:
            return null()  # not the JSON text 'null'
        return value

    def to_json(self, field: Field, value: Any, tz: str) -> Any:
        if field.get("multiple"):
            return list(value or ())
        return super().to_json(field, value, tz)

    def api_schema(self, field: Field, siblings: Mapping[str, Field],
                   schemas: ApiSchemas, depth: int) -> Schema:
        schema = super().api_schema(field, siblings, schemas, depth)
        if field.get("multiple"):
            schema["type"] = "array"
        return schema

    def cel_type(self, field: Field) -> CelType:
        return list_of(STRING) if field.get("multiple") else STRING

    def operators(self, field: Field) -> frozenset[str]:
        return LIST_OPS if field.get("multiple") else self.filter_ops

    def orders(self, field: Field) -> bool:
        return not field.get("multiple")

    def compare(self, field: Field, op: str, column: Any, operand: Any,
                dialect: Dialect) -> ColumnElement[bool]:
        if field.get("multiple"):  # contains: the only one
            return dialect.json_contains(column, operand)
        return super().compare(field, op, column, operand, dialect)

    def to_cell(self, field: Field, value: Any, lang: str) -> Any:
        return ";".join(value) if field.get("multiple") else str(value)

    def from_cell(self, field: Field, text: str, tz: str) -> Any:
        if field.get("multiple"):
            return list(dict.fromkeys(v for v in SPLIT_VALUES.split(text) if v))
        return text
