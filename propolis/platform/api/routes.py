from pyramid.config import Configurator


def includeme(config: Configurator) -> None:
    config.add_route("api.session", "/session")
    config.add_route("api.objects", "/objects")
    config.add_route("api.object", "/objects/{object}")
    config.add_route("api.records", "/objects/{object}/records")
    config.add_route("api.record", "/objects/{object}/records/{id}")
    config.add_route("api.record.history", "/objects/{object}/records/{id}/history")
    config.add_route("api.record.restore", "/objects/{object}/records/{id}/restore")
    config.add_route("api.query", "/objects/{object}/query")
    config.add_route("api.deleted", "/objects/{object}/deleted")
    config.add_route("api.files", "/files")
    config.add_route("api.file", "/files/{id}")
    config.add_route("api.metadata.object", "/metadata/objects/{object}")
    config.add_route("api.metadata.rollback", "/metadata/objects/{object}/rollback")
    config.add_route("api.metadata.versions", "/metadata/versions")
    config.add_route("api.job", "/jobs/{id}")
    config.add_route("api.openapi", "/openapi.json")
