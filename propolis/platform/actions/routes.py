from pyramid.config import Configurator


def includeme(config: Configurator) -> None:
    config.add_route("api.record.actions", "/objects/{object}/records/{id}/actions")
    config.add_route("api.record.action",
                     "/objects/{object}/records/{id}/actions/{name}")
