"""The semantic checks of one schema-valid document, those a JSON Schema cannot
express: names that must be unique or free, references between fields and objects
(lookups, rollups, quotes, dependent selects, views, layouts, permissions) and the
expressions (see ``expression_checks``). Problems accumulate, each at its path."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from propolis.metadata.errors import PathPart, Problem, Text, quote, suggest
from propolis.metadata.expression_checks import expression_problems, formula_cycles
from propolis.metadata.expressions.activation import field_type
from propolis.metadata.expressions.typecheck import BOOL, CelType
from propolis.metadata.loader import Document
from propolis.metadata.names import (
    REFERENCE_TYPES,
    RESERVED_WORDS,
    SYSTEM_FIELDS,
    SYSTEM_OBJECTS,
)
from propolis.metadata.normalize import NUMERIC_TYPES


def _object(name: str) -> Text:
    return Text(f"object '{name}'", f"对象 '{name}'")


def _value_type(field: Mapping[str, Any]) -> str:
    return str(field["returns"] if field["type"] == "formula" else field["type"])


def _target(field: Mapping[str, Any]) -> str | None:
    """The object a reference field points to."""
    if field["type"] in ("lookup", "master_detail"):
        return str(field["to"])
    return str(field["type"]) if field["type"] in SYSTEM_OBJECTS else None


class Checks:
    """The semantic checks of one schema-valid document; problems accumulate."""

    def __init__(self, doc: Document, objects: Mapping[str, Mapping[str, Any] | None]):
        self.doc = doc
        self.objects = objects
        self.problems: list[Problem] = []

    def add(self, path: tuple[PathPart, ...], code: str, **params: Any) -> None:
        self.problems.append(self.doc.problem(path, code, **params))

    # documents

    def check_object(self, obj: Mapping[str, Any]) -> None:
        """``obj`` is the effective object; paths point into the document as written."""
        data = self.doc.data
        name = obj["api_name"]
        fields = {f["api_name"]: f for f in obj["fields"]}
        self.check_fields(
            data.get("fields", []), ("fields",), fields, _object(name), name
        )
        self.check_formula_cycles(fields)
        names = sorted(fields.keys() | SYSTEM_FIELDS.keys())
        if "name_field" in data:
            field = fields.get(data["name_field"])
            if field is None:
                self.unknown_field(
                    ("name_field",), data["name_field"], sorted(fields), _object(name)
                )
            elif field["type"] == "table":
                self.wrong_type(
                    ("name_field",),
                    data["name_field"],
                    "table",
                    Text("a field that is not a table", "非子表字段"),
                )
        for i, rule in enumerate(data.get("validations", [])):
            self.check_expression(
                rule["rule"],
                ("validations", i, "rule"),
                Text(f"validation rule {i + 1}", f"第 {i + 1} 条校验规则"),
                fields,
                _object(name),
                system=True,
                gives=BOOL,
            )
        self.check_unique(
            data.get("list_views", []), ("list_views",), Text("list view", "列表视图")
        )
        for i, view in enumerate(data.get("list_views", [])):
            here = ("list_views", i)
            for j, column in enumerate(view["columns"]):
                self.check_known(column, (*here, "columns", j), names, name)
            for j, key in enumerate(view.get("sort", [])):
                self.check_known(key.lstrip("-"), (*here, "sort", j), names, name)
            for j, condition in enumerate(view.get("filters", [])):
                self.check_known(
                    condition["field"], (*here, "filters", j, "field"), names, name
                )
        self.check_unique(data.get("layouts", []), ("layouts",), Text("layout", "布局"))
        for i, layout in enumerate(data.get("layouts", [])):
            for j, section in enumerate(layout["sections"]):
                for k, field_name in enumerate(section["fields"]):
                    self.check_known(
                        field_name,
                        ("layouts", i, "sections", j, "fields", k),
                        names,
                        name,
                    )
        for role, grant in data.get("permissions", {}).items():
            for field_name in grant.get("fields", {}):
                self.check_known(
                    field_name,
                    ("permissions", role, "fields", field_name),
                    sorted(fields),
                    name,
                )

    def check_formula_cycles(self, fields: Mapping[str, Mapping[str, Any]]) -> None:
        written = [f.get("api_name") for f in self.doc.data.get("fields", [])]
        for cycle in formula_cycles(fields):
            name = cycle[0]
            path: tuple[PathPart, ...] = (
                ("fields", written.index(name), "expression")
                if name in written else ("fields",))
            self.add(path, "formula_cycle", cycle=" → ".join(cycle))

    def check_approval(self) -> None:
        data = self.doc.data
        form = data["form"]
        if form not in self.objects:
            self.unknown_object(("form",), form)
        obj = self.objects.get(form)
        fields = {f["api_name"]: f for f in obj["fields"]} if obj else None
        for i, step in enumerate(data.get("steps", [])):
            if "when" in step:
                self.check_expression(
                    step["when"],
                    ("steps", i, "when"),
                    Text(f"the condition of step {i + 1}", f"第 {i + 1} 步的条件"),
                    fields,
                    _object(form),
                    system=True,
                    gives=BOOL,
                )

    def check_report(self, report: Mapping[str, Any]) -> None:
        fields = {f["api_name"]: f for f in report["fields"]}
        self.check_fields(
            self.doc.data["fields"],
            ("fields",),
            fields,
            Text(f"report '{report['api_name']}'", f"报表 '{report['api_name']}'"),
            report["api_name"],
        )

    # fields

    def check_fields(
        self,
        written: list[Mapping[str, Any]],
        path: tuple[PathPart, ...],
        scope: Mapping[str, Mapping[str, Any]],
        owner: Text,
        object_name: str,
    ) -> None:
        """Checks the fields as written, against ``scope``: the effective fields
        (merged and normalized) among which the written ones live."""
        seen: set[str] = set()
        for i, raw in enumerate(written):
            here = (*path, i)
            name = raw["api_name"]
            if name in seen:
                self.add(
                    (*here, "api_name"),
                    "duplicate_name",
                    name=name,
                    what=Text("field", "字段"),
                )
            elif name in SYSTEM_FIELDS:
                self.add(
                    (*here, "api_name"),
                    "system_field_name",
                    name=name,
                    allowed=list(SYSTEM_FIELDS),
                )
            elif name in RESERVED_WORDS:
                self.add((*here, "api_name"), "reserved_word", name=name)
            seen.add(name)
            field = scope[name]
            ftype = field["type"]
            if ftype in ("lookup", "master_detail") and field["to"] not in self.objects:
                self.unknown_object((*here, "to"), field["to"])
            elif ftype in ("select", "multiselect"):
                self.check_select(field, here, scope)
            elif ftype == "table":
                columns = {c["api_name"]: c for c in field["fields"]}
                for j, column in enumerate(raw.get("fields", [])):
                    for key in ("unique", "depends_on"):
                        if column.get(key):
                            self.add((*here, "fields", j, key), "not_in_table", key=key)
                    if column.get("type") == "quote":
                        self.add((*here, "fields", j, "type"), "not_in_table",
                                 key="quote")
                self.check_fields(
                    raw.get("fields", []),
                    (*here, "fields"),
                    columns,
                    Text(f"table '{name}'", f"子表 '{name}'"),
                    object_name,
                )
            elif ftype == "formula":
                self.check_expression(
                    field["expression"],
                    (*here, "expression"),
                    Text(f"formula '{name}'", f"公式 '{name}'"),
                    scope,
                    owner,
                    # a row's formula sees the row, not the record
                    system=path == ("fields",),
                    # any result converts to text
                    gives=None if field["returns"] == "text" else field_type(field),
                )
            elif ftype == "rollup":
                self.check_rollup(field, here, object_name)
            elif ftype == "quote":
                self.check_quote(field, here, scope, owner)

    def check_select(
        self,
        field: Mapping[str, Any],
        here: tuple[PathPart, ...],
        scope: Mapping[str, Mapping[str, Any]],
    ) -> None:
        options = field["options"]
        values = [o["value"] for o in options]
        self.check_unique(
            options, (*here, "options"), Text("option value", "选项值"), "value"
        )
        default = field["default"]
        for value in [default] if isinstance(default, str) else default or []:
            if value not in values:
                self.add(
                    (*here, "default"),
                    "default_not_option",
                    value=quote(value),
                    allowed=values,
                )
        parent_name = field["depends_on"]
        if parent_name is None:
            for i, option in enumerate(options):
                if option["parent"] is not None:
                    self.add(
                        (*here, "options", i, "parent"),
                        "option_parent_unexpected",
                        value=quote(option["value"]),
                    )
            return
        parent = scope.get(parent_name)
        if parent is None:
            selects = sorted(n for n, f in scope.items() if f["type"] == "select")
            self.unknown_field(
                (*here, "depends_on"),
                parent_name,
                selects,
                Text("this object", "本对象"),
            )
        elif parent_name == field["api_name"]:
            self.add((*here, "depends_on"), "self_dependency", name=parent_name)
        elif parent["type"] != "select":
            self.wrong_type(
                (*here, "depends_on"),
                parent_name,
                parent["type"],
                Text("a select field", "单选字段"),
            )
        else:
            parent_values = [o["value"] for o in parent["options"]]
            for i, option in enumerate(options):
                if option["parent"] is None:
                    self.add(
                        (*here, "options", i),
                        "option_parent_missing",
                        value=quote(option["value"]),
                        parent=parent_name,
                        allowed=parent_values,
                    )
                elif option["parent"] not in parent_values:
                    self.add(
                        (*here, "options", i, "parent"),
                        "option_parent_unknown",
                        value=quote(option["parent"]),
                        parent=parent_name,
                        allowed=parent_values,
                    )

    def check_rollup(
        self, field: Mapping[str, Any], here: tuple[PathPart, ...], object_name: str
    ) -> None:
        source_name = field["from"]
        if source_name not in self.objects:
            self.unknown_object((*here, "from"), source_name)
            return
        source = self.objects[source_name]
        if source is None:
            return
        source_fields = {f["api_name"]: f for f in source["fields"]}
        via = source_fields.get(field["via"])
        if via is None:
            self.unknown_field(
                (*here, "via"),
                field["via"],
                sorted(source_fields),
                _object(source_name),
            )
        elif via["type"] not in ("lookup", "master_detail"):
            self.wrong_type(
                (*here, "via"),
                field["via"],
                via["type"],
                Text("a lookup or master_detail field", "查找关系或主从关系字段"),
            )
        elif via["to"] != object_name:
            self.add(
                (*here, "via"),
                "rollup_via_target",
                origin=source_name,
                via=field["via"],
                target=via["to"],
                name=object_name,
            )
        if field["function"] == "count":
            return
        names = sorted(source_fields.keys() | SYSTEM_FIELDS.keys())
        target = source_fields.get(field["field"])
        value_type = (
            _value_type(target) if target else SYSTEM_FIELDS.get(field["field"])
        )
        if value_type is None:
            self.unknown_field(
                (*here, "field"), field["field"], names, _object(source_name)
            )
            return
        # the stored rollup column is a decimal, for min and max too
        allowed = set(NUMERIC_TYPES)
        expected = Text("a number, currency or percent field", "数字、金额或百分比字段")
        if value_type not in allowed:
            self.wrong_type((*here, "field"), field["field"], value_type, expected)

    def check_quote(
        self,
        field: Mapping[str, Any],
        here: tuple[PathPart, ...],
        scope: Mapping[str, Mapping[str, Any]],
        owner: Text,
    ) -> None:
        via = scope.get(field["via"])
        references = sorted(n for n, f in scope.items() if f["type"] in REFERENCE_TYPES)
        if via is None:
            self.unknown_field((*here, "via"), field["via"], references, owner)
            return
        target_name = _target(via)
        if target_name is None:
            self.wrong_type(
                (*here, "via"),
                field["via"],
                via["type"],
                Text(
                    "a lookup, master_detail, user or department field",
                    "查找关系、主从关系、人员或部门字段",
                ),
            )
            return
        target = self.objects.get(target_name)
        if target is None:  # unknown (reported at the lookup) or itself broken
            return
        names = sorted(f["api_name"] for f in target["fields"]
                       if f["type"] not in ("table", "quote"))
        if field["field"] not in names:
            self.unknown_field(
                (*here, "field"), field["field"], names, _object(target_name)
            )

    def check_expression(
        self,
        source: str,
        path: tuple[PathPart, ...],
        what: Text,
        scope: Mapping[str, Mapping[str, Any]] | None,
        owner: Text,
        *,
        system: bool,
        gives: CelType | None = None,
    ) -> None:
        """See ``expression_problems``; the problems are placed at ``path``."""
        for code, params in expression_problems(source, what, scope, owner,
                                                system=system, gives=gives):
            self.add(path, code, **params)

    # small helpers

    def check_unique(
        self,
        items: list[Mapping[str, Any]],
        path: tuple[PathPart, ...],
        what: Text,
        key: str = "api_name",
    ) -> None:
        seen: set[str] = set()
        for i, item in enumerate(items):
            if item[key] in seen:
                self.add((*path, i), "duplicate_name", name=item[key], what=what)
            seen.add(item[key])

    def check_known(
        self,
        name: str,
        path: tuple[PathPart, ...],
        names: Collection[str],
        object_name: str,
    ) -> None:
        if name not in names:
            self.unknown_field(path, name, sorted(names), _object(object_name))

    def unknown_field(
        self, path: tuple[PathPart, ...], name: str, names: list[str], owner: Text
    ) -> None:
        """``name`` is none of the fields ``names`` of ``owner``."""
        self.add(
            path,
            "unknown_field",
            name=name,
            owner=owner,
            allowed=names,
            hint=suggest(name, names),
        )

    def wrong_type(
        self, path: tuple[PathPart, ...], name: str, actual: str, expected: Text
    ) -> None:
        """Field ``name`` is of type ``actual`` where ``expected`` is needed."""
        self.add(
            path, "wrong_field_type", name=name, actual=actual, expected=expected
        )

    def unknown_object(self, path: tuple[PathPart, ...], name: str) -> None:
        known = sorted(self.objects)
        self.add(
            path, "unknown_object", name=name, allowed=known, hint=suggest(name, known)
        )
