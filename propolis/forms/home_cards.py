"""The home page's cards: what needs the user now. Each domain or extension
registers its own with ``config.add_home_card(key, card, order=…)``; ``card(request)``
returns ``{"label", "url", "count"?, "note"?}`` or None when it has nothing to show
for this user (the core names no product object: the crm extension adds its
overdue payment plans and customers about to return to the pool itself)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pyramid.config import Configurator
from pyramid.i18n import TranslationStringFactory
from pyramid.request import Request

from propolis.platform.workflow.engine import MAX_PAGE
from propolis.platform.workflow.interfaces import IApprovalService
from propolis.reports.interfaces import IReportService

_ = TranslationStringFactory("propolis")

HomeCard = Callable[[Request], "dict[str, Any] | None"]


def add_home_card(config: Configurator, key: str, card: HomeCard, *,
                  order: int = 100) -> None:
    def register() -> None:
        config.registry.home_cards[key] = (order, card)

    config.action(("propolis.home_card", key), register)


def home_cards(request: Request) -> list[dict[str, Any]]:
    """The cards with something for the page user, in their order."""
    found = []
    for _order, card in sorted(request.registry.home_cards.values(),
                               key=lambda c: c[0]):
        shown = card(request)
        if shown is not None:
            found.append(shown)
    return found


# -- the cards of the pages of this package ------------------------------------------

def approvals_card(request: Request) -> dict[str, Any] | None:
    """The home page's approvals waiting for the user."""
    if not request.effective.approvals:
        return None
    return {"label": request.translate(_("Approvals to do")),
            "count": todo_count(request),
            "url": request.route_path("approvals.home")}


def reports_card(request: Request) -> dict[str, Any] | None:
    """The home page's 报数 the user has not filled for today's period."""
    if not request.effective.reports:
        return None
    mine = request.find_service(IReportService).mine()
    if not mine:
        return None
    return {"label": request.translate(_("Reports to fill")),
            "count": str(sum(not r["filled"] for r in mine)),
            "url": request.route_path("reports.todo")}


def dashboards_card(request: Request) -> dict[str, Any] | None:
    if not request.effective.dashboards:
        return None
    return {"label": request.translate(_("Dashboards")),
            "url": request.route_path("reports.dashboards")}


def todo_count(request: Request) -> str:
    """How many approvals wait for the page user ("100+" past one page of the box)."""
    found = request.find_service(IApprovalService).box("todo", limit=MAX_PAGE)
    count = len(found["items"])
    return f"{count}+" if found["next_cursor"] else str(count)


def includeme(config: Configurator) -> None:
    config.registry.home_cards = {}
    config.add_directive("add_home_card", add_home_card)
    for key, card, order in (("approvals", approvals_card, 10),
                             ("reports", reports_card, 20),
                             ("dashboards", dashboards_card, 90)):
        config.add_home_card(key, card, order=order)
