"""``POST /api/v1/files`` (multipart) → ``{"id"}`` for file and image fields;
``GET /api/v1/files/{id}`` serves it back to users of the same enterprise."""

from __future__ import annotations

import mimetypes
import os
from typing import Any
from urllib.parse import quote

from pyramid.request import Request
from pyramid.response import FileResponse, Response
from pyramid.view import view_config

from propolis.platform.auth import AUTHENTICATED
from propolis.platform.errors import AppError, _
from propolis.platform.records.interfaces import IFileService


@view_config(route_name="api.files", request_method="POST", renderer="json",
             permission=AUTHENTICATED)
def upload(request: Request) -> dict[str, Any]:
    field = request.POST.get("file")
    if field is None or not hasattr(field, "file"):
        raise AppError("invalid", _("Upload the file as the multipart field 'file'"),
                       {"file": [_("required")]})
    name = os.path.basename(field.filename or "file")[:255] or "file"
    content_type = (field.type or mimetypes.guess_type(name)[0]
                    or "application/octet-stream")[:127]
    stored = request.find_service(IFileService).store(name, content_type, field.file)
    request.response.status = 201
    return {"id": stored.id, "name": stored.name, "size": stored.size,
            "content_type": stored.content_type}


@view_config(route_name="api.file", request_method="GET", permission=AUTHENTICATED)
def download(request: Request) -> Response:
    stored = request.find_service(IFileService).get(request.matchdict["id"])
    response = FileResponse(stored.path, request=request,
                            content_type=stored.content_type)
    response.content_disposition = (
        f"attachment; filename*=UTF-8''{quote(stored.name)}")
    return response
