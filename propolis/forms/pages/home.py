"""The workbench: what a logged-in user lands on, the objects they may open grouped
by the navigation sections the metadata names (``app: crm | work | apps``)."""

from __future__ import annotations

from typing import Any

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.request import Request
from pyramid.response import Response
from pyramid.view import view_config

from propolis.forms.home_cards import home_cards, todo_count
from propolis.forms.shell import SECTIONS
from propolis.platform.web.pages import render_page

TEMPLATE = "propolis.forms:templates/ui/home.html"
# the organisation's own objects are managed in the admin console, not listed here
ORGANISATION = frozenset({"user", "department"})


def login_redirect(request: Request) -> Response:
    return HTTPSeeOther(request.route_path("accounts.login",
                                           _query={"next": request.path_qs}))


def section_objects(request: Request, section: str | None) -> list[dict[str, Any]]:
    """The objects the page user may read, in ``section`` (None: all of them)."""
    effective = request.effective
    found = []
    for name in request.access.readable_objects():
        if name in ORGANISATION:
            continue
        obj = effective.objects[name]
        if section is None or obj.doc.get("app", "apps") == section:
            found.append({"api_name": name,
                          "label": request.translate(obj.label),
                          "section": obj.doc.get("app", "apps"),
                          "url": request.route_path("records.list", object=name)})
    return sorted(found, key=lambda o: o["label"])


@view_config(route_name="ui.home", request_method="GET")
@view_config(route_name="ui.section", request_method="GET")
def workbench(request: Request) -> Response:
    if request.page_user is None:
        return login_redirect(request)
    section = request.matchdict.get("section")
    if section is not None and section not in SECTIONS:
        section = None
    return render_page(request, TEMPLATE, {
        "section": section,
        "objects": section_objects(request, section),
        # the work section opens the approvals too, when the enterprise has any
        "todo": (todo_count(request) if section == "work"
                 and request.effective.approvals else None),
        # the home page: what needs the user now (``config.add_home_card``)
        "cards": home_cards(request) if section is None else [],
    })
