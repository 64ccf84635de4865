"""Object documents as the object manager edits them: the field types it offers
and their inputs, an effective document made editable again, the plan of a change
(a dry run) with its refusals, and the change described in words and as a diff."""

from __future__ import annotations

import copy
import difflib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pyramid.request import Request

from propolis.metadata import Document, fieldtypes, kind_schema
from propolis.metadata.errors import MetadataError
from propolis.platform.errors import AppError, _
from propolis.platform.meta import services as meta
from propolis.platform.meta.interfaces import IMetadataService

Doc = dict[str, Any]

# --- what the admin reads about types and choices --------------------------------

SHARING = {
    "private": _("Private: the owner and their superiors"),
    "hierarchy": _("Hierarchy: superiors see their reports' records"),
    "public_read": _("Public read: everyone sees them"),
    "public_write": _("Public write: everyone sees and edits"),
    "audience": _("Audience: the author, the recipients and those mentioned"),
}
APPS = {"crm": _("CRM"), "work": _("Work"), "apps": _("Apps")}
FUNCTIONS = {"count": _("count"), "sum": _("sum"),
             "min": _("minimum"), "max": _("maximum"),
             "avg": _("average")}
NO_FIELD = _("There is no such field")
LIST_SYSTEM_COLUMNS = ("owner", "created_at", "updated_at")
API_NAME = re.compile(kind_schema("object")["$defs"]["api_name"]["pattern"])

# definition key → the input of the field form that edits it (the other inputs are
# common to every type); ``via`` and ``field`` name fields of another object when
# the type also has ``from`` (a rollup's), else fields beside it (a quote's)
DEFINITION_INPUTS = {
    "max_length": "max_length", "precision": "precision", "min": "min", "max": "max",
    "options": "options", "depends_on": "depends_on", "to": "to",
    "fields": "columns", "returns": "returns", "expression": "expression",
    "from": "rollup_from", "function": "rollup_function", "format": "format",
    "max_size_mb": "max_size_mb", "accept": "accept", "max_count": "max_count",
}
TYPED_INPUTS = ("max_length", "precision", "min", "max", "options", "depends_on",
                "to", "columns", "returns", "expression", "rollup_from",
                "rollup_via", "rollup_function", "rollup_field", "quote_via",
                "quote_field", "format", "max_size_mb", "accept", "max_count")
# document key of a field → the input showing its problems
KEY_INPUTS = {"label": "label_zh", "help": "help_zh", "from": "rollup_from",
              "function": "rollup_function", "fields": "columns"}


def type_descriptions() -> dict[str, Mapping[str, str]]:
    """The field types the manager offers, each with what it is for ({zh, en})."""
    return {d.name: d.description for d in fieldtypes.definitions()}


def formula_results() -> list[str]:
    """The types a formula may return, as the object schema lists them."""
    return list(kind_schema("object")["$defs"]["formula_returns"]["enum"])


def inputs_of(ftype: str) -> list[str]:
    """The inputs of the field form for the definition keys of type ``ftype``."""
    if ftype not in fieldtypes.type_names():
        return []
    keys = fieldtypes.definition(ftype).keys
    found = [DEFINITION_INPUTS[k] for k in keys if k in DEFINITION_INPUTS]
    other = "rollup" if "from" in keys else "quote"
    return found + [f"{other}_{k}" for k in ("via", "field") if k in keys]


def type_inputs() -> dict[str, list[str]]:
    """Which types each input of the field form belongs to."""
    found: dict[str, list[str]] = {name: [] for name in TYPED_INPUTS}
    for name in fieldtypes.type_names():
        for key in inputs_of(name):
            found[key].append(name)
    return found


def translated(request: Request, value: Mapping[str, str] | None) -> str:
    return request.translate(value) if value else ""


# --- documents --------------------------------------------------------------------


def _strip_archive(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip_archive(v) for k, v in value.items()
                if k != "archived_fields"}
    if isinstance(value, list):
        return [_strip_archive(v) for v in value]
    return value


def plain(value: Mapping[str, Any]) -> Doc:
    """A normalized document (or field) as a person would write it."""
    out = meta.exportable(_strip_archive(copy.deepcopy(dict(value))))
    assert isinstance(out, dict)
    return out


def editable_document(doc: Mapping[str, Any]) -> Doc:
    """An effective (normalized) object as the document that would define it: what
    the pages change and apply. The archive stays with the stored version; a field
    comes back from it by being in the document again."""
    return plain(doc)


def label_of(zh: str | None, en: str | None) -> dict[str, str] | None:
    parts = {k: v.strip() for k, v in (("zh", zh), ("en", en)) if v and v.strip()}
    return parts or None


@dataclass
class Refusal:
    """Why a change cannot be applied: messages by document path (``fields[2].to``)
    and those about the whole change, in the page's language."""

    general: list[str] = field(default_factory=list)
    paths: dict[str, list[str]] = field(default_factory=dict)

    def at(self, path: str, message: str) -> None:
        self.paths.setdefault(path, []).append(message)


def _refusal(request: Request, exc: Exception, doc: Mapping[str, Any]) -> Refusal:
    refusal = Refusal()
    if isinstance(exc, MetadataError):
        for problem in exc.problems:
            text = request.translate(problem.as_text())
            if problem.path:
                refusal.at(problem.path, text)
            else:
                refusal.general.append(text)
        return refusal
    assert isinstance(exc, AppError)
    names = [f["api_name"] for f in doc.get("fields", [])]
    for where, messages in exc.fields.items():
        # the planner names ``object.field[.column]``; the pages, document paths
        _sep, _dot, rest = where.partition(".")
        top = rest.split(".")[0]
        for message in messages:
            if top in names:
                refusal.at(f"fields[{names.index(top)}]", request.translate(message))
            else:
                refusal.general.append(request.translate(message))
    if not exc.fields:
        refusal.general.append(request.translate(exc.message))
    return refusal


@dataclass
class Planned:
    version: int
    steps: list[str]
    backfills: int
    effective: Doc


def plan_document(request: Request, doc: Doc) -> Planned | Refusal:
    """The dry run of applying ``doc``: the same validation and storage plan as
    ``PUT /api/v1/metadata/objects/{o}?dry_run=1`` and ``propolis metadata plan``."""
    try:
        applied = request.find_service(IMetadataService).plan(
            [Document(copy.deepcopy(doc), f"{doc['api_name']}.json")])
    except (MetadataError, AppError) as exc:
        return _refusal(request, exc, doc)
    return Planned(applied.version, applied.plan.describe(request.lang),
                   len(applied.plan.backfills),
                   applied.plan.effective[doc["api_name"]])


# --- a readable difference between two versions of an object ----------------------

_OBJECT_KEYS = {"label": _("label"), "app": _("navigation section"),
                "sharing": _("sharing"),
                "deletable": _("deletable"),
                "name_field": _("name field"),
                "description": _("description"),
                "permissions": _("permissions"),
                "validations": _("validation rules")}


def _short(value: Any) -> str:
    if isinstance(value, dict) and set(value) <= {"zh", "en"}:
        return " / ".join(dict.fromkeys(str(v) for v in value.values()))
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 80 else text[:77] + "…"


def describe_changes(old: Mapping[str, Any] | None, new: Mapping[str, Any] | None
                     ) -> list[dict[str, str]]:
    """What differs from ``old`` to ``new`` (normalized object documents, either may
    be absent), one ``{"zh","en"}`` sentence per change: per field, per object key,
    per layout and list view."""
    if old is None and new is None:
        return []
    if old is None or new is None:
        doc = new or old
        assert doc is not None
        count = len(doc["fields"])
        return [_("New object with ${count} field(s)", mapping={"count": count})
                if old is None else
                _("The object does not exist in that version")]
    changes = []
    for key, name in _OBJECT_KEYS.items():
        if old.get(key) != new.get(key):
            changes.append(_("${name}: ${old} → ${new}",
                             mapping={"name": name, "old": _short(old.get(key)),
                                      "new": _short(new.get(key))}))
    before = {f["api_name"]: f for f in old["fields"]}
    after = {f["api_name"]: f for f in new["fields"]}
    for fname, f in after.items():
        label = _short(f["label"])
        if fname not in before:
            changes.append(_("Field ${label} (${fname}, ${type}) added",
                             mapping={"label": label,
                                      "fname": fname,
                                      "type": f['type']}))
            continue
        keys = sorted(k for k in set(f) | set(before[fname])
                      if f.get(k) != before[fname].get(k) and k != "archived_fields")
        for key in keys:
            was, now = _short(before[fname].get(key)), _short(f.get(key))
            changes.append(_("Field ${label} (${fname}) ${key}: ${was} → ${now}",
                             mapping={"label": label,
                                      "fname": fname,
                                      "key": key,
                                      "was": was,
                                      "now": now}))
    for fname, f in before.items():
        if fname not in after:
            changes.append(_("Field ${label} (${fname}) removed (its data kept in "
                             "the archive)",
                             mapping={"label": _short(f['label']), "fname": fname}))
    kept = [n for n in before if n in after]
    if kept != [n for n in after if n in before]:
        changes.append(_("Field order changed"))
    for key, what in (("layouts", _("Layout")),
                      ("list_views", _("List view"))):
        olds = {v["api_name"]: v for v in old.get(key, [])}
        for view in new.get(key, []):
            if view.get("generated"):
                continue
            if olds.get(view["api_name"]) != view:
                changes.append(_("${what} ${label} changed",
                                 mapping={"what": what,
                                          "label": _short(view['label'])}))
    return changes


def text_diff(old: Mapping[str, Any] | None, new: Mapping[str, Any] | None) -> str:
    """A unified diff of the two documents as sorted JSON, for the curious."""
    def lines(doc: Mapping[str, Any] | None) -> list[str]:
        if doc is None:
            return []
        return json.dumps(doc, ensure_ascii=False, indent=1, sort_keys=True,
                          default=str).splitlines()

    return "\n".join(difflib.unified_diff(lines(old), lines(new), "version",
                                          "current", lineterm=""))


# --- forms ------------------------------------------------------------------------
