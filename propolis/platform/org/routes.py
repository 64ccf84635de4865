from pyramid.config import Configurator


def includeme(config: Configurator) -> None:
    # Named api.* so that every call checks its user is still active (api.context).
    # Fixed paths before the ones with an id in the same place.
    config.add_route("api.org.departments.tree", "/departments/tree")
    config.add_route("api.org.departments", "/departments")
    config.add_route("api.org.department", "/departments/{id}")
    config.add_route("api.org.department.move", "/departments/{id}/move")
    config.add_route("api.org.department.disable", "/departments/{id}/disable")
    config.add_route("api.org.department.enable", "/departments/{id}/enable")
    config.add_route("api.org.users", "/users")
    config.add_route("api.org.user", "/users/{id}")
    config.add_route("api.org.user.owned", "/users/{id}/owned")
    config.add_route("api.org.user.disable", "/users/{id}/disable")
    config.add_route("api.org.user.enable", "/users/{id}/enable")
    config.add_route("api.org.settings", "/settings")
    config.add_route("api.org.invitations", "/invitations")
    config.add_route("api.org.invitation", "/invitations/{id}")
    config.add_route("api.org.join", "/join")
    config.add_route("api.org.join.info", "/join/{token}")
    config.add_route("api.org.join_requests", "/join-requests")
    config.add_route("api.org.join_request.approve", "/join-requests/{id}/approve")
    config.add_route("api.org.join_request.reject", "/join-requests/{id}/reject")
    config.add_route("api.org.import.template", "/import/template")
    config.add_route("api.org.import", "/import")
    config.add_route("api.org.import.report", "/import/{id}/report")
    config.add_route("api.org.summary", "/summary")
