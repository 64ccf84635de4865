"""The accounts pages: login, logout, registration, the user's own account page and
the admin console (home, security, audit log) behind a password step-up."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any
from urllib.parse import urlencode

from pyramid.csrf import new_csrf_token
from pyramid.httpexceptions import HTTPSeeOther
from pyramid.i18n import TranslationStringFactory
from pyramid.request import Request
from pyramid.response import Response
from pyramid.view import view_config

from propolis.platform.accounts import services
from propolis.platform.accounts.accounts import AccountService
from propolis.platform.accounts.forms import (
    ActionForm,
    GuardedForm,
    LoginForm,
    PasswordForm,
    RegisterForm,
    ResetForm,
    TokenForm,
    VerifyForm,
)
from propolis.platform.accounts.interfaces import IAccountService
from propolis.platform.accounts.services import Client, Throttled, client_of
from propolis.platform.auth import tokens
from propolis.platform.auth.session import DEVICE_COOKIE, DEVICE_SECONDS, SESSION_ID
from propolis.platform.errors import AppError
from propolis.platform.web import LANG_COOKIE, LANGUAGES
from propolis.platform.web.pages import (
    PageUser,
    admin_user,
    console_user,
    error_page,
    no_store,
    redirect,
    render_page,
    safe_next,
    to_login,
)

_ = TranslationStringFactory("propolis")

TEMPLATES = "propolis.platform.accounts:templates/accounts/"


def accounts_of(request: Request) -> AccountService:
    service: AccountService = request.find_service(IAccountService)
    return service


def captcha_image(request: Request, form: GuardedForm) -> str:
    """A new captcha for ``form``: its id in the form, the picture to show."""
    made = accounts_of(request).new_captcha()
    form.captcha_id.data = made.id
    form.captcha.data = ""
    return made.image


def captcha_solved(request: Request, form: GuardedForm) -> bool:
    """Checks (and uses up) the form's captcha; marks the field when wrong."""
    solved = accounts_of(request).solve_captcha(form.captcha_id.data,
                                                form.captcha.data)
    if not solved:
        form.captcha.errors = [request.localizer.translate(
            _("Wrong or expired captcha; try the new one"))]
    return solved


def throttled_page(request: Request, template: str, values: dict[str, Any],
                   exc: Throttled) -> Response:
    """A page refused for now: 429, and when to come back."""
    form = values["form"]
    form.password.data = ""
    response = render_page(request, template, values, 429)
    response.headers["Retry-After"] = str(exc.retry_after)
    return no_store(response)


@view_config(route_name="accounts.lang")
def switch_language(request: Request) -> Response:
    lang = request.matchdict["lang"]
    target = safe_next(request.params.get("next"), "/login")
    response = HTTPSeeOther(location=target)
    if lang in LANGUAGES:
        response.set_cookie(LANG_COOKIE, lang, max_age=dt.timedelta(days=365),
                            samesite="Lax", httponly=True)
    return response


# -- login and logout ------------------------------------------------------------

def _start_session(request: Request, done: services.LoggedIn, remember: bool,
                   target: str, device_id: str) -> Response:
    """A new token per login, and a new session (so a new cookie and CSRF token):
    nothing a page saw before the login is valid after it."""
    old = request.session.get(SESSION_ID)
    if isinstance(old, str) and old:
        accounts_of(request).logout(tokens.token_hash(old))
    request.session.invalidate()
    request.session[SESSION_ID] = done.token
    request.session["remember"] = remember
    new_csrf_token(request)
    response = redirect(target)
    if request.cookies.get(DEVICE_COOKIE) != device_id:
        response.set_cookie(DEVICE_COOKIE, device_id, max_age=DEVICE_SECONDS,
                            httponly=True, samesite="Lax",
                            secure=request.scheme == "https")
    return response


@view_config(route_name="accounts.login", request_method=("GET", "POST"))
def login_page(request: Request) -> Response:
    posted = request.method == "POST"
    form = LoginForm(request, request.POST if posted else None,
                     account=request.params.get("account", ""),
                     next=request.params.get("next", ""))
    client = client_of(request)
    device_id = client.device_id or secrets.token_hex(16)
    client = Client(client.ip, client.user_agent, device_id)
    error = None
    status = 200
    retry_after = None
    if posted and form.required("account", "login", "password"):
        remember = bool(form.remember.data)
        try:
            done = accounts_of(request).login(
                account=form.account.data, login=form.login.data,
                password=form.password.data, client=client,
                captcha_id=form.captcha_id.data or None,
                captcha_answer=form.captcha.data or None, kind=tokens.BROWSER,
                lifetime=tokens.SESSION_LIFETIME if remember
                else tokens.BROWSER_LIFETIME)
        except Throttled as exc:
            error, status, retry_after = request.translate(exc.message), 429, \
                exc.retry_after
        except AppError as exc:
            error = request.translate(exc.message)
            form.add_errors({k: v for k, v in exc.fields.items() if k == "captcha"})
        else:
            return _start_session(request, done, remember,
                                  safe_next(form.next.data, request.home_path),
                                  device_id)
    state = accounts_of(request).throttle_state(form.account.data or "",
                                                form.login.data or "", client)
    image = captcha_image(request, form) if state.captcha_required else None
    form.password.data = ""
    response = render_page(request, TEMPLATES + "login.html", {
        "form": form, "error": error, "captcha_image": image,
        "flashes": request.session.pop_flash()}, status)
    if retry_after is not None:
        response.headers["Retry-After"] = str(retry_after)
    return no_store(response)


@view_config(route_name="accounts.logout", request_method="POST")
def logout_page(request: Request) -> Response:
    token = request.session.get(SESSION_ID)
    if isinstance(token, str) and token:
        accounts_of(request).logout(tokens.token_hash(token))
    request.session.invalidate()
    new_csrf_token(request)
    return redirect("/login")


# -- registration ----------------------------------------------------------------

@view_config(route_name="accounts.register", request_method=("GET", "POST"))
def register_page(request: Request) -> Response:
    posted = request.method == "POST"
    form = RegisterForm(request, request.POST if posted else None)
    error = None
    if posted:
        try:
            services.limit_rate(request, "register")
        except Throttled as exc:
            return throttled_page(request, TEMPLATES + "register.html", {
                "form": form, "error": request.translate(exc.message),
                "captcha_image": captcha_image(request, form)}, exc)
        if captcha_solved(request, form):
            try:
                created = accounts_of(request).register({
                    name: getattr(form, name).data for name in
                    ("account", "name", "admin_name", "phone", "password")})
            except AppError as exc:
                left = form.add_errors(exc.fields)
                error = request.translate(exc.message) if left or not exc.fields \
                    else None
            else:
                request.session.flash(request.localizer.translate(_(
                    "Your enterprise is ready. Log in with your phone and password.")))
                return redirect("/login?" + urlencode({"account": created.account}))
        if error is None and any(f.errors for f in form):
            error = request.localizer.translate(_("Please correct the marked fields."))
    image = captcha_image(request, form)
    form.password.data = ""
    return no_store(render_page(request, TEMPLATES + "register.html", {
        "form": form, "error": error, "captcha_image": image},
        400 if posted else 200))


# -- the user's own account ------------------------------------------------------

def _account_values(request: Request, user: PageUser, **extra: Any) -> dict[str, Any]:
    accounts = accounts_of(request)
    values = {
        "user": user,
        "password_form": PasswordForm(request),
        "token_form": TokenForm(request),
        "action_form": ActionForm(request),
        "sessions": accounts.sessions(user.id),
        "tokens": accounts.personal_tokens(user.id),
        "new_token": None,
        "flashes": request.session.pop_flash(),
    }
    values.update(extra)
    return values


@view_config(route_name="accounts.home", request_method="GET")
def home(request: Request) -> Response:
    """The site's front door: the workbench once logged in, else the login."""
    if request.page_user is None:
        return to_login(request)
    return HTTPSeeOther(request.home_path)


@view_config(route_name="accounts.account", request_method="GET")
def account_page(request: Request) -> Response:
    user = request.page_user
    if user is None:
        return to_login(request)
    return no_store(render_page(request, TEMPLATES + "account.html",
                                 _account_values(request, user)))


@view_config(route_name="accounts.account.action", request_method="POST")
def account_action(request: Request) -> Response:
    user = request.page_user
    if user is None:
        return to_login(request)
    accounts = accounts_of(request)
    action = request.matchdict["action"]
    flash = request.session.flash
    translate = request.localizer.translate
    if action == "password":
        form = PasswordForm(request, request.POST)
        try:
            accounts.change_password(form.old_password.data, form.new_password.data)
        except AppError as exc:
            form.add_errors(exc.fields or {"old_password": [exc.message]})
            return no_store(render_page(request, TEMPLATES + "account.html",
                                         _account_values(request, user,
                                                         password_form=form),
                                         exc.status))
        flash(translate(_("Password changed. Your other sessions have ended.")))
    elif action == "logout-all":
        accounts.end_all(user.id)
        request.session.invalidate()
        new_csrf_token(request)
        return redirect("/login")
    elif action == "revoke-session":
        accounts.end_session(request.POST.get("id", ""), user.id)
        flash(translate(_("Session ended.")))
    elif action == "revoke-token":
        accounts.revoke_personal_token(request.POST.get("id", ""), user.id)
        flash(translate(_("Token revoked.")))
    elif action == "create-token":
        form = TokenForm(request, request.POST)
        days_text = (form.expires_in_days.data or "").strip()
        body: dict[str, Any] = {"label": form.label.data or ""}
        if days_text:
            body["expires_in_days"] = int(days_text) if days_text.isdigit() else -1
        try:
            issued, label = accounts.create_personal_token(body)
        except AppError as exc:
            form.add_errors(exc.fields)
            return no_store(render_page(request, TEMPLATES + "account.html",
                                         _account_values(request, user,
                                                         token_form=form), 400))
        # shown once, on this answer only; never stored
        return no_store(render_page(request, TEMPLATES + "account.html",
                                     _account_values(request, user, new_token={
                                         "token": issued.token, "label": label})))
    else:
        return error_page(request, _("Not found"), _("There is no such page."), 404)
    return redirect("/account")


# -- the admin console -----------------------------------------------------------

@view_config(route_name="admin.verify", request_method=("GET", "POST"))
def verify_page(request: Request) -> Response:
    user = admin_user(request)
    if isinstance(user, Response):
        return user
    posted = request.method == "POST"
    form = VerifyForm(request, request.POST if posted else None,
                      next=request.params.get("next", ""))
    error, status, retry_after = None, 200, None
    if posted:
        target = safe_next(form.next.data, "/admin")
        if not target.startswith("/admin"):
            target = "/admin"
        try:
            ok = accounts_of(request).confirm_password(form.password.data or "")
        except Throttled as exc:
            error, status, retry_after = request.translate(exc.message), 429, \
                exc.retry_after
        else:
            if ok:
                request.session["stepup_at"] = request.now.timestamp()
                request.session["stepup_token"] = request.identity.public_id
                accounts_of(request).audit("console.step_up", None, {})
                return redirect(target)
            form.password.errors = [request.localizer.translate(_("Wrong password"))]
            status = 400
    form.password.data = ""
    response = render_page(request, TEMPLATES + "admin_verify.html",
                           {"form": form, "error": error, "user": user}, status)
    if retry_after is not None:
        response.headers["Retry-After"] = str(retry_after)
    return no_store(response)


def _security_values(request: Request, user: PageUser, **extra: Any) -> dict[str, Any]:
    values = {"user": user, "overview": accounts_of(request).security_overview(),
              "action_form": ActionForm(request), "reset_form": ResetForm(request),
              "flashes": request.session.pop_flash()}
    values.update(extra)
    return values


@view_config(route_name="admin.security", request_method="GET")
def admin_security(request: Request) -> Response:
    user = console_user(request)
    if isinstance(user, Response):
        return user
    return no_store(render_page(request, TEMPLATES + "admin_security.html",
                                 _security_values(request, user)))


@view_config(route_name="admin.security.action", request_method="POST")
def admin_security_action(request: Request) -> Response:
    user = console_user(request)
    if isinstance(user, Response):
        return user
    accounts = accounts_of(request)
    action = request.matchdict["action"]
    translate = request.localizer.translate
    if action == "revoke":
        if accounts.revoke(request.POST.get("id", "")) is not None:
            request.session.flash(translate(_("Session ended.")))
    elif action == "revoke-user":
        if accounts.revoke_user(request.POST.get("id", "")) is not None:
            request.session.flash(translate(_("All sessions of the employee ended.")))
    elif action == "reset":
        form = ResetForm(request, request.POST)
        login = (form.login.data or "").strip()
        found = accounts.find_user(login) if login else None
        if found is None:
            form.login.errors = [translate(_("No employee has this phone or login "
                                             "name"))]
        else:
            try:
                accounts.reset_password(found, form.password.data)
            except AppError as exc:
                form.add_errors(exc.fields)
            else:
                request.session.flash(translate(_(
                    "Password reset. The employee's sessions have ended.")))
                return redirect("/admin/security")
        form.password.data = ""
        return no_store(render_page(request, TEMPLATES + "admin_security.html",
                                     _security_values(request, user, reset_form=form),
                                     400))
    else:
        return error_page(request, _("Not found"), _("There is no such page."), 404)
    return redirect("/admin/security")


@view_config(route_name="admin.audit", request_method="GET")
def admin_audit(request: Request) -> Response:
    user = console_user(request)
    if isinstance(user, Response):
        return user
    before = request.params.get("before")
    before_id = int(before) if before and before.isdigit() else None
    page, names = accounts_of(request).audit_entries(50, before_id)
    return no_store(render_page(request, TEMPLATES + "admin_audit.html", {
        "user": user, "entries": page, "names": names,
        "older": page[-1]["id"] if len(page) == 50 else None}))

