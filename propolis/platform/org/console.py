"""What every page of the organisation shares: the console page's guard (an admin
past the step-up, with the organisation service), refusals put on the forms'
fields, the drop-downs of departments, employees and options."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import Any

from pyramid.i18n import TranslationStringFactory
from pyramid.request import Request
from pyramid.response import Response

from propolis.platform.accounts.forms import PageForm
from propolis.platform.errors import AppError
from propolis.platform.org.interfaces import IOrgService
from propolis.platform.org.services import OrgService
from propolis.platform.web.pages import (
    PageUser,
    console_user,
    error_page,
    no_store,
    render_page,
)

_ = TranslationStringFactory("propolis")

TEMPLATES = "propolis.platform.org:templates/org/"


def not_found(request: Request) -> Response:
    return error_page(request, _("Not found"), _("There is no such page."), 404)


def org_page(request: Request, name: str, values: dict[str, Any],
          status: int = 200) -> Response:
    values.setdefault("flashes", request.session.pop_flash())
    values.setdefault("error", None)
    return no_store(render_page(request, TEMPLATES + name, values, status))


def refusal_on_forms(request: Request, exc: AppError, *forms: PageForm) -> str | None:
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


def or_none(value: Any) -> Any:
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
        return view(request, user, request.find_service(IOrgService))

    return guarded
