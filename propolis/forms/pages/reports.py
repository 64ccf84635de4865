"""The pages of the reports layer: dashboards (number cards, ECharts charts and
tables, a period picker, a person or department for superiors, a chart's bar or
funnel stage drilling into its list page) and 报数 (today's reports to fill, an
entry's form). They ask the reports layer's services (``IChartService``,
``IReportService``) exactly as the JSON API does, so a page never counts
differently from it."""

from __future__ import annotations

import datetime as dt
import io
import json
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.request import Request
from pyramid.response import Response
from pyramid.view import view_config

from propolis.forms.display import display_text
from propolis.forms.list_state import field_spec
from propolis.forms.pages.home import login_redirect
from propolis.forms.pages.lists import find_choices
from propolis.platform.errors import AppError, NotFound, _, _c
from propolis.platform.exchange.download import content_disposition
from propolis.platform.exchange.sheets import CONTENT_TYPES, XlsxWriter
from propolis.platform.fields.registry import field_type
from propolis.platform.fields.values import zone
from propolis.platform.web.pages import attempt, error_page, render_page
from propolis.reports.entries import UNITS
from propolis.reports.interfaces import IChartService, IReportService
from propolis.reports.periods import period_of

TEMPLATES = "propolis.forms:templates/reports/"
# the chart types a dashboard draws with ECharts (the others are tables or cards)
DRAWN = frozenset({"bar", "line", "pie", "funnel", "gauge"})


def money(value: Any) -> str:
    """``¥1,234.50``: a currency amount as the cards show it."""
    return f"¥{Decimal(str(value)):,.2f}"


def number(value: Any) -> str:
    """A figure with thousands separators and at most two decimals."""
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    if amount == amount.to_integral_value():
        return f"{amount:,.0f}"
    return f"{amount:,.2f}"


class Dashboard:
    """One dashboard's widgets as the page draws them, in the user's language."""

    def __init__(self, request: Request, name: str) -> None:
        self.request = request
        self.effective = request.effective
        self.lang = request.lang
        self.doc = self.effective.dashboards.get(name)
        if self.doc is None:
            raise NotFound("not_found", _("No dashboard '${name}'",
                                          mapping={"name": name}))

    def tr(self, text: Any) -> str:
        return str(self.request.translate(text))

    def chart_doc(self, widget: Mapping[str, Any]) -> dict[str, Any] | None:
        name = widget.get("chart") or widget.get("kpi")
        return None if name is None else self.effective.charts.get(name)

    def field_of(self, chart: Mapping[str, Any], name: str) -> dict[str, Any]:
        obj = self.effective.object(chart["object"])
        return (field_spec(obj.doc, name) or {}) if obj is not None else {}

    def is_money(self, widget: Mapping[str, Any]) -> bool:
        """Whether a kpi is a sum or average of a currency field."""
        chart = self.chart_doc(widget)
        if chart is None or "kpi" not in widget:
            return False
        wanted = widget.get("measure")
        measure = next((m for m in chart["measures"]
                        if wanted in (None, m["api_name"])), None)
        if measure is None or not measure.get("field"):
            return False
        return self.field_of(chart, measure["field"]).get("type") == "currency"

    def card(self, widget: Mapping[str, Any], found: Mapping[str, Any]
             ) -> dict[str, Any]:
        value = found.get("value")
        if value is None:
            text = "—"
        elif self.is_money(widget):
            text = money(value)
        else:
            text = number(value)
        return {"kind": "card", "label": self.tr(found["label"]), "text": text}

    def dimension_text(self, chart: Mapping[str, Any], column: Mapping[str, Any],
                       row: Mapping[str, Any]) -> str:
        name = column["api_name"]
        if row.get("others"):
            return self.tr(_("Others"))
        if f"{name}_name" in row:
            return str(row[f"{name}_name"] or "")
        value = row.get(name)
        if column.get("bucket") or value is None:
            return "" if value is None else str(value)
        return display_text(self.field_of(chart, name), value, self.lang,
                            self.request.tz)

    def figure(self, widget: Mapping[str, Any], found: Mapping[str, Any]
               ) -> dict[str, Any]:
        chart = self.chart_doc(widget) or {}
        kind = chart.get("type", "bar")
        columns = found["columns"]
        dimensions = [c for c in columns if c["role"] == "dimension"]
        measures = [c for c in columns if c["role"] == "measure"]
        label = self.tr(found["label"])
        head = [self.tr(c["label"]) for c in dimensions + measures]
        rows = []
        for row in found["rows"]:
            keys = [self.dimension_text(chart, c, row) for c in dimensions]
            rows.append({"cells": keys + [number(row[m["api_name"]])
                                          if row.get(m["api_name"]) is not None
                                          else "" for m in measures],
                         "drill": row.get("drill"), "name": " · ".join(keys),
                         "values": [row.get(m["api_name"]) for m in measures]})
        option = None
        if kind in DRAWN and measures:
            option = json.dumps(chart_option(kind, label, rows,
                                             [self.tr(m["label"]) for m in measures]),
                                ensure_ascii=False, default=str)
        return {"kind": "chart", "type": kind, "label": label, "head": head,
                "rows": rows, "option": option}

    def widgets(self, found: Mapping[str, Any]) -> list[dict[str, Any]]:
        widgets = []
        for widget, shown in zip(self.doc["widgets"], found["widgets"], strict=True):
            widgets.append(self.figure(widget, shown) if "rows" in shown
                           else self.card(widget, shown))
        return widgets


def _value(value: Any) -> float:
    return 0.0 if value is None else float(value)


def chart_option(kind: str, title: str, rows: list[dict[str, Any]],
                 measures: list[str]) -> dict[str, Any]:
    """The ECharts option of one chart widget; each data item carries its
    ``drill`` URL, which static/charts.js opens when it is clicked."""
    names = [r["name"] for r in rows]
    if kind == "gauge":
        value = _value(rows[0]["values"][0]) if rows else 0.0
        return {"aria": {"enabled": True},
                "series": [{"type": "gauge", "name": title,
                            "detail": {"formatter": "{value}"},
                            "data": [{"value": value, "name": measures[0]}]}]}
    if kind in ("pie", "funnel"):
        data = [{"value": _value(r["values"][0]), "name": r["name"],
                 "drill": r["drill"]} for r in rows]
        series: dict[str, Any] = {"type": kind, "name": measures[0], "data": data}
        if kind == "funnel":
            series.update({"sort": "none", "left": "10%", "width": "80%",
                           "label": {"show": True, "position": "inside"}})
        else:
            series.update({"radius": ["35%", "65%"]})
        return {"aria": {"enabled": True}, "tooltip": {"trigger": "item"},
                "legend": {"bottom": 0, "type": "scroll"}, "series": [series]}
    return {
        "aria": {"enabled": True},
        "tooltip": {"trigger": "axis"},
        "legend": {"bottom": 0, "type": "scroll"} if len(measures) > 1 else None,
        "grid": {"left": 8, "right": 8, "top": 24, "bottom": 32,
                 "containLabel": True},
        "xAxis": {"type": "category", "data": names,
                  "axisLabel": {"interval": 0, "rotate": 30 if len(names) > 4 else 0}},
        "yAxis": {"type": "value"},
        "series": [{"type": kind, "name": measure,
                    "data": [{"value": _value(r["values"][i]), "drill": r["drill"]}
                             for r in rows]}
                   for i, measure in enumerate(measures)],
    }


@view_config(route_name="reports.dashboards", request_method="GET")
def dashboards(request: Request) -> Response:
    """The enterprise's dashboards, and the summaries of its reports (报数)."""
    if request.page_user is None:
        return login_redirect(request)
    found = sorted(({"name": name, "label": request.translate(doc["label"])}
                    for name, doc in request.effective.dashboards.items()),
                   key=lambda d: d["label"])
    reports = sorted(({"name": name, "label": request.translate(doc["label"])}
                      for name, doc in request.effective.reports.items()),
                     key=lambda d: d["label"])
    return render_page(request, TEMPLATES + "dashboards.html",
                       {"dashboards": found, "reports": reports})


@view_config(route_name="reports.dashboard", request_method="GET")
def dashboard(request: Request) -> Response:
    """One dashboard for ``?period=`` (and ``?user=`` / ``?department=``): the
    same figures as ``GET /api/v1/dashboards/{name}``."""
    if request.page_user is None:
        return login_redirect(request)
    params = request.params
    name = request.matchdict["name"]
    try:
        page = Dashboard(request, name)
    except NotFound as missing:
        return error_page(request, _("No such dashboard"),
                          missing.message, 404)
    period = params.get("period", "").strip()
    picked = {k: params.get(k, "").strip() for k in ("user", "department")}
    errors: dict[str, list[str]] = {}
    widgets: list[dict[str, Any]] = []
    try:
        found = request.find_service(IChartService).dashboard(
            name, period or None, user=picked["user"] or None,
            department=picked["department"] or None)
        widgets = page.widgets(found)
    except AppError as error:
        errors = {k: [page.tr(m) for m in v] for k, v in error.fields.items()}
        errors.setdefault("period", [page.tr(error.message)])
    return render_page(request, TEMPLATES + "dashboard.html", {
        "name": name, "label": page.tr(page.doc["label"]), "period": period,
        "picked": picked, "widgets": widgets, "errors": errors,
        # the people and departments the user may read: a superior narrows the
        # figures to one of them (the service keeps them within what they read)
        "pickers": {k: find_choices(request, k)[0] for k in ("user", "department")},
    }, 400 if errors else 200)


# -- 报数: the reports I fill, an entry's form ---------------------------------------

@view_config(route_name="reports.todo", request_method="GET")
def todo(request: Request) -> Response:
    """今日待报: the reports the user fills, today's period, filled or not."""
    if request.page_user is None:
        return login_redirect(request)
    reports = [{**r, "label": request.translate(r["label"]),
                "url": request.route_path("reports.entry", name=r["api_name"],
                                          period=r["current"])}
               for r in request.find_service(IReportService).mine()]
    return render_page(request, TEMPLATES + "todo.html", {"reports": reports})


def _entry_values(fields: list[dict[str, Any]], params: Mapping[str, str]
                  ) -> tuple[dict[str, Any], dict[str, list[Any]]]:
    """The posted form as an entry's data: numbers read as numbers, an empty
    input as no value; a number that is not one is an error naming its field."""
    data: dict[str, Any] = {}
    errors: dict[str, list[Any]] = {}
    for f in fields:
        name = f["api_name"]
        text = params.get(name, "").strip()
        if not text:
            data[name] = None
        elif field_type(f).numeric:
            try:
                amount = Decimal(text.replace(",", ""))
            except InvalidOperation:
                amount = Decimal("NaN")
            if not amount.is_finite():
                errors[name] = [_("enter a number")]
                continue
            data[name] = (int(amount) if amount == amount.to_integral_value()
                          else float(amount))
        else:
            data[name] = text
    return data, errors


@view_config(route_name="reports.entry", request_method=("GET", "POST"))
def entry(request: Request) -> Response:
    """The form of the user's entry of one period: filled again, it corrects
    the entry until the period is locked."""
    if request.page_user is None:
        return login_redirect(request)
    name, period = request.matchdict["name"], request.matchdict["period"]
    service = request.find_service(IReportService)
    report = request.effective.reports.get(name)
    if report is None:
        return error_page(request, _("No such report"),
                          _("No report '${name}'", mapping={"name": name}), 404)
    errors: dict[str, list[Any]] = {}
    message: Any = None
    saved = False
    status = 200
    if request.method == "POST":
        data, errors = _entry_values(report["fields"], request.POST)
        values: dict[str, Any] = {k: request.POST.get(k, "") for k in data}
        status = 400 if errors else 200
        if not errors:
            try:
                attempt(request, service.submit, name, period, data)
            except AppError as error:
                errors, message, status = error.fields, error.message, error.status
            else:
                return HTTPSeeOther(request.route_path(
                    "reports.entry", name=name, period=period,
                    _query={"saved": "1"}))
    else:
        try:
            found = service.entry(name, period) or {}
        except AppError as error:
            return error_page(request, _c("forms.pages.reports", "Invalid period"),
                              error.message, error.status)
        values = {f["api_name"]: "" if found.get(f["api_name"]) is None
                  else str(found[f["api_name"]]) for f in report["fields"]}
        saved = request.params.get("saved") == "1"
    fields = [{"name": f["api_name"], "label": request.translate(f["label"]),
               "numeric": field_type(f).numeric, "value": values.get(f["api_name"]),
               "errors": [request.translate(m) for m in errors.get(f["api_name"], [])]}
              for f in report["fields"]]
    others = {k: [request.translate(m) for m in v] for k, v in errors.items()
              if k not in {f["name"] for f in fields}}
    return render_page(request, TEMPLATES + "entry.html", {
        "name": name, "period": period, "label": request.translate(report["label"]),
        "fields": fields, "others": others, "saved": saved,
        "message": request.translate(message) if message else None,
    }, status)


# -- 报数: the summary for managers, its XLSX -----------------------------------------

GROUPINGS = {"department": _("By department"),
             "user": _("By person"), "period": _("By period")}


def _ratio(value: Any) -> str:
    return "" if value is None else f"{float(value) * 100:+.1f}%"


@view_config(route_name="reports.summary", request_method="GET")
def report_summary(request: Request) -> Response:
    """A report's entries summed by department, person or period over
    ``?from=&to=`` (default: the current period), with MoM and YoY, who has not
    filled the last period, and the same table as XLSX (``?format=xlsx``)."""
    if request.page_user is None:
        return login_redirect(request)
    name = request.matchdict["name"]
    report = request.effective.reports.get(name)
    if report is None:
        return error_page(request, _("No such report"),
                          _("No report '${name}'", mapping={"name": name}), 404)
    today = dt.datetime.now(zone(request.tz)).date()
    current = period_of(today, UNITS[report["period"]]).label
    params = request.params
    start = params.get("from", "").strip() or current
    end = params.get("to", "").strip() or start
    by = params.get("by", "department")
    service = request.find_service(IReportService)
    numbers = [f for f in report["fields"] if field_type(f).numeric]
    head = [request.translate(_("Name")),
            request.translate(_("Entries"))]
    for f in numbers:
        label = request.translate(f["label"])
        head += [label, f"{label} " + request.translate(_("MoM")),
                 f"{label} " + request.translate(_("YoY"))]
    errors: dict[str, list[str]] = {}
    rows: list[list[Any]] = []
    missing: list[dict[str, Any]] = []
    try:
        found = service.summary(name, start, end, by)
        missing = service.missing(name, end)["users"]
    except AppError as error:
        errors = {k: [request.translate(m) for m in v] for k, v in error.fields.items()}
        errors.setdefault("from", [request.translate(error.message)])
        found = {"rows": []}
    for row in found["rows"]:
        cells: list[Any] = [row["label"] or row["key"], row["entries"]]
        for f in numbers:
            key = f["api_name"]
            cells += [row.get(key), _ratio(row.get(f"{key}_mom")),
                      _ratio(row.get(f"{key}_yoy"))]
        rows.append(cells)
    label = request.translate(report["label"])
    if params.get("format") == "xlsx" and not errors:
        out = io.BytesIO()
        writer = XlsxWriter(out, label, [20] * len(head))
        writer.write([head, *rows])
        writer.close()
        response = Response(body=out.getvalue(), content_type=CONTENT_TYPES["xlsx"])
        response.content_disposition = content_disposition(label, name, today, "xlsx")
        return response
    return render_page(request, TEMPLATES + "summary.html", {
        "name": name, "label": label, "start": start, "end": end, "by": by,
        "groupings": [(k, request.translate(v)) for k, v in GROUPINGS.items()],
        "head": head, "rows": [[number(v) if isinstance(v, (int, float, Decimal))
                                and not isinstance(v, bool) else v or ""
                                for v in r] for r in rows],
        "missing": missing, "errors": errors,
        "export": request.route_path("reports.summary", name=name, _query={
            "from": start, "to": end, "by": by, "format": "xlsx"}),
    }, 400 if errors else 200)
