"""``POST /api/v1/objects/{o}/export`` (a CSV or XLSX file) and
``POST /api/v1/objects/{o}/import`` (multipart; a JSON report)."""

from __future__ import annotations

from typing import Any

from pyramid.request import Request
from pyramid.response import Response
from pyramid.view import view_config, view_defaults

from propolis.platform.auth import AUTHENTICATED
from propolis.platform.errors import AppError, t
from propolis.platform.exchange.download import export_response
from propolis.platform.exchange.interfaces import IImportService
from propolis.platform.web.api import json_object, object_name, refuse_unstorable


@view_defaults(renderer="json", permission=AUTHENTICATED)
class ExchangeViews:
    def __init__(self, request: Request) -> None:
        self.request = request

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
        refuse_unstorable({"file": [upload.filename or ""]})
        service = request.find_service(IImportService)
        data = upload.file.read(service.max_bytes + 1)
        return service.run(name, data, upload.filename)
