"""The object manager's pages: the objects, an object with its fields, a field, the
actions on an object (layouts, list views, dependencies), the document editor,
versions and rollbacks, backfill jobs."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.i18n import TranslationStringFactory
from pyramid.request import Request
from pyramid.response import Response
from pyramid.view import view_config

from propolis.forms.pages.manager.documents import (
    API_NAME,
    APPS,
    LIST_SYSTEM_COLUMNS,
    NO_FIELD,
    Doc,
    Planned,
    Refusal,
    describe_changes,
    editable_document,
    inputs_of,
    label_of,
    plain,
    plan_document,
    text_diff,
    type_descriptions,
    type_inputs,
)
from propolis.forms.pages.manager.forms import (
    FieldForm,
    ObjectForm,
    field_from_form,
    fill_field_form,
    posted_rows,
    put_errors,
)
from propolis.forms.typetable import column_types
from propolis.metadata import SYSTEM_OBJECTS, Document
from propolis.metadata.errors import MetadataError
from propolis.platform.errors import AppError
from propolis.platform.fields.registry import field_type
from propolis.platform.meta.interfaces import IMetadataService
from propolis.platform.web.pages import PageUser, console_user, error_page, render_page

_ = TranslationStringFactory("propolis")
TEMPLATES = "propolis.forms:templates/manager/"

def _admin(request: Request) -> PageUser | Response:
    return console_user(request)


def _admin_object(request: Request) -> Doc | Response:
    """The object of the address, for an admin past the step-up; else the page to
    answer with."""
    user = _admin(request)
    return user if isinstance(user, Response) else _object(request)


def _object(request: Request) -> Doc | Response:
    """The object named in the address (normalized effective document), or the
    404 page; the organisation's system objects are shown, never changed."""
    obj = request.effective.object(request.matchdict["object"])
    if obj is None:
        return error_page(request, _("Not found"), _("There is no such object."), 404)
    return dict(obj.doc)


def _page(request: Request, template: str, values: dict[str, Any],
          status: int = 200) -> Response:
    response = render_page(request, TEMPLATES + template, {
        "flashes": request.session.pop_flash(), "types": type_descriptions(),
        **values}, status)
    response.headers["Cache-Control"] = "no-store"
    return response


def _system(name: str) -> bool:
    return name in SYSTEM_OBJECTS


def _refused_system(request: Request) -> Response:
    return error_page(request, _("Not allowed"), _(
        "The organisation's system objects are maintained by the platform."), 403)


@view_config(route_name="manager.objects", request_method=("GET", "POST"))
def objects_page(request: Request) -> Response:
    user = _admin(request)
    if isinstance(user, Response):
        return user
    posted = request.method == "POST"
    form = ObjectForm(request, request.POST if posted else None)
    error: list[str] = []
    status = 200
    if posted:
        name = (form.api_name.data or "").strip()
        if not API_NAME.match(name):
            form.api_name.errors = [request.translate(_("The api_name must start "
                                                        "with a lower-case letter "
                                                        "and have 2–63 lower-case "
                                                        "letters, digits or "
                                                        "underscores"))]
        elif request.effective.object(name) is not None:
            form.api_name.errors = [request.translate(_("There is an object "
                                                        "'${name}' already; choose "
                                                        "another api_name",
                                                        mapping={"name": name}))]
        else:
            doc = _new_object_document(form, name)
            result = plan_document(request, doc)
            if isinstance(result, Planned):
                return _preview(request, name, None, doc, result,
                                request.route_path("manager.objects"))
            error, _blocks = put_errors(form, result, "", {"fields": "name_field"})
        status = 400
    objects = []
    for name, obj in request.effective.objects.items():
        objects.append({"api_name": name, "label": request.translate(obj.label),
                        "fields": len(obj.doc["fields"]), "system": _system(name),
                        "app": request.translate(APPS.get(obj.doc.get("app", "apps"),
                                                          APPS["apps"]))})
    objects.sort(key=lambda o: (o["system"], o["label"]))
    return _page(request, "objects.html", {"objects": objects, "form": form,
                                           "error": error}, status)


def _new_object_document(form: ObjectForm, name: str) -> Doc:
    name_field = (form.name_field.data or "name").strip()
    doc: Doc = {"kind": "object", "api_name": name, "app": form.app.data,
                "sharing": form.sharing.data, "deletable": bool(form.deletable.data),
                "name_field": name_field,
                "fields": [{"api_name": name_field, "type": "text", "required": True,
                            "searchable": True}]}
    label = label_of(form.label_zh.data, form.label_en.data)
    if label:
        doc["label"] = label
    field_label = label_of(form.name_zh.data, form.name_en.data)
    if field_label:
        doc["fields"][0]["label"] = field_label
    return doc


def _preview(request: Request, name: str, old: Mapping[str, Any] | None, doc: Doc,
             planned: Planned, back: str, rollback_to: int | None = None
             ) -> Response:
    """The storage plan of a change, with "apply" (the same document, posted again)
    and "cancel" (back where the change was made)."""
    return _page(request, "preview.html", {
        "name": name, "label": request.translate(planned.effective["label"]),
        "changes": [request.translate(c) for c in
                    describe_changes(old, planned.effective)],
        "steps": planned.steps, "backfills": planned.backfills,
        "document": json.dumps(doc, ensure_ascii=False), "rollback_to": rollback_to,
        "base_version": request.tenant.metadata_version, "back": back})


def _field_rows(request: Request, doc: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [{"api_name": f["api_name"], "type": f["type"],
             "label": request.translate(f["label"]),
             "flags": [k for k in ("required", "unique", "searchable", "hidden")
                       if f.get(k)]} for f in doc["fields"]]


@view_config(route_name="manager.object", request_method="GET")
def object_page(request: Request) -> Response:
    doc = _admin_object(request)
    if isinstance(doc, Response):
        return doc
    settings = ObjectForm(request, None, api_name=doc["api_name"],
                          label_zh=doc["label"]["zh"], label_en=doc["label"]["en"],
                          app=doc.get("app", "apps"), sharing=doc["sharing"],
                          deletable=doc["deletable"], name_field=doc["name_field"])
    return _object_page(request, doc, settings)


def _object_page(request: Request, doc: Doc, settings: ObjectForm,
                 error: list[str] | None = None, status: int = 200) -> Response:
    return _page(request, "object.html", {
        "obj": doc, "label": request.translate(doc["label"]),
        "system": _system(doc["api_name"]), "fields": _field_rows(request, doc),
        "archived": [{"api_name": f["api_name"], "type": f["type"],
                      "label": request.translate(f["label"])}
                     for f in doc.get("archived_fields", [])
                     if not field_type(f).stores_nothing(f)],
        "dependents": [f["api_name"] for f in doc["fields"] if f.get("depends_on")],
        "settings": settings, "error": error or []}, status)


@view_config(route_name="manager.field", request_method=("GET", "POST"))
def field_page(request: Request) -> Response:
    """A field's editor; ``/fields/_new`` adds one (``?type=`` chosen first)."""
    doc = _admin_object(request)
    if isinstance(doc, Response):
        return doc
    if _system(doc["api_name"]):
        return _refused_system(request)
    fname = request.matchdict["field"]
    adding = fname == "_new"
    old = None if adding else next(
        (f for f in doc["fields"] if f["api_name"] == fname), None)
    if not adding and old is None:
        return error_page(request, _("Not found"), _("There is no such field."), 404)
    ftype = request.params.get("type") or (old or {}).get("type")
    types = type_descriptions()
    if adding and ftype not in types:
        return _page(request, "choose_type.html", {"obj": doc,
                     "label": request.translate(doc["label"]),
                     "choices": [(k, request.translate(v)) for k, v in types.items()]})
    posted = request.method == "POST"
    form = FieldForm(request, doc, None if adding else fname,
                     request.POST if posted else None)
    if not posted:
        if old is not None:
            fill_field_form(form, old)
        else:
            form.type.data = ftype
    error: list[str] = []
    blocks: dict[str, list[str]] = {}
    options = (old or {}).get("options", [])
    columns = (old or {}).get("fields", [])
    if posted:
        options = posted_rows(request, "option", ("value", "zh", "en", "parent"))
        options = [{"value": o["value"], "label": {"zh": o["zh"], "en": o["en"]},
                    "parent": o["parent"]} for o in options if o["value"]]
        posted = posted_rows(request, "column", ("name", "type", "zh", "en", "to"))
        columns = [{"api_name": c["name"], "type": c["type"],
                    "label": {"zh": c["zh"], "en": c["en"]}, "to": c["to"]}
                   for c in posted if c["name"]]
        if not adding:
            form.api_name.data = fname
        new_field = field_from_form(request, form, old)
        if new_field is not None:
            new_doc = editable_document(doc)
            if adding:
                new_doc["fields"].append(new_field)
                index = len(new_doc["fields"]) - 1
            else:
                index = [f["api_name"] for f in new_doc["fields"]].index(fname)
                new_doc["fields"][index] = new_field
            result = plan_document(request, new_doc)
            if isinstance(result, Planned):
                return _preview(request, doc["api_name"], doc, new_doc, result,
                                request.path_qs)
            # a rollup's via and field are inputs of their own, a quote's too
            typed = inputs_of(form.type.data)
            inputs = {key: name for name in typed for key in ("via", "field")
                      if name.endswith(f"_{key}")}
            if old is not None and old["type"] != form.type.data:
                inputs[""] = "type"
            error, blocks = put_errors(form, result, f"fields[{index}]", inputs)
    return _page(request, "field.html", {
        "obj": doc, "label": request.translate(doc["label"]), "form": form,
        "adding": adding, "old": old, "error": error,
        "block_errors": blocks,
        "options": options, "columns": columns, "type_inputs": type_inputs(),
        "column_types": column_types(),
        "objects": sorted(request.effective.objects)}, 400 if posted else 200)


def _changed_document(request: Request, doc: Doc, action: str
                      ) -> Doc | Refusal | Response:
    """The object's document after one of the object page's buttons."""
    new_doc = editable_document(doc)
    names = [f["api_name"] for f in new_doc["fields"]]
    post = request.POST
    if action == "archive":
        target = post.get("field", "")
        if target not in names:
            return Refusal([request.translate(NO_FIELD)])
        new_doc["fields"] = [f for f in new_doc["fields"] if f["api_name"] != target]
        if new_doc.get("name_field") == target:
            return Refusal([request.translate(_("The name field cannot be "
                                                "removed; choose another name "
                                                "field in the object's settings "
                                                "first"))])
    elif action == "restore":
        target = post.get("field", "")
        archived = {f["api_name"]: f for f in doc.get("archived_fields", [])}
        if target not in archived:
            return Refusal([request.translate(_("The archive has no such field"))])
        new_doc["fields"].append(plain(archived[target]))
    elif action == "reorder":
        order = post.getall("order")
        move = post.get("move", "")
        if move:
            direction, _colon, target = move.partition(":")
            order = list(names)
            if target in order:
                i = order.index(target)
                j = i - 1 if direction == "up" else i + 1
                if 0 <= j < len(order):
                    order[i], order[j] = order[j], order[i]
        if sorted(order) != sorted(names):
            return Refusal([request.translate(_("The field order is incomplete; "
                                                "reload the page"))])
        by_name = {f["api_name"]: f for f in new_doc["fields"]}
        new_doc["fields"] = [by_name[n] for n in order]
    elif action == "settings":
        form = ObjectForm(request, post)
        label = label_of(form.label_zh.data, form.label_en.data)
        if label:
            new_doc["label"] = label
        new_doc.update(app=form.app.data, sharing=form.sharing.data,
                       deletable=bool(form.deletable.data),
                       name_field=(form.name_field.data or "").strip())
    elif action == "layouts":
        new_doc["layouts"] = [_layout_from_post(request, doc)]
    elif action == "list-views":
        new_doc["list_views"] = [_list_view_from_post(request, doc)]
    elif action == "dependencies":
        target = post.get("field", "")
        if target not in names:
            return Refusal([request.translate(NO_FIELD)])
        for option in new_doc["fields"][names.index(target)]["options"]:
            parent = post.get(f"parent__{option['value']}", "")
            option.pop("parent", None)
            if parent:
                option["parent"] = parent
    else:
        return error_page(request, _("Not found"), _("There is no such page."), 404)
    return new_doc


@view_config(route_name="manager.action", request_method="POST")
def object_action(request: Request) -> Response:
    """The object page's changes (archive, restore, reorder, settings), the editors'
    saves (layouts, list views, dependencies), and ``apply`` / ``rollback``."""
    user = _admin(request)
    if isinstance(user, Response):
        return user
    action = request.matchdict["action"]
    if action == "apply":
        return _apply(request)
    doc = _object(request)
    if isinstance(doc, Response):
        return doc
    if _system(doc["api_name"]):
        return _refused_system(request)
    if action == "rollback":
        return _rollback_preview(request, doc)
    new_doc = _changed_document(request, doc, action)
    if isinstance(new_doc, Response):
        return new_doc
    back = request.route_path("manager.object", object=doc["api_name"])
    if action in ("layouts", "list-views", "dependencies"):
        back = request.route_path("manager.action", object=doc["api_name"],
                                  action=action)
    result = new_doc if isinstance(new_doc, Refusal) else plan_document(request,
                                                                        new_doc)
    if isinstance(result, Planned):
        assert isinstance(new_doc, dict)
        return _preview(request, doc["api_name"], doc, new_doc, result, back)
    messages = result.general + [m for ms in result.paths.values() for m in ms]
    if action in ("layouts", "list-views", "dependencies"):
        return _editor(request, doc, action, messages, 400)
    settings = ObjectForm(request, request.POST if action == "settings" else None,
                          api_name=doc["api_name"], label_zh=doc["label"]["zh"],
                          label_en=doc["label"]["en"], app=doc.get("app", "apps"),
                          sharing=doc["sharing"], deletable=doc["deletable"],
                          name_field=doc["name_field"])
    return _object_page(request, doc, settings, messages, 400)


def _apply(request: Request) -> Response:
    """Applies the document (or rollback) the preview showed, as the API does."""
    name = request.matchdict["object"]
    if _system(name):
        return _refused_system(request)
    base = request.POST.get("base_version", "")
    if base != str(request.tenant.metadata_version):
        return error_page(request, _("The metadata changed meanwhile"), _(
            "Someone applied another change since this preview. Go back, reload "
            "and make the change again."), 409)
    rollback_to = request.POST.get("rollback_to", "")
    service = request.find_service(IMetadataService)
    try:
        if rollback_to:
            applied = service.rollback(name, int(rollback_to))
        else:
            doc = json.loads(request.POST.get("document", ""))
            if not isinstance(doc, dict) or doc.get("api_name") != name:
                raise AppError("invalid", _("The posted document is not valid"))
            applied = service.apply([Document(doc, f"{name}.json")],
                                    action="metadata.apply", target=name)
    except (MetadataError, AppError, ValueError) as exc:
        # nothing of a refused change may be committed (a plan can fail halfway)
        request.tm.doom()
        message = (request.translate(exc.message) if isinstance(exc, AppError)
                   else str(exc))
        return error_page(request, _("The change was not applied"), message,
                          getattr(exc, "status", 400))
    request.session.flash(request.translate(_("Applied: metadata version ${version}",
                                              mapping={"version": applied.version})))
    if applied.jobs:
        return HTTPSeeOther(request.route_path("manager.job", object=name,
                                               job=applied.jobs[0]))
    return HTTPSeeOther(request.route_path("manager.object", object=name))


# --- layouts, list views, dependencies --------------------------------------------


def _layout_from_post(request: Request, doc: Mapping[str, Any]) -> Doc:
    """Sections in page order; each field goes to the section its ``sec__`` input
    names, in the order of its ``pos__`` number (drag and drop sets both)."""
    rows = posted_rows(request, "section", ("zh", "en", "columns"))
    placed: dict[int, list[tuple[float, str]]] = {}
    for f in doc["fields"]:
        name = f["api_name"]
        number = request.POST.get(f"sec__{name}", "0")
        position = request.POST.get(f"pos__{name}", "0")
        try:
            index, order = int(number), float(position)
        except ValueError:
            continue
        if 1 <= index <= len(rows):
            placed.setdefault(index, []).append((order, name))
    sections = []
    for i, row in enumerate(rows, start=1):
        if not placed.get(i):
            continue
        section: Doc = {"columns": 1 if row["columns"] == "1" else 2,
                        "fields": [n for _o, n in sorted(placed[i])]}
        if label_of(row["zh"], row["en"]):
            section["label"] = label_of(row["zh"], row["en"])
        sections.append(section)
    layout = doc["layouts"][0]
    return {"api_name": layout["api_name"], "label": layout["label"],
            "sections": sections}


def _list_view_from_post(request: Request, doc: Mapping[str, Any]) -> Doc:
    chosen = set(request.POST.getall("col"))
    columns = []
    for name in [f["api_name"] for f in doc["fields"]] + list(LIST_SYSTEM_COLUMNS):
        if name in chosen:
            try:
                position = float(request.POST.get(f"pos__{name}", "0"))
            except ValueError:
                position = 0.0
            columns.append((position, name))
    view = doc["list_views"][0]
    out: Doc = {"api_name": view["api_name"],
                "label": label_of(request.POST.get("label_zh"),
                                request.POST.get("label_en")) or view["label"],
                "columns": [n for _p, n in sorted(columns)]}
    sort_field = request.POST.get("sort_field", "")
    if sort_field:
        descending = request.POST.get("sort_dir") == "desc"
        out["sort"] = [("-" if descending else "") + sort_field]
    return out


def _editor(request: Request, doc: Doc, action: str, error: list[str] | None = None,
            status: int = 200) -> Response:
    label = request.translate(doc["label"])
    names = {f["api_name"]: request.translate(f["label"]) for f in doc["fields"]}
    if action == "layouts":
        layout = doc["layouts"][0]
        placed = {n for s in layout["sections"] for n in s["fields"]}
        sections = [{"zh": (s.get("label") or {}).get("zh", ""),
                     "en": (s.get("label") or {}).get("en", ""),
                     "columns": s.get("columns", 2),
                     "fields": [(n, names.get(n, n)) for n in s["fields"]]}
                    for s in layout["sections"]]
        sections.append({"zh": "", "en": "", "columns": 2, "fields": []})
        unplaced = [(n, names[n]) for n in names if n not in placed]
        return _page(request, "layouts.html", {
            "obj": doc, "label": label, "sections": sections, "unplaced": unplaced,
            "error": error or []}, status)
    if action == "list-views":
        view = doc["list_views"][0]
        system = {"owner": _("Owner"), "created_at": _("Created"),
                  "updated_at": _("Updated")}
        names.update({k: request.translate(v) for k, v in system.items()})
        chosen = [(n, names.get(n, n), True) for n in view["columns"]]
        others = [(n, lbl, False) for n, lbl in names.items()
                  if n not in view["columns"]]
        sort = (view.get("sort") or ["-updated_at"])[0]
        return _page(request, "list_views.html", {
            "obj": doc, "label": label, "view": view, "columns": chosen + others,
            "names": names, "sort_field": sort.lstrip("-"),
            "sort_desc": sort.startswith("-"), "error": error or []}, status)
    if action == "dependencies":
        by_name = {f["api_name"]: f for f in doc["fields"]}
        selects = [{"api_name": f["api_name"], "label": request.translate(f["label"]),
                    "parent": by_name[f["depends_on"]],
                    "parent_label": request.translate(by_name[f["depends_on"]][
                        "label"])}
                   for f in doc["fields"]
                   if f.get("depends_on") and f["depends_on"] in by_name]
        for item in selects:
            item["options"] = by_name[item["api_name"]]["options"]
        return _page(request, "dependencies.html", {
            "obj": doc, "label": label, "selects": selects, "error": error or []},
            status)
    return _versions_page(request, doc)


@view_config(route_name="manager.action", request_method="GET")
def object_editor(request: Request) -> Response:
    doc = _admin_object(request)
    if isinstance(doc, Response):
        return doc
    action = request.matchdict["action"]
    if action not in ("layouts", "list-views", "dependencies", "versions"):
        return error_page(request, _("Not found"), _("There is no such page."), 404)
    if action != "versions" and _system(doc["api_name"]):
        return _refused_system(request)
    return _editor(request, doc, action)


# --- versions and rollback --------------------------------------------------------


def _versions_page(request: Request, doc: Doc) -> Response:
    listed = request.find_service(IMetadataService).versions()
    return _page(request, "versions.html", {
        "obj": doc, "label": request.translate(doc["label"]), "versions": listed,
        "current": request.tenant.metadata_version,
        "system": _system(doc["api_name"])})


def _doc_at(request: Request, name: str, version: int) -> Doc | None:
    effective = request.find_service(IMetadataService).effective_at(version)
    found = effective.object(name)
    return dict(found.doc) if found else None


@view_config(route_name="manager.version", request_method="GET")
def version_page(request: Request) -> Response:
    """What differs between the object at one version and now."""
    doc = _admin_object(request)
    if isinstance(doc, Response):
        return doc
    raw = request.matchdict["version"]
    known = {v.version
             for v in request.find_service(IMetadataService).versions()}
    if not raw.isdigit() or int(raw) not in known:
        return error_page(request, _("Not found"), _("There is no such version."), 404)
    version = int(raw)
    old = _doc_at(request, doc["api_name"], version)
    return _page(request, "version.html", {
        "obj": doc, "label": request.translate(doc["label"]), "version": version,
        "current": request.tenant.metadata_version,
        "changes": [request.translate(c) for c in describe_changes(old, doc)],
        "diff": text_diff(old and editable_document(old), editable_document(doc)),
        "system": _system(doc["api_name"])})


def _rollback_preview(request: Request, doc: Doc) -> Response:
    raw = request.POST.get("version", "")
    name = doc["api_name"]
    back = request.route_path("manager.action", object=name, action="versions")
    try:
        version = int(raw)
        applied = request.find_service(IMetadataService).rollback(name, version,
                                                                  dry_run=True)
    except (ValueError, MetadataError, AppError) as exc:
        message = (request.translate(exc.message) if isinstance(exc, AppError)
                   else request.translate(_("Choose a version")))
        return error_page(request, _("The rollback cannot be made"), message,
                          getattr(exc, "status", 400))
    planned = Planned(applied.version, applied.plan.describe(request.lang),
                      len(applied.plan.backfills), applied.plan.effective[name])
    return _preview(request, name, doc, editable_document(planned.effective),
                    planned, back, rollback_to=version)


# --- backfill jobs ----------------------------------------------------------------


@view_config(route_name="manager.job", request_method="GET")
def job_page(request: Request) -> Response:
    """A backfill's progress; htmx polls the ``_job.html`` part every second until
    the job has finished."""
    doc = _admin_object(request)
    if isinstance(doc, Response):
        return doc
    found = request.find_service(IMetadataService).job(request.matchdict["job"])
    payload = (found or {}).get("payload") or {}
    if found is None or payload.get("object") != doc["api_name"]:
        return error_page(request, _("Not found"), _("There is no such job."), 404)
    job = {"id": found["id"], "status": found["status"], "total": found["total"],
           "done": found["done"], "fields": ", ".join(payload.get("fields", [])),
           "error": found["error"], "finished": found["status"] in ("done", "failed")}
    values = {"obj": doc, "label": request.translate(doc["label"]), "job": job}
    if request.headers.get("HX-Request") == "true":
        return _page(request, "_job.html", values)
    return _page(request, "job.html", values)
