"""``rollup``: the count, sum, minimum, maximum or average of a field of the child
records (of ``from``, pointing here through their lookup or master-detail
``via``), stored so that it filters and sorts; the record service refreshes it
when a child changes (``records.compute.refresh_rollups``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from propolis.metadata.checks import object_text
from propolis.metadata.errors import Text
from propolis.metadata.fieldtypes import Scope, definition, definition_of
from propolis.metadata.names import SYSTEM_FIELDS
from propolis.platform.errors import _
from propolis.platform.fields.base import ApiSchemas, Field, Schema
from propolis.platform.fields.numeric import NumberLike, precision
from propolis.platform.fields.references import RecordReference

if TYPE_CHECKING:
    from propolis.metadata.checks import Checks
    from propolis.metadata.errors import PathPart


class Rollup(NumberLike):
    name = "rollup"
    description = _("Rollup: count, sum, min, max or average of child records")
    computed = True
    in_table = False
    numeric = False  # a rollup does not sum another
    formula_result = False
    general = True
    in_history = False
    required_keys = ("from", "via", "function")
    keys = {"from": {"$ref": "#/$defs/api_name"},
            "via": {"$ref": "#/$defs/api_name"},
            "function": {"$ref": "#/$defs/rollup_function"},
            "field": {"$ref": "#/$defs/api_name"}}
    defs = {"rollup_function": {"title": "rollup function",
                                "x-zh": {"title": "汇总函数"},
                                "enum": ["count", "sum", "min", "max", "avg"]}}
    recomputed_keys = ("from", "via", "function", "field")

    def schema_rules(self) -> dict[str, Any]:
        # a count counts the children; every other function reads a field
        return {"if": {"properties": {"function": {"const": "count"}},
                       "required": ["function"]},
                "then": {"properties": {"field": {"not": {}}}},
                "else": {"required": ["field"]}}

    def normalize(self, field: dict[str, Any]) -> None:
        field.setdefault("field", None)

    def places(self, field: Field) -> int:
        return 0 if field.get("function") == "count" else precision(field)

    def value_schema(self, field: Field) -> Schema:
        raise ValueError("rollup fields are not writable")

    def api_schema(self, field: Field, siblings: Any, schemas: ApiSchemas,
                   depth: int) -> Schema:
        return {"type": ["number", "null"]}

    def check(self, checks: Checks, field: Field, raw: Field,
              here: tuple[PathPart, ...], scope: Scope, owner: Text,
              object_name: str, *, in_record: bool) -> None:
        source_name = field["from"]
        if source_name not in checks.objects:
            checks.unknown_object((*here, "from"), source_name)
            return
        source = checks.objects[source_name]
        if source is None:
            return
        source_fields = {f["api_name"]: f for f in source["fields"]}
        via = source_fields.get(field["via"])
        if via is None:
            checks.unknown_field((*here, "via"), field["via"], sorted(source_fields),
                                 object_text(source_name))
        elif not isinstance(definition_of(via), RecordReference):
            checks.wrong_type((*here, "via"), field["via"], via["type"],
                              Text("a lookup or master_detail field",
                                   "查找关系或主从关系字段"))
        elif via["to"] != object_name:
            checks.add((*here, "via"), "rollup_via_target", origin=source_name,
                       via=field["via"], target=via["to"], name=object_name)
        if field["function"] == "count":
            return
        names = sorted(source_fields.keys() | SYSTEM_FIELDS.keys())
        target = source_fields.get(field["field"])
        value_type = (definition_of(target).value_type(target) if target
                      else SYSTEM_FIELDS.get(field["field"]))
        if value_type is None:
            checks.unknown_field((*here, "field"), field["field"], names,
                                 object_text(source_name))
            return
        # the stored rollup column is a decimal, for min and max too
        if not definition(value_type).numeric:
            checks.wrong_type((*here, "field"), field["field"], value_type,
                              Text("a number, currency or percent field",
                                   "数字、金额或百分比字段"))
