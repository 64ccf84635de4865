"""``image``: uploaded pictures (10 MB each, 10 at most, ``image/*``), shown as
thumbnails."""

from __future__ import annotations

from propolis.platform.errors import _
from propolis.platform.fields.files import Files


class Image(Files):
    name = "image"
    description = _("Image: uploaded pictures")
    limits = {"max_size_mb": 10, "max_count": 10, "accept": ["image/*"]}
