"""Validation of what a client writes to an object's records against the JSON
Schema generated from its metadata (``fields.schema``): a compiled check for the
common, valid case, jsonschema to explain a refusal. Errors come back all at once,
as ``{field: [{"zh", "en"}]}``."""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError

from propolis.metadata import fieldtypes
from propolis.platform.errors import Message, _, _c, add_message, joined
from propolis.platform.fields.base import Format
from propolis.platform.fields.registry import field_types


@functools.lru_cache(maxsize=4)
def _formats(generation: int) -> dict[str, Format]:
    """The JSON Schema formats the registered types' schemas use."""
    return {name: found for ftype in field_types()
            for name, found in ftype.formats.items()}


def formats() -> dict[str, Format]:
    return _formats(fieldtypes.generation())


@functools.lru_cache(maxsize=4)
def _format_checker(generation: int) -> FormatChecker:
    checker = FormatChecker(())
    for name, (check, _message) in _formats(generation).items():
        checker.checks(name)(check)
    return checker


def format_checker() -> FormatChecker:
    return _format_checker(fieldtypes.generation())


Check = Callable[[Any], bool]


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


def _is_integer(value: Any) -> bool:
    """JSON Schema's integer: a number without a fractional part (``1.0`` too)."""
    if isinstance(value, int):
        return not isinstance(value, bool)
    return _is_number(value) and math.isfinite(value) and value == int(value)


TYPE_CHECKS: dict[str, Check] = {
    "string": lambda v: isinstance(v, str), "number": _is_number,
    "integer": _is_integer,
    "boolean": lambda v: isinstance(v, bool), "array": lambda v: isinstance(v, list),
    "object": lambda v: isinstance(v, dict), "null": lambda v: v is None,
}


def _keyword_check(key: str, arg: Any, schema: Mapping[str, Any]) -> Check | None:
    """One keyword as a predicate (None: nothing to check here)."""
    if key in ("$schema", "title", "additionalProperties"):
        return None  # additionalProperties is checked with "properties"
    if key == "type":
        kinds = [TYPE_CHECKS[k] for k in (arg if isinstance(arg, list) else [arg])]
        return lambda v: any(k(v) for k in kinds)
    if key == "enum":
        allowed = frozenset(arg)  # strings and None: no 1 == True pitfalls
        return lambda v: isinstance(v, str | None) and v in allowed
    if key == "maxLength":
        return lambda v: not isinstance(v, str) or len(v) <= arg
    if key == "minLength":
        return lambda v: not isinstance(v, str) or len(v) >= arg
    if key == "maxItems":
        return lambda v: not isinstance(v, list) or len(v) <= arg
    if key == "minItems":
        return lambda v: not isinstance(v, list) or len(v) >= arg
    if key == "minimum":
        return lambda v: not _is_number(v) or v >= arg
    if key == "maximum":
        return lambda v: not _is_number(v) or v <= arg
    if key == "pattern":
        pattern = re.compile(arg)
        return lambda v: not isinstance(v, str) or pattern.search(v) is not None
    if key == "format":
        checker = format_checker()
        return lambda v: checker.conforms(v, arg)
    if key == "uniqueItems":
        return lambda v: not isinstance(v, list) or len(set(v)) == len(v)
    if key == "items":
        item = compile_check(arg)
        return lambda v: not isinstance(v, list) or all(item(x) for x in v)
    if key == "required":
        names = tuple(arg)
        return lambda v: not isinstance(v, dict) or all(n in v for n in names)
    if key == "properties":
        props = {n: compile_check(s) for n, s in arg.items()}
        closed = schema.get("additionalProperties") is False

        def properties(v: Any) -> bool:
            if not isinstance(v, dict):
                return True
            for name, value in v.items():
                check = props.get(name)
                if check is None and closed or check is not None and not check(value):
                    return False
            return True

        return properties
    raise ValueError(f"no fast check for the keyword {key!r}")


def compile_check(schema: Mapping[str, Any]) -> Check:
    """The schema as one Python predicate for the keywords the generated schemas
    use; jsonschema is only needed to explain a refusal. (A keyword it does not
    know is a ValueError: the generator and this compiler change together.)"""
    if schema.get("additionalProperties", False) is not False:
        raise ValueError("no fast check for additionalProperties schemas")
    checks = [c for key, arg in schema.items()
              if (c := _keyword_check(key, arg, schema)) is not None]
    return lambda value: all(check(value) for check in checks)


class RecordValidator:
    """A generated schema with its jsonschema validator and its compiled check:
    valid data (the common case) is confirmed by the fast check, and refusals are
    explained by jsonschema."""

    def __init__(self, schema: Mapping[str, Any]) -> None:
        Draft202012Validator.check_schema(schema)
        self.schema = schema
        self.validator = Draft202012Validator(schema,
                                              format_checker=format_checker())
        self._check = compile_check(schema)

    def is_valid(self, data: Any) -> bool:
        try:
            return self._check(data)
        except TypeError:  # unhashable items and the like: let jsonschema judge
            return self.validator.is_valid(data)

    def errors(self, data: Mapping[str, Any]) -> Errors:
        """Every error of ``data`` by top-level field name ({} when valid)."""
        if self.is_valid(data):
            return {}
        return schema_errors(self.validator, data)


def make_validator(schema: Mapping[str, Any]) -> RecordValidator:
    return RecordValidator(schema)


TYPE_MESSAGES = {"string": _("must be text"), "number": _("must be a number"),
                 "integer": _("must be a whole number"),
                 "boolean": _c("platform.records.schema", "must be true or false"),
                 "array": _("must be a list"), "object": _("must be an object")}
REQUIRED = _("is required")


Errors = dict[str, list[Message]]


def _message(error: ValidationError) -> Message:
    v, value = error.validator, error.validator_value
    if v == "type":
        if error.instance is None:
            return REQUIRED
        expected = value[0] if isinstance(value, list) else value
        return TYPE_MESSAGES.get(expected) or _("must be ${type}",
                                                mapping={"type": expected})
    if v == "minLength" and value == 1:
        return REQUIRED
    if v == "minItems" and value == 1:
        return REQUIRED
    messages = {
        "maxLength": _("at most ${value} characters", mapping={"value": value}),
        "minimum": _("must be at least ${value}", mapping={"value": value}),
        "maximum": _("must be at most ${value}", mapping={"value": value}),
        "enum": _("is not one of the options"),
        "pattern": _("has the wrong format"),
        "uniqueItems": _("has repeated values"),
        "maxItems": _("at most ${value} items", mapping={"value": value}),
        "minItems": _("at least ${value} items", mapping={"value": value}),
        "additionalProperties": _("has unknown keys"),
        "minLength": _("at least ${value} characters", mapping={"value": value}),
    }
    if v == "format":
        found = formats().get(value)
        return found[1] if found else messages["pattern"]
    return messages.get(v, _("is not valid"))


def _located(path: list[Any], name: str | None, msg: Message
             ) -> tuple[str, Message]:
    """The top-level field an error belongs to, and its message with the row and
    column inside a table field spelled out."""
    parts = [*path, name] if name is not None else list(path)
    top, inner = str(parts[0]), parts[1:]
    if not inner:
        return top, msg
    return top, _("${where}: ${msg}", mapping={"where": where_in_table(inner),
                                               "msg": msg})


def where_in_table(steps: Sequence[Any]) -> Message:
    """A place inside a table field as people say it: ``row 2 qty``."""
    return joined([_("row ${number}", mapping={"number": step + 1})
                   if isinstance(step, int) else str(step) for step in steps], " ")


def schema_errors(validator: Draft202012Validator, data: Mapping[str, Any]) -> Errors:
    """Every schema error of ``data``, by top-level field name."""
    found: Errors = {}
    for error in validator.iter_errors(data):
        path = list(error.absolute_path)
        if error.validator == "required":
            names = [n for n in error.validator_value if n not in error.instance]
            located = [_located(path, n, REQUIRED) for n in names]
        elif error.validator == "additionalProperties" and not path:
            continue  # unknown top-level keys are reported before validation
        else:
            located = [_located(path, None, _message(error))]
        for top, message in located:
            add_message(found.setdefault(top, []), message)
    return found
