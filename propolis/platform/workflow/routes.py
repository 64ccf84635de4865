from pyramid.config import Configurator


def includeme(config: Configurator) -> None:
    # Named api.* so that every call checks its user is still active (the web
    # layer's _active_users_only).
    # Fixed paths before the ones with an id in the same place.
    config.add_route("api.approvals.definitions", "/approvals/definitions")
    config.add_route("api.approvals.delegation", "/approvals/delegation")
    config.add_route("api.approvals.stats", "/approvals/stats")
    config.add_route("api.approvals", "/approvals")
    config.add_route("api.approval", "/approvals/{id}")
    config.add_route("api.approval.actions", "/approvals/{id}/actions")
    config.add_route("api.notifications", "/notifications")
    config.add_route("api.notifications.read", "/notifications/read")
    config.add_route("api.metadata.approval", "/metadata/approvals/{name}")
