"""Records to and from spreadsheets: CSV and XLSX export and import of any object,
through the same permissions and validation as the JSON API
(``IExportService``, ``IImportService``)."""

from __future__ import annotations

from typing import Any

from pyramid.config import Configurator
from pyramid.request import Request

from propolis.platform.exchange.interfaces import IExportService, IImportService
from propolis.platform.exchange.services import (
    MAX_IMPORT_BYTES,
    MAX_IMPORT_ROWS,
    ExportService,
    ImportService,
)
from propolis.platform.records.interfaces import IRecordService


def export_service_factory(context: Any, request: Request) -> ExportService:
    """Exports as the request's actor, in its language and time zone."""
    return ExportService(request.db, request.effective, request.access,
                         lang=request.lang, tz=request.tz, ip=request.client_ip,
                         records=request.find_service(IRecordService))


def import_service_factory(context: Any, request: Request) -> ImportService:
    """Imports as the request's actor, within the limits the settings give
    (``propolis.import_max_rows``, ``propolis.import_max_bytes``)."""
    service = ImportService(request.db, request.effective, request.access,
                            lang=request.lang, tz=request.tz, ip=request.client_ip,
                            records=request.find_service(IRecordService))
    settings = request.registry.settings
    service.max_rows = int(settings.get("propolis.import_max_rows", MAX_IMPORT_ROWS))
    service.max_bytes = int(settings.get("propolis.import_max_bytes",
                                         MAX_IMPORT_BYTES))
    return service


def includeme(config: Configurator) -> None:
    config.register_service_factory(export_service_factory, IExportService)
    config.register_service_factory(import_service_factory, IImportService)
    config.include(".routes", route_prefix="/api/v1")
    config.scan(".api")
