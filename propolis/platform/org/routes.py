from pyramid.config import Configurator
from pyramid.i18n import TranslationStringFactory

_ = TranslationStringFactory("propolis")


def includeme(config: Configurator) -> None:
    # JSON API, under /api/v1/org. Named api.* so that every call checks its user
    # is still active (web: _active_users_only). Fixed paths before the ones with
    # an id in the same place.
    api = [
        ("api.org.departments.tree", "/departments/tree"),
        ("api.org.departments", "/departments"),
        ("api.org.department", "/departments/{id}"),
        ("api.org.department.move", "/departments/{id}/move"),
        ("api.org.department.disable", "/departments/{id}/disable"),
        ("api.org.department.enable", "/departments/{id}/enable"),
        ("api.org.users", "/users"),
        ("api.org.user", "/users/{id}"),
        ("api.org.user.owned", "/users/{id}/owned"),
        ("api.org.user.disable", "/users/{id}/disable"),
        ("api.org.user.enable", "/users/{id}/enable"),
        ("api.org.settings", "/settings"),
        ("api.org.invitations", "/invitations"),
        ("api.org.invitation", "/invitations/{id}"),
        ("api.org.join", "/join"),
        ("api.org.join.info", "/join/{token}"),
        ("api.org.join_requests", "/join-requests"),
        ("api.org.join_request.approve", "/join-requests/{id}/approve"),
        ("api.org.join_request.reject", "/join-requests/{id}/reject"),
        ("api.org.import.template", "/import/template"),
        ("api.org.import", "/import"),
        ("api.org.import.report", "/import/{id}/report"),
        ("api.org.summary", "/summary"),
    ]
    for name, pattern in api:
        config.add_route(name, "/api/v1/org" + pattern)
    # pages: the admin console and the invitation links
    config.add_route("admin.home", "/admin")
    config.add_route("admin.org", "/admin/org")
    config.add_route("admin.org.department", "/admin/org/departments/{id}")
    config.add_route("admin.org.department.action",
                     "/admin/org/departments/{id}/{action}")
    config.add_route("admin.org.users", "/admin/org/users")
    config.add_route("admin.org.user", "/admin/org/users/{id}")
    config.add_route("admin.org.user.action", "/admin/org/users/{id}/{action}")
    config.add_route("admin.org.invite", "/admin/org/invite")
    config.add_route("admin.org.invite.action", "/admin/org/invite/{action}")
    config.add_route("admin.org.requests", "/admin/org/requests")
    config.add_route("admin.org.request.action", "/admin/org/requests/{id}/{action}")
    config.add_route("admin.org.import", "/admin/org/import")
    config.add_route("admin.settings", "/admin/settings")
    # a fixed path before the token in the same place
    config.add_route("join.sent", "/join/sent")
    config.add_route("join.page", "/join/{token}")
    config.add_nav_item("main", "admin", _("Admin"), "admin.home", order=90,
                        admin_only=True)
    for key, route, label, order in (
            ("home", "admin.home", _("Overview"), 10),
            ("org", "admin.org", _("Departments"), 20),
            ("users", "admin.org.users", _("Employee list"), 30),
            ("invite", "admin.org.invite", _("Invitations"), 40),
            ("requests", "admin.org.requests", _("Join requests"), 50),
            ("import", "admin.org.import", _("Import employees"), 60),
            ("settings", "admin.settings", _("Settings"), 75)):
        config.add_nav_item("console", key, label, route, order=order)
