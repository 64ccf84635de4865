"""What an expression sees of a record, derived from the fields of its object: the
static type of each variable (each field's type says it: ``FieldDefinition.
cel_type``), for type checking when metadata is validated, and the attributes of
the select options, which ``option()`` reads at run time.

Both come from field metadata only, so a caller computes them once per object
version and hands them to ``check_types`` or ``CompiledExpression.evaluate``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

# a module reference: fieldtypes imports this package's typecheck, so its names
# are looked up when called
from propolis.metadata import fieldtypes
from propolis.metadata.expressions.typecheck import BOOL, NUMBER, STRING, CelType, join


def field_type(field: Mapping[str, Any]) -> CelType:
    """The value of ``field`` as an expression sees it (dyn when it cannot be
    known, as for a quote, which reads another object's field)."""
    return fieldtypes.definition_of(field).cel_type(field)


def variable_types(
    fields: Iterable[Mapping[str, Any]], system: Mapping[str, str] | None = None
) -> dict[str, CelType]:
    """Each field's type by api_name; ``system`` adds fields known by type name
    only (the system fields: ``{"created_at": "datetime", …}``)."""
    types = {name: field_type({"type": ftype}) for name, ftype in
             (system or {}).items()}
    types.update((f["api_name"], field_type(f)) for f in fields)
    return types


def _value_type(value: Any) -> CelType:
    if isinstance(value, bool):
        return BOOL
    return NUMBER if isinstance(value, int | float) else STRING


def attribute_types(
    fields: Iterable[Mapping[str, Any]],
) -> dict[str, dict[str, CelType]]:
    """For each select and multiselect field, each attribute its options declare,
    with the type of its values (dyn when options disagree)."""
    found: dict[str, dict[str, CelType]] = {}
    for field in fields:
        if not fieldtypes.definition_of(field).has_options:
            continue
        types = found[field["api_name"]] = {}
        for option in field["options"]:
            for name, value in (option.get("attributes") or {}).items():
                seen = types.get(name)
                now = _value_type(value)
                types[name] = now if seen is None else join(seen, now)
    return found


def option_attributes(
    fields: Iterable[Mapping[str, Any]],
) -> dict[str, dict[str, Mapping[str, Any]]]:
    """The table ``option()`` reads: field → option value → attributes, for the
    select and multiselect fields among ``fields`` (normalized)."""
    return {
        f["api_name"]: {o["value"]: o.get("attributes") or {} for o in f["options"]}
        for f in fields
        if fieldtypes.definition_of(f).has_options
    }
