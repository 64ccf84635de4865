"""Charts, dashboards and reports (报数) in the JSON API (CONTRACT §6)."""

from __future__ import annotations

from typing import Any

from pyramid.request import Request
from pyramid.view import view_config

from propolis.platform.auth import AUTHENTICATED
from propolis.platform.errors import AppError, NotFound, _
from propolis.platform.web.api import json_object
from propolis.reports.interfaces import IChartService, IReportService


@view_config(route_name="api.chart.run", request_method="POST", renderer="json",
             permission=AUTHENTICATED)
def run_chart(request: Request) -> Any:
    """One chart's rows: ``{"filters", "from", "to"}`` → ``{"columns", "rows"}``."""
    body = json_object(request) if request.body else {}
    return request.find_service(IChartService).run(request.matchdict["name"], body)


@view_config(route_name="api.dashboard", request_method="GET", renderer="json",
             permission=AUTHENTICATED)
def dashboard(request: Request) -> Any:
    """A dashboard's widgets for ``?period=`` (default: all time), of
    ``?user=`` and everyone below them or of ``?department=`` and its
    sub-departments (default: everything the caller may read)."""
    params = request.params
    return request.find_service(IChartService).dashboard(
        request.matchdict["name"], params.get("period") or None,
        user=params.get("user") or None, department=params.get("department") or None)


@view_config(route_name="api.reports", request_method="GET", renderer="json",
             permission=AUTHENTICATED)
def my_reports(request: Request) -> Any:
    """The reports the caller fills, with today's period and whether it is
    filled."""
    return {"reports": request.find_service(IReportService).mine()}


@view_config(route_name="api.report.entry", request_method="GET", renderer="json",
             permission=AUTHENTICATED)
def get_entry(request: Request) -> Any:
    """The caller's entry of a period; 404 when not filled."""
    found = request.find_service(IReportService).entry(
        request.matchdict["name"], request.matchdict["period"])
    if found is None:
        raise NotFound("not_found", _("Not filled yet"))
    return found


@view_config(route_name="api.report.entry", request_method="PUT", renderer="json",
             permission=AUTHENTICATED)
def submit_entry(request: Request) -> Any:
    """The caller's entry of a period: ``{"data": {...}}``, replaced on
    resubmission."""
    body = json_object(request)
    if set(body) - {"data"}:
        raise AppError("invalid", _("Invalid request"),
                       {"data": [_("the body is {\"data\": {…}}")]})
    return request.find_service(IReportService).submit(
        request.matchdict["name"], request.matchdict["period"], body.get("data"))


@view_config(route_name="api.report.summary", request_method="GET", renderer="json",
             permission=AUTHENTICATED)
def summary(request: Request) -> Any:
    params = request.params
    return request.find_service(IReportService).summary(
        request.matchdict["name"], params.get("from"), params.get("to"),
        params.get("by", "department"))


@view_config(route_name="api.report.missing", request_method="GET", renderer="json",
             permission=AUTHENTICATED)
def missing(request: Request) -> Any:
    return request.find_service(IReportService).missing(
        request.matchdict["name"], request.params.get("period"))
