"""The organisation pages: in the admin console (behind its password step-up) the
departments, the employees, invitations, join requests (待审核) and the employee
import; and the public join page an invitation link opens.

Thin like the JSON API: every change is a call of the organisation services, whose
per-field messages go back onto the form. A change that fails is rolled back to
a savepoint, so the page that shows the errors is drawn from untouched data and
nothing is half-written."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import Any, TypeVar
from urllib.parse import urlencode

from pyramid.config import Configurator
from pyramid.i18n import TranslationStringFactory
from pyramid.request import Request
from pyramid.response import Response
from pyramid.view import view_config
from sqlalchemy import select

from propolis.platform.accounts import services as accounts
from propolis.platform.accounts.forms import JoinForm, PageForm
from propolis.platform.accounts.services import Throttled
from propolis.platform.accounts.views import (
    captcha_image,
    captcha_solved,
    throttled_page,
)
from propolis.platform.errors import AppError, NotFound
from propolis.platform.org import invitations
from propolis.platform.org.forms import (
    ApproveForm,
    DepartmentForm,
    EmployeeForm,
    EmployeeSearchForm,
    HandoverForm,
    ImportForm,
    InviteForm,
    JoinSettingsForm,
    MoveForm,
    NewDepartmentForm,
    RejectForm,
    SubDepartmentForm,
)
from propolis.platform.org.imports import Importer
from propolis.platform.org.services import OrgService
from propolis.platform.org.summary import console_summary
from propolis.platform.org.views import (
    invitations_service,
    join_tenant,
    org_service,
    timezone,
)
from propolis.platform.web.pages import (
    PageUser,
    console_user,
    error_page,
    no_store,
    redirect,
    render_page,
)

_ = TranslationStringFactory("propolis")
T = TypeVar("T")

TEMPLATES = "propolis.platform.org:templates/org/"
PAGE_SIZE = 50
# the employee list's filter for those in no department (no id looks like it)
NO_DEPARTMENT = "none"


def includeme(config: Configurator) -> None:
    config.add_route("admin.home", "/admin")
    config.add_route("admin.org", "/admin/org")
    config.add_route("admin.org.department", "/admin/org/departments/{id}")
    config.add_route("admin.org.department.action",
                     "/admin/org/departments/{id}/{action}")
    config.add_route("admin.org.users", "/admin/org/users")
    config.add_route("admin.org.user", "/admin/org/users/{id}")
    config.add_route("admin.org.user.action", "/admin/org/users/{id}/{action}")
    config.add_route("admin.org.invite", "/admin/org/invite")
    config.add_route("admin.org.invite.action", "/admin/org/invite/{action}")
    config.add_route("admin.org.requests", "/admin/org/requests")
    config.add_route("admin.org.request.action", "/admin/org/requests/{id}/{action}")
    config.add_route("admin.org.import", "/admin/org/import")
    # a fixed path before the token in the same place
    config.add_route("join.sent", "/join/sent")
    config.add_route("join.page", "/join/{token}")


@view_config(route_name="admin.home", request_method="GET")
def admin_home(request: Request) -> Response:
    """The admin console's home: the organisation's numbers."""
    user = console_user(request)
    if isinstance(user, Response):
        return user
    summary = console_summary(request.db.connection(), request.sysdb,
                              request.identity.enterprise_id, tz=timezone(request),
                              now=request.now)
    return no_store(render_page(request, TEMPLATES + "home.html", {
        "user": user, "summary": dict(summary)}))


# -- what every page here shares ---------------------------------------------------

def attempt(request: Request, change: Callable[..., T], *args: Any) -> T:
    """Runs one service call inside a savepoint: when it refuses, whatever it
    wrote before noticing is undone and the refusal goes on to the page."""
    savepoint = request.db.begin_nested()
    try:
        result = change(*args)
    except BaseException:
        if savepoint.is_active:
            savepoint.rollback()
        raise
    savepoint.commit()
    return result


def _not_found(request: Request) -> Response:
    return error_page(request, _("Not found"), _("There is no such page."), 404)


def _page(request: Request, name: str, values: dict[str, Any],
          status: int = 200) -> Response:
    values.setdefault("flashes", request.session.pop_flash())
    values.setdefault("error", None)
    return no_store(render_page(request, TEMPLATES + name, values, status))


def _refused(request: Request, exc: AppError, *forms: PageForm) -> str | None:
    """Puts a refusal's field messages on the first form that has the field; the
    page-wide message when some fit no field (or there are none)."""
    left = dict(exc.fields)
    for form in forms:
        for name in list(left):
            if name != "csrf_token" and hasattr(form, name):
                form.add_errors({name: left.pop(name)})
    if left or not exc.fields:
        texts = [request.translate(exc.message)]
        texts += [request.translate(m) for ms in left.values() for m in ms]
        return " ".join(texts)
    return None


def _or_none(value: Any) -> Any:
    return value or None


def flatten(tree: Iterable[dict[str, Any]], depth: int = 0
            ) -> list[tuple[dict[str, Any], int]]:
    """The department tree as a list in display order, each with its depth."""
    out: list[tuple[dict[str, Any], int]] = []
    for node in tree:
        out.append((node, depth))
        out += flatten(node["children"], depth + 1)
    return out


def department_choices(request: Request, tree: list[dict[str, Any]], empty: Any,
                       *, enabled_only: bool = False) -> list[tuple[str, str]]:
    """The departments for a drop-down, indented by depth; ``empty`` labels the
    choice of none."""
    disabled = request.localizer.translate(_("disabled"))
    choices = [("", request.localizer.translate(empty))]
    for node, depth in flatten(tree):
        if enabled_only and node["disabled"]:
            continue
        label = "\u2003" * depth + node["name"]
        choices.append((node["id"], f"{label} ({disabled})" if node["disabled"]
                        else label))
    return choices


def user_choices(request: Request, org: OrgService, empty: Any,
                 but: str | None = None) -> list[tuple[str, str]]:
    """The active employees for a drop-down (not ``but``)."""
    return [("", request.localizer.translate(empty))] + [
        (u["id"], f"{u['name']} ({u['phone']})") for u in org.colleagues()
        if u["id"] != but]


def option_choices(request: Request, org: OrgService, field: str
                   ) -> list[tuple[str, str]]:
    """A select field's options of the user object, labelled in the page's
    language (the roles, the statuses)."""
    options = org.effective.objects["user"].fields[field].get("options", ())
    return [(o["value"], request.translate(o.get("label") or {"en": o["value"]}))
            for o in options]


ConsoleView = Callable[[Request, PageUser, OrgService], Response]


def console_view(view: ConsoleView) -> Callable[[Request], Response]:
    """A console page: only for an admin past the step-up (else where to go
    instead), called with them and the organisation service."""

    @functools.wraps(view)
    def guarded(request: Request) -> Response:
        user = console_user(request)
        if isinstance(user, Response):
            return user
        return view(request, user, org_service(request))

    return guarded


# -- departments -------------------------------------------------------------------

def _departments_values(request: Request, org: OrgService, **extra: Any
                        ) -> dict[str, Any]:
    tree = org.department_tree()
    form = extra.pop("new_form", None) or NewDepartmentForm(request)
    form.parent.choices = department_choices(request, tree, _("(top level)"),
                                             enabled_only=True)
    names = {u["id"]: u["name"] for u in org.colleagues()}
    return {"tree": tree, "new_form": form, "heads": names, **extra}


@view_config(route_name="admin.org", request_method=("GET", "POST"))
@console_view
def departments_page(request: Request, user: PageUser, org: OrgService
                     ) -> Response:
    if request.method == "GET":
        return _page(request, "departments.html",
                     {"user": user, **_departments_values(request, org)})
    form = NewDepartmentForm(request, request.POST)
    try:
        created = attempt(request, org.create_department, {
            "name": form.name.data or "", "parent": _or_none(form.parent.data)})
    except AppError as exc:
        error = _refused(request, exc, form)
        return _page(request, "departments.html", {
            "user": user, "error": error,
            **_departments_values(request, org, new_form=form)}, exc.status)
    request.session.flash(request.localizer.translate(
        _("Department ${name} created.", mapping={"name": created["name"]})))
    return redirect(request.route_path("admin.org"))


def _department_values(request: Request, org: OrgService, department: dict[str, Any],
                       **forms: PageForm) -> dict[str, Any]:
    tree = org.department_tree()
    node = next(n for n, _depth in flatten(tree) if n["id"] == department["id"])
    edit = forms.get("edit") or DepartmentForm(
        request, name=department["name"], head=department.get("head") or "")
    edit.head.choices = user_choices(request, org, _("(no head)"))
    move = forms.get("move") or MoveForm(request, parent=department.get("parent") or "")
    move.parent.choices = department_choices(request, tree, _("(top level)"))
    child = forms.get("create") or SubDepartmentForm(request)
    return {"department": department, "node": node, "edit_form": edit,
            "move_form": move, "child_form": child}


@view_config(route_name="admin.org.department", request_method="GET")
@console_view
def department_page(request: Request, user: PageUser, org: OrgService
                    ) -> Response:
    try:
        department = org.records.get("department", request.matchdict["id"])
    except NotFound:
        return _not_found(request)
    return _page(request, "department.html",
                 {"user": user, **_department_values(request, org, department)})


@view_config(route_name="admin.org.department.action", request_method="POST")
@console_view
def department_action(request: Request, user: PageUser, org: OrgService
                      ) -> Response:
    id = request.matchdict["id"]
    action = request.matchdict["action"]
    try:
        department = org.records.get("department", id)
    except NotFound:
        return _not_found(request)
    kinds: dict[str, type[PageForm]] = {
        "edit": DepartmentForm, "move": MoveForm, "create": SubDepartmentForm,
        "disable": PageForm, "enable": PageForm}
    if action not in kinds:
        return _not_found(request)
    form = kinds[action](request, request.POST)
    data = form.data
    call: tuple[Any, ...] = {
        "edit": lambda: (org.update_department, id, {
            "name": data["name"] or "", "head": _or_none(data["head"])}),
        "move": lambda: (org.move_department, id, _or_none(data["parent"])),
        "create": lambda: (org.create_department, {"name": data["name"] or "",
                                                   "parent": id}),
        "disable": lambda: (org.disable_department, id),
        "enable": lambda: (org.enable_department, id),
    }[action]()
    done = {"edit": _("Department saved."), "move": _("Department moved."),
            "create": _("Sub-department created."),
            "disable": _("Department disabled."),
            "enable": _("Department enabled.")}[action]
    try:
        attempt(request, *call)
    except AppError as exc:
        error = _refused(request, exc, form)
        values = _department_values(request, org, department, **{action: form})
        return _page(request, "department.html",
                     {"user": user, "error": error, **values}, exc.status)
    request.session.flash(request.localizer.translate(done))
    return redirect(request.route_path("admin.org.department", id=id))


# -- employees ---------------------------------------------------------------------

@view_config(route_name="admin.org.users", request_method="GET")
@console_view
def employees_page(request: Request, user: PageUser, org: OrgService
                   ) -> Response:
    search = EmployeeSearchForm(request, request.GET)
    tree = org.department_tree()
    search.department.choices = department_choices(request, tree,
                                                   _("All departments"))
    search.department.choices.insert(1, (NO_DEPARTMENT, request.localizer.translate(
        _("(no department)"))))
    statuses = option_choices(request, org, "status")
    search.status.choices = [("", request.localizer.translate(_("Any status")))] \
        + statuses
    page_text = request.GET.get("page", "1")
    page = int(page_text) if page_text.isdigit() and int(page_text) > 0 else 1
    status = search.status.data if search.status.data in dict(statuses) else None
    department = search.department.data or None
    rows, total = org.employees(
        q=search.q.data, status=status, offset=(page - 1) * PAGE_SIZE,
        limit=PAGE_SIZE, department=None if department == NO_DEPARTMENT
        else department, without_department=department == NO_DEPARTMENT)
    names = {n["id"]: n["name"] for n, _depth in flatten(tree)}

    def page_url(number: int) -> str:
        params = {k: v for k, v in (("q", search.q.data),
                                    ("department", search.department.data),
                                    ("status", status)) if v}
        return request.route_path("admin.org.users") + "?" + urlencode(
            {**params, "page": number})

    last = max(1, -(-total // PAGE_SIZE))
    return _page(request, "users.html", {
        "user": user, "search": search, "rows": rows, "total": total,
        "departments": names, "statuses": dict(statuses), "page": page,
        "pages": last,
        "previous": page_url(page - 1) if page > 1 else None,
        "next": page_url(page + 1) if page < last else None})


def _employee_values(request: Request, org: OrgService, employee: dict[str, Any],
                     form: EmployeeForm | None = None,
                     handover: HandoverForm | None = None) -> dict[str, Any]:
    tree = org.department_tree()
    main = employee.get("main_department")
    if form is None:
        others = [r["department"] for r in employee.get("departments") or ()
                  if r["department"] != main]
        form = EmployeeForm(request, name=employee["name"],
                            position=employee.get("position") or "",
                            main_department=main or "", departments=others,
                            superior=employee.get("superior") or "",
                            roles=list(employee.get("roles") or ()))
    form.main_department.choices = department_choices(request, tree,
                                                      _("(no department)"))
    form.departments.choices = department_choices(request, tree, "")[1:]
    form.superior.choices = user_choices(request, org, _("(no superior)"),
                                         but=employee["id"])
    form.roles.choices = option_choices(request, org, "roles")
    handover = handover or HandoverForm(request)
    handover.handover_to.choices = user_choices(request, org, _("(nobody)"),
                                                but=employee["id"])
    return {"employee": employee, "form": form, "handover_form": handover,
            "owned": org.owned_counts(employee["id"]),
            "objects": org.effective.objects,
            "statuses": dict(option_choices(request, org, "status"))}


@view_config(route_name="admin.org.user", request_method=("GET", "POST"))
@console_view
def employee_page(request: Request, user: PageUser, org: OrgService
                  ) -> Response:
    id = request.matchdict["id"]
    try:
        employee = org.records.get("user", id)
    except NotFound:
        return _not_found(request)
    if request.method == "GET":
        return _page(request, "user.html",
                     {"user": user, **_employee_values(request, org, employee)})
    form = EmployeeForm(request, request.POST)
    main = _or_none(form.main_department.data)
    departments = list(dict.fromkeys(([main] if main else [])
                                     + list(form.departments.data or ())))
    try:
        attempt(request, org.update_user, id, {
            "name": form.name.data or "", "position": _or_none(form.position.data),
            "main_department": main, "departments": departments,
            "superior": _or_none(form.superior.data),
            "roles": list(form.roles.data or ())})
    except AppError as exc:
        error = _refused(request, exc, form)
        return _page(request, "user.html", {
            "user": user, "error": error,
            **_employee_values(request, org, employee, form=form)}, exc.status)
    request.session.flash(request.localizer.translate(_("Employee saved.")))
    return redirect(request.route_path("admin.org.user", id=id))


@view_config(route_name="admin.org.user.action", request_method="POST")
@console_view
def employee_action(request: Request, user: PageUser, org: OrgService
                    ) -> Response:
    id, action = request.matchdict["id"], request.matchdict["action"]
    if action not in ("disable", "enable"):
        return _not_found(request)
    try:
        employee = org.records.get("user", id)
    except NotFound:
        return _not_found(request)
    handover = HandoverForm(request, request.POST)
    translate = request.localizer.translate
    try:
        if action == "disable":
            done = attempt(request, org.disable_user, id,
                           _or_none(handover.handover_to.data))
            moved = sum(done["transferred"].values())
            message = translate(_("Employee disabled; ${count} records handed over.",
                                  mapping={"count": moved}))
        else:
            attempt(request, org.enable_user, id)
            message = translate(_("Employee enabled."))
    except AppError as exc:
        error = _refused(request, exc, handover)
        return _page(request, "user.html", {
            "user": user, "error": error,
            **_employee_values(request, org, employee, handover=handover)},
            exc.status)
    request.session.flash(message)
    return redirect(request.route_path("admin.org.user", id=id))


# -- invitations and the join settings ---------------------------------------------

def _invite_values(request: Request, org: OrgService, **forms: PageForm
                   ) -> dict[str, Any]:
    tree = org.department_tree()
    form = forms.get("invite") or InviteForm(
        request, expires_in_days=str(invitations.DEFAULT_DAYS))
    form.department.choices = department_choices(request, tree, _("(none)"),
                                                  enabled_only=True)
    current = org.settings()
    settings = forms.get("settings") or JoinSettingsForm(
        request, default_department=current["default_department"] or "",
        default_roles=current["default_roles"])
    settings.default_department.choices = department_choices(
        request, tree, _("(no department)"), enabled_only=True)
    settings.default_roles.choices = [
        c for c in option_choices(request, org, "roles") if c[0] != "admin"]
    listing = invitations_service(request).listing(usable_only=False)
    created = set(request.session.pop_flash("invitation"))
    return {"invite_form": form, "settings_form": settings,
            "invitations": listing, "departments": {
                n["id"]: n["name"] for n, _depth in flatten(tree)},
            "created": [i for i in listing if i["id"] in created],
            "action_form": PageForm(request)}


def _days(text: str | None) -> dict[str, Any]:
    text = (text or "").strip()
    if not text:
        return {}
    # a number the service can judge; anything else as is, for it to refuse
    return {"expires_in_days": int(text) if text.isdigit() else text}


@view_config(route_name="admin.org.invite", request_method=("GET", "POST"))
@console_view
def invite_page(request: Request, user: PageUser, org: OrgService
                ) -> Response:
    if request.method == "GET":
        return _page(request, "invite.html",
                     {"user": user, **_invite_values(request, org)})
    form = InviteForm(request, request.POST)
    try:
        created = attempt(request, invitations_service(request).create, {
            "phone": _or_none(form.phone.data), "email": _or_none(form.email.data),
            "department": _or_none(form.department.data),
            **_days(form.expires_in_days.data)})
    except AppError as exc:
        error = _refused(request, exc, form)
        return _page(request, "invite.html", {
            "user": user, "error": error,
            **_invite_values(request, org, invite=form)}, exc.status)
    # the new link is shown once the browser is back on the page (no re-post)
    request.session.flash(created["id"], queue="invitation")
    return redirect(request.route_path("admin.org.invite"))


@view_config(route_name="admin.org.invite.action", request_method="POST")
@console_view
def invite_action(request: Request, user: PageUser, org: OrgService
                  ) -> Response:
    translate = request.localizer.translate
    action = request.matchdict["action"]
    if action == "revoke":
        try:
            attempt(request, invitations_service(request).revoke,
                    request.POST.get("id", ""))
        except NotFound:
            return _not_found(request)
        request.session.flash(translate(_("Invitation revoked.")))
    elif action == "settings":
        form = JoinSettingsForm(request, request.POST)
        try:
            attempt(request, org.put_settings, {
                "default_roles": list(form.default_roles.data or ()),
                "default_department": _or_none(form.default_department.data)})
        except AppError as exc:
            error = _refused(request, exc, form)
            return _page(request, "invite.html", {
                "user": user, "error": error,
                **_invite_values(request, org, settings=form)}, exc.status)
        request.session.flash(translate(_("Settings saved.")))
    else:
        return _not_found(request)
    return redirect(request.route_path("admin.org.invite"))


# -- join requests (待审核) ---------------------------------------------------------

REVIEWED = ("pending", "approved", "rejected")


def _requests_values(request: Request, org: OrgService, status: str,
                     **forms: PageForm) -> dict[str, Any]:
    tree = org.department_tree()
    choices = department_choices(request, tree, _("(as invited)"),
                                 enabled_only=True)
    rows = []
    for item in invitations_service(request).requests(status):
        approve = forms.get(f"approve-{item['id']}") or ApproveForm(
            request, prefix=f"a{item['id']}")
        approve.main_department.choices = choices
        reject = forms.get(f"reject-{item['id']}") or RejectForm(
            request, prefix=f"r{item['id']}")
        rows.append({**item, "approve_form": approve, "reject_form": reject})
    names = {n["id"]: n["name"] for n, _depth in flatten(tree)}
    return {"requests": rows, "status": status, "departments": names,
            "statuses": REVIEWED}


@view_config(route_name="admin.org.requests", request_method="GET")
@console_view
def requests_page(request: Request, user: PageUser, org: OrgService
                  ) -> Response:
    status = request.GET.get("status", "pending")
    status = status if status in REVIEWED else "pending"
    return _page(request, "requests.html",
                 {"user": user, **_requests_values(request, org, status)})


@view_config(route_name="admin.org.request.action", request_method="POST")
@console_view
def request_action(request: Request, user: PageUser, org: OrgService
                   ) -> Response:
    id, action = request.matchdict["id"], request.matchdict["action"]
    service = invitations_service(request)
    translate = request.localizer.translate
    form: ApproveForm | RejectForm
    if action == "approve":
        form = ApproveForm(request, request.POST, prefix=f"a{id}")
        body = {k: v for k, v in (("position", _or_none(form.position.data)), (
            "main_department", _or_none(form.main_department.data))) if v}
        call: tuple[Any, ...] = (service.approve, id, body)
    elif action == "reject":
        form = RejectForm(request, request.POST, prefix=f"r{id}")
        call = (service.reject, id, {"reason": form.reason.data or ""})
    else:
        return _not_found(request)
    try:
        done = attempt(request, *call)
    except NotFound:
        return _not_found(request)
    except AppError as exc:
        error = _refused(request, exc, form)
        return _page(request, "requests.html", {
            "user": user, "error": error, **_requests_values(
                request, org, "pending", **{f"{action}-{id}": form})}, exc.status)
    if action == "approve":
        request.session.flash(translate(_("${name} joined the enterprise.",
                                          mapping={"name": done["user"]["name"]})))
    else:
        request.session.flash(translate(_("Join request rejected.")))
    return redirect(request.route_path("admin.org.requests"))


# -- the employee import -----------------------------------------------------------

@view_config(route_name="admin.org.import", request_method=("GET", "POST"))
@console_view
def import_page(request: Request, user: PageUser, org: OrgService
                ) -> Response:
    values: dict[str, Any] = {"user": user, "result": None, "created": []}
    if request.method == "GET":
        return _page(request, "import.html", {**values, "form": ImportForm(request)})
    form = ImportForm(request, request.POST)
    upload = request.POST.get("file")
    if upload is None or not hasattr(upload, "file"):
        form.file.errors = [request.localizer.translate(
            _("Choose the filled-in template to upload"))]
        return _page(request, "import.html", {**values, "form": form}, 400)
    try:
        result = Importer(org).run(upload.file.read(), upload.filename)
    except AppError as exc:
        error = _refused(request, exc, form)
        return _page(request, "import.html", {**values, "form": form,
                                              "error": error}, exc.status)
    created = []
    if result["status"] == "rejected":
        result["report_url"] = request.route_path("api.org.import.report",
                                                  id=result["id"])
    else:
        users = org.users
        names = dict(request.db.execute(select(users.c.id, users.c.name).where(
            users.c.id.in_(result["users"]))).all())
        created = [{"id": i, "name": names.get(i, i)} for i in result["users"]]
    return _page(request, "import.html", {
        **values, "form": ImportForm(request), "result": result,
        "created": created}, 200 if result["status"] == "imported" else 400)


# -- the public join page ----------------------------------------------------------

def _bad_link(request: Request, exc: AppError) -> Response:
    """An unknown, expired, used up or revoked link: a page saying so (404)."""
    reason = (exc.fields.get("token") or [exc.message])[0]
    return render_page(request, TEMPLATES + "join_invalid.html",
                       {"reason": request.translate(reason)}, 404)


@view_config(route_name="join.page", request_method=("GET", "POST"))
def join_page(request: Request) -> Response:
    token = request.matchdict["token"]
    posted = request.method == "POST"
    form = JoinForm(request, request.POST if posted else None)
    values: dict[str, Any] = {"form": form, "token": token, "error": None}
    # The rate limit and the captchas write to the system database in
    # transactions of their own: before the request reads it (see join_tenant).
    refused: Throttled | None = None
    solved = False
    if posted:
        try:
            accounts.limit_rate(request, "join")
        except Throttled as exc:
            refused = exc
        else:
            solved = captcha_solved(request, form)
    values["captcha_image"] = captcha_image(request, form)
    try:
        enterprise, conn, effective = join_tenant(request, token)
        values["info"] = invitations.invitation_info(
            conn, effective.tables.main["department"], token, enterprise.name,
            timezone(request))
    except AppError as exc:
        return _bad_link(request, exc)
    if refused is not None:
        values["error"] = request.translate(refused.message)
        return throttled_page(request, TEMPLATES + "join.html", values, refused)
    if not posted:
        return no_store(render_page(request, TEMPLATES + "join.html", values))
    if form.password.data != form.password_again.data:
        form.password_again.errors = [request.localizer.translate(
            _("The two passwords differ"))]
    if solved and not form.password_again.errors:
        try:
            invitations.file_join_request(
                conn, effective.tables.main["user"], {
                    "token": token, "name": form.name.data or "",
                    "phone": form.phone.data or "",
                    "password": form.password.data or ""},
                ip=accounts.client_of(request).ip)
        except AppError as exc:
            if exc.code == "invalid_invitation":
                return _bad_link(request, exc)
            values["error"] = _refused(request, exc, form)
        else:
            request.session["joined"] = {"enterprise": enterprise.name,
                                         "account": enterprise.account}
            return redirect(request.route_path("join.sent"))
    if values["error"] is None:
        values["error"] = request.localizer.translate(
            _("Please correct the marked fields."))
    form.password.data = form.password_again.data = ""
    return no_store(render_page(request, TEMPLATES + "join.html", values, 400))


@view_config(route_name="join.sent", request_method="GET")
def join_sent(request: Request) -> Response:
    joined = request.session.get("joined")
    if not isinstance(joined, dict):
        return redirect("/login")
    return render_page(request, TEMPLATES + "join_sent.html", {
        "joined": joined,
        "login_url": "/login?" + urlencode({"account": joined["account"]})})
