"""The JSON Schema of each document kind (``schemas/<kind>.json``, as published by
``propolis metadata schema``), and its errors in words: each names the path, what
was found and what is allowed, with a suggestion for a misspelling.

The field types are not written in those files: a kind's ``field`` (and a table's
``column``) schema delegates to one closed schema per registered type
(``fieldtypes``), added with the types' enum when the schema is built; a
``field_type`` that lists an enum of its own (a report's) keeps that choice."""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Iterator, Mapping
from importlib.resources import files
from typing import Any

from jsonschema import Draft202012Validator, ValidationError

from propolis.metadata import fieldtypes
from propolis.metadata.errors import NO_TEXT, Problem, Text, quote, suggest
from propolis.metadata.loader import Document
from propolis.metadata.names import KINDS

_JSON_TYPES = {
    "string": Text("a string", "字符串"),
    "integer": Text("a whole number", "整数"),
    "number": Text("a number", "数字"),
    "boolean": Text("true or false", "true 或 false"),
    "object": Text("a mapping (key: value)", "映射（键: 值）"),
    "array": Text("a list", "列表"),
    "null": Text("null", "null"),
}
# bool before int: True is an int too
_PYTHON_TYPES = (
    (bool, "boolean"),
    (int, "integer"),
    (float, "number"),
    (str, "string"),
    (dict, "object"),
    (list, "array"),
)


@functools.cache
def _source(kind: str) -> dict[str, Any]:
    source = files("propolis.metadata").joinpath("schemas", f"{kind}.json")
    schema: dict[str, Any] = json.loads(source.read_text("utf-8"))
    return schema


def _type_choice(names: tuple[str, ...]) -> list[dict[str, Any]]:
    """The ``allOf`` that hands a field to the schema of its type."""
    return [{"if": {"properties": {"type": {"const": name}}, "required": ["type"]},
             "then": {"$ref": f"#/$defs/{name}_field"}} for name in names]


@functools.cache
def _built(kind: str, generation: int) -> dict[str, Any]:
    """The kind's schema with the field types registered at ``generation``."""
    schema = copy.deepcopy(_source(kind))
    defs = schema.get("$defs", {})
    if "field_type" not in defs:
        return schema
    known = fieldtypes.type_names()
    names = tuple(n for n in defs["field_type"].get("enum", known) if n in known)
    defs["field_type"]["enum"] = list(names)
    defs["field"]["allOf"] = _type_choice(names)
    if "column_type" in defs:
        columns = tuple(n for n in names if fieldtypes.definition(n).in_table)
        defs["column_type"]["enum"] = list(columns)
        defs["column"]["allOf"] = _type_choice(columns)
    for name in names:
        definition = fieldtypes.definition(name)
        defs[f"{name}_field"] = definition.definition_schema()
        defs.update(definition.schema_defs())
    return schema


def _schema(kind: str) -> dict[str, Any]:
    return _built(kind, fieldtypes.generation())


@functools.cache
def _validator_at(kind: str, generation: int) -> Draft202012Validator:
    return Draft202012Validator(_built(kind, generation))


def _validator(kind: str) -> Draft202012Validator:
    return _validator_at(kind, fieldtypes.generation())


def kind_schema(kind: str) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of one document kind, as published."""
    if kind not in KINDS:
        raise KeyError(f"unknown metadata kind {kind!r}; kinds: {', '.join(KINDS)}")
    return copy.deepcopy(_schema(kind))


def schema_problems(doc: Document) -> list[Problem]:
    """What is wrong with ``doc`` by the JSON Schema of its kind (also: a missing or
    unknown kind)."""
    kind = doc.data.get("kind")
    if kind is None:
        return [doc.problem((), "missing_kind", allowed=KINDS)]
    if kind not in KINDS:
        return [
            doc.problem(
                ("kind",),
                "unknown_kind",
                value=quote(kind),
                allowed=KINDS,
                hint=suggest(kind, KINDS),
            )
        ]
    found = [
        p for e in _validator(kind).iter_errors(doc.data) for p in _explain(doc, e)
    ]
    return sorted(found, key=lambda p: p.line or 0)


def _explain(doc: Document, error: ValidationError) -> Iterator[Problem]:
    """A JSON Schema error in words, with the fix."""
    path = tuple(error.absolute_path)
    keyword, expected, instance = error.validator, error.validator_value, error.instance
    schema = error.schema if isinstance(error.schema, dict) else {}
    keys = list(schema.get("properties", {}))
    if keyword == "additionalProperties":
        for key in instance:
            if key not in keys:
                yield doc.problem(
                    (*path, key),
                    "unknown_key",
                    key=key,
                    where=_field_context(schema),
                    allowed=keys,
                    hint=suggest(key, keys),
                )
    elif keyword == "required":
        for key in expected:
            if key not in instance:
                yield doc.problem(path, "required", key=key)
    elif keyword == "type":
        wanted = [expected] if isinstance(expected, str) else expected
        yield doc.problem(
            path, "type", expected=_either(wanted), found=_found(instance)
        )
    elif keyword == "enum":
        yield doc.problem(
            path,
            "enum",
            value=quote(instance),
            title=_title(schema),
            allowed=expected,
            hint=suggest(instance, expected),
        )
    elif keyword == "const":
        yield doc.problem(
            path, "const", value=quote(instance), expected=quote(expected)
        )
    elif keyword == "pattern":
        rule = Text(
            schema.get("description", f"a value matching {expected}"),
            schema.get("x-zh", {}).get("description", f"符合 {expected} 的值"),
        )
        yield doc.problem(
            path, "pattern", value=quote(instance), title=_title(schema), rule=rule
        )
    elif keyword == "not" and expected == {}:  # the schemas' way to forbid a key
        yield doc.problem(path, "not_allowed", key=path[-1] if path else "")
    elif keyword in ("minimum", "exclusiveMinimum", "maximum"):
        code = {"exclusiveMinimum": "exclusive_minimum"}.get(keyword, keyword)
        yield doc.problem(path, code, value=quote(instance), limit=expected)
    elif keyword == "minItems":
        yield doc.problem(path, "min_items", count=len(instance), limit=expected)
    elif keyword == "minLength":
        yield doc.problem(path, "min_length")
    elif keyword == "uniqueItems":
        repeated = next(v for i, v in enumerate(instance) if v in instance[:i])
        yield doc.problem(path, "unique_items", value=quote(repeated))
    elif keyword == "minProperties":
        yield doc.problem(path, "min_properties", limit=expected, allowed=keys)
    elif keyword == "maxProperties":
        yield doc.problem(
            path, "max_properties", count=len(instance), limit=expected, allowed=keys
        )
    else:
        yield doc.problem(path, "schema", detail=error.message, kind=doc.kind)


def _field_context(schema: Mapping[str, Any]) -> Text:
    # the per-type field schemas pin `type` with a const: name it in the message
    ftype = schema.get("properties", {}).get("type")
    if isinstance(ftype, dict) and "const" in ftype:
        return Text(f" for a {ftype['const']} field", f"（{ftype['const']} 字段）")
    return NO_TEXT


def _title(schema: Mapping[str, Any]) -> Text:
    return Text(
        schema.get("title", "value"), schema.get("x-zh", {}).get("title", "取值")
    )


def _either(json_types: list[str]) -> Text:
    names = [_JSON_TYPES[t] for t in json_types]
    return Text(" or ".join(n.en for n in names), "或".join(n.zh for n in names))


def _found(instance: Any) -> Text:
    json_type = next(
        (name for kind, name in _PYTHON_TYPES if isinstance(instance, kind)), "null"
    )
    name = _JSON_TYPES[json_type]
    if isinstance(instance, dict | list) or instance is None:
        return name
    return Text(f"{name.en} {quote(instance)}", f"{name.zh} {quote(instance)}")
