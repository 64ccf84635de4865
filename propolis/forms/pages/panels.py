"""What a record's detail page shows besides its fields, each from metadata that
any object may have: its timeline (the records whose object names this one in
``timeline:``, newest first) with a quick-add form of each such object, the
parameters its actions ask for, and a stage bar for every select whose options
carry a ``closed`` attribute (the options in order, the current one marked,
"advance" to the next open one through the record service's ``update``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pyramid.request import Request

from propolis.forms.display import ORGANISATION, display_text, record_path
from propolis.forms.fields import SpecField
from propolis.forms.typetable import widgets_for
from propolis.platform.actions.interfaces import IActionService
from propolis.platform.actions.registry import record_actions
from propolis.platform.fields.references import RecordReference
from propolis.platform.fields.registry import field_type
from propolis.platform.meta.effective import ObjectMeta
from propolis.platform.records.interfaces import IRecordService
from propolis.platform.records.plan import reference_target
from propolis.platform.records.timeline import timeline_paths

TIMELINE_ROWS = 20
RELATED_COLUMNS = 4
SYSTEM_COLUMNS = ("owner",)


def _shown_on_timeline(field: SpecField, record_id: str) -> bool:
    """A timeline entry's tags, links and photos: its choices, the records it
    names other than the one whose timeline it is, its images."""
    if field.data in (None, "", []):
        return False
    widgets = widgets_for(field.spec)
    if reference_target(field.spec) is not None:
        return field.data != record_id
    return widgets.chosen or widgets.thumbnails


def timeline(request: Request, obj: ObjectMeta, record: Mapping[str, Any],
             form_class: Any, name_things: Any, user_names: Any
             ) -> list[dict[str, Any]] | None:
    """The record's timeline entries (None: nothing reaches this object's).
    ``form_class``, ``name_things`` and ``user_names`` are the record pages'."""
    if not timeline_paths(request.effective, obj.api_name):
        return None
    items = request.find_service(IRecordService).timeline(obj.api_name, record["id"],
                                         limit=TIMELINE_ROWS, cursor=None)["items"]
    who = user_names(request, {i["created_by"] for i in items})
    classes: dict[str, Any] = {}
    entries = []
    for item in items:
        source = request.effective.objects[item["object"]]
        cls = classes.get(source.api_name)
        if cls is None:
            cls = classes[source.api_name] = form_class(request, source,
                                                        read_only=True)
        form = cls(data=item["record"])
        name_things(request, form)
        entries.append({
            "name": item["name"], "object_label": request.translate(source.label),
            "url": record_path(source.api_name, item["id"]),
            "when": str(item["created_at"])[:16].replace("T", " "),
            "who": who.get(item["created_by"], ""),
            "fields": [f for f in form if isinstance(f, SpecField)
                       and f.short_name != source.doc["name_field"]
                       and _shown_on_timeline(f, record["id"])],
        })
    return entries


def quick_adds(request: Request, obj: ObjectMeta, record: Mapping[str, Any],
               form_class: Any) -> list[dict[str, Any]]:
    """A short form for each object whose records name this one directly on its
    timeline and which the user may create: its name field, choices and
    images, the reference to this record given."""
    found = []
    for source, field, via in timeline_paths(request.effective, obj.api_name):
        if via is not None or not request.access.allows(source, "create"):
            continue
        meta = request.effective.objects[source]
        form = form_class(request, meta)(data={field: record["id"]})
        shown = [f for f in form if isinstance(f, SpecField) and f.editable
                 and f.short_name != field
                 and (f.short_name == meta.doc["name_field"]
                      or widgets_for(f.spec).chosen
                      or widgets_for(f.spec).thumbnails)]
        if not any(f.short_name == meta.doc["name_field"] for f in shown):
            continue
        found.append({"object": source, "field": field,
                      "label": request.translate(meta.label), "fields": shown})
    return found


def stage_fields(obj: ObjectMeta) -> list[dict[str, Any]]:
    """The selects whose options say which are ``closed`` (stages)."""
    return [spec for spec in obj.doc["fields"]
            if widgets_for(spec).chosen and not spec.get("hidden")
            and field_type(spec).has_options
            and any("closed" in (o.get("attributes") or {})
                    for o in spec.get("options") or ())]


def _closed(option: Mapping[str, Any]) -> bool:
    return bool((option.get("attributes") or {}).get("closed"))


def next_stage(spec: Mapping[str, Any], value: Any) -> dict[str, Any] | None:
    """The first open option after ``value`` (None: there is none, or ``value``
    is closed)."""
    options = spec["options"]
    values = [o["value"] for o in options]
    if value in values and _closed(options[values.index(value)]):
        return None
    start = values.index(value) + 1 if value in values else 0
    return next((o for o in options[start:] if not _closed(o)), None)


def stage_bars(request: Request, obj: ObjectMeta, record: Mapping[str, Any],
               may_edit: bool) -> list[dict[str, Any]]:
    bars = []
    for spec in stage_fields(obj):
        value = record.get(spec["api_name"])
        following = next_stage(spec, value) if may_edit else None
        bars.append({
            "field": spec["api_name"], "label": request.translate(spec["label"]),
            "stages": [{"value": o["value"], "label": request.translate(o["label"]),
                        "current": o["value"] == value, "closed": _closed(o)}
                       for o in spec["options"]],
            "next": request.translate(following["label"]) if following else None,
        })
    return bars


def action_params(action: Mapping[str, Any], posted: Mapping[str, Any]
                  ) -> dict[str, Any]:
    """An action's parameters as the page posted them (empty optional ones left
    out; anything else posted is not the action's)."""
    params = {}
    for param in action.get("params", ()):
        value = str(posted.get(param["name"], "")).strip()
        if value or param["required"]:
            params[param["name"]] = value
    return params


def pointing_at(request: Request, object: str) -> list[tuple[str, str]]:
    """``(object, field)`` of every lookup or master-detail field the user may
    see, of any object they may read, that points at ``object``."""
    found = []
    access = request.access
    for other in access.readable_objects():
        if other in ORGANISATION:
            continue
        hidden = access.hidden(other)
        for spec in request.effective.objects[other].doc["fields"]:
            if (isinstance(field_type(spec), RecordReference)
                    and reference_target(spec) == object
                    and spec["api_name"] not in hidden and not spec["hidden"]):
                found.append((other, spec["api_name"]))
    return found


def related_columns(meta: ObjectMeta, field: str, hidden: Any) -> list[str]:
    """A related list's columns: its object's first list view's, without the
    name (the row's link) and the field pointing here."""
    views = meta.doc.get("list_views") or ()
    columns = views[0]["columns"] if views else [
        s["api_name"] for s in meta.doc["fields"]]
    return [c for c in columns
            if c not in (field, meta.doc["name_field"]) and c not in hidden
            and (c in SYSTEM_COLUMNS or (c in meta.fields
                                          and not meta.fields[c]["hidden"]
                                          and not field_type(meta.fields[c]).has_rows))
            ][:RELATED_COLUMNS]


def cell_text(request: Request, meta: ObjectMeta, column: str,
              row: Mapping[str, Any], names: Mapping[str, str]) -> str:
    value = row.get(column)
    if column in SYSTEM_COLUMNS:
        return names.get(value, "") if value else ""
    spec = meta.fields[column]
    if reference_target(spec) is not None and isinstance(value, str):
        return names.get(value, value)
    return display_text(spec, value, request.lang, request.tz)


def add_row_links(request: Request, related: list[dict[str, Any]],
                  record_id: str) -> None:
    """On each row of a related list of X: "new Y" for every other related
    object Y that points at this record and at X too (a payment recorded
    against one of a contract's plans: ``/o/payment/new?contract=C&plan=P``),
    when the user may create Y."""
    by_object = {(r["object"], r["field"]) for r in related}
    for rel in related:
        links = []
        for other, field in sorted(by_object):
            if other == rel["object"] or not request.access.allows(other, "create"):
                continue
            meta = request.effective.objects[other]
            via = next((s["api_name"] for s in meta.doc["fields"]
                        if reference_target(s) == rel["object"]
                        and not s["hidden"]), None)
            if via is not None:
                links.append((other, field, via,
                              request.translate(meta.label)))
        for row in rel["records"]:
            row["new"] = [{"label": label, "url": request.route_path(
                "records.new", object=other,
                _query={field: record_id, via: row["id"]})}
                for other, field, via, label in links]


def add_row_actions(request: Request, related: list[dict[str, Any]]) -> None:
    """On each row: the registered actions that ask for nothing and that the
    user may run on that record now (a pool member's "claim" on the pool's
    page). Declared actions stay on the record's own page."""
    for rel in related:
        names = {a.name for a in record_actions(request.registry).of(rel["object"])
                 if not a.params}
        for row in rel["records"]:
            row["actions"] = [] if not names else [
                a for a in request.find_service(IActionService).available(
                    rel["object"], row["id"])
                if a["api_name"] in names and not a.get("params")]
