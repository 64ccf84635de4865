"""The answer that downloads an export, for the API and the list page's export link
alike: the file streamed from a temporary file, named after the object and the day."""

from __future__ import annotations

import datetime as dt
import tempfile
from typing import Any
from urllib.parse import quote

from pyramid.request import Request
from pyramid.response import FileIter, Response

from propolis.platform.errors import AppError, _
from propolis.platform.exchange.interfaces import IExportService
from propolis.platform.exchange.services import ExportSpec
from propolis.platform.exchange.sheets import CONTENT_TYPES, FORMATS
from propolis.platform.fields.values import zone

# an export bigger than this goes to a temporary file on disk
SPOOL_BYTES = 8 * 1024 * 1024


def content_disposition(label: str, api_name: str, day: dt.date, fmt: str) -> str:
    """An attachment named after the object's label and the day, with an ASCII
    fallback for clients that ignore RFC 5987's ``filename*``."""
    stamp = day.strftime("%Y%m%d")
    return (f'attachment; filename="{api_name}-{stamp}.{fmt}"; '
            f"filename*=UTF-8''{quote(f'{label}-{stamp}.{fmt}')}")


def export_response(request: Request, name: str, body: dict[str, Any],
                    fmt: str) -> Response:
    """The file of what ``body`` (a query: filters, sort, q, columns) finds in
    ``name``, for the API and the list page's export link alike. It is written to a
    temporary file inside the request's transaction (so a failure is still an
    error answer and the audit entry commits with it), then streamed from there."""
    if fmt not in FORMATS:
        raise AppError("invalid", _("Invalid export format"),
                       {"format": [_("must be csv or xlsx")]})
    service = request.find_service(IExportService)
    export = service.prepare(name, ExportSpec.from_body(body))
    out = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)
    try:
        service.write(export, out, fmt)
        size = out.tell()
        out.seek(0)
    except BaseException:
        out.close()
        raise
    response = Response(app_iter=FileIter(out), content_type=CONTENT_TYPES[fmt])
    response.content_length = size
    today = dt.datetime.now(zone(service.tz)).date()
    response.content_disposition = content_disposition(export.label, name, today, fmt)
    return response
