"""Record lists: every object's list page, generated from its metadata.

The state of a list (view, filters, sort, keyword, columns) lives in the query
string, so a filtered list is a link that can be bookmarked, shared and exported,
and back/forward walk through it. ``list_state.query_spec_from_params`` turns that
query string into the query service's spec (the keys are listed there); the page,
its rows (htmx), the summary chart and the export all go through it and through the
record service, exactly as the JSON API does: the same permissions, data scope,
hidden fields and errors.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import parse_qsl

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.i18n import TranslationStringFactory
from pyramid.request import Request
from pyramid.response import Response
from pyramid.view import view_config

from propolis.forms.display import display_text
from propolis.forms.interfaces import ISavedViewService
from propolis.forms.list_state import (
    SYSTEM_COLUMNS,
    Column,
    Filter,
    all_of,
    field_spec,
    filterable_fields,
    first_of,
    param_pairs,
    query_spec_from_params,
    query_string,
    state_pairs,
)
from propolis.forms.pages.home import login_redirect
from propolis.forms.typetable import widgets_for
from propolis.platform.errors import AppError, translate
from propolis.platform.exchange.download import export_response
from propolis.platform.fields.registry import field_type
from propolis.platform.permissions.policy import AccessPolicy
from propolis.platform.query.interfaces import IQueryService
from propolis.platform.records.interfaces import IRecordService
from propolis.platform.records.plan import reference_target
from propolis.platform.web.pages import attempt, error_page, render_page, safe_next

_ = TranslationStringFactory("propolis")
TEMPLATES = "propolis.forms:templates/lists/"
PAGE = 50
CHOICES = 200  # records offered in a lookup filter's select
MAX_TRANSFER = 200  # records one bulk transfer may name


def find_choices(request: Request, target: str) -> tuple[list[tuple[str, str]], bool]:
    """Records of ``target`` the user may read to pick from (id, name), by name
    (at most ``CHOICES``), and whether there are more."""
    access = request.access
    if not access.allows(target, "read"):
        return [], False
    name_field = request.effective.objects[target].doc["name_field"]
    if name_field in access.hidden(target):
        return [], False
    # in the query's own order (cheap on any table), then sorted by name here:
    # sorting every user of a large enterprise for 200 of them is not
    page = request.find_service(IQueryService).query(target, limit=CHOICES)
    found = sorted(((r["id"], str(r.get(name_field) or r["id"]))
                    for r in page["records"]), key=lambda c: c[1])
    return found, page["next_cursor"] is not None


class ListPage:
    """Everything one request of a list (page, rows, summary) works out: the
    object, the query string's state and the spec it makes."""

    def __init__(self, request: Request) -> None:
        self.request = request
        self.name = request.matchdict["object"]
        self.obj = request.effective.objects[self.name]
        self.doc = self.obj.doc
        self.access: AccessPolicy = request.access
        self.lang = request.lang
        self.tz = request.tz
        self.state = state_pairs(request.GET)
        self.spec = query_spec_from_params(request.GET, self.doc, self.access,
                                           self.tz)
        self.errors: dict[str, list[str]] = {}
        self.error_message = ""
        self._choices: dict[str, tuple[list[tuple[str, str]], bool]] = {}

    def tr(self, text: Mapping[str, str]) -> str:
        return translate(text, self.lang)

    def text(self, message: Any) -> str:
        """A message or a label in the page's language."""
        return self.request.translate(message)

    def fail(self, error: AppError) -> None:
        self.error_message = self.text(error.message)
        for name, messages in error.fields.items():
            self.errors.setdefault(name, []).extend(self.text(m) for m in messages)

    def url(self, route: str, pairs: Iterable[tuple[str, str]], **kw: Any) -> str:
        qs = query_string(pairs)
        return self.request.route_path(route, object=self.name, **kw) + (
            "?" + qs if qs else "")

    def with_state(self, **extra: str | None) -> list[tuple[str, str]]:
        """The list's state, with ``extra`` keys replaced (None: left out)."""
        return [(k, v) for k, v in self.state if k not in extra] + [
            (k, v) for k, v in extra.items() if v]

    # -- records ---------------------------------------------------------------

    def query(self, cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
        try:
            found = self.request.find_service(IQueryService).query(
                self.name, filters=self.spec["filters"], sort=self.spec["sort"],
                limit=PAGE, cursor=cursor, q=self.spec["q"])
        except AppError as error:
            self.fail(error)
            return [], None
        return found["records"], found["next_cursor"]

    def names(self, target: str, ids: Iterable[str]) -> dict[str, str]:
        """The names of records of ``target`` the user may read, by id."""
        wanted = sorted(set(ids))
        access = self.access
        if not wanted or not access.allows(target, "read"):
            return {}
        name_field = self.request.effective.objects[target].doc["name_field"]
        if name_field in access.hidden(target):
            return {}
        found: dict[str, str] = {}
        for start in range(0, len(wanted), CHOICES):
            page = self.request.find_service(IQueryService).query(
                target, filters=[{"field": "id", "op": "in",
                                  "value": wanted[start:start + CHOICES]}],
                limit=CHOICES)
            found.update({r["id"]: str(r.get(name_field) or r["id"])
                          for r in page["records"]})
        return found

    def choices(self, target: str) -> tuple[list[tuple[str, str]], bool]:
        """Records of ``target`` to pick from (id, name), by name, and whether
        there are more than offered (asked once per request: owner, creator and
        last editor all pick users)."""
        if target not in self._choices:
            self._choices[target] = find_choices(self.request, target)
        return self._choices[target]

    def rows(self, records: list[dict[str, Any]], columns: list[Column]
             ) -> list[dict[str, Any]]:
        """Each record's cells as text (references as the names of the records
        they point to), with the link to its page."""
        references: dict[str, set[str]] = {}
        for c in columns:
            target = reference_target(c.spec)
            if target is not None:
                references.setdefault(target, set()).update(
                    r[c.name] for r in records if isinstance(r.get(c.name), str))
        names = {target: self.names(target, ids) for target, ids in references.items()}
        # the record's page is linked from its name (else from the first column)
        shown = [c.name for c in columns]
        link = self.doc["name_field"] if self.doc["name_field"] in shown else (
            shown[0] if shown else "")
        out = []
        for record in records:
            cells = []
            for c in columns:
                value = record.get(c.name)
                target = reference_target(c.spec)
                if target is not None:
                    text = names[target].get(value, "") if value else ""
                else:
                    text = display_text(c.spec, value, self.lang, self.tz)
                cells.append({"name": c.name, "label": c.label, "text": text,
                              "link": c.name == link})
            title = next((c["text"] for c in cells if c["link"]), "")
            out.append({"id": record["id"], "cells": cells,
                        "name": title or record["id"],
                        "url": self.request.route_path("records.detail",
                                                       object=self.name,
                                                       id=record["id"])})
        return out

    # -- what the template shows -------------------------------------------------

    def columns(self) -> list[Column]:
        current = self.spec["sort"][0] if self.spec["sort"] else ""
        found = []
        for name in self.spec["columns"]:
            spec = field_spec(self.doc, name)
            assert spec is not None  # query_spec_from_params keeps known ones only
            ftype = field_type(spec)
            sortable = ftype.stored(spec) and ftype.orders(spec)
            direction = None
            if current.lstrip("-") == name:
                direction = "descending" if current.startswith("-") else "ascending"
            column = Column(name, self.text(spec["label"]), spec, sortable, direction)
            if sortable:
                # a click sorts ascending, a second click descending, and so on
                pairs = self.with_state(
                    sort=f"-{name}" if direction == "ascending" else name)
                column.sort_url = self.url("records.list", pairs)
                column.rows_url = self.url("records.rows", pairs)
            found.append(column)
        return found

    def filters(self) -> list[Filter]:
        state = self.state
        found = []
        for name, spec in filterable_fields(self.doc, self.access).items():
            k = widgets_for(spec).filter or ""
            item = Filter(name, self.text(spec["label"]), k, all_of(state, f"f.{name}"),
                          op=first_of(state, f"op.{name}") or "contains",
                          low=first_of(state, f"min.{name}"),
                          high=first_of(state, f"max.{name}"),
                          empty=bool(first_of(state, f"empty.{name}")),
                          errors=self.errors.get(name, []))
            if k in ("select", "multiselect"):
                item.options = [(o["value"], self.text(o["label"]))
                                for o in spec.get("options", ())]
            elif k == "reference":
                target = reference_target(spec)
                if target is not None:
                    item.options, item.more = self.choices(target)
            item.input_type = {"number": "number", "date": "date", "time": "time",
                               "datetime": "datetime-local"}.get(k, "text")
            found.append(item)
        return found

    def views(self) -> list[dict[str, Any]]:
        current = self.spec["view"]
        saved = first_of(param_pairs(self.request.params), "saved")
        out = [{"label": self.text(v["label"]),
                "url": self.url("records.list", [("view", v["api_name"])]),
                "current": not saved and v["api_name"] == current, "saved": None}
               for v in self.doc["list_views"]]
        for view in self.request.find_service(ISavedViewService).list(self.name):
            out.append({"label": view.name,
                        "url": self.url("records.list",
                                        [*view.params, ("saved", view.id)]),
                        "current": view.id == saved, "saved": view})
        return out


def _object_page(request: Request) -> ListPage | Response:
    """The list of the object in the URL, or the page to answer with instead:
    the login page, or "not found" for an object this enterprise does not have
    (another enterprise's objects are not even names here)."""
    if request.page_user is None:
        return login_redirect(request)
    name = request.matchdict["object"]
    if request.effective.object(name) is None:
        return error_page(request, _("Not found"), _("There is no such page."), 404)
    if not request.access.allows(name, "read"):
        return error_page(request, _("Not allowed"),
                          _("You may not see these records."), 403)
    return ListPage(request)


def _results(page: ListPage, cursor: str | None, shown: int = 0) -> dict[str, Any]:
    columns = page.columns()
    records, next_cursor = page.query(cursor)
    total = shown + len(records)
    more = ""
    if next_cursor:
        more = page.url("records.rows", page.with_state(
            cursor=next_cursor, shown=str(total)))
    return {
        "columns": columns,
        "rows": page.rows(records, columns),
        "count": f"{total}+" if next_cursor else str(total),
        "more_url": more,
        "more_link": page.url("records.list", page.with_state(cursor=next_cursor))
        if next_cursor else "",
        "errors": page.errors,
        "error_message": page.error_message,
        "sort_key": page.spec["sort"][0] if page.spec["sort"] else "",
    }


def _common(page: ListPage) -> dict[str, Any]:
    access, name = page.access, page.name
    state = page.with_state()
    return {
        "object": name,
        "label": page.text(page.obj.label),
        "state_qs": query_string(state),
        "state": state,
        "export_urls": ([(fmt, page.url("records.export", [("format", fmt), *state]))
                         for fmt in ("csv", "xlsx")]
                        if access.allows(name, "export") else []),
        "import_url": (page.request.route_path("records.import", object=name)
                       if access.allows(name, "import") else None),
        "can_transfer": access.allows(name, "transfer"),
        "rows_url": page.request.route_path("records.rows", object=name),
        "views_url": page.request.route_path("records.views", object=name),
        "summary_url": page.request.route_path("records.summary", object=name),
        "transfer_url": page.request.route_path("records.bulk_transfer", object=name),
        "name_field": page.doc["name_field"],
        "summary_fields": _summary_fields(page),
        "field_labels": {n: page.text(s["label"]) for n, s in _showable(page).items()},
        "list_url": page.request.route_path("records.list", object=name),
    }


@view_config(route_name="records.list", request_method="GET")
def list_page(request: Request) -> Response:
    page = _object_page(request)
    if isinstance(page, Response):
        return page
    cursor = request.params.get("cursor") or None
    values = {**_common(page), **_results(page, cursor)}
    values.update(
        views=page.views(),
        filters=page.filters(),
        q=page.spec["q"] or "",
        view=page.spec["view"],
        sort=page.spec["sort"][0] if page.spec["sort"] else "",
        paged=cursor is not None,
        can_create=page.access.allows(page.name, "create"),
        new_url=request.route_path("records.new", object=page.name),
        owners=_owners(page) if values["can_transfer"] else [],
        saved=first_of(param_pairs(request.params), "saved"),
        all_columns=[(n, page.text(s["label"]))
                     for n, s in _showable(page).items()],
    )
    status = 400 if page.errors or page.error_message else 200
    return render_page(request, TEMPLATES + "list.html", values, status)


def _showable(page: ListPage) -> dict[str, dict[str, Any]]:
    hidden = page.access.hidden(page.name)
    found = {}
    for name in [f["api_name"] for f in page.doc["fields"]] + list(SYSTEM_COLUMNS):
        spec = field_spec(page.doc, name)
        if spec is not None and name not in hidden and not field_type(spec).has_rows:
            found[name] = spec
    return found


@view_config(route_name="records.rows", request_method="GET")
def rows_fragment(request: Request) -> Response:
    """The rows of a list (htmx): the whole result (a new filter or sort; the
    browser's address follows it) or, with ``cursor``, the rows after it to
    append ("load more")."""
    page = _object_page(request)
    if isinstance(page, Response):
        return page
    cursor = request.params.get("cursor") or None
    try:
        shown = max(0, int(request.params.get("shown", "0")))
    except ValueError:
        shown = 0
    values = {**_common(page), **_results(page, cursor, shown)}
    template = "_more.html" if cursor else "_results.html"
    response = render_page(request, TEMPLATES + template, values)
    if not cursor:
        response.headers["HX-Push-Url"] = values["list_url"] + (
            "?" + values["state_qs"] if values["state_qs"] else "")
    return response


# -- saved views ----------------------------------------------------------------------

def _saved_pairs(request: Request) -> list[tuple[str, str]]:
    """The list state a save form carries (its ``state`` field: the list's query
    string)."""
    return state_pairs(parse_qsl(request.POST.get("state", ""), max_num_fields=400))


@view_config(route_name="records.views", request_method=("GET", "POST"))
def views_page(request: Request) -> Response:
    """GET: the user's saved views of the object (rename, delete); POST: saves
    the list's current state under a name."""
    page = _object_page(request)
    if isinstance(page, Response):
        return page
    error = None
    if request.method == "POST":
        try:
            view = request.find_service(ISavedViewService).save(
                page.name, request.POST.get("name"), _saved_pairs(request))
        except AppError as exc:
            error = exc
        else:
            return HTTPSeeOther(page.url("records.list",
                                         [*view.params, ("saved", view.id)]))
    return _views_page(page, error, request.POST.get("state", ""))


def _views_page(page: ListPage, error: AppError | None, state: str = "") -> Response:
    request = page.request
    errors = {}
    if error is not None:
        errors = {k: [page.text(m) for m in v] for k, v in error.fields.items()}
    return render_page(request, TEMPLATES + "views.html", {
        "object": page.name, "label": page.text(page.obj.label),
        "list_url": request.route_path("records.list", object=page.name),
        "views": [{"view": v, "url": page.url("records.list",
                                              [*v.params, ("saved", v.id)]),
                   "action": request.route_path("records.view", object=page.name,
                                                view=v.id)}
                  for v in request.find_service(ISavedViewService).list(page.name)],
        "error_message": page.text(error.message) if error is not None else "",
        "errors": errors, "state": state,
        "save_url": request.route_path("records.views", object=page.name),
    }, 400 if error is not None else 200)


@view_config(route_name="records.view", request_method=("GET", "POST"))
def view_action(request: Request) -> Response:
    """GET: the list as the saved view shows it; POST ``action=rename`` (with
    ``name``) or ``action=delete``. Only the view's owner reaches it."""
    page = _object_page(request)
    if isinstance(page, Response):
        return page
    saved = request.find_service(ISavedViewService)
    view_id = request.matchdict["view"]
    try:
        if request.method == "GET":
            view = saved.get(page.name, view_id)
            return HTTPSeeOther(page.url("records.list",
                                         [*view.params, ("saved", view.id)]))
        action = request.POST.get("action")
        if action == "rename":
            saved.rename(page.name, view_id, request.POST.get("name"))
        elif action == "delete":
            saved.delete(page.name, view_id)
        else:
            raise AppError("invalid", _("Unknown action"),
                           {"action": [_("must be rename or delete")]})
    except AppError as error:
        if error.status == 404:
            return error_page(request, _("Not found"), _("There is no such page."),
                              404)
        return _views_page(page, error)
    return HTTPSeeOther(request.route_path("records.views", object=page.name))


# -- bulk transfer ------------------------------------------------------------------

def _owners(page: ListPage) -> list[tuple[str, str]]:
    """The active users a record can be handed to, by name."""
    users, _more = page.choices("user")
    return users


REFUSALS = {
    404: _("does not exist or is not yours to see"),
    403: _("you may not transfer this record"),
    409: _("the record is under approval and locked"),
}


@view_config(route_name="records.bulk_transfer", request_method="POST")
def bulk_transfer(request: Request) -> Response:
    """Hands each ticked record to the chosen owner, one at a time through the
    record service (the ``transfer`` verb per record): what can be transferred
    is, and the page reports what was refused and why."""
    page = _object_page(request)
    if isinstance(page, Response):
        return page
    ids = list(dict.fromkeys(i for i in request.POST.getall("ids") if i))
    owner = request.POST.get("owner", "")
    back = safe_next(request.POST.get("back"),
                     request.route_path("records.list", object=page.name))
    owner_name = page.names("user", [owner]).get(owner) if owner else None
    problem = None
    if not ids:
        problem = _("Tick the records to transfer.")
    elif len(ids) > MAX_TRANSFER:
        problem = _("At most ${max_transfer} records at a time.",
                    mapping={"max_transfer": MAX_TRANSFER})
    elif owner_name is None:
        problem = _("Choose the new owner.")
    done: list[str] = []
    refused: list[dict[str, str]] = []
    if problem is None:
        records = request.find_service(IRecordService)
        for record_id in ids:
            try:
                # a refused record leaves nothing behind; the others go ahead
                attempt(request, records.transfer, page.name, record_id, owner)
            except AppError as error:
                reason = REFUSALS.get(error.status) or error.message
                refused.append({"id": record_id, "reason": page.text(reason)})
            else:
                done.append(record_id)
    names = page.names(page.name, [r["id"] for r in refused] + done)
    for item in refused:
        item["name"] = names.get(item["id"], item["id"])
    return render_page(request, TEMPLATES + "transfer.html", {
        "object": page.name, "label": page.text(page.obj.label),
        "problem": page.text(problem) if problem else "",
        "done": len(done), "refused": refused, "owner": owner_name or "",
        "back": back,
    }, 400 if problem is not None else 200)


# -- the summary chart --------------------------------------------------------------

def _summary_fields(page: ListPage) -> list[tuple[str, str]]:
    return [(n, page.text(s["label"]))
            for n, s in filterable_fields(page.doc, page.access).items()
            if field_type(s).groups(s)]


def summary_chart(title: str, groups: list[tuple[str, int]]) -> dict[str, Any]:
    """An ECharts option: a bar per group (label, count)."""
    return {
        "aria": {"enabled": True},
        "tooltip": {"trigger": "axis"},
        "grid": {"left": 8, "right": 8, "top": 24, "bottom": 8, "containLabel": True},
        "xAxis": {"type": "category", "data": [g[0] for g in groups],
                  "axisLabel": {"interval": 0, "rotate": 30 if len(groups) > 4 else 0}},
        "yAxis": {"type": "value", "minInterval": 1},
        "series": [{"type": "bar", "name": title, "data": [g[1] for g in groups],
                    "label": {"show": True, "position": "top"}}],
    }


@view_config(route_name="records.summary", request_method="GET")
def summary(request: Request) -> Response:
    """Record counts per value of a select or boolean field (``by``) over what
    the list's filters find and the user may see: a chart and the same numbers
    as a table (htmx: the fragment; else a page of its own)."""
    page = _object_page(request)
    if isinstance(page, Response):
        return page
    fields = dict(_summary_fields(page))
    by = request.params.get("by") or next(iter(fields), "")
    groups: list[tuple[str, int]] = []
    if by not in fields:
        page.errors["by"] = [page.text(_("choose a select or boolean field"))]
    else:
        spec = field_spec(page.doc, by) or {}
        empty = page.text(_("(empty)"))
        try:
            counted = request.find_service(IQueryService).count_by(
                page.name, by, filters=page.spec["filters"], q=page.spec["q"])
        except AppError as error:
            page.fail(error)
            counted = []
        groups = [(display_text(spec, value, page.lang, page.tz) or empty
                   if value is not None else empty, n) for value, n in counted]
    title = fields.get(by, "")
    values = {
        **_common(page), "by": by, "title": title, "groups": groups,
        "option": json.dumps(summary_chart(title, groups), ensure_ascii=False),
        "summary_fields": list(fields.items()), "errors": page.errors,
        "error_message": page.error_message,
    }
    status = 400 if page.errors else 200
    template = "_summary.html" if request.headers.get("HX-Request") else "summary.html"
    return render_page(request, TEMPLATES + template, values, status)


@view_config(route_name="records.export", request_method="GET")
def export_file(request: Request) -> Response:
    """What the list shows (its filters, keyword, sort and columns) as a CSV or
    XLSX file, through the same export service as the API: the ``export`` verb,
    the user's scope and hidden fields apply alike."""
    page = _object_page(request)
    if isinstance(page, Response):
        return page
    spec = page.spec
    body = {"filters": spec["filters"], "sort": spec["sort"], "q": spec["q"],
            "columns": spec["columns"]}
    try:
        return export_response(request, page.name, body,
                               request.params.get("format", "csv"))
    except AppError as exc:
        if exc.fields:  # a bad filter: the list says which, next to the field
            return list_page(request)
        return error_page(request, _("Export failed"), exc.message, exc.status)
