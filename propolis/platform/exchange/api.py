"""``POST /api/v1/objects/{o}/export`` (a CSV or XLSX file) and
``POST /api/v1/objects/{o}/import`` (multipart; a JSON report, or 202 and a job
for a large file)."""

from __future__ import annotations

import os
from typing import Any

from pyramid.request import Request
from pyramid.response import Response
from pyramid.view import view_config, view_defaults

from propolis.platform.auth import AUTHENTICATED
from propolis.platform.errors import AppError, _
from propolis.platform.exchange.download import export_response
from propolis.platform.exchange.imports import ImportOptions
from propolis.platform.exchange.interfaces import IImportService
from propolis.platform.exchange.jobs import SYNC_BYTES, queue_import
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
        """The uploaded sheet (multipart field ``file``) imported a batch at a
        time, with the options ``mode``, ``key`` and ``duplicates`` (form fields
        or query parameters): the report, or for a file over ``SYNC_BYTES`` (or
        with ``async=true``) 202 and the job that imports it."""
        request = self.request
        name = object_name(request)
        upload = request.POST.get("file")
        if upload is None or not hasattr(upload, "file"):
            raise AppError("invalid", _("Upload the CSV or XLSX file as the "
                                        "multipart field 'file'"),
                           {"file": [_("required")]})
        refuse_unstorable({"file": [upload.filename or ""]})
        params = {**request.GET, **{k: v for k, v in request.POST.items()
                                    if k != "file"}}
        options = ImportOptions.from_params(params)
        source = upload.file
        source.seek(0, os.SEEK_END)
        size = source.tell()
        source.seek(0)
        wants_job = str(params.get("async", "")).lower() in ("1", "true", "yes")
        limit = int(request.registry.settings.get("propolis.import_sync_bytes",
                                                  SYNC_BYTES))
        service = request.find_service(IImportService)
        if wants_job or size > limit:
            service.check(name, options)
            job_id = queue_import(request, name, source, upload.filename, options)
            request.response.status = 202
            return {"job": job_id, "status": "queued"}
        return service.run(name, source, upload.filename, options)
