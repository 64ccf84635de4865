"""The organisation's pages for joining: invitations and the join settings (admin
console), join requests to review, and the public page an invitation link opens."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from pyramid.i18n import TranslationStringFactory
from pyramid.request import Request
from pyramid.response import Response
from pyramid.view import view_config

from propolis.platform.accounts import services as accounts
from propolis.platform.accounts.forms import JoinForm, PageForm
from propolis.platform.accounts.pages import (
    captcha_image,
    captcha_solved,
    throttled_page,
)
from propolis.platform.accounts.services import Throttled
from propolis.platform.errors import AppError, NotFound
from propolis.platform.org import invitations
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
)
from propolis.platform.org.forms import (
    ApproveForm,
    ImportForm,
    InviteForm,
    JoinSettingsForm,
    RejectForm,
)
from propolis.platform.org.interfaces import IInvitationService, IJoinService
from propolis.platform.org.services import OrgService
from propolis.platform.web.pages import (
    PageUser,
    attempt,
    no_store,
    redirect,
    render_page,
)

_ = TranslationStringFactory("propolis")

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
    listing = request.find_service(IInvitationService).listing(usable_only=False)
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
        return org_page(request, "invite.html",
                     {"user": user, **_invite_values(request, org)})
    form = InviteForm(request, request.POST)
    try:
        created = attempt(request, request.find_service(IInvitationService).create, {
            "phone": or_none(form.phone.data), "email": or_none(form.email.data),
            "department": or_none(form.department.data),
            **_days(form.expires_in_days.data)})
    except AppError as exc:
        error = refusal_on_forms(request, exc, form)
        return org_page(request, "invite.html", {
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
            attempt(request, request.find_service(IInvitationService).revoke,
                    request.POST.get("id", ""))
        except NotFound:
            return not_found(request)
        request.session.flash(translate(_("Invitation revoked.")))
    elif action == "settings":
        form = JoinSettingsForm(request, request.POST)
        try:
            attempt(request, org.put_settings, {
                "default_roles": list(form.default_roles.data or ()),
                "default_department": or_none(form.default_department.data)})
        except AppError as exc:
            error = refusal_on_forms(request, exc, form)
            return org_page(request, "invite.html", {
                "user": user, "error": error,
                **_invite_values(request, org, settings=form)}, exc.status)
        request.session.flash(translate(_("Settings saved.")))
    else:
        return not_found(request)
    return redirect(request.route_path("admin.org.invite"))


# -- join requests (待审核) ---------------------------------------------------------

REVIEWED = ("pending", "approved", "rejected")


def _requests_values(request: Request, org: OrgService, status: str,
                     **forms: PageForm) -> dict[str, Any]:
    tree = org.department_tree()
    choices = department_choices(request, tree, _("(as invited)"),
                                 enabled_only=True)
    rows = []
    for item in request.find_service(IInvitationService).requests(status):
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
    return org_page(request, "requests.html",
                 {"user": user, **_requests_values(request, org, status)})


@view_config(route_name="admin.org.request.action", request_method="POST")
@console_view
def request_action(request: Request, user: PageUser, org: OrgService
                   ) -> Response:
    id, action = request.matchdict["id"], request.matchdict["action"]
    service = request.find_service(IInvitationService)
    translate = request.localizer.translate
    form: ApproveForm | RejectForm
    if action == "approve":
        form = ApproveForm(request, request.POST, prefix=f"a{id}")
        body = {k: v for k, v in (("position", or_none(form.position.data)), (
            "main_department", or_none(form.main_department.data))) if v}
        call: tuple[Any, ...] = (service.approve, id, body)
    elif action == "reject":
        form = RejectForm(request, request.POST, prefix=f"r{id}")
        call = (service.reject, id, {"reason": form.reason.data or ""})
    else:
        return not_found(request)
    try:
        done = attempt(request, *call)
    except NotFound:
        return not_found(request)
    except AppError as exc:
        error = refusal_on_forms(request, exc, form)
        return org_page(request, "requests.html", {
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
        return org_page(request, "import.html", {**values, "form": ImportForm(request)})
    form = ImportForm(request, request.POST)
    upload = request.POST.get("file")
    if upload is None or not hasattr(upload, "file"):
        form.file.errors = [request.localizer.translate(
            _("Choose the filled-in template to upload"))]
        return org_page(request, "import.html", {**values, "form": form}, 400)
    try:
        result = org.import_users(upload.file.read(), upload.filename)
    except AppError as exc:
        error = refusal_on_forms(request, exc, form)
        return org_page(request, "import.html", {**values, "form": form,
                                              "error": error}, exc.status)
    created = []
    if result["status"] == "rejected":
        result["report_url"] = request.route_path("api.org.import.report",
                                                  id=result["id"])
    else:
        names = org.user_names(result["users"])
        created = [{"id": i, "name": names.get(i, i)} for i in result["users"]]
    return org_page(request, "import.html", {
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
    # transactions of their own: before the request reads it (see JoinService).
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
    joining = request.find_service(IJoinService)
    try:
        values["info"] = joining.info(token)
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
            joining.file({"token": token, "name": form.name.data or "",
                          "phone": form.phone.data or "",
                          "password": form.password.data or ""},
                         accounts.client_of(request).ip)
        except AppError as exc:
            if exc.code == "invalid_invitation":
                return _bad_link(request, exc)
            values["error"] = refusal_on_forms(request, exc, form)
        else:
            request.session["joined"] = {"enterprise": values["info"]["enterprise"],
                                         "account": invitations.token_account(token)}
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
