"""The platform: storage, records, query, tenancy, auth, the JSON API, tasks, CLI."""

from pyramid.config import Configurator


def includeme(config: Configurator) -> None:
    config.include(".web")
    config.include(".records")
    config.include(".tenancy")
    config.include(".auth")
    config.include(".api")
    config.include(".tasks")
    config.include(".accounts")
    config.include(".org")
    config.include(".exchange")
    config.include(".workflow")
