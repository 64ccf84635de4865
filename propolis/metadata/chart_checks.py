"""The semantic checks of charts, dashboards and a report's entries: what their
JSON Schemas cannot say. A chart's fields must exist on its object, hold values its
functions can take (a sum of numbers, a bucket of dates, a tree of users or
departments) and not be hidden; a formula reads the chart's other measures; a
dashboard's widgets name charts that exist. The engine (``propolis.reports``)
relies on these: it refuses at run time only what depends on the user (a field
hidden from them)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from propolis.metadata.checks import Checks, object_text
from propolis.metadata.errors import PathPart, Text, suggest
from propolis.metadata.expressions.typecheck import NUMBER
from propolis.metadata.fieldtypes import definition, definition_of
from propolis.metadata.names import SYSTEM_FIELDS
from propolis.metadata.normalize import normalize_field
from propolis.metadata.reporting import ENTRY_FIELDS, entry_object_name

TEMPORAL = frozenset({"date", "datetime"})
TREES = frozenset({"user", "department"})


def value_type(field: Mapping[str, Any]) -> str:
    """The type of the values a field holds (a formula's ``returns``)."""
    return definition_of(field).value_type(field)


def is_numeric(field: Mapping[str, Any]) -> bool:
    return definition(value_type(field)).numeric


def chart_fields(obj: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The fields a chart of ``obj`` may name: its own and the system fields."""
    fields = {n: {"api_name": n, "type": t, "hidden": False}
              for n, t in SYSTEM_FIELDS.items()}
    fields.update({f["api_name"]: dict(f) for f in obj["fields"]})
    return fields


def check_formula(checks: Checks, source: str, path: tuple[PathPart, ...],
                  what: Text, names: list[str], owner: Text) -> None:
    """A formula giving a number from the values ``names`` (a chart's other
    measures, a dashboard's other widgets)."""
    scope = {n: normalize_field({"api_name": n, "type": "number"}) for n in names}
    checks.check_expression(source, path, what, scope, owner, system=False,
                            gives=NUMBER)


def check_chart(checks: Checks) -> None:
    data = checks.doc.data
    name = data["object"]
    obj = checks.objects.get(name)
    if name not in checks.objects:
        checks.unknown_object(("object",), name)
    if obj is None:
        return
    fields = chart_fields(obj)
    owner = object_text(name)

    def usable(field_name: str, path: tuple[PathPart, ...], use: Text,
               fits: Any, expected: Text) -> None:
        field = fields.get(field_name)
        if field is None:
            checks.unknown_field(path, field_name, sorted(fields), owner)
            return
        ok = sorted(n for n, f in fields.items() if fits(f) and not f["hidden"])
        why = (Text("the field is hidden", "该字段已隐藏") if field["hidden"]
               else None if fits(field) else expected)
        if why is not None:
            checks.add(path, "chart_field_unusable", name=field_name, use=use,
                       why=why, allowed=ok)

    def stored(f: Mapping[str, Any]) -> bool:
        d = definition_of(f)
        return d.holds_value and not d.has_rows

    checks.check_unique(data["measures"], ("measures",), Text("measure", "指标"))
    names = [m["api_name"] for m in data["measures"]]
    for i, measure in enumerate(data["measures"]):
        here: tuple[PathPart, ...] = ("measures", i)
        label = measure["api_name"]
        if "formula" in measure:
            if set(measure) & {"function", "field", "weight"}:
                checks.add(here, "measure_field", name=label, why=Text(
                    "has a formula and a function or field",
                    "同时填写了公式和函数或字段"))
            check_formula(checks, measure["formula"], (*here, "formula"),
                          Text(f"measure '{label}'", f"指标 '{label}'"),
                          [n for n in names if n != label],
                          Text(f"chart '{data['api_name']}'",
                               f"图表 '{data['api_name']}'"))
            continue
        function = measure.get("function")
        if function is None:
            checks.add(here, "measure_field", name=label,
                       why=Text("has neither function nor formula",
                                "既没有 function 也没有 formula"))
            continue
        if "field" not in measure:
            if function != "count":
                checks.add(here, "measure_field", name=label,
                           why=Text(f"uses {function} without a field",
                                    f"使用 {function} 但没有填写字段"))
            continue
        if function in ("sum", "avg"):
            usable(measure["field"], (*here, "field"), Text(f"{function}", function),
                   is_numeric, Text("it is not a number", "不是数字字段"))
        elif function in ("min", "max"):
            usable(measure["field"], (*here, "field"), Text(f"{function}", function),
                   lambda f: is_numeric(f) or value_type(f) in TEMPORAL,
                   Text("it is neither a number nor a date",
                        "既不是数字也不是日期字段"))
        else:
            usable(measure["field"], (*here, "field"), Text("count", "计数"), stored,
                   Text("it holds no value of its own", "没有自己的值"))
        if "weight" in measure:
            if function not in ("sum", "avg"):
                checks.add(here, "measure_field", name=label, why=Text(
                    "has a weight, which only sum and avg take",
                    "填写了 weight，但只有 sum 和 avg 可以加权"))
            usable(measure["weight"], (*here, "weight"), Text("a weight", "权重"),
                   is_numeric, Text("it is not a number", "不是数字字段"))

    bucketed = False
    for i, dim in enumerate(data.get("dimensions", [])):
        here = ("dimensions", i)
        if "bucket" in dim:
            bucketed = True
            usable(dim["field"], (*here, "field"), Text("a date bucket", "日期分组"),
                   lambda f: value_type(f) in TEMPORAL,
                   Text("it is not a date or datetime", "不是日期或日期时间字段"))
        elif "rollup" in dim:
            usable(dim["field"], (*here, "field"), Text("a tree rollup", "层级汇总"),
                   lambda f: value_type(f) in TREES,
                   Text("it is not a user or department field", "不是人员或部门字段"))
        else:
            usable(dim["field"], (*here, "field"), Text("a dimension", "维度"), stored,
                   Text("it holds no value of its own", "没有自己的值"))
    for i, condition in enumerate(data.get("filters", [])):
        usable(condition["field"], ("filters", i, "field"), Text("a filter", "筛选"),
               stored, Text("it holds no value of its own", "没有自己的值"))
    if "date_field" in data:
        usable(data["date_field"], ("date_field",), Text("the date field", "日期字段"),
               lambda f: value_type(f) in TEMPORAL,
               Text("it is not a date or datetime", "不是日期或日期时间字段"))
    if data.get("compare") and not bucketed:
        checks.add(("compare",), "compare_needs_bucket")
    by = data.get("top", {}).get("by")
    if by is not None and by not in names:
        chart = data["api_name"]
        checks.add(("top", "by"), "unknown_measure", name=by,
                   owner=Text(f"chart '{chart}'", f"图表 '{chart}'"),
                   allowed=names, hint=suggest(by, names))


def check_dashboard(checks: Checks, charts: Mapping[str, Mapping[str, Any]]) -> None:
    """``charts``: every chart the dashboard may name, by api_name."""
    data = checks.doc.data
    named = [w for w in data["widgets"] if "api_name" in w]
    checks.check_unique(named, ("widgets",), Text("widget", "组件"))
    values = [w.get("api_name") or w.get("kpi") for w in data["widgets"]
              if "chart" not in w]
    for i, widget in enumerate(data["widgets"]):
        here: tuple[PathPart, ...] = ("widgets", i)
        kinds = [k for k in ("chart", "kpi", "formula") if k in widget]
        if len(kinds) != 1 or ("formula" in widget and "api_name" not in widget):
            why = (Text("has none of chart, kpi and formula",
                        "没有填写 chart、kpi 或 formula") if not kinds
                   else Text("has no api_name", "没有 api_name") if len(kinds) == 1
                   else Text(f"has {' and '.join(kinds)}",
                             f"同时填写了 {'、'.join(kinds)}"))
            checks.add(here, "widget_kind", index=i + 1, why=why)
            continue
        if "formula" in widget:
            key = widget["api_name"]
            check_formula(checks, widget["formula"], (*here, "formula"),
                          Text(f"widget '{key}'", f"组件 '{key}'"),
                          [v for v in values if v and v != key],
                          Text(f"dashboard '{data['api_name']}'",
                               f"仪表盘 '{data['api_name']}'"))
            continue
        chart_name = widget[kinds[0]]
        chart = charts.get(chart_name)
        if chart is None:
            known = sorted(charts)
            checks.add((*here, kinds[0]), "unknown_chart", name=chart_name,
                       allowed=known, hint=suggest(chart_name, known))
            continue
        measures = [m["api_name"] for m in chart["measures"]]
        if "measure" in widget and widget["measure"] not in measures:
            checks.add((*here, "measure"), "unknown_measure", name=widget["measure"],
                       owner=Text(f"chart '{chart_name}'", f"图表 '{chart_name}'"),
                       allowed=measures, hint=suggest(widget["measure"], measures))


def check_entry_object(checks: Checks) -> None:
    """A report's entries live in a generated object; its name must be free (or
    already the report's own)."""
    name = checks.doc.data["api_name"]
    obj_name = entry_object_name(name)
    found = checks.objects.get(obj_name)
    if obj_name in checks.objects and (
            found is None or found.get("generated_by") != {"kind": "report",
                                                           "api_name": name}):
        checks.add(("api_name",), "entry_object_taken", name=name, object=obj_name)
    for i, field in enumerate(checks.doc.data["fields"]):
        if field["api_name"] in ENTRY_FIELDS:
            checks.add(("fields", i, "api_name"), "system_field_name",
                       name=field["api_name"], allowed=list(ENTRY_FIELDS))
