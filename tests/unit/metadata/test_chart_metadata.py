"""Charts, dashboards and reports in the metadata language: their schemas, defaults
and the checks a schema cannot make."""

from __future__ import annotations

from typing import Any

import pytest

import propolis.platform  # noqa: F401  (registers the field types)
from propolis.metadata import validate_documents
from propolis.metadata.errors import MetadataError
from propolis.metadata.reporting import entry_object

DEAL: dict[str, Any] = {
    "kind": "object", "api_name": "deal", "fields": [
        {"api_name": "name", "type": "text"},
        {"api_name": "amount", "type": "currency"},
        {"api_name": "stage", "type": "select", "options": ["open", "won"]},
        {"api_name": "close_date", "type": "date"},
        {"api_name": "secret", "type": "number", "hidden": True},
    ]}
CHART: dict[str, Any] = {
    "kind": "chart", "api_name": "by_month", "object": "deal",
    "measures": [{"api_name": "amount", "function": "sum", "field": "amount"},
                 {"api_name": "n", "function": "count"},
                 {"api_name": "average", "formula": "amount / n"}],
    "dimensions": [{"field": "close_date", "bucket": "month"}],
    "compare": ["yoy", "mom"], "top": {"n": 3}}


def problems(*docs: dict[str, Any]) -> list[str]:
    with pytest.raises(MetadataError) as caught:
        validate_documents([DEAL, *docs])
    return [f"{p.path}: {p.code}" for p in caught.value.problems]


def test_a_chart_is_normalized_with_its_defaults() -> None:
    chart = validate_documents([DEAL, CHART])[1]
    assert chart["date_field"] == "close_date"
    assert chart["top"] == {"n": 3, "by": "amount", "others": True}
    assert chart["type"] == "bar" and chart["filters"] == []
    assert chart["measures"][2]["function"] is None
    assert chart["dimensions"][0]["rollup"] is None


def test_a_chart_without_dimensions_is_a_number() -> None:
    chart = {"kind": "chart", "api_name": "total", "object": "deal",
             "measures": [{"api_name": "n", "function": "count"}]}
    assert validate_documents([DEAL, chart])[1]["type"] == "number"


def test_measures_and_dimensions_must_fit_their_fields() -> None:
    bad = {"kind": "chart", "api_name": "bad", "object": "deal", "measures": [
        {"api_name": "a", "function": "sum", "field": "stage"},
        {"api_name": "b", "function": "sum"},
        {"api_name": "c", "function": "max", "field": "secret"},
        {"api_name": "d", "formula": "nothing + 1"},
        {"api_name": "e", "function": "count", "weight": "amount", "field": "name"},
    ], "dimensions": [{"field": "stage", "bucket": "day"},
                      {"field": "name", "rollup": "tree"}],
        "filters": [{"field": "nope", "op": "eq", "value": 1}],
        "compare": ["mom"], "top": {"n": 2, "by": "zz"}}
    assert problems(bad) == [
        "measures[0].field: chart_field_unusable",
        "measures[1]: measure_field",
        "measures[2].field: chart_field_unusable",
        "measures[3].formula: expression_unknown_name",
        "measures[4]: measure_field",
        "dimensions[0].field: chart_field_unusable",
        "dimensions[1].field: chart_field_unusable",
        "filters[0].field: unknown_field",
        "top.by: unknown_measure",
    ]


def test_compare_needs_a_date_bucket_and_the_object_must_exist() -> None:
    chart = {**CHART, "dimensions": [{"field": "stage"}]}
    assert problems(chart) == ["compare: compare_needs_bucket"]
    assert problems({**CHART, "object": "nothing"}) == ["object: unknown_object"]


def test_rollup_takes_users_and_departments() -> None:
    chart = {**CHART, "compare": [], "dimensions": [
        {"field": "owner_department", "rollup": "tree"}, {"field": "stage"}]}
    assert validate_documents([DEAL, chart])[1]["dimensions"][0]["rollup"] == "tree"


def test_a_dashboard_names_charts_of_the_batch_or_known_ones() -> None:
    kpi = {"kind": "chart", "api_name": "won", "object": "deal",
           "measures": [{"api_name": "amount", "function": "sum", "field": "amount"}]}
    dashboard = {"kind": "dashboard", "api_name": "sales", "widgets": [
        {"chart": "by_month"}, {"kpi": "won"},
        {"kpi": "target", "measure": "amount"},
        {"api_name": "completion", "formula": "won / target * 100"}]}
    docs = validate_documents([DEAL, CHART, kpi, dashboard], charts={"target": kpi})
    assert [w["api_name"] for w in docs[3]["widgets"]] == [
        "by_month", "won", "target", "completion"]
    bad = {"kind": "dashboard", "api_name": "bad", "widgets": [
        {"chart": "missing"}, {"kpi": "won", "measure": "nope"},
        {"formula": "won + 1"}, {"chart": "won", "kpi": "won"},
        {"api_name": "ratio", "formula": "unknown / 2"}]}
    assert problems(kpi, bad) == [
        "widgets[0].chart: unknown_chart",
        "widgets[1].measure: unknown_measure",
        "widgets[2]: widget_kind",
        "widgets[3]: widget_kind",
        "widgets[4].formula: expression_unknown_name",
    ]


def test_a_report_brings_the_object_of_its_entries() -> None:
    report = validate_documents([{
        "kind": "report", "api_name": "daily_sales", "period": "daily",
        "fields": [{"api_name": "calls", "type": "number"}],
        "assignees": {"all": True}, "lock_after_days": 1}])[0]
    obj = entry_object(report)
    assert obj["api_name"] == "report_daily_sales"
    assert [f["api_name"] for f in obj["fields"]] == ["period", "entry_key", "calls"]
    assert obj["generated_by"] == {"kind": "report", "api_name": "daily_sales"}


def test_a_report_field_cannot_take_an_entry_field_name() -> None:
    report = {"kind": "report", "api_name": "daily", "period": "daily",
              "fields": [{"api_name": "period", "type": "number"}]}
    with pytest.raises(MetadataError) as caught:
        validate_documents([report])
    assert [p.code for p in caught.value.problems] == ["system_field_name"]


def test_the_entry_object_is_changed_through_its_report_only() -> None:
    report = validate_documents([{
        "kind": "report", "api_name": "daily", "period": "daily",
        "fields": [{"api_name": "calls", "type": "number"}]}])[0]
    entries = entry_object(report)
    own = {"kind": "object", "api_name": "report_daily",
           "fields": [{"api_name": "extra", "type": "text"}]}
    with pytest.raises(MetadataError) as caught:
        validate_documents([own], existing={"report_daily": entries})
    assert [p.code for p in caught.value.problems] == ["generated_object"]
    # nor may another report's object take a report's name
    with pytest.raises(MetadataError) as caught:
        validate_documents([DEAL, {**own, "fields": []}, {
            "kind": "report", "api_name": "daily", "period": "daily",
            "fields": [{"api_name": "calls", "type": "number"}]}])
    assert "entry_object_taken" in [p.code for p in caught.value.problems]
