"""``FieldType``: everything the platform does with the values of one field type,
beside the definition-level facts the metadata language needs
(``propolis.metadata.fieldtypes.FieldDefinition``, which it extends).

A type is one subclass in one module (``fields/types/``), registered in
``fields/registry``; the shared behaviour of families of types lives in the base
classes of ``textual``, ``numeric``, ``choices``, ``references`` and
``structured``. Every method takes the field's (normalized) definition, since
what a type does may depend on it (a number's precision, a select's options).

The defaults here suit a plain scalar written as text; a type says at least its
column (none by default) and the schema of what clients write.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

from sqlalchemy import ColumnElement, or_

from propolis.metadata.expressions import ExpressionError
from propolis.metadata.fieldtypes import FieldDefinition
from propolis.platform.db import LIKE_ESCAPE, Dialect, like_escape
from propolis.platform.errors import Message, _
from propolis.platform.fields.values import ValueProblem, to_json_value

Field = Mapping[str, Any]
Schema = dict[str, Any]

# the operators of the query API (CONTRACT §4) that compare a value with others
ORDERED = frozenset({"eq", "ne", "gt", "gte", "lt", "lte", "in", "between", "isnull"})
NOT_NULL = _("must not be null (use isnull for empty values)")


@dataclass(frozen=True)
class ColumnSpec:
    """The column a field is stored in, as storage declares it: ``kind`` one of
    ``string`` (``width``: its length), ``text``, ``decimal`` (``width``: the
    places after the point), ``date``, ``time``, ``datetime``, ``boolean``,
    ``json``; ``indexed`` when lookups by value are common."""

    kind: str
    width: int | None = None
    indexed: bool = False


class ApiSchemas(Protocol):
    """What the OpenAPI builder offers a type describing its value: the schema of
    another field's value (``siblings``: the fields beside it) and labels as
    titles."""

    def value_schema(self, field: Field, siblings: Mapping[str, Field],
                     depth: int = 0) -> Schema: ...

    def quoted(self, field: Field, siblings: Mapping[str, Field]
               ) -> tuple[Field, Mapping[str, Field]] | None: ...

    def titled(self, properties: Schema, fields: Any) -> None: ...


Format = tuple[Callable[[object], bool], Message]


class FieldType(FieldDefinition):
    """One field type (set ``name``, ``description`` and the attributes below that
    differ; see ``FieldDefinition`` for the definition-level ones).

    ``value_kind``  what kind of Python value it holds: string, richtext, number,
                    date, time, datetime, boolean, select, multiselect, reference,
                    files, location, area, table, quote;
    ``list_value``  its JSON value is a list, empty rather than null;
    ``filter_ops``  the query operators it takes; ``sortable``: it orders lists;
    ``groupable``   records are counted per value (few values, each a label a
                    chart can name);
    ``holds_files`` its values are ids of uploaded files;
    ``in_history``  a change of it is recorded in the record's history;
    ``recomputed_keys``  definition keys whose change makes stored values stale;
    ``takes_text``  any text fits it, so a type stored as a string may become it;
    ``formats``     JSON Schema formats its value schema uses: name → (check,
                    message).
    """

    value_kind: ClassVar[str] = "string"
    list_value: ClassVar[bool] = False
    filter_ops: ClassVar[frozenset[str]] = frozenset()
    sortable: ClassVar[bool] = False
    groupable: ClassVar[bool] = False
    holds_files: ClassVar[bool] = False
    in_history: ClassVar[bool] = True
    recomputed_keys: ClassVar[tuple[str, ...]] = ()
    takes_text: ClassVar[bool] = False
    formats: ClassVar[Mapping[str, Format]] = {}

    def kind_of(self, field: Field) -> str:
        """The kind of Python value the field holds (see ``value_kind``)."""
        return self.value_kind

    # -- storage ----------------------------------------------------------------

    def column(self, field: Field) -> ColumnSpec | None:
        """The column storing the field in its record's table (None: no column;
        a table field's rows have a child table of their own)."""
        return None

    def stored(self, field: Field) -> bool:
        return self.column(field) is not None

    def writable(self, field: Field) -> bool:
        """Whether clients write the field (computed ones are read-only)."""
        return not self.computed

    def backfilled(self, field: Field) -> bool:
        """Whether its stored values are computed for the existing rows when the
        field is added."""
        return self.computed and self.stored(field)

    def stores_nothing(self, field: Field) -> bool:
        """Neither a column nor rows: nothing to keep when the field goes."""
        return not self.stored(field) and not self.has_rows

    def plan_label(self, field: Field) -> str:
        """The type as a plan shows it (``text(200)``, ``currency(2)``)."""
        return self.name

    def converts_to(self, field: Field, new: FieldType, new_field: Field) -> bool:
        """Whether the field may become ``new_field`` (of type ``new``) keeping every
        stored value; widths are compared on the columns afterwards. A plain type
        never becomes a computed one: computing would overwrite what users
        entered."""
        return new is self

    def targets(self, field: Field) -> str | None:
        """The object whose record ids a list value holds (a ``multiple`` user
        or department field), each checked to exist on save; None for others."""
        return None

    # -- values: JSON (API, import, history) <-> Python <-> column ------------------

    def value_schema(self, field: Field) -> Schema:
        """The JSON Schema of a value a client writes (``schema`` adds null and
        ``required``)."""
        raise ValueError(f"field type {self.name!r} is not writable")

    def schema(self, field: Field) -> Schema:
        """The schema of the field's JSON value as a client writes it: null
        allowed unless the field is required."""
        schema = self.value_schema(field)
        if field.get("required"):
            if schema.get("type") == "string":
                schema["minLength"] = max(schema.get("minLength", 0), 1)
            elif schema.get("type") == "array":
                schema["minItems"] = 1
            return schema
        if "enum" in schema:
            return {**schema, "enum": [*schema["enum"], None]}
        return {**schema, "type": [schema["type"], "null"]}

    def from_json(self, field: Field, value: Any) -> Any:
        """A (schema-valid) JSON value as the Python value the services and
        expressions work with; ValueProblem when it cannot be taken."""
        return None if value is None else self.parse(field, value)

    def parse(self, field: Field, value: Any) -> Any:
        """``from_json`` of a value that is not null."""
        return value

    def to_column(self, field: Field, value: Any) -> Any:
        """The bind value of the field's column."""
        return value

    def from_column(self, field: Field, value: Any) -> Any:
        """A value read from the column (not null) as the Python value."""
        return value

    def to_json(self, field: Field, value: Any, tz: str) -> Any:
        """The Python value as JSON; datetimes in ``tz``."""
        if value is None:
            return [] if self.list_value else None
        return to_json_value(value, tz)

    def default_value(self, field: Field, now: Any, tz: str) -> Any:
        """The JSON value of the definition's ``default`` for a record saved at
        ``now`` (an aware datetime)."""
        return field.get("default")

    def from_expression(self, field: Field, result: Any) -> Any:
        """An expression's result (not null) as the value of a formula returning
        this type; ExpressionError when it is of the wrong type."""
        raise ExpressionError(f"a formula cannot return {self.name!r}")

    def result_schema(self) -> Schema:
        """The JSON Schema of a formula's value of this type."""
        raise ValueError(f"a formula cannot return {self.name!r}")

    def search_words(self, field: Field, value: Any) -> str:
        """The text a value adds to ``search_text``."""
        return "" if value is None else self.words(field, value)

    def words(self, field: Field, value: Any) -> str:
        """``search_words`` of a value that is not null."""
        return str(to_json_value(value))

    # -- queries ----------------------------------------------------------------

    def operators(self, field: Field) -> frozenset[str]:
        """The query operators a filter on the field may use."""
        return self.filter_ops

    def orders(self, field: Field) -> bool:
        """Whether lists sort (and page) on the field."""
        return self.sortable

    def groups(self, field: Field) -> bool:
        """Whether records are counted per value of the field."""
        return self.groupable

    def cursor_value(self, field: Field, value: Any, column: Any) -> Any:
        """A sort value read back from a page cursor (JSON: numbers as text,
        dates ISO) as the column's Python value; TypeError when it is not one."""
        if not isinstance(value, str | bool):
            raise TypeError(value)
        return value

    def operand(self, field: Field, value: Any, column: Any) -> Any:
        """One operand of a filter as the column's Python value; ValueProblem
        naming what is wrong."""
        if not isinstance(value, str):
            raise ValueProblem(_("must be text"))
        return value

    def compare(self, field: Field, op: str, column: Any, operand: Any,
                dialect: Dialect) -> ColumnElement[bool]:
        """A filter with one operand (``eq ne gt gte lt lte contains
        startswith``). ``ne`` also matches empty values."""
        if op == "contains":
            return column.ilike(f"%{like_escape(operand)}%", escape=LIKE_ESCAPE)
        if op == "startswith":
            return column.ilike(f"{like_escape(operand)}%", escape=LIKE_ESCAPE)
        if op == "ne":
            return or_(column != operand, column.is_(None))
        comparisons: dict[str, Callable[[Any], ColumnElement[bool]]] = {
            "eq": column.__eq__, "gt": column.__gt__, "gte": column.__ge__,
            "lt": column.__lt__, "lte": column.__le__}
        return comparisons[op](operand)

    def keyword_match(self, column: Any, field: Field, term: str, dialect: Dialect
                      ) -> ColumnElement[bool] | None:
        """Whether the value holds a (lower-case) search term the way
        ``search_words`` renders it; None: it never can."""
        return None

    # -- spreadsheet cells (export and import) ------------------------------------

    def to_cell(self, field: Field, value: Any, lang: str) -> Any:
        """A JSON value (not empty) as the cell an export writes: text, an exact
        number, or None for an empty cell."""
        return str(value)

    def from_cell(self, field: Field, text: str, tz: str) -> Any:
        """An imported cell (text, not empty) as the JSON value; ValueProblem when
        it cannot be read."""
        raise ValueProblem(_("this field cannot be imported"))

    def same_value(self, field: Field, new: Any, old: Any) -> bool:
        """Whether an imported JSON value (not empty) is the one the record
        holds."""
        return bool(new == old)

    def imported(self, field: Field) -> bool:
        """Whether an import reads the field's column."""
        return self.writable(field) and (self.stored(field) or self.has_rows)

    # -- the OpenAPI document ---------------------------------------------------

    def api_schema(self, field: Field, siblings: Mapping[str, Field],
                   schemas: ApiSchemas, depth: int) -> Schema:
        """The schema of the value as the API returns it (it may be empty)."""
        schema = self.schema({**field, "required": False})
        if self.list_value:  # lists come back empty, never null
            schema["type"] = "array"
        return schema
