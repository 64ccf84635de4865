"""Validation of a batch of metadata documents: bounds, the JSON Schema of each kind
(``schema``), layering over what exists, then the checks a schema cannot express
(``checks``). Every problem found is reported at once, each with its file, line,
path and fix.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Any

from propolis.metadata.chart_checks import (
    check_chart,
    check_dashboard,
    check_entry_object,
)
from propolis.metadata.checks import Checks
from propolis.metadata.errors import MetadataError, Problem
from propolis.metadata.layering import merge_object
from propolis.metadata.loader import Document, check_limits, load_system_documents
from propolis.metadata.normalize import normalize_document, normalize_object
from propolis.metadata.schema import schema_problems


def validate_documents(
    docs: Iterable[Document | Mapping[str, Any]],
    *,
    existing: Mapping[str, Mapping[str, Any]] | None = None,
    charts: Mapping[str, Mapping[str, Any]] | None = None,
) -> list[dict[str, Any]]:
    """Checks a batch of documents and returns them normalized, in order.

    ``existing`` holds the tenant's other effective objects (api_name → normalized
    object): lookups, rollups and approval forms may refer to them, as to the system
    objects ``user`` and ``department``. An object document whose api_name is in
    ``existing`` (or is a system object) is a later layer over that object: it is
    checked, and returned, merged over it (see ``layering``). ``charts`` holds the
    tenant's other charts, which dashboards may name.
    Raises ``MetadataError`` with every problem found.
    """
    documents = [d if isinstance(d, Document) else Document(dict(d)) for d in docs]
    existing = existing or {}
    problems: list[Problem] = []
    valid: list[Document] = []
    for doc in documents:
        # documents built from API bodies have not been through the loader
        limit = check_limits(doc.data, doc.source)
        found = [limit] if limit else schema_problems(doc)
        problems += found
        if not found:
            valid.append(doc)
    problems += _duplicate_documents(documents)

    # Every object the batch may refer to; None: it exists but is itself broken, so
    # references to it are not checked further (its own problems are reported).
    objects: dict[str, Mapping[str, Any] | None] = {**_system_objects(), **existing}
    objects.update(
        (d.api_name, None) for d in documents if d.kind == "object" and d.api_name
    )
    effective: dict[int, dict[str, Any]] = {}
    for doc in valid:
        if doc.kind != "object":
            continue
        name = doc.data["api_name"]
        made = (existing.get(name) or {}).get("generated_by")
        if made:
            problems.append(doc.problem(("api_name",), "generated_object", name=name,
                                        kind=made["kind"], by=made["api_name"]))
            continue
        lower = existing.get(name) or _system_objects().get(name)
        try:
            merged = merge_object(lower, doc) if lower else doc.data
        except MetadataError as exc:
            problems += exc.problems
            continue
        effective[id(doc)] = objects[name] = normalize_object(merged)

    known_charts = {**(charts or {}),
                    **{d.data["api_name"]: d.data for d in valid if d.kind == "chart"}}
    for doc in valid:
        checks = Checks(doc, objects)
        if doc.kind == "object" and id(doc) in effective:
            checks.check_object(effective[id(doc)])
        elif doc.kind == "approval":
            checks.check_approval()
        elif doc.kind == "report":
            checks.check_report(normalize_document(doc.data))
            check_entry_object(checks)
        elif doc.kind == "chart":
            check_chart(checks)
        elif doc.kind == "dashboard":
            check_dashboard(checks, known_charts)
        problems += checks.problems
    if problems:
        raise MetadataError(problems)
    return [effective.get(id(d)) or normalize_document(d.data) for d in documents]


def load_system_objects() -> list[dict[str, Any]]:
    """The system objects ``department`` and ``user``, validated and normalized."""
    return validate_documents(load_system_documents())


@functools.cache
def _system_objects() -> Mapping[str, Mapping[str, Any]]:
    # Only read here (never handed out), so the cached dicts are safe to share.
    return MappingProxyType(
        {
            doc.data["api_name"]: normalize_object(doc.data)
            for doc in load_system_documents()
        }
    )


def _duplicate_documents(documents: list[Document]) -> list[Problem]:
    seen: set[tuple[str | None, str]] = set()
    problems = []
    for doc in documents:
        key = (doc.kind, doc.api_name or "")
        if doc.api_name and key in seen:
            problems.append(
                doc.problem(
                    ("api_name",),
                    "duplicate_document",
                    kind=doc.kind,
                    name=doc.api_name,
                )
            )
        seen.add(key)
    return problems
