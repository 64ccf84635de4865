from pyramid.config import Configurator


def includeme(config: Configurator) -> None:
    # the workbench: the objects of one navigation section (工作 / CRM / 应用)
    config.add_route("ui.home", "/app")
    config.add_route("ui.section", "/app/{section}")
    # record pages (propolis.forms.views.records)
    config.add_route("records.list", "/o/{object}")
