"""What the page shell shows is registered by whoever adds the pages, never named
in the platform's templates: the links of the navigation menus, the home page
and the static files every page loads.

- ``config.add_nav_item(menu, key, label, route_name, ...)`` adds a link to a menu:
  ``main`` (the sections under the header of a logged-in page) or ``console`` (the
  admin console's own). ``current`` says when the link is the current page's
  (default: the request's path starts with the link's); ``admin_only`` shows it
  to enterprise admins only.
- ``config.set_home_route(route_name)``: where the site's front door and a login
  without ``next`` lead (default: the account page).
- ``config.add_static_asset(spec, kind)``: a script (loaded with ``defer``) or a
  stylesheet on every page.

Extensions use the same directives to add their sections. Templates read
``request.nav_links(menu, active=None)`` (``active``: the key of the current
link, when the page knows it), ``request.home_path`` and
``request.static_assets(kind)``."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pyramid.config import Configurator
from pyramid.request import Request

MENUS = ("main", "console")
KINDS = ("script", "style")
# the front door's default: every logged-in user has an account page
DEFAULT_HOME = "/account"

Current = Callable[[Request], bool]


@dataclass(frozen=True)
class NavItem:
    menu: str
    key: str
    label: Any  # a TranslationString, or an {"zh", "en"} text
    route_name: str
    route_kw: Mapping[str, str]
    order: int
    admin_only: bool
    current: Current | None


@dataclass(frozen=True)
class NavLink:
    """A link as a template shows it."""

    key: str
    label: str
    href: str
    current: bool


@dataclass
class Shell:
    """The registry's navigation, home route and assets."""

    items: dict[str, list[NavItem]] = field(
        default_factory=lambda: {menu: [] for menu in MENUS})
    home_route: str | None = None
    assets: dict[str, list[tuple[int, str]]] = field(
        default_factory=lambda: {kind: [] for kind in KINDS})


def add_nav_item(config: Configurator, menu: str, key: str, label: Any,
                 route_name: str, *, route_kw: Mapping[str, str] | None = None,
                 order: int = 100, admin_only: bool = False,
                 current: Current | None = None) -> None:
    if menu not in MENUS:
        raise ValueError(f"unknown menu {menu!r}; menus: {', '.join(MENUS)}")
    item = NavItem(menu, key, label, route_name, dict(route_kw or {}), order,
                   admin_only, current)

    def register() -> None:
        items = config.registry.shell.items[menu]
        items.append(item)
        items.sort(key=lambda i: i.order)

    config.action(("propolis.nav_item", menu, key), register)


def set_home_route(config: Configurator, route_name: str) -> None:
    def register() -> None:
        config.registry.shell.home_route = route_name

    config.action("propolis.home_route", register)


def add_static_asset(config: Configurator, spec: str, kind: str, *,
                     order: int = 100) -> None:
    if kind not in KINDS:
        raise ValueError(f"unknown asset kind {kind!r}; kinds: {', '.join(KINDS)}")

    def register() -> None:
        assets = config.registry.shell.assets[kind]
        assets.append((order, spec))
        assets.sort(key=lambda a: a[0])

    config.action(("propolis.static_asset", spec), register)


def _is_current(request: Request, item: NavItem, href: str) -> bool:
    if item.current is not None:
        return item.current(request)
    return bool(request.path.startswith(href))


def nav_links(request: Request, menu: str, active: str | None = None
              ) -> list[NavLink]:
    """The links of ``menu`` the page's user may follow, in order."""
    user = request.page_user
    admin = user is not None and user.is_admin
    links = []
    for item in request.registry.shell.items[menu]:
        if item.admin_only and not admin:
            continue
        href = request.route_path(item.route_name, **item.route_kw)
        current = (item.key == active if active is not None
                   else _is_current(request, item, href))
        links.append(NavLink(item.key, request.translate(item.label), href, current))
    return links


def _home_path(request: Request) -> str:
    route = request.registry.shell.home_route
    return request.route_path(route) if route else DEFAULT_HOME


def static_assets(request: Request, kind: str) -> list[str]:
    return [request.static_path(spec)
            for _order, spec in request.registry.shell.assets[kind]]


def includeme(config: Configurator) -> None:
    config.registry.shell = Shell()
    config.add_directive("add_nav_item", add_nav_item)
    config.add_directive("set_home_route", set_home_route)
    config.add_directive("add_static_asset", add_static_asset)
    config.add_request_method(nav_links, "nav_links")
    config.add_request_method(_home_path, "home_path", reify=True)
    config.add_request_method(static_assets, "static_assets")
