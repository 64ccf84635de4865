"""``POST /api/v1/files`` (multipart) → ``{"id"}`` for file and image fields;
``GET /api/v1/files/{id}`` serves it back to users of the same enterprise."""

from __future__ import annotations

import datetime as dt
import hashlib
import mimetypes
import os
from typing import Any
from urllib.parse import quote

from pyramid.request import Request
from pyramid.response import FileResponse, Response
from pyramid.view import view_config
from sqlalchemy import insert, select

from propolis.platform.auth import AUTHENTICATED
from propolis.platform.errors import AppError, NotFound, t
from propolis.platform.ids import new_id
from propolis.platform.storage.platform_tables import files

CHUNK = 64 * 1024


def file_path(request: Request, file_id: str) -> str:
    # Files live under a folder per enterprise, named by id: a path never comes from
    # the client, so no upload can be written or read outside that folder.
    root = request.registry.settings["propolis.files_dir"]
    return os.path.join(root, request.identity.account, file_id[:2], file_id)


@view_config(route_name="api.files", request_method="POST", renderer="json",
             permission=AUTHENTICATED)
def upload(request: Request) -> dict[str, Any]:
    field = request.POST.get("file")
    if field is None or not hasattr(field, "file"):
        raise AppError("invalid", t("请用 multipart 字段 file 上传文件",
                                    "Upload the file as the multipart field 'file'"),
                       {"file": [t("必填", "required")]})
    name = os.path.basename(field.filename or "file")[:255] or "file"
    content_type = (field.type or mimetypes.guess_type(name)[0]
                    or "application/octet-stream")[:127]
    file_id = new_id()
    path = file_path(request, file_id)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    with open(path, "wb") as out:
        while chunk := field.file.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
            out.write(chunk)
    request.tm.get().addAfterAbortHook(lambda *a: _remove(path))
    request.db.execute(insert(files).values(
        id=file_id, name=name, content_type=content_type, size=size,
        sha256=digest.hexdigest(), created_by=request.identity.user_id,
        created_at=dt.datetime.now(dt.UTC)))
    request.response.status = 201
    return {"id": file_id, "name": name, "size": size, "content_type": content_type}


def _remove(path: str) -> None:
    if os.path.exists(path):
        os.remove(path)


@view_config(route_name="api.file", request_method="GET", permission=AUTHENTICATED)
def download(request: Request) -> Response:
    file_id = request.matchdict["id"]
    row = request.db.execute(select(files).where(files.c.id == file_id)).first()
    path = file_path(request, file_id) if row else None
    if row is None or path is None or not os.path.exists(path):
        raise NotFound("not_found", t("文件不存在", "No such file"))
    response = FileResponse(path, request=request, content_type=row.content_type)
    response.content_disposition = f"attachment; filename*=UTF-8''{quote(row.name)}"
    return response
