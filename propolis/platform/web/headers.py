"""The security headers of every answer, pages, JSON and files alike.

The pages load their scripts and styles from the site's own static files (htmx,
the forms' scripts, ECharts) and hold no inline script, so the Content Security
Policy allows scripts from the site alone: an injected ``<script>`` or event
handler attribute never runs. Styles may be inline, because htmx adds its
indicator style and ECharts styles what it draws; data and blob images are the
charts' exports and previews. No page may be framed (``frame-ancestors``, and
``X-Frame-Options`` for older browsers), no answer's type is guessed from its
content (``nosniff``: a download is what its ``Content-Type`` says), and a link
followed to another site carries no address of ours beyond the origin."""

from __future__ import annotations

from pyramid.config import Configurator
from pyramid.events import NewResponse

CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
))
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "strict-origin-when-cross-origin",
}


def _secure(event: NewResponse) -> None:
    headers = event.response.headers
    for name, value in HEADERS.items():
        headers.setdefault(name, value)


def includeme(config: Configurator) -> None:
    config.add_subscriber(_secure, NewResponse)
