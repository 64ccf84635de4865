"""``file``: uploaded files (20 MB each, 10 at most, any type by default)."""

from __future__ import annotations

from propolis.platform.errors import _
from propolis.platform.fields.files import Files


class File(Files):
    name = "file"
    description = _("File: uploaded files")
    limits = {"max_size_mb": 20, "max_count": 10, "accept": []}
