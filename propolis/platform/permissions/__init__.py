"""Permissions (CONTRACT §5): roles and their grants, the superior chain and the
department tree, joint followers, and the one access policy every service asks
(``policy.AccessPolicy``)."""

from pyramid.config import Configurator


def includeme(config: Configurator) -> None:
    config.include(".routes", route_prefix="/api/v1")
    config.scan(".views")
