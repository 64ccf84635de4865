from pyramid.config import Configurator


def includeme(config: Configurator) -> None:
    config.add_route("api.roles", "/roles")
    config.add_route("api.role", "/roles/{role}")
    config.add_route("api.record.team", "/objects/{object}/records/{id}/team")
    config.add_route("api.record.team.member",
                     "/objects/{object}/records/{id}/team/{user_id}")
    config.add_route("api.record.transfer", "/objects/{object}/records/{id}/transfer")
    config.add_route("api.record.access", "/objects/{object}/records/{id}/access")
