"""One record's pages, generated from the object's metadata: new and edit forms,
the detail page (layout sections, related lists, actions), its history and joint
followers, the recycle bin, and the helpers the form calls (lookup search,
dependent select options).

Every page asks the record service, on behalf of the logged-in user, exactly what
the JSON API asks it: the same validation, the same permissions. A record the user
cannot reach (another enterprise's included) is the same 404 page as a missing
one."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.i18n import TranslationStringFactory
from pyramid.request import Request
from pyramid.response import Response
from pyramid.view import view_config
from webob.multidict import MultiDict

from propolis.forms.data import apply_errors, form_to_json, submitted_version
from propolis.forms.display import display_text, record_path
from propolis.forms.fields import AreaPartField, GroupField, SpecField
from propolis.forms.generate import (
    SYSTEM_SPECS,
    RecordForm,
    form_class_for,
)
from propolis.forms.layout import form_layout
from propolis.forms.names import (
    file_ids,
    name_of,
    record_names,
    references,
)
from propolis.forms.pages import panels
from propolis.forms.pages.home import login_redirect
from propolis.forms.widgets import errors_html
from propolis.platform.actions.interfaces import IActionService
from propolis.platform.errors import AppError, NotFound
from propolis.platform.fields.registry import field_type
from propolis.platform.meta.effective import ObjectMeta
from propolis.platform.records.interfaces import IFileService, IRecordService
from propolis.platform.records.plan import reference_target
from propolis.platform.records.services import RecordService
from propolis.platform.web.pages import attempt, render_page, safe_next

_ = TranslationStringFactory("propolis")
T = "propolis.forms:templates/records/"
RELATED_ROWS = 5  # records shown per related list on the detail page
LOOKUP_ROWS = 10
BIN_PAGE = 50
ACTIONS = ("delete", "restore", "transfer")
NO_SUCH_OBJECT = _("There is no such object")


# -- plumbing ----------------------------------------------------------------------

def page(fn: Callable[[Request], Response]) -> Callable[[Request], Response]:
    """A page of a logged-in user: the login page otherwise. A refusal of the
    services (404, 403, a locked record) is the web layer's error page, in the
    user's language."""

    @functools.wraps(fn)
    def wrapper(request: Request) -> Response:
        if request.page_user is None:
            return login_redirect(request)
        return fn(request)

    return wrapper


def records_of(request: Request) -> RecordService:
    """The record service of the request's user."""
    service: RecordService = request.find_service(IRecordService)
    return service


def _object(request: Request) -> ObjectMeta:
    """The object of the URL, which the user may read (else 404 / 403)."""
    name = request.matchdict["object"]
    obj = request.effective.object(name)
    if obj is None:
        raise NotFound("no_such_object", NO_SUCH_OBJECT)
    request.access.require(name, "read")
    return obj


def _label(request: Request, obj: ObjectMeta) -> str:
    return request.translate(obj.label)


def _render(request: Request, template: str, values: dict[str, Any],
            status: int = 200) -> Response:
    values.setdefault("flashes", request.session.pop_flash())
    return render_page(request, T + template, values, status)


def _redirect(request: Request, route: str, flash: Any = None,
              **parts: str) -> Response:
    if flash is not None:
        request.session.flash(request.translate(flash))
    return HTTPSeeOther(request.route_path(route, **parts))


def record_form_class(request: Request, obj: ObjectMeta, *, read_only: bool = False
                ) -> type[RecordForm]:
    """The object's form as the user may fill it: fields hidden from them left out,
    those they may only read shown read-only (``read_only``: every field)."""
    access = request.access.field_access(obj.api_name)
    if read_only:
        access = {n: "hidden" if a == "hidden" else "read" for n, a in access.items()}
    return form_class_for(obj, lang=request.lang, tz=request.tz,
                          field_access=access)


def name_things(request: Request, form: RecordForm) -> None:
    """Fills ``form.names`` with the names of the records and files it shows."""
    specs = [f.spec for f in form if isinstance(f, SpecField)]
    shown = {f.short_name: f.data for f in form if isinstance(f, SpecField)}
    form.names.update(record_names(records_of(request), references(specs, shown)))
    form.names.update(request.find_service(IFileService).names(file_ids(specs,
                                                                        shown)))


def _user_names(request: Request, ids: set[str]) -> dict[str, str]:
    return record_names(records_of(request), {"user": {i for i in ids if i}})


def _form_page(request: Request, obj: ObjectMeta, form: RecordForm,
               record: Mapping[str, Any] | None, status: int = 200) -> Response:
    name_things(request, form)
    return _render(request, "form.html", {
        "object": obj.api_name, "object_label": _label(request, obj),
        "form": form, "layout": form_layout(form), "record": record,
        "record_name": name_of(record, obj.doc["name_field"]) if record else None,
        "errors_html": errors_html,
    }, status)


def _save(request: Request, obj: ObjectMeta, form: RecordForm,
          record: Mapping[str, Any] | None) -> Response:
    """Hands a submitted form to the record service; on a refusal shows it again
    with the messages next to the fields and the user's input kept."""
    try:
        values = form_to_json(form)
        records = records_of(request)
        # whatever the service did before refusing is undone, while the page
        # itself still answers
        if record is None:
            saved = attempt(request, records.create, obj.api_name, values)
        else:
            saved = attempt(request, records.update, obj.api_name, record["id"],
                            values, version=submitted_version(form))
    except AppError as error:
        if error.status in (403, 404):
            raise
        apply_errors(form, error, request.lang)
        return _form_page(request, obj, form, record,
                          409 if error.status == 409 else 400)
    flash = _("Record created.") if record is None else _("Changes saved.")
    # a quick-add form on another record's page goes back to that page
    back = safe_next(request.POST.get("next"), "")
    if back:
        request.session.flash(request.translate(flash))
        return HTTPSeeOther(back)
    return _redirect(request, "records.detail", flash, object=obj.api_name,
                     id=saved["id"])


# -- new, edit ---------------------------------------------------------------------

@view_config(route_name="records.new", request_method=("GET", "POST"))
@page
def new(request: Request) -> Response:
    obj = _object(request)
    request.access.require(obj.api_name, "create")
    cls = record_form_class(request, obj)
    if request.method == "POST":
        return _save(request, obj, cls(request.POST), None)
    # ?<field>=<id> fills a reference in (a related list's "new" link)
    given = {k: v for k, v in request.GET.items()
             if k in obj.fields and reference_target(obj.fields[k]) is not None}
    return _form_page(request, obj, cls(data=given), None)


@view_config(route_name="records.edit", request_method=("GET", "POST"))
@page
def edit(request: Request) -> Response:
    obj = _object(request)
    record_id = request.matchdict["id"]
    records_of(request).check(obj.api_name, record_id, "edit")
    record = records_of(request).get(obj.api_name, record_id)
    if record["life_status"] == "in_review":
        raise AppError("locked", _("The record is under approval and locked"),
                       status=409)
    cls = record_form_class(request, obj)
    if request.method == "POST":
        return _save(request, obj, cls(request.POST, data=record), record)
    return _form_page(request, obj, cls(data=record), record)


# -- detail, history, team -----------------------------------------------------------

def _may(request: Request, obj: ObjectMeta, record_id: str, verb: str) -> bool:
    if not request.access.allows(obj.api_name, verb):
        return False
    try:
        records_of(request).check(obj.api_name, record_id, verb)
    except AppError:
        return False
    return True


def _record_page(request: Request, obj: ObjectMeta, record: Mapping[str, Any],
                 tab: str) -> dict[str, Any]:
    """What the detail, history and team pages share: the record's header, its
    tabs and the actions the user may take."""
    record_id = record["id"]
    locked = record["life_status"] == "in_review"
    owner = record.get("owner")
    actions = request.find_service(IActionService).available(obj.api_name,
                                                              record_id)
    return {
        "object": obj.api_name, "object_label": _label(request, obj),
        "record": record, "tab": tab,
        "record_name": name_of(record, obj.doc["name_field"]),
        "owner_name": _user_names(request, {owner}).get(owner) if owner else None,
        "status": display_text(SYSTEM_SPECS["life_status"], record["life_status"],
                               request.lang, request.tz),
        "locked": locked,
        "may": {
            "edit": not locked and _may(request, obj, record_id, "edit"),
            "delete": (not locked and obj.doc.get("deletable", True)
                       and _may(request, obj, record_id, "delete")),
            # an object's own "transfer" action (the CRM's takes the related
            # records along) replaces the plain one
            "transfer": (not locked and _may(request, obj, record_id, "transfer")
                         and all(a["api_name"] != "transfer" for a in actions)),
        },
        # the object's actions (metadata and extensions) the user may run now
        "record_actions": actions,
    }


def _related(request: Request, obj: ObjectMeta, record_id: str) -> list[dict[str, Any]]:
    """For every lookup or master-detail field (of any object the user may read)
    that points at this object: the first records pointing at this record, with
    the columns of their object's first list view."""
    found = []
    access = request.access
    for other, name in panels.pointing_at(request, obj.api_name):
        meta = request.effective.objects[other]
        rows = records_of(request).query(
            other, filters=[{"field": name, "op": "eq", "value": record_id}],
            sort=["-updated_at"], limit=RELATED_ROWS + 1)["records"]
        more, rows = len(rows) > RELATED_ROWS, rows[:RELATED_ROWS]
        columns = panels.related_columns(meta, name, access.hidden(other))
        specs = [meta.fields[c] for c in columns if c in meta.fields]
        wanted: dict[str, set[str]] = {"user": {r["owner"] for r in rows
                                                if r.get("owner")}}
        for row in rows:
            for target, ids in references(specs, row).items():
                wanted.setdefault(target, set()).update(ids)
        names = record_names(records_of(request), wanted)
        found.append({
            "object": other, "field": name,
            "label": f"{request.translate(meta.label)} · "
                     f"{request.translate(meta.fields[name]['label'])}",
            "columns": [_field_label(request, meta, c) for c in columns],
            "records": [{"id": r["id"], "name": name_of(r, meta.doc["name_field"]),
                         "url": record_path(other, r["id"]),
                         "cells": [panels.cell_text(request, meta, c, r, names)
                                   for c in columns]}
                        for r in rows],
            "more": more,
            # the list page's filter: ?<field>=<value> is "field eq value"
            "url": request.route_path("records.list", object=other,
                                      _query={name: record_id}),
        })
    panels.add_row_links(request, found, record_id)
    panels.add_row_actions(request, found)
    return found


@view_config(route_name="records.detail", request_method="GET")
@page
def detail(request: Request) -> Response:
    obj = _object(request)
    record = records_of(request).get(obj.api_name, request.matchdict["id"])
    form = record_form_class(request, obj, read_only=True)(data=record)
    name_things(request, form)
    values = _record_page(request, obj, record, "detail")
    values.update(
        layout=form_layout(form), related=_related(request, obj, record["id"]),
        timeline=panels.timeline(request, obj, record, record_form_class,
                                 name_things, _user_names),
        quick_adds=panels.quick_adds(request, obj, record, record_form_class),
        stage_bars=panels.stage_bars(request, obj, record, values["may"]["edit"]))
    return _render(request, "detail.html", values)


@view_config(route_name="records.advance", request_method="POST")
@page
def advance(request: Request) -> Response:
    """Moves the record's stage (a select with ``closed`` options) to the next
    open one through ``update``; ``version`` is the one the page showed, so a
    stale page changes nothing and says why."""
    obj = _object(request)
    name = request.matchdict["field"]
    spec = next((s for s in panels.stage_fields(obj) if s["api_name"] == name), None)
    if spec is None:
        raise NotFound("not_found", _("The field has no stages"))
    records = records_of(request)
    record = records.get(obj.api_name, request.matchdict["id"])
    following = panels.next_stage(spec, record.get(name))
    version = str(request.POST.get("version", ""))
    try:
        if following is None:
            raise AppError("action_unavailable", _("This is the last "
                                                   "open stage"), status=409)
        attempt(request, records.update, obj.api_name, record["id"],
                {name: following["value"]},
                version=int(version) if version.isdigit() else None)
    except AppError as error:
        if error.status not in (400, 409):
            raise
        done = _("${label}: ${message}",
                 mapping={"label": spec['label'], "message": error.message})
    else:
        done = _("${label} → ${label2}",
                 mapping={"label": spec['label'], "label2": following['label']})
    return _redirect(request, "records.detail", done, object=obj.api_name,
                     id=record["id"])


def _field_label(request: Request, obj: ObjectMeta, name: str) -> str:
    spec = obj.fields.get(name) or SYSTEM_SPECS.get(name)
    return request.translate(spec["label"]) if spec else name


@view_config(route_name="records.history", request_method="GET")
@page
def history(request: Request) -> Response:
    """The record's field-level changes, newest first: who, when, old → new.
    Fields hidden from the user are left out (the service strips them; those the
    metadata hides are not shown either)."""
    obj = _object(request)
    record = records_of(request).get(obj.api_name, request.matchdict["id"])
    entries = records_of(request).history(obj.api_name, record["id"])
    specs = {**SYSTEM_SPECS, **obj.fields}
    shown_specs = [s for s in specs.values() if not s.get("hidden")]
    wanted: dict[str, set[str]] = {"user": {e["changed_by"] for e in entries
                                            if e["changed_by"]}}
    for entry in entries:
        for side in (0, 1):
            side_values = {n: v[side] for n, v in entry["changes"].items()}
            for target, ids in references(shown_specs, side_values).items():
                wanted.setdefault(target, set()).update(ids)
    names = record_names(records_of(request), wanted)
    lang, tz = request.lang, request.tz

    def text(spec: Mapping[str, Any], value: Any) -> str:
        if reference_target(spec) is not None and isinstance(value, str):
            return names.get(value, value)
        if field_type(spec).has_rows and isinstance(value, list):
            # a row's id means nothing to a reader
            value = [{k: v for k, v in row.items() if k != "id"}
                     for row in value if isinstance(row, dict)]
        return display_text(spec, value, lang, tz)

    shown = []
    for entry in reversed(entries):
        changes = [{"label": _field_label(request, obj, n),
                    "old": text(specs[n], old) if n in specs else str(old or ""),
                    "new": text(specs[n], new) if n in specs else str(new or "")}
                   for n, (old, new) in entry["changes"].items()
                   if not specs.get(n, {}).get("hidden")]
        shown.append({**entry, "changes": changes,
                      "who": names.get(entry["changed_by"], entry["changed_by"] or ""),
                      "when": entry["changed_at"][:16].replace("T", " ")})
    values = _record_page(request, obj, record, "history")
    values["entries"] = shown
    return _render(request, "history.html", values)


@view_config(route_name="records.team", request_method=("GET", "POST"))
@page
def followers(request: Request) -> Response:
    """Joint followers: everyone who may read the record sees the list; adding
    and removing needs the right to edit it (the team API's rules)."""
    obj = _object(request)
    records = records_of(request)
    record = records.get(obj.api_name, request.matchdict["id"])
    errors: dict[str, list[str]] = {}
    status = 200
    if request.method == "POST":
        user = request.POST.get("user", "").strip()
        try:
            if request.POST.get("op") == "remove":
                records.remove_from_team(obj.api_name, record["id"], user)
                flash = _("Follower removed.")
            else:
                records.add_to_team(obj.api_name, record["id"], {
                    "user": user, "access": request.POST.get("access", "read")})
                flash = _("Follower added.")
        except AppError as error:
            if error.status != 400:
                raise
            errors = {k: [request.translate(m) for m in v]
                      for k, v in error.fields.items()}
            status = 400
        else:
            return _redirect(request, "records.team", flash, object=obj.api_name,
                             id=record["id"])
    values = _record_page(request, obj, record, "team")
    values.update(members=records.team(obj.api_name, record["id"]),
                  errors=errors, posted=request.POST)
    return _render(request, "team.html", values, status)


# -- delete, restore, transfer, the recycle bin -------------------------------------

@view_config(route_name="records.action", request_method=("GET", "POST"))
@page
def action(request: Request) -> Response:
    """``delete`` (to the recycle bin; GET asks for confirmation), ``restore``
    (POST), ``transfer`` (GET: choose the new owner; POST: hand it over)."""
    obj = _object(request)
    what = request.matchdict["action"]
    record_id = request.matchdict["id"]
    if what not in ACTIONS or (what == "restore" and request.method != "POST"):
        raise NotFound("not_found", _("No such action"))
    records = records_of(request)
    if what == "restore":
        records.restore(obj.api_name, record_id)
        return _redirect(request, "records.detail", _("Record restored."),
                         object=obj.api_name, id=record_id)
    record = records.get(obj.api_name, record_id)
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        try:
            if what == "delete":
                records.delete(obj.api_name, record_id)
                return _redirect(request, "records.deleted",
                                 _("Moved to the recycle bin."), object=obj.api_name)
            records.transfer(obj.api_name, record_id,
                             request.POST.get("owner", "").strip())
            return _redirect(request, "records.detail", _("Owner changed."),
                             object=obj.api_name, id=record_id)
        except AppError as error:
            if error.status != 400:
                raise
            errors = {k: [request.translate(m) for m in v]
                      for k, v in error.fields.items()}
    else:
        records.check(obj.api_name, record_id, what)
    values = _record_page(request, obj, record, what)
    values["errors"] = errors
    return _render(request, f"{what}.html", values, 400 if errors else 200)


@view_config(route_name="records.run_action", request_method="POST")
@page
def run_action(request: Request) -> Response:
    """Runs one of the record's actions (a button of the record's header), then
    back to the record with what happened: done, or why not (a refused
    change, an action no longer available); 403 and 404 are error pages."""
    obj = _object(request)
    record_id = request.matchdict["id"]
    actions = request.find_service(IActionService)
    action = actions.find(obj.api_name, request.matchdict["name"])
    zh, en = action.label["zh"], action.label["en"]
    params = panels.action_params(action.listed(), request.POST)
    try:
        attempt(request, actions.run, obj.api_name, record_id, action.name, params)
    except AppError as error:
        if error.status not in (400, 409):
            raise
        done = _("${action}: not done. ${message}",
                 mapping={"action": action.label, "message": error.message})
    else:
        done = _("${en}: done.", mapping={"en": en, "zh": zh})
    # a row's button on another record's page goes back to that page
    back = safe_next(request.POST.get("next"), "")
    if back:
        request.session.flash(request.translate(done))
        return HTTPSeeOther(back)
    return _redirect(request, "records.detail", done, object=obj.api_name,
                     id=record_id)


@view_config(route_name="records.deleted", request_method="GET")
@page
def deleted(request: Request) -> Response:
    """The recycle bin: deleted records the user may see, newest first, with a
    button to restore each (for those who may delete, as the service requires)."""
    obj = _object(request)
    found = records_of(request).list_deleted(obj.api_name, limit=BIN_PAGE,
                                         cursor=request.GET.get("cursor") or None)
    rows = found["records"]
    names = _user_names(request, {r["deleted_by"] for r in rows})
    return _render(request, "deleted.html", {
        "object": obj.api_name, "object_label": _label(request, obj),
        "rows": [{"id": r["id"], "name": name_of(r, obj.doc["name_field"]),
                  "when": r["deleted_at"][:16].replace("T", " "),
                  "who": names.get(r["deleted_by"], r["deleted_by"] or "")}
                 for r in rows],
        "next_cursor": found["next_cursor"],
        "may_restore": request.access.allows(obj.api_name, "delete"),
    })


# -- what the form calls ------------------------------------------------------------

def _matches(request: Request, obj: ObjectMeta, q: str) -> list[dict[str, Any]]:
    """Up to ``LOOKUP_ROWS`` records the user may read whose name contains ``q``,
    then those its keyword search finds (the most recently changed first)."""
    records = records_of(request)
    name_field = obj.doc["name_field"]
    found: dict[str, Mapping[str, Any]] = {}
    readable = request.access.visible_fields(obj.api_name)
    if not q:
        batches = [records.query(obj.api_name, sort=["-updated_at"],
                                 limit=LOOKUP_ROWS)["records"]]
    else:
        batches = []
        name_spec = readable.get(name_field)
        # rich text holds markup, which would match too
        if name_spec is not None and field_type(name_spec).kind_of(name_spec) \
                != "richtext":
            batches.append(records.query(obj.api_name, filters=[
                {"field": name_field, "op": "contains", "value": q}],
                sort=["-updated_at"], limit=LOOKUP_ROWS)["records"])
        if any(f["searchable"] for f in readable.values()):
            batches.append(records.query(obj.api_name, q=q, sort=["-updated_at"],
                                         limit=LOOKUP_ROWS)["records"])
    for batch in batches:
        for rec in batch:
            found.setdefault(rec["id"], rec)
    return [{"id": r["id"], "name": name_of(r, name_field)}
            for r in list(found.values())[:LOOKUP_ROWS]]


@view_config(route_name="records.lookup", request_method="GET")
@page
def lookup(request: Request) -> Response:
    """Records of the object to pick in a reference field: JSON
    ``{"records": [{"id", "name"}]}``, or the combobox's options for htmx."""
    obj = _object(request)
    q = request.GET.get("q", "").strip()[:100]
    try:
        matches = _matches(request, obj, q)
    except AppError as error:  # a keyword the search cannot take
        if error.status != 400:
            raise
        matches = []
    if "HX-Request" in request.headers:
        return _render(request, "_lookup.html", {"matches": matches, "q": q,
                                                 "field": request.GET.get("for", "")})
    response = Response(content_type="application/json", charset="utf-8")
    response.json_body = {"records": matches}
    return response


def _area_part(field: SpecField, part: str | None) -> SpecField | None:
    """The city or district select of an area (each depends on the part above)."""
    if part not in ("city", "district") or not isinstance(field, GroupField):
        return None
    return next((f for f in field.form.spec_fields()
                 if isinstance(f, AreaPartField) and f.short_name == part), None)


@view_config(route_name="records.options", request_method="GET")
@page
def options(request: Request) -> Response:
    """A dependent select (or an area's part, ``?part=city``) rendered again for the
    values the form sends (its parent's): the element the page swaps in."""
    obj = _object(request)
    name = request.matchdict["field"]
    form = record_form_class(request, obj)(MultiDict(request.GET))
    field = form[name] if name in form else None
    if not isinstance(field, SpecField) or not field.editable:
        raise NotFound("not_found", _("The form has no such field"))
    part = request.GET.get("part")
    area_part = _area_part(field, part)
    if area_part is not None:
        field = area_part
    elif not field_type(field.spec).has_options:
        raise NotFound("not_found", _("The field has no options"))
    return Response(str(field()), content_type="text/html", charset="utf-8")

