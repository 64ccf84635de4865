"""What a page shows instead of ids: the names of the records that references
point at (only those the user may read, through the record service), and which
uploaded files a record shows (their names come from the file service)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from propolis.platform.errors import AppError
from propolis.platform.fields.registry import field_type
from propolis.platform.records.plan import reference_target
from propolis.platform.records.services import RecordService

CHUNK = 200  # the query engine's largest page


def name_of(record: Mapping[str, Any], name_field: str) -> str:
    """A record's name (its id when the name is empty or hidden from the user)."""
    value = record.get(name_field)
    return str(value) if value not in (None, "") else str(record["id"])


def references(fields: Iterable[Mapping[str, Any]],
               record: Mapping[str, Any]) -> dict[str, set[str]]:
    """``{target object: ids}`` of the references in ``record`` (its table rows
    included) among ``fields``."""
    found: dict[str, set[str]] = {}
    for spec in fields:
        value = record.get(spec["api_name"])
        target = reference_target(spec)
        if target is not None and isinstance(value, str) and value:
            found.setdefault(target, set()).add(value)
        elif field_type(spec).has_rows and isinstance(value, list):
            for row in value:
                for target, ids in references(spec["fields"], row).items():
                    found.setdefault(target, set()).update(ids)
    return found


def record_names(records: RecordService,
                 wanted: Mapping[str, Iterable[str]]) -> dict[str, str]:
    """``{id: name}`` of the wanted records the user may read; the others are
    left out (a page then shows the bare id)."""
    names: dict[str, str] = {}
    for target, ids in wanted.items():
        obj = records.effective.object(target)
        if obj is None or not records.policy.allows(target, "read"):
            continue
        name_field = obj.doc["name_field"]
        ordered = sorted(ids)
        for start in range(0, len(ordered), CHUNK):
            chunk = ordered[start:start + CHUNK]
            try:
                page = records.query(target, filters=[
                    {"field": "id", "op": "in", "value": chunk}], limit=len(chunk))
            except AppError:  # ids that are not ids: nothing to name
                continue
            names.update((r["id"], name_of(r, name_field)) for r in page["records"])
    return names


def file_ids(fields: Iterable[Mapping[str, Any]], record: Mapping[str, Any]
             ) -> set[str]:
    """The file ids in ``record``'s file and image fields (table rows included)."""
    found: set[str] = set()
    for spec in fields:
        value = record.get(spec["api_name"])
        if field_type(spec).holds_files and isinstance(value, list):
            found.update(v for v in value if isinstance(v, str))
        elif field_type(spec).has_rows and isinstance(value, list):
            for row in value:
                found |= file_ids(spec["fields"], row)
    return found
