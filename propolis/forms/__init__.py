"""Pages generated from object metadata: WTForms classes for every object, and the
pages built on them (the workbench, record lists, forms, detail pages, the object
manager), their templates and static files (htmx, ECharts and SortableJS come from
npm: ``make`` copies them to ``static/vendor``). The navigation sections, the home
page and htmx are registered with the web layer (``propolis.forms.shell``)."""

from typing import Any

from pyramid.config import Configurator
from pyramid.request import Request

from propolis.forms.interfaces import ISavedViewService
from propolis.forms.saved_views import SavedViews


def saved_view_service_factory(context: Any, request: Request) -> SavedViews:
    """The saved list views of the page's logged-in user."""
    return SavedViews(request.db, request.page_user.id)


def includeme(config: Configurator) -> None:
    config.register_service_factory(saved_view_service_factory, ISavedViewService)
    config.include(".home_cards")
    config.include(".routes")
    config.include(".shell")
    config.add_static_view("ui", "propolis.forms:static", cache_max_age=3600)
    config.scan(".pages")
