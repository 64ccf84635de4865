from pyramid.config import Configurator


def includeme(config: Configurator) -> None:
    config.add_route("api.chart.run", "/charts/{name}/run")
    config.add_route("api.dashboard", "/dashboards/{name}")
    config.add_route("api.reports", "/reports")
    config.add_route("api.report.entry", "/reports/{name}/entries/{period}")
    config.add_route("api.report.summary", "/reports/{name}/summary")
    config.add_route("api.report.missing", "/reports/{name}/missing")
