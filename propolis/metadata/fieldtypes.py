"""Field types as the metadata language knows them: the facts about a field's
*definition* that validation, normalization, layering and expressions need.

A type is one object registered here: its name, what the object manager says of
it, the keys a field of that type takes (the JSON Schema fragment of its
definition, which the published ``object`` schema is built from), the defaults
normalization fills, the semantic checks a JSON Schema cannot express, and the
type of its value as an expression sees it.

The metadata layer owns this protocol and the registry but defines no type: the
platform's field classes (``propolis.platform.fields``) fill it, each with its
storage, values, cells and filters beside these facts, and register themselves
when that package is imported (an extension adds its own with
``config.add_field_type``). So the metadata language accepts a type exactly when
the platform can store it. Nothing here imports the platform.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, ClassVar

from propolis.metadata.expressions.typecheck import DYN, CelType

if TYPE_CHECKING:
    from propolis.metadata.checks import Checks
    from propolis.metadata.errors import PathPart, Text

Field = Mapping[str, Any]
Scope = Mapping[str, Field]

# the keys every field takes, in the order the schemas list them
COMMON_KEYS = ("api_name", "type", "label", "help", "required", "unique",
               "searchable", "readonly", "hidden")
FLAGS = ("required", "unique", "searchable", "hidden")


class FieldDefinition:
    """The definition-level facts of one field type (subclass and set ``name``).

    Class attributes:

    ``name``            the ``type`` written in metadata;
    ``description``     {zh, en}: what the type is for, as the object manager says;
    ``keys``            the type's own definition keys and the JSON Schema of each
                        (``#/$defs/…`` may refer to the document schema's shared
                        definitions and to ``defs``);
    ``required_keys``   the ones a definition must state;
    ``defs``            definitions its keys refer to, added to the ``$defs``;
    ``computed``        the platform computes the value: never written by clients,
                        always read-only;
    ``in_table``        it may be a column of a table field;
    ``has_rows``        its value is rows of the sub-fields in ``fields``;
    ``has_options``     a field of it lists ``options`` (select-like);
    ``numeric``         its value is a number a rollup may sum;
    ``formula_result``  a formula may return it (``returns``);
    ``holds_value``     it holds a value of its own, which expressions read and
                        quotes show (a quote only shows another record's).
    """

    name: ClassVar[str]
    description: ClassVar[Mapping[str, str]]
    keys: ClassVar[Mapping[str, Any]] = {}
    required_keys: ClassVar[tuple[str, ...]] = ()
    defs: ClassVar[Mapping[str, Any]] = {}
    computed: ClassVar[bool] = False
    in_table: ClassVar[bool] = True
    has_rows: ClassVar[bool] = False
    has_options: ClassVar[bool] = False
    numeric: ClassVar[bool] = False
    formula_result: ClassVar[bool] = False
    holds_value: ClassVar[bool] = True

    # -- the document schema --------------------------------------------------------

    def definition_schema(self) -> dict[str, Any]:
        """The closed schema of a field of this type (``<name>_field`` in the
        document schema's ``$defs``): the common keys, validated by the field's
        base schema, and the type's own."""
        properties: dict[str, Any] = dict.fromkeys(COMMON_KEYS, True)
        properties["type"] = {"const": self.name}
        if self.computed:
            properties["readonly"] = {"const": True}
        properties.update(copy.deepcopy(dict(self.keys)))
        schema: dict[str, Any] = {"type": "object", "additionalProperties": False}
        if self.required_keys:
            schema["required"] = list(self.required_keys)
        schema["properties"] = properties
        schema.update(self.schema_rules())
        return schema

    def schema_rules(self) -> dict[str, Any]:
        """Keywords added to the definition schema beside its properties (say an
        ``if``/``then``/``else`` between keys)."""
        return {}

    def schema_defs(self) -> dict[str, Any]:
        """Definitions the type's keys refer to."""
        return copy.deepcopy(dict(self.defs))

    # -- normalization --------------------------------------------------------------

    def normalize(self, field: dict[str, Any]) -> None:
        """Fills the type's own defaults into ``field`` (a copy, with the common
        keys already filled)."""

    # -- semantic checks ------------------------------------------------------------

    def check(
        self,
        checks: Checks,
        field: Field,
        raw: Field,
        here: tuple[PathPart, ...],
        scope: Scope,
        owner: Text,
        object_name: str,
        *,
        in_record: bool,
    ) -> None:
        """Adds to ``checks`` what is wrong with ``field`` (effective and
        normalized; ``raw`` as written, at ``here``) among the fields of
        ``scope``. ``in_record``: the field is the record's own, not a table
        column's."""

    # -- expressions ----------------------------------------------------------------

    def cel_type(self, field: Field) -> CelType:
        """The field's value as an expression sees it."""
        return DYN

    def expression(self, field: Field) -> str | None:
        """The expression that computes the field, if one does."""
        return None

    # -- references -----------------------------------------------------------------

    def reference_target(self, field: Field) -> str | None:
        """The object a field of this type points to (None: it points nowhere)."""
        return None

    def value_type(self, field: Field) -> str:
        """The type whose values the field holds (a formula's ``returns``)."""
        return self.name


# -- the registry -------------------------------------------------------------------

_types: dict[str, FieldDefinition] = {}
_generation = 0


def register(definition: FieldDefinition) -> None:
    """Makes a type known; ValueError when its name is taken."""
    global _generation
    if definition.name in _types:
        raise ValueError(f"field type {definition.name!r} is registered already")
    _types[definition.name] = definition
    _generation += 1


def unregister(name: str) -> None:
    """Forgets a type (KeyError when it is not registered)."""
    global _generation
    del _types[name]
    _generation += 1


@contextmanager
def registered(definition: FieldDefinition) -> Iterator[FieldDefinition]:
    """The type is registered inside the block, and only there."""
    register(definition)
    try:
        yield definition
    finally:
        unregister(definition.name)


def generation() -> int:
    """A number that changes whenever a type comes or goes: caches of what is
    derived from the registry (the document schemas) key on it."""
    return _generation


def type_names() -> tuple[str, ...]:
    """The registered types, in the order they were registered."""
    return tuple(_types)


def definition(name: str) -> FieldDefinition:
    """The registered type ``name``; KeyError for an unknown one."""
    return _types[name]


def definition_of(field: Field) -> FieldDefinition:
    """The type of a (schema-valid) field definition."""
    return _types[field["type"]]


def definitions() -> tuple[FieldDefinition, ...]:
    return tuple(_types.values())
