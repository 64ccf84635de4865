"""Propolis: a small core that turns metadata into a working business system."""

from __future__ import annotations

from typing import Any

from pyramid.config import Configurator
from pyramid.router import Router

from propolis.settings import as_list, resolve


def main(global_config: dict[str, Any] | None, **settings: Any) -> Router:
    """The WSGI application (PasteDeploy's ``paste.app_factory``)."""
    settings = resolve(settings)
    with Configurator(settings=settings) as config:
        config.include("pyramid_services")
        config.include("pyramid_jinja2")
        config.include("pyramid_retry")
        config.include("pyramid_tm")
        config.include("propolis.platform")
        config.include("propolis.reports")
        config.include("propolis.forms")
        for name in as_list(settings.get("propolis.extensions")):
            config.include(f"propolis.extensions.{name}" if "." not in name else name)
    return config.make_wsgi_app()
