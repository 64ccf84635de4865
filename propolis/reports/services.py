"""The chart service (``IChartService``): charts and dashboards by name, for the
request's user."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from zope.interface import implementer

from propolis.metadata.expressions import ExpressionError, compile_expression
from propolis.platform.errors import AppError, NotFound, _
from propolis.platform.meta.effective import Effective
from propolis.reports.engine import ChartEngine
from propolis.reports.interfaces import IChartService
from propolis.reports.periods import Period, parse_day, parse_period


def named(documents: Mapping[str, Any], name: str, kind: Mapping[str, str]
          ) -> dict[str, Any]:
    """The document ``name`` of one kind (``kind``: its name in words); 404."""
    found = documents.get(name)
    if found is None:
        raise NotFound("not_found", _("No ${kind} '${name}'",
                                      mapping={"kind": kind, "name": name}))
    return dict(found)


def period_values(period: Period) -> dict[str, Any]:
    """What a chart's filter value ``$period.<name>`` stands for."""
    return {"year": period.start.year, "month": period.start.month,
            "start": period.start.isoformat(), "end": period.last_day.isoformat()}


def with_period(chart: Mapping[str, Any], period: Period | None) -> dict[str, Any]:
    """``chart`` with its filter values ``$period.year`` (month, start, end)
    replaced by those of ``period``."""
    values = period_values(period) if period else {}
    filters = []
    for condition in chart["filters"]:
        value = condition.get("value")
        if isinstance(value, str) and value.startswith("$period."):
            key = value.removeprefix("$period.")
            if key not in values:
                raise AppError("invalid", _("The chart needs a period"),
                               {"period": [_("give a period")]})
            condition = {**condition, "value": values[key]}
        filters.append(condition)
    return {**chart, "filters": filters}


@implementer(IChartService)
class ChartService:
    def __init__(self, engine: ChartEngine, effective: Effective) -> None:
        self.engine = engine
        self.effective = effective

    def chart(self, name: str) -> dict[str, Any]:
        return named(self.effective.charts, name, _("chart"))

    def run(self, name: str, body: Mapping[str, Any]) -> dict[str, Any]:
        start = parse_day(body["from"], "from") if body.get("from") else None
        end = parse_day(body["to"], "to") if body.get("to") else None
        chart = with_period(self.chart(name), Period("day", start, end)
                            if start and end else None)
        return self.engine.run(chart, filters=body.get("filters"), start=start,
                               end=end)

    def dashboard(self, name: str, period: str | None, *, user: str | None = None,
                  department: str | None = None) -> dict[str, Any]:
        found = named(self.effective.dashboards, name, _("dashboard"))
        span = parse_period(period) if period else None
        within = {k: v for k, v in (("owner", user), ("owner_department", department))
                  if v}
        start, end = (span.start, span.last_day) if span else (None, None)
        widgets = []
        values: dict[str, Any] = {}
        for widget in found["widgets"]:
            key = widget["api_name"]
            if widget["formula"] is not None:
                value = _evaluate(widget["formula"], values)
                values[key] = value
                widgets.append({"api_name": key, "label": widget["label"] or
                                {"zh": key, "en": key}, "value": value})
                continue
            chart = with_period(self.chart(widget["chart"] or widget["kpi"]), span)
            dated = chart["date_field"] is not None
            result = self.engine.run(chart, start=start if dated else None,
                                     end=end if dated else None, within=within)
            label = widget["label"] or chart["label"]
            if widget["chart"] is not None:
                widgets.append({"api_name": key, "label": label, **result})
                continue
            measure = widget["measure"] or chart["measures"][0]["api_name"]
            rows = result["rows"]
            value = rows[0].get(measure) if rows else None
            values[key] = value
            widgets.append({"api_name": key, "label": label, "value": value})
        return {"widgets": widgets}


def _evaluate(formula: str, values: Mapping[str, Any]) -> float | None:
    numbers = {k: (Decimal(str(v)) if v is not None else None)
               for k, v in values.items()}
    try:
        found = compile_expression(formula).evaluate(numbers)
    except (ExpressionError, ArithmeticError):
        return None  # a ratio over an empty total
    return None if found is None else round(float(found), 4)
