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
    config.add_route("api.duplicates", "/objects/{object}/duplicates")
    config.add_route("api.record.timeline", "/objects/{object}/records/{id}/timeline")
    config.add_route("api.deleted", "/objects/{object}/deleted")
    config.add_route("api.files", "/files")
    config.add_route("api.file", "/files/{id}")
    config.add_route("api.metadata.object", "/metadata/objects/{object}")
    config.add_route("api.metadata.rollback", "/metadata/objects/{object}/rollback")
    config.add_route("api.metadata.versions", "/metadata/versions")
    # the kinds taken whole by name (the approvals' route is the workflow's)
    for kind in ("chart", "dashboard", "report"):
        config.add_route(f"api.metadata.{kind}", f"/metadata/{kind}s/{{name}}")
    config.add_route("api.job", "/jobs/{id}")
    config.add_route("api.openapi", "/openapi.json")
    config.add_route("api.enterprise.settings", "/enterprise/settings")
    # the permission model: roles (admin), a record's joint followers, handing a
    # record over, why a user may or may not act on a record (admin)
    config.add_route("api.roles", "/roles")
    config.add_route("api.role", "/roles/{role}")
    config.add_route("api.record.team", "/objects/{object}/records/{id}/team")
    config.add_route("api.record.team.member",
                     "/objects/{object}/records/{id}/team/{user_id}")
    config.add_route("api.record.transfer", "/objects/{object}/records/{id}/transfer")
    config.add_route("api.record.access", "/objects/{object}/records/{id}/access")
