"""The platform: storage, records, query, tenancy, auth, the JSON API, tasks, CLI.

Importing it registers the built-in field types (``fields``): every way into the
platform (the app, the command line, a worker) finds the metadata language
knowing the types the platform stores."""

from pyramid.config import Configurator

from propolis.platform import fields  # noqa: F401  (registers the built-in types)


def includeme(config: Configurator) -> None:
    config.include(".fields")
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
    config.include(".actions")
    config.include(".social")
