"""The approval pages (issue 5): the boxes, starting an approval from its form, one
approval with its steps, timeline and the actions the user may take, and the
inbox of notifications.

Every page is a view of ``ApprovalService`` (propolis/platform/workflow) on
behalf of the logged-in user, exactly what the JSON API calls: the pages decide
nothing about who may do what beyond which buttons to offer; the service refuses
the rest, and its refusal is shown on the page. The form of a new approval is
the record form of the definition's object, made by the same generator as the
record pages."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.i18n import TranslationStringFactory
from pyramid.request import Request
from pyramid.response import Response
from pyramid.view import view_config

from propolis.forms.data import apply_errors, form_to_json
from propolis.forms.generate import RecordForm
from propolis.forms.layout import form_layout
from propolis.forms.pages.home import todo_count
from propolis.forms.pages.records import name_things, page, record_form_class
from propolis.forms.widgets import errors_html
from propolis.platform.errors import AppError, NotFound, translate
from propolis.platform.web.pages import attempt, render_page
from propolis.platform.workflow.engine import BOXES, MANAGERS
from propolis.platform.workflow.interfaces import IApprovalService
from propolis.platform.workflow.services import ApprovalService

_ = TranslationStringFactory("propolis")
T = "propolis.forms:templates/approvals/"
BOX_PAGE = 20
NOTICE_PAGE = 30
NO_SUCH_TYPE = _("There is no such approval type")
# the flash after each action
DONE = {"approve": _("Approved."), "reject": _("Rejected."),
        "return": _("Returned to the earlier step."),
        "transfer": _("Approver changed."), "withdraw": _("Withdrawn."),
        "add_approver": _("Approver added."), "comment": _("Comment added."),
        "urge": _("Reminder sent.")}


def _render(request: Request, template: str, values: dict[str, Any],
            status: int = 200) -> Response:
    values.setdefault("flashes", request.session.pop_flash())
    return render_page(request, T + template, values, status)


def approvals_of(request: Request) -> ApprovalService:
    """The approval service of the request's user."""
    service: ApprovalService = request.find_service(IApprovalService)
    return service


def _messages(request: Request, error: AppError) -> dict[str, list[str]]:
    """An error's field messages in the page's language."""
    return {k: [translate(m, request.lang) for m in v] for k, v in error.fields.items()}


# -- the boxes -----------------------------------------------------------------------

@view_config(route_name="approvals.home", request_method="GET")
@page
def home(request: Request) -> Response:
    """One box (``?box=todo|submitted|cc|done``), newest first; ``cursor``
    continues it (htmx: just the next rows and the "load more" link)."""
    box = request.GET.get("box", "todo")
    if box not in BOXES:
        box = "todo"
    service = approvals_of(request)
    found = service.box(box, limit=BOX_PAGE,
                        cursor=request.GET.get("cursor") or None)
    values = {"box": box, "items": found["items"],
              "next_cursor": found["next_cursor"]}
    if "HX-Request" in request.headers and request.GET.get("cursor"):
        return _render(request, "_items.html", values)
    unread = service.notifications(unread=True, limit=1)["unread"]
    values.update(todo=todo_count(request), unread=unread)
    return _render(request, "home.html", values)


# -- starting one ----------------------------------------------------------------------

def _startable(request: Request) -> list[dict[str, Any]]:
    """The definitions whose form the user may create, with their section."""
    found = []
    for d in approvals_of(request).definitions():
        if not request.access.allows(d["form"], "create"):
            continue
        obj = request.effective.objects[d["form"]]
        found.append({**d, "label": request.translate(d["label"]),
                      "description": (request.translate(d["description"])
                                      if d.get("description") else ""),
                      "section": obj.doc.get("app", "apps")})
    return sorted(found, key=lambda d: d["label"])


@view_config(route_name="approvals.start_list", request_method="GET")
@page
def start_list(request: Request) -> Response:
    """发起审批: the approval types the user may start, by navigation section."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for d in _startable(request):
        groups.setdefault(d["section"], []).append(d)
    ordered = [(s, groups[s]) for s in ("work", "crm", "apps") if s in groups]
    return _render(request, "start_list.html", {"groups": ordered})


def _definition(request: Request) -> tuple[str, Mapping[str, Any]]:
    name = request.matchdict["definition"]
    definition = request.effective.approvals.get(name)
    if definition is None or request.effective.object(definition["form"]) is None:
        raise NotFound("not_found", NO_SUCH_TYPE)
    request.access.require(definition["form"], "create")
    return name, definition


def _start_page(request: Request, name: str, definition: Mapping[str, Any],
                form: RecordForm, errors: Mapping[str, list[str]] | None = None,
                status: int = 200) -> Response:
    obj = request.effective.objects[definition["form"]]
    name_things(request, form)
    return _render(request, "start.html", {
        "name": name, "label": request.translate(definition["label"]),
        "object_label": request.translate(obj.label),
        "free": definition["mode"] == "free",
        "steps": [request.translate(s["label"]) if s.get("label") else None
                  for s in definition.get("steps", [])],
        "form": form, "layout": form_layout(form), "errors_html": errors_html,
        "errors": errors or {}, "posted": request.POST,
    }, status)


@view_config(route_name="approvals.start", request_method=("GET", "POST"))
@page
def start(request: Request) -> Response:
    """The definition's form (the record form of its object) and, in a free
    flow, the first approver; submitting hands both to the service's ``start``
    (the API's ``POST /approvals``)."""
    name, definition = _definition(request)
    obj = request.effective.objects[definition["form"]]
    cls = record_form_class(request, obj)
    if request.method != "POST":
        return _start_page(request, name, definition, cls())
    form = cls(request.POST)
    body: dict[str, Any] = {"definition": name}
    for key in ("next_approver", "comment"):
        if request.POST.get(key, "").strip():
            body[key] = request.POST[key].strip()
    try:
        body["data"] = form_to_json(form)
        # the record the service made before refusing is undone
        instance = attempt(request, approvals_of(request).start, body)
    except AppError as error:
        if error.status in (403, 404):
            raise
        apply_errors(form, error, request.lang)
        return _start_page(request, name, definition, form, _messages(request, error),
                           409 if error.status == 409 else 400)
    request.session.flash(request.translate(_("Submitted for approval.")))
    return HTTPSeeOther(request.route_path("approvals.detail", id=instance["id"]))


# -- one approval ---------------------------------------------------------------------

def _offers(request: Request, instance: Mapping[str, Any]) -> set[str]:
    """The actions to offer the user (the service decides in the end)."""
    me = request.actor.user_id
    pending = instance["status"] == "pending"
    submitter = instance["submitter"]["id"] == me
    mine = instance["my_task"] is not None
    manager = bool(request.actor.roles & MANAGERS)
    free = instance["definition"]["mode"] == "free"
    offers = {"comment"}
    if not pending:
        return offers
    if mine:
        offers |= {"approve", "reject"}
        if _earlier_steps(instance):
            offers.add("return")
    if mine or manager:
        offers.add("add_approver")
    if submitter or (not free and (mine or manager)):
        offers.add("transfer")
    if submitter:
        offers |= {"withdraw", "urge"}
    return offers


def _earlier_steps(instance: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    current = instance["current_step"] or 0
    return [s for s in instance["steps"]
            if s["seq"] < current and s["status"] == "approved"]


def _instance_page(request: Request, instance: Mapping[str, Any],
                   errors: Mapping[str, list[str]] | None = None,
                   acted: str | None = None, alert: str | None = None,
                   status: int = 200) -> Response:
    record = instance["record"]
    obj = request.effective.object(instance["object"])
    layout = None
    if record is not None and obj is not None:
        # read-only, and only the fields the viewer's roles see (the service
        # left the others out of the record)
        form = record_form_class(request, obj, read_only=True)(data=record)
        name_things(request, form)
        layout = form_layout(form)
    return _render(request, "detail.html", {
        "i": instance, "label": request.translate(instance["definition"]["label"]),
        "layout": layout, "offers": _offers(request, instance),
        "earlier": _earlier_steps(instance), "errors": errors or {},
        "acted": acted, "alert": alert, "posted": request.POST if acted else {},
    }, status)


@view_config(route_name="approvals.detail", request_method="GET")
@page
def detail(request: Request) -> Response:
    instance = approvals_of(request).get(request.matchdict["id"])
    return _instance_page(request, instance)


def _action_body(request: Request, action: str) -> dict[str, Any]:
    """The action's fields from the posted form, as the API's JSON body has them."""
    body: dict[str, Any] = {"action": action}
    for key in ("comment", "next_approver", "to", "from", "position"):
        value = request.POST.get(key, "").strip()
        if value:
            body[key] = value
    step = request.POST.get("step", "").strip()
    if step:
        body["step"] = int(step) if step.isdigit() and len(step) < 6 else step
    return body


@view_config(route_name="approvals.act", request_method="POST")
@page
def act(request: Request) -> Response:
    """One action on the approval (the API's ``POST /approvals/{id}/actions``).
    Bad input: the page again with the message next to the field; not allowed
    (403) or overtaken by someone else (409): the page again, as it stands now,
    with the reason."""
    instance_id = request.matchdict["id"]
    action = request.POST.get("action", "")
    service = approvals_of(request)
    try:
        attempt(request, service.act, instance_id, _action_body(request, action))
    except AppError as error:
        if error.status == 404:
            raise
        instance = service.get(instance_id)
        if error.status == 400:
            return _instance_page(request, instance, _messages(request, error),
                                  acted=action, status=400)
        return _instance_page(request, instance, alert=translate(error.message,
                                                             request.lang),
                              status=error.status)
    request.session.flash(request.translate(DONE.get(action, _("Done."))))
    return HTTPSeeOther(request.route_path("approvals.detail", id=instance_id))


# -- the inbox ------------------------------------------------------------------------

@view_config(route_name="approvals.notifications", request_method="GET")
@page
def notifications(request: Request) -> Response:
    """The user's notifications, newest first (``?unread=1``: only the unread)."""
    unread = request.GET.get("unread") == "1"
    found = approvals_of(request).notifications(
        unread=unread, limit=NOTICE_PAGE, cursor=request.GET.get("cursor") or None,
        lang=request.lang)
    return _render(request, "notifications.html", {**found, "only_unread": unread})


@view_config(route_name="approvals.read", request_method="POST")
@page
def mark_read(request: Request) -> Response:
    """Marks one notification read (``id``), or every one."""
    notice = request.POST.get("id", "").strip()
    approvals_of(request).mark_read([notice] if notice else None)
    request.session.flash(request.translate(
        _("Marked read.") if notice else _("All marked read.")))
    return HTTPSeeOther(request.route_path("approvals.notifications"))
