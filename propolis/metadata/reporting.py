"""The object a report (报数, ``kind: report``) keeps its entries in, generated from
the report: one record per assignee and period, owned by the assignee, so that who
sees which entries (their own and those of everyone below them in the superior
chain; the admin all) is the record service's ordinary ``sharing: hierarchy``, and
totals by person, department or period are charts over it. No one writes it
through the records API: the report service does, as the platform."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from propolis.metadata.normalize import normalize_object

ENTRY_PREFIX = "report_"
# the fields every entry object has besides the report's own
ENTRY_FIELDS = ("period", "entry_key")


def entry_object_name(report: str) -> str:
    """The generated object holding the entries of report ``report``."""
    return f"{ENTRY_PREFIX}{report}"[:63]


def generated_by(report: str) -> dict[str, str]:
    """The mark of a report's entry object (``generated_by``)."""
    return {"kind": "report", "api_name": report}


def entry_object(report: Mapping[str, Any]) -> dict[str, Any]:
    """The normalized entry object of a normalized report document."""
    name = report["api_name"]
    return normalize_object({
        "kind": "object",
        "api_name": entry_object_name(name),
        "label": report["label"],
        "generated_by": generated_by(name),
        "sharing": "hierarchy",
        "deletable": False,
        "fields": [
            {"api_name": "period", "type": "text", "max_length": 16, "required": True,
             "label": {"zh": "期间", "en": "Period"}},
            # period and owner: one entry per assignee and period
            {"api_name": "entry_key", "type": "text", "max_length": 64,
             "unique": True, "hidden": True,
             "label": {"zh": "报数键", "en": "Entry key"}},
            *report["fields"],
        ],
        "permissions": {"employee": {"verbs": ["read"], "scope": "own"}},
    })
