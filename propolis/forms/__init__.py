"""Pages generated from object metadata: WTForms classes for every object, and the
pages built on them (the workbench, record lists, forms, detail pages, the object
manager), their templates and static files (htmx, ECharts and SortableJS come from
npm: ``make`` copies them to ``static/vendor``)."""

from pyramid.config import Configurator


def includeme(config: Configurator) -> None:
    config.include(".routes")
    config.add_static_view("ui", "propolis.forms:static", cache_max_age=3600)
    config.scan(".views")
