"""Records: create, read, update, delete (to the recycle bin), restore, history and
query, for every object, through one service (``RecordService``), which a request
gets with ``request.find_service(IRecordService)`` (or ``IQueryService``, for
pages of records); the files of file and image fields (``IFileService``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pyramid.config import Configurator
from pyramid.request import Request

from propolis.platform.query.interfaces import IQueryService
from propolis.platform.records.files import FileService
from propolis.platform.records.interfaces import IFileService, IRecordService
from propolis.platform.records.services import RecordService


def record_service_factory(context: Any, request: Request) -> RecordService:
    """The record service of ``request``: its enterprise's storage and metadata,
    on behalf of its actor, with its access policy, language and time zone; its
    changes are told to the registry's subscribers (``records.events``)."""
    return RecordService(request.db, request.effective, request.actor,
                         lang=request.lang, tz=request.tz, policy=request.access,
                         request=request)


def query_service_factory(context: Any, request: Request) -> RecordService:
    """The request's record service, for what only reads pages of records."""
    service: RecordService = request.find_service(IRecordService)
    return service


def file_service_factory(context: Any, request: Request) -> FileService:
    """The enterprise's files, uploaded as the request's actor; a file written
    for a request whose transaction aborts is removed."""

    def on_abort(undo: Callable[[], None]) -> None:
        request.tm.get().addAfterAbortHook(lambda *args: undo())

    return FileService(request.db, request.registry.settings["propolis.files_dir"],
                       request.tenant.account, request.actor.user_id, on_abort)


def includeme(config: Configurator) -> None:
    config.include(".events")
    config.register_service_factory(record_service_factory, IRecordService)
    config.register_service_factory(query_service_factory, IQueryService)
    config.register_service_factory(file_service_factory, IFileService)
