"""Records to and from spreadsheets: CSV and XLSX export and import of any object,
through the same permissions and validation as the JSON API."""

from pyramid.config import Configurator


def includeme(config: Configurator) -> None:
    config.include(".routes", route_prefix="/api/v1")
    config.scan(".views")
