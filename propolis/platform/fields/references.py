"""Types whose value is the id of a record: of an object the definition names
(``RecordReference``: lookup, master_detail, pointing ``to`` it) or of a system
object (``SystemReference``: user, department). An export shows the record's
name beside the id (``propolis.platform.exchange``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from propolis.metadata.expressions.typecheck import STRING, CelType
from propolis.metadata.fieldtypes import Scope
from propolis.platform.fields.base import ColumnSpec, Field, FieldType, Schema
from propolis.platform.ids import ID_LENGTH

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
    """Points to a record of the system object ``target``."""

    target: ClassVar[str]

    def reference_target(self, field: Field) -> str | None:
        return self.target
