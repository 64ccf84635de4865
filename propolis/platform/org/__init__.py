"""The organisation: departments, employees, invitations and join requests, the
employee import, the handover when someone leaves, the admin console's numbers.
Its JSON API lives under /api/v1/org; its pages under /admin/org (the admin
console) and /join (the invitation links)."""

from pyramid.config import Configurator


def includeme(config: Configurator) -> None:
    config.include(".routes", route_prefix="/api/v1/org")
    config.include(".pages")
    config.scan(".views")
    config.scan(".pages")
    config.scan(".join_pages")
