"""What the pages of this package add to the page shell (the web layer's
registries, ``propolis.platform.web.nav``): the workbench as the home page, the
navigation sections (工作 / 审批 / CRM / 应用) and the object manager's place in the
admin console, and htmx on every page.

A section's link is the current one on its workbench page and on the pages of
the objects it holds (their lists and records), so the user always sees where
they are."""

from __future__ import annotations

from pyramid.config import Configurator
from pyramid.i18n import TranslationStringFactory
from pyramid.request import Request

from propolis.platform.web.nav import Current

_ = TranslationStringFactory("propolis")

# the workbench's sections (an object's ``app`` names one): label, place in the menu
SECTIONS = {"work": (_("Work"), 10), "crm": (_("CRM"), 30), "apps": (_("Apps"), 40)}


def section_current(section: str) -> Current:
    """Whether a request's page is in ``section``: its workbench page, or a page
    of one of its objects."""

    def current(request: Request) -> bool:
        if request.path.startswith(request.route_path("ui.section", section=section)):
            return True
        route = request.matched_route
        name = (request.matchdict or {}).get("object")
        if route is None or not route.name.startswith("records.") or not name:
            return False
        obj = request.effective.object(name)
        return obj is not None and obj.doc.get("app", "apps") == section

    return current


def includeme(config: Configurator) -> None:
    config.set_home_route("ui.home")
    for section, (label, order) in SECTIONS.items():
        config.add_nav_item("main", section, label, "ui.section",
                            route_kw={"section": section}, order=order,
                            current=section_current(section))
    config.add_nav_item("main", "approvals", _("Approvals"), "approvals.home",
                        order=20)
    config.add_nav_item("main", "dashboards", _("Dashboards"), "reports.dashboards",
                        order=50)
    config.add_nav_item("console", "objects", _("Objects"), "manager.objects",
                        order=70)
    config.add_static_asset("propolis.forms:static/vendor/htmx.min.js", "script")
