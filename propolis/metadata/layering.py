"""Layers of object metadata — system < extensions < the tenant's own — merged into
the effective objects.

The merge rule, applied one document at a time in layer order (and, within a layer,
in list order):

* An object seen for the first time is taken as it is.
* A later document for the same ``api_name`` is laid over it, key by key; what it
  does not mention is inherited:
  - ``label``, ``description``, ``app``, ``name_field``, ``deletable``, ``sharing``,
    ``duplicates``, ``timeline``, ``social``: replaced.
  - ``fields``: matched by ``api_name``. A new field is appended. An existing field
    keeps its place and the keys the later layer states replace the lower ones
    (``label``, ``help``, ``options``, ``required``, ``hidden`` …); a table's
    ``fields`` merge the same way, recursively. ``type`` and a lookup's ``to`` can
    never change (stored data depends on them): that is a ``MetadataError``.
    Fields cannot be removed, only hidden (``hidden: true``).
  - ``permissions``: per role, a later layer's entry replaces the role's entry.
  - ``list_views``, ``layouts``, ``actions``, ``schedules``: matched by
    ``api_name``, replaced or appended.
  - ``validations``: appended (a rule already present is not repeated); a later
    layer cannot drop a lower layer's rule.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

from propolis.metadata.errors import MetadataError, PathPart, Problem, quote
from propolis.metadata.fieldtypes import definition_of
from propolis.metadata.loader import Document
from propolis.metadata.normalize import normalize_object

REPLACED_KEYS = ("label", "description", "app", "name_field", "deletable",
                 "sharing", "duplicates", "timeline", "social")
IMMUTABLE_FIELD_KEYS = ("type", "to")
LAYERS = ("system", "extension", "tenant")


def merge_layers(
    system: list[dict[str, Any]],
    extensions: list[dict[str, Any]],
    tenant: list[dict[str, Any]],
) -> dict[str, dict[str, Any]]:
    """The effective, normalized objects by ``api_name`` (see the module docstring for
    the merge rule). Raises ``MetadataError`` listing every refused change."""
    merged: dict[str, dict[str, Any]] = {}
    problems: list[Problem] = []
    for layer, docs in zip(LAYERS, (system, extensions, tenant), strict=True):
        for doc in docs:
            name = doc["api_name"]
            if name not in merged:
                merged[name] = copy.deepcopy(doc)
                continue
            try:
                merged[name] = merge_object(
                    merged[name], Document(doc, f"{layer} layer")
                )
            except MetadataError as exc:
                problems += exc.problems
    if problems:
        raise MetadataError(problems)
    return {name: normalize_object(doc) for name, doc in merged.items()}


def merge_object(lower: Mapping[str, Any], upper: Document) -> dict[str, Any]:
    """``upper`` laid over ``lower`` (one object, not normalized)."""
    data = upper.data
    problems: list[Problem] = []
    out = copy.deepcopy(dict(lower))
    for key in REPLACED_KEYS:
        if key in data:
            out[key] = copy.deepcopy(data[key])
    out["fields"] = _merge_fields(
        lower.get("fields", []),
        data.get("fields", []),
        ("fields",),
        upper,
        lower["api_name"],
        problems,
    )
    if "permissions" in data:
        out["permissions"] = {
            **out.get("permissions", {}),
            **copy.deepcopy(data["permissions"]),
        }
    if "validations" in data:
        rules = out.setdefault("validations", [])
        known = {rule["rule"] for rule in rules}
        rules += [
            copy.deepcopy(r) for r in data["validations"] if r["rule"] not in known
        ]
    for key in ("list_views", "layouts", "actions", "schedules"):
        if key in data:
            out[key] = _merge_named(out.get(key, []), data[key])
    if problems:
        raise MetadataError(problems)
    return out


def _merge_fields(
    lower: Sequence[Mapping[str, Any]],
    upper: Sequence[Mapping[str, Any]],
    path: tuple[PathPart, ...],
    doc: Document,
    object_name: str,
    problems: list[Problem],
) -> list[dict[str, Any]]:
    merged = {f["api_name"]: copy.deepcopy(dict(f)) for f in lower}
    for index, field in enumerate(upper):
        name = field["api_name"]
        here = (*path, index)
        base = merged.get(name)
        if base is None:
            merged[name] = copy.deepcopy(dict(field))
            continue
        refused = False
        for key in IMMUTABLE_FIELD_KEYS:
            if key in field and key in base and field[key] != base[key]:
                problems.append(
                    doc.problem(
                        (*here, key),
                        "layer_change",
                        name=name,
                        object=object_name,
                        key=key,
                        old=quote(base[key]),
                        new=quote(field[key]),
                    )
                )
                refused = True
        if refused:
            continue
        combined = {**base, **copy.deepcopy(dict(field))}
        if definition_of(base).has_rows and "fields" in field:
            combined["fields"] = _merge_fields(
                base["fields"],
                field["fields"],
                (*here, "fields"),
                doc,
                object_name,
                problems,
            )
        merged[name] = combined
    return list(merged.values())


def _merge_named(
    lower: Sequence[Mapping[str, Any]], upper: Sequence[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    merged = {item["api_name"]: copy.deepcopy(dict(item)) for item in lower}
    merged.update((item["api_name"], copy.deepcopy(dict(item))) for item in upper)
    return list(merged.values())
