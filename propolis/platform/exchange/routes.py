from pyramid.config import Configurator


def includeme(config: Configurator) -> None:
    # Named api.* so that every call checks its user is still active (the web
    # layer's _active_users_only).
    config.add_route("api.export", "/objects/{object}/export")
    config.add_route("api.import", "/objects/{object}/import")
