"""``table``: rows inside the record (order lines), each with the sub-fields in
``fields``; stored in a child table of its own, ``o_<object>__<field>`` (``id
parent_id row_order`` and a column per sub-field), never filtered or sorted on.
A sheet holds the rows as JSON."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from propolis.metadata.errors import Text
from propolis.metadata.expressions.activation import variable_types
from propolis.metadata.expressions.typecheck import CelType, list_of, map_of
from propolis.metadata.fieldtypes import Scope, definition
from propolis.metadata.normalize import normalize_field
from propolis.platform.errors import _
from propolis.platform.fields.base import ApiSchemas, Field, FieldType, Schema
from propolis.platform.fields.cells import json_cell, json_text
from propolis.platform.fields.registry import field_type
from propolis.platform.fields.schema import object_schema

if TYPE_CHECKING:
    from propolis.metadata.checks import Checks
    from propolis.metadata.errors import PathPart

MAX_ROWS = 1000
# what a sub-field may not be: unique (rows are no records) or a select depending
# on another
NOT_IN_ROWS = ("unique", "depends_on")


def written_rows(field: Field, rows: list[Any]) -> list[Any]:
    """Rows as a client writes them: without their computed sub-fields."""
    keep = {s["api_name"] for s in field["fields"] if field_type(s).writable(s)}
    keep.add("id")
    return [{k: v for k, v in row.items() if k in keep}
            if isinstance(row, dict) else row for row in rows]


class Table(FieldType):
    name = "table"
    description = _("Table: rows inside the record, e.g. order lines")
    value_kind = "table"
    has_rows = True
    in_table = False
    list_value = True
    required_keys = ("fields",)
    keys = {"fields": {"type": "array", "minItems": 1,
                       "items": {"$ref": "#/$defs/column"}}}

    def normalize(self, field: dict[str, Any]) -> None:
        field["fields"] = [normalize_field(column) for column in field["fields"]]

    def cel_type(self, field: Field) -> CelType:
        return list_of(map_of(variable_types(field.get("fields", ()))))

    def check(self, checks: Checks, field: Field, raw: Field,
              here: tuple[PathPart, ...], scope: Scope, owner: Text,
              object_name: str, *, in_record: bool) -> None:
        name = field["api_name"]
        columns = {c["api_name"]: c for c in field["fields"]}
        for j, column in enumerate(raw.get("fields", [])):
            for key in NOT_IN_ROWS:
                if column.get(key):
                    checks.add((*here, "fields", j, key), "not_in_table", key=key)
            if not definition(column["type"]).holds_value:
                checks.add((*here, "fields", j, "type"), "not_in_table",
                           key=column["type"])
        checks.check_fields(raw.get("fields", []), (*here, "fields"), columns,
                            Text(f"table '{name}'", f"子表 '{name}'"), object_name)

    def value_schema(self, field: Field) -> Schema:
        return {"type": "array", "maxItems": MAX_ROWS,
                "items": object_schema(field["fields"], create=True, row=True)}

    def words(self, field: Field, value: Any) -> str:
        return ""

    def to_cell(self, field: Field, value: Any, lang: str) -> Any:
        return json_text(value)

    def from_cell(self, field: Field, text: str, tz: str) -> Any:
        rows = json_cell(text, list, _("must be a JSON array such as [{\"qty\": 1}]"))
        # computed sub-fields come out of an export; they are not written back
        return written_rows(field, rows)

    def same_value(self, field: Field, new: Any, old: Any) -> bool:
        if isinstance(old, list):
            # the rows as read back: without their computed sub-fields
            return bool(new == written_rows(field, json.loads(json_text(old))))
        return bool(new == old)

    def api_schema(self, field: Field, siblings: Mapping[str, Field],
                   schemas: ApiSchemas, depth: int) -> Schema:
        columns = {s["api_name"]: s for s in field["fields"]}
        row: dict[str, Schema] = {"id": {"type": "string"}}
        for sub in field["fields"]:
            row[sub["api_name"]] = schemas.value_schema(sub, columns, depth)
        schemas.titled(row, field["fields"])
        return {"type": "array", "items": {
            "type": "object", "properties": row, "required": list(row)}}
