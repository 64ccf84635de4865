"""``POST /api/v1/objects/{o}/export`` (a CSV or XLSX file) and
``POST /api/v1/objects/{o}/import`` (multipart; a JSON report)."""

from __future__ import annotations

import datetime as dt
import tempfile
from typing import Any
from urllib.parse import quote

from pyramid.request import Request
from pyramid.response import FileIter, Response
from pyramid.view import view_config, view_defaults

from propolis.platform.auth import AUTHENTICATED
from propolis.platform.errors import AppError, t
from propolis.platform.exchange.services import (
    MAX_IMPORT_BYTES,
    MAX_IMPORT_ROWS,
    ExportService,
    ExportSpec,
    ImportService,
)
from propolis.platform.exchange.sheets import CONTENT_TYPES, FORMATS
from propolis.platform.fields.values import zone
from propolis.platform.web.api import json_object, object_name

# an export bigger than this goes to a temporary file on disk
SPOOL_BYTES = 8 * 1024 * 1024


def content_disposition(label: str, api_name: str, day: dt.date, fmt: str) -> str:
    """An attachment named after the object's label and the day, with an ASCII
    fallback for clients that ignore RFC 5987's ``filename*``."""
    stamp = day.strftime("%Y%m%d")
    return (f'attachment; filename="{api_name}-{stamp}.{fmt}"; '
            f"filename*=UTF-8''{quote(f'{label}-{stamp}.{fmt}')}")


def _setting(request: Request, name: str, default: int) -> int:
    return int(request.registry.settings.get(name, default))


def export_response(request: Request, name: str, body: dict[str, Any],
                    fmt: str) -> Response:
    """The file of what ``body`` (a query: filters, sort, q, columns) finds in
    ``name``, for the API and the list page's export link alike. It is written to a
    temporary file inside the request's transaction (so a failure is still an
    error answer and the audit entry commits with it), then streamed from there."""
    if fmt not in FORMATS:
        raise AppError("invalid", t("导出格式有误", "Invalid export format"),
                       {"format": [t("应为 csv 或 xlsx", "must be csv or xlsx")]})
    service = ExportService(request.db, request.effective, request.access,
                            lang=request.lang, tz=request.records.tz,
                            ip=request.client_addr)
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


@view_defaults(renderer="json", permission=AUTHENTICATED)
class ExchangeViews:
    def __init__(self, request: Request) -> None:
        self.request = request

    def _options(self) -> dict[str, Any]:
        request = self.request
        return {"lang": request.lang, "tz": request.records.tz,
                "ip": request.client_addr}

    @view_config(route_name="api.export", request_method="POST")
    def export(self) -> Response:
        """The records the query body finds, as a file (CSV unless ``format`` is
        ``xlsx``)."""
        request = self.request
        body = json_object(request)
        return export_response(request, object_name(request), body,
                               body.pop("format", "csv"))

    @view_config(route_name="api.import", request_method="POST")
    def import_records(self) -> dict[str, Any]:
        """The uploaded sheet (multipart field ``file``) imported row by row."""
        request = self.request
        name = object_name(request)
        upload = request.POST.get("file")
        if upload is None or not hasattr(upload, "file"):
            raise AppError("invalid", t("请用 multipart 字段 file 上传 CSV 或 XLSX "
                                        "文件", "Upload the CSV or XLSX file as the "
                                        "multipart field 'file'"),
                           {"file": [t("必填", "required")]})
        service = ImportService(request.db, request.effective, request.access,
                                **self._options())
        service.max_rows = _setting(request, "propolis.import_max_rows",
                                    MAX_IMPORT_ROWS)
        service.max_bytes = _setting(request, "propolis.import_max_bytes",
                                     MAX_IMPORT_BYTES)
        data = upload.file.read(service.max_bytes + 1)
        return service.run(name, data, upload.filename)
