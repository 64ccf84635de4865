"""``POST /api/v1/files`` (multipart) → ``{"id"}`` for file and image fields;
``GET /api/v1/files/{id}`` serves it back to those who may read it (``may_read``)."""

from __future__ import annotations

import mimetypes
import os
from typing import Any
from urllib.parse import quote

from pyramid.request import Request
from pyramid.response import FileResponse, Response
from pyramid.view import view_config

from propolis.platform.auth import AUTHENTICATED
from propolis.platform.errors import AppError, NotFound, _
from propolis.platform.records.files import NO_SUCH_FILE, StoredFile
from propolis.platform.records.interfaces import IFileService, IRecordService
from propolis.platform.web.api import refuse_unstorable
from propolis.platform.workflow.interfaces import IApprovalService


@view_config(route_name="api.files", request_method="POST", renderer="json",
             permission=AUTHENTICATED)
def upload(request: Request) -> dict[str, Any]:
    field = request.POST.get("file")
    if field is None or not hasattr(field, "file"):
        raise AppError("invalid", _("Upload the file as the multipart field 'file'"),
                       {"file": [_("required")]})
    refuse_unstorable({"file": [field.filename or "", field.type or ""]})
    name = os.path.basename(field.filename or "file")[:255] or "file"
    content_type = (field.type or mimetypes.guess_type(name)[0]
                    or "application/octet-stream")[:127]
    stored = request.find_service(IFileService).store(name, content_type, field.file)
    request.response.status = 201
    return {"id": stored.id, "name": stored.name, "size": stored.size,
            "content_type": stored.content_type}


# The types a download keeps: what a browser shows as itself and never runs. Any
# other (text/html, image/svg+xml, XML, scripts, whatever a client declared) is
# served as bytes, so an upload can never become a page of the site.
SAFE_TYPES = frozenset({
    "application/pdf", "application/zip", "application/msword",
    "application/vnd.ms-excel", "application/vnd.ms-powerpoint",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "image/png", "image/jpeg", "image/gif", "image/webp", "image/bmp",
    "text/plain", "text/csv", "audio/mpeg", "video/mp4",
})
BYTES = "application/octet-stream"


def served_type(content_type: str) -> str:
    """The ``Content-Type`` a stored file is served with (``SAFE_TYPES``)."""
    base = content_type.split(";", 1)[0].strip().lower()
    return base if base in SAFE_TYPES else BYTES


def may_read(request: Request, stored: StoredFile) -> bool:
    """A file attached to records is read by whoever sees the field holding it
    on one of them — the record reached by their own access or through an
    approval they take part in; a file attached nowhere yet, by its uploader."""
    holders = request.find_service(IRecordService).file_holders(stored.id)
    if not holders:
        return stored.uploaded_by is not None \
            and stored.uploaded_by == request.actor.user_id
    shown = [h for h in holders if h.visible]
    if any(h.reachable for h in shown):
        return True
    approvals = request.find_service(IApprovalService)
    return any(approvals.takes_part_in(h.object, h.record_id) for h in shown)


@view_config(route_name="api.file", request_method="GET", permission=AUTHENTICATED)
def download(request: Request) -> Response:
    stored = request.find_service(IFileService).get(request.matchdict["id"])
    if not may_read(request, stored):
        # the same answer as a missing file: its existence is not told either
        raise NotFound("not_found", NO_SUCH_FILE)
    response = FileResponse(stored.path, request=request,
                            content_type=served_type(stored.content_type))
    response.content_disposition = (
        f"attachment; filename*=UTF-8''{quote(stored.name)}")
    return response
