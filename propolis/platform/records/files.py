"""Uploaded files (``IFileService``): what file and image fields hold. A file is
kept under a folder of its enterprise, named by its id, with a row in the
``files`` table (name, type, size, SHA-256); a path never comes from the client,
so no upload can be written or read outside that folder."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import BinaryIO

from sqlalchemy import insert, select
from sqlalchemy.orm import Session
from zope.interface import implementer

from propolis.platform.errors import NotFound, _
from propolis.platform.ids import new_id
from propolis.platform.records.interfaces import IFileService
from propolis.platform.storage.platform_tables import files

CHUNK = 64 * 1024
NO_SUCH_FILE = _("No such file")


@dataclass(frozen=True)
class StoredFile:
    id: str
    name: str
    content_type: str
    size: int
    path: str
    uploaded_by: str | None = None


@implementer(IFileService)
class FileService:
    """The files of the enterprise whose storage ``session`` is and whose folder
    is ``root``/``account``, uploaded as ``user_id``. ``on_abort`` is given what
    to do when the caller's transaction aborts (remove a file written for it)."""

    def __init__(self, session: Session, root: str, account: str,
                 user_id: str | None,
                 on_abort: Callable[[Callable[[], None]], None]) -> None:
        self.session = session
        self.folder = os.path.join(root, account)
        self.user_id = user_id
        self.on_abort = on_abort

    def _path(self, file_id: str) -> str:
        return os.path.join(self.folder, file_id[:2], file_id)

    def store(self, name: str, content_type: str, source: BinaryIO) -> StoredFile:
        file_id = new_id()
        path = self._path(file_id)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        digest = hashlib.sha256()
        size = 0
        with open(path, "wb") as out:
            while chunk := source.read(CHUNK):
                digest.update(chunk)
                size += len(chunk)
                out.write(chunk)
        self.on_abort(lambda: _remove(path))
        self.session.execute(insert(files).values(
            id=file_id, name=name, content_type=content_type, size=size,
            sha256=digest.hexdigest(), created_by=self.user_id,
            created_at=dt.datetime.now(dt.UTC)))
        return StoredFile(file_id, name, content_type, size, path, self.user_id)

    def get(self, file_id: str) -> StoredFile:
        row = self.session.execute(select(files).where(files.c.id == file_id)
                                   ).first()
        path = self._path(file_id)
        if row is None or not os.path.exists(path):
            raise NotFound("not_found", NO_SUCH_FILE)
        return StoredFile(row.id, row.name, row.content_type, row.size, path,
                          row.created_by)

    def names(self, ids: Iterable[str]) -> dict[str, str]:
        wanted = sorted(set(ids))
        if not wanted:
            return {}
        rows = self.session.execute(select(files.c.id, files.c.name).where(
            files.c.id.in_(wanted)))
        return {r.id: r.name for r in rows}


def _remove(path: str) -> None:
    if os.path.exists(path):
        os.remove(path)
