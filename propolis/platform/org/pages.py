"""The organisation pages of the admin console (behind its password step-up): its
home, the departments, the employees and the employee import; invitations, join
requests (待审核) and the public join page are ``join_pages``.

Thin like the JSON API: every change is a call of the organisation services, whose
per-field messages go back onto the form. A change that fails is rolled back to
a savepoint, so the page that shows the errors is drawn from untouched data and
nothing is half-written."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from pyramid.i18n import TranslationStringFactory
from pyramid.request import Request
from pyramid.response import Response
from pyramid.view import view_config

from propolis.platform.accounts.forms import PageForm
from propolis.platform.errors import AppError, NotFound
from propolis.platform.org.console import (
    TEMPLATES,
    console_view,
    department_choices,
    flatten,
    not_found,
    option_choices,
    or_none,
    org_page,
    refusal_on_forms,
    user_choices,
)
from propolis.platform.org.forms import (
    DepartmentForm,
    EmployeeForm,
    EmployeeSearchForm,
    EnterpriseSettingsForm,
    HandoverForm,
    MoveForm,
    NewDepartmentForm,
    SubDepartmentForm,
)
from propolis.platform.org.interfaces import IOrgService
from propolis.platform.org.services import OrgService
from propolis.platform.tenancy.interfaces import ITenancyService
from propolis.platform.web.pages import (
    PageUser,
    attempt,
    console_user,
    no_store,
    redirect,
    render_page,
)

_ = TranslationStringFactory("propolis")

PAGE_SIZE = 50
# the employee list's filter for those in no department (no id looks like it)
NO_DEPARTMENT = "none"


@view_config(route_name="admin.home", request_method="GET")
def admin_home(request: Request) -> Response:
    """The admin console's home: the organisation's numbers."""
    user = console_user(request)
    if isinstance(user, Response):
        return user
    summary = request.find_service(IOrgService).summary(request.now)
    return no_store(render_page(request, TEMPLATES + "home.html", {
        "user": user, "summary": dict(summary)}))


# -- the enterprise's settings --------------------------------------------------

@view_config(route_name="admin.settings", request_method=("GET", "POST"))
@console_view
def settings_page(request: Request, user: PageUser, org: OrgService) -> Response:
    """The enterprise's own settings: its time zone."""
    service = request.find_service(ITenancyService)
    current = service.settings()
    posted = request.method == "POST"
    form = EnterpriseSettingsForm(request, request.POST if posted else None,
                                  time_zone=current["time_zone"])
    form.time_zone.choices = [(z, z) for z in service.time_zones()]
    if posted:
        try:
            attempt(request, service.put_settings,
                    {"time_zone": form.time_zone.data or ""})
        except AppError as exc:
            error = refusal_on_forms(request, exc, form)
            return org_page(request, "settings.html", {
                "user": user, "settings": current, "form": form, "error": error},
                exc.status)
        request.session.flash(request.localizer.translate(_("Settings saved.")))
        return redirect(request.route_path("admin.settings"))
    return org_page(request, "settings.html",
                    {"user": user, "settings": current, "form": form})


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
        return org_page(request, "departments.html",
                     {"user": user, **_departments_values(request, org)})
    form = NewDepartmentForm(request, request.POST)
    try:
        created = attempt(request, org.create_department, {
            "name": form.name.data or "", "parent": or_none(form.parent.data)})
    except AppError as exc:
        error = refusal_on_forms(request, exc, form)
        return org_page(request, "departments.html", {
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
        return not_found(request)
    return org_page(request, "department.html",
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
        return not_found(request)
    kinds: dict[str, type[PageForm]] = {
        "edit": DepartmentForm, "move": MoveForm, "create": SubDepartmentForm,
        "disable": PageForm, "enable": PageForm}
    if action not in kinds:
        return not_found(request)
    form = kinds[action](request, request.POST)
    data = form.data
    call: tuple[Any, ...] = {
        "edit": lambda: (org.update_department, id, {
            "name": data["name"] or "", "head": or_none(data["head"])}),
        "move": lambda: (org.move_department, id, or_none(data["parent"])),
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
        error = refusal_on_forms(request, exc, form)
        values = _department_values(request, org, department, **{action: form})
        return org_page(request, "department.html",
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
    return org_page(request, "users.html", {
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
        return not_found(request)
    if request.method == "GET":
        return org_page(request, "user.html",
                     {"user": user, **_employee_values(request, org, employee)})
    form = EmployeeForm(request, request.POST)
    main = or_none(form.main_department.data)
    departments = list(dict.fromkeys(([main] if main else [])
                                     + list(form.departments.data or ())))
    try:
        attempt(request, org.update_user, id, {
            "name": form.name.data or "", "position": or_none(form.position.data),
            "main_department": main, "departments": departments,
            "superior": or_none(form.superior.data),
            "roles": list(form.roles.data or ())})
    except AppError as exc:
        error = refusal_on_forms(request, exc, form)
        return org_page(request, "user.html", {
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
        return not_found(request)
    try:
        employee = org.records.get("user", id)
    except NotFound:
        return not_found(request)
    handover = HandoverForm(request, request.POST)
    translate = request.localizer.translate
    try:
        if action == "disable":
            done = attempt(request, org.disable_user, id,
                           or_none(handover.handover_to.data))
            moved = sum(done["transferred"].values())
            message = translate(_("Employee disabled; ${count} records handed over.",
                                  mapping={"count": moved}))
        else:
            attempt(request, org.enable_user, id)
            message = translate(_("Employee enabled."))
    except AppError as exc:
        error = refusal_on_forms(request, exc, handover)
        return org_page(request, "user.html", {
            "user": user, "error": error,
            **_employee_values(request, org, employee, handover=handover)},
            exc.status)
    request.session.flash(message)
    return redirect(request.route_path("admin.org.user", id=id))


# -- invitations and the join settings ---------------------------------------------
