from pyramid.config import Configurator
from pyramid.i18n import TranslationStringFactory

_ = TranslationStringFactory("propolis")


def includeme(config: Configurator) -> None:
    # JSON API (under /api/v1, next to the core's routes)
    api = [
        ("api.captcha", "/captcha"),
        ("api.enterprises", "/enterprises"),
        ("api.password", "/password"),
        ("api.sessions", "/sessions"),
        ("api.session.one", "/sessions/{id}"),
        ("api.tokens", "/tokens"),
        ("api.token", "/tokens/{id}"),
        ("api.user.password", "/users/{id}/password"),
        ("api.admin.sessions", "/admin/sessions"),
        ("api.admin.session", "/admin/sessions/{id}"),
        ("api.admin.user.sessions", "/admin/users/{id}/sessions"),
    ]
    for name, pattern in api:
        config.add_route(name, "/api/v1" + pattern)
    # pages
    config.add_route("accounts.home", "/")
    config.add_route("accounts.login", "/login")
    config.add_route("accounts.logout", "/logout")
    config.add_route("accounts.register", "/register")
    config.add_route("accounts.account", "/account")
    config.add_route("accounts.account.action", "/account/{action}")
    config.add_route("accounts.lang", "/lang/{lang}")
    config.add_route("admin.verify", "/admin/verify")
    config.add_route("admin.security", "/admin/security")
    config.add_route("admin.security.action", "/admin/security/{action}")
    config.add_route("admin.audit", "/admin/audit")
    config.add_nav_item("console", "security", _("Security"), "admin.security",
                        order=80)
    config.add_nav_item("console", "audit", _("Audit log"), "admin.audit", order=90)
