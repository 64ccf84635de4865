"""``url``: a web address (http or https)."""

from __future__ import annotations

from urllib.parse import urlsplit

from propolis.platform.errors import _
from propolis.platform.fields.textual import ShortText


def is_web_url(value: object) -> bool:
    if not isinstance(value, str):
        return True
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.netloc)


class Url(ShortText):
    name = "url"
    description = _("Web address (URL)")
    length = 2000
    text_format = "uri"
    formats = {"uri": (is_web_url, _("must be an http(s) URL"))}
