"""Records to and from spreadsheets: CSV and XLSX export and import of any object,
through the same permissions and validation as the JSON API
(``IExportService``, ``IImportService``)."""

from __future__ import annotations

from typing import Any

from pyramid.config import Configurator
from pyramid.request import Request

from propolis.platform.exchange.imports import ImportService
from propolis.platform.exchange.interfaces import IExportService, IImportService
from propolis.platform.exchange.jobs import import_job  # noqa: F401 - the task
from propolis.platform.exchange.services import ExportService
from propolis.platform.records.interfaces import IFileService, IRecordService


def export_service_factory(context: Any, request: Request) -> ExportService:
    """Exports as the request's actor, in its language and time zone."""
    return ExportService(request.db, request.effective, request.access,
                         lang=request.lang, tz=request.tz, ip=request.client_ip,
                         records=request.find_service(IRecordService))


def import_service_factory(context: Any, request: Request) -> ImportService:
    """Imports as the request's actor, through the request's record service
    (whose changes its subscribers hear of); its error sheets go to the
    request's file storage."""
    return ImportService(request.db, request.effective, request.access,
                         lang=request.lang, tz=request.tz, ip=request.client_ip,
                         records=request.find_service(IRecordService),
                         files=request.find_service(IFileService))


def includeme(config: Configurator) -> None:
    config.register_service_factory(export_service_factory, IExportService)
    config.register_service_factory(import_service_factory, IImportService)
    config.include(".routes", route_prefix="/api/v1")
    config.scan(".api")
