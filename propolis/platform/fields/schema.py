"""The JSON Schema (draft 2020-12) of what a client may write to an object's
records, generated from its metadata, each field's part by its type: the single
source of truth for the API, import and the generated forms
(``records.schema`` validates with it)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from propolis.platform.fields.registry import field_type
from propolis.platform.ids import ID_LENGTH


def writable(field: Mapping[str, Any]) -> bool:
    """Whether clients write this field (computed fields are read-only)."""
    return field_type(field).writable(field)


def field_schema(field: Mapping[str, Any]) -> dict[str, Any]:
    """The schema of one field's JSON value (null allowed unless required)."""
    return field_type(field).schema(field)


def object_schema(
    fields: Iterable[Mapping[str, Any]], *, create: bool, row: bool = False
) -> dict[str, Any]:
    """The schema of a record (or a table row) as a client writes it. ``create``:
    required fields must be present; an update only names the fields it changes."""
    properties: dict[str, Any] = {}
    required = []
    for field in fields:
        if not writable(field):
            continue
        properties[field["api_name"]] = field_schema(field)
        if create and field.get("required"):
            required.append(field["api_name"])
    if row:
        properties["id"] = {"type": ["string", "null"], "maxLength": ID_LENGTH}
    schema: dict[str, Any] = {"type": "object", "properties": properties,
                              "additionalProperties": False}
    if required:
        schema["required"] = required
    return schema


def record_schema(obj_doc: Mapping[str, Any], *, create: bool) -> dict[str, Any]:
    """The published schema of an object's writable record body."""
    return {"$schema": "https://json-schema.org/draft/2020-12/schema",
            "title": obj_doc["api_name"],
            **object_schema(obj_doc["fields"], create=create)}
