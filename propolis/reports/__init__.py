"""Reports: the chart engine (``kind: chart``), dashboards (``kind: dashboard``)
and the data-reporting system (报数, ``kind: report``), with their JSON API under
/api/v1/charts, /api/v1/dashboards and /api/v1/reports (CONTRACT §6) and the
reminder beat sends to whoever has not filled a report by its due time."""

from __future__ import annotations

from typing import Any

from pyramid.config import Configurator
from pyramid.request import Request

from propolis.platform.permissions.actor import Actor
from propolis.platform.records.services import RecordService
from propolis.reports.engine import ChartEngine
from propolis.reports.entries import ReportService
from propolis.reports.interfaces import IChartService, IReportService
from propolis.reports.services import ChartService
from propolis.reports.tasks import remind_task


def chart_engine(request: Request) -> ChartEngine:
    """The request's user's charts, in the enterprise's time zone."""
    return ChartEngine(request.db.connection(), request.effective, request.access,
                       request.tz)


def chart_service_factory(context: Any, request: Request) -> ChartService:
    return ChartService(chart_engine(request), request.effective)


def report_service_factory(context: Any, request: Request) -> ReportService:
    """Entries are written as the caller (their owner) with the right to write
    the entry object, which no one has through the records API."""
    actor = request.actor
    writer = Actor(actor.user_id, actor.department_id, actor.roles | {"admin"})
    records = RecordService(request.db, request.effective, writer, lang=request.lang,
                            tz=request.tz, request=request)
    return ReportService(request.db.connection(), request.effective, actor, records,
                         chart_engine(request), request.tz,
                         notify=request.registry.notify)


def includeme(config: Configurator) -> None:
    config.register_service_factory(chart_service_factory, IChartService)
    config.add_periodic_task("report-reminders", remind_task,
                             "propolis.report_reminder_seconds")
    config.register_service_factory(report_service_factory, IReportService)
    config.include(".routes", route_prefix="/api/v1")
    config.scan(".api")
