"""The semantic checks of one schema-valid document, those a JSON Schema cannot
express: names that must be unique or free, references between fields and objects
(views, layouts, permissions; a field's own, such as a lookup's object or a
rollup's source, are its type's to check: ``FieldDefinition.check``) and the
expressions (see ``expression_checks``). Problems accumulate, each at its path."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from propolis.metadata.errors import PathPart, Problem, Text, suggest
from propolis.metadata.expression_checks import expression_problems, formula_cycles
from propolis.metadata.expressions.typecheck import BOOL, STRING, CelType
from propolis.metadata.fieldtypes import definition_of
from propolis.metadata.loader import Document
from propolis.metadata.names import RESERVED_WORDS, SYSTEM_FIELDS


def object_text(name: str) -> Text:
    """An object named in a message."""
    return Text(f"object '{name}'", f"对象 '{name}'")


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
            data.get("fields", []), ("fields",), fields, object_text(name), name
        )
        self.check_formula_cycles(fields)
        names = sorted(fields.keys() | SYSTEM_FIELDS.keys())
        if "name_field" in data:
            field = fields.get(data["name_field"])
            if field is None:
                self.unknown_field(("name_field",), data["name_field"],
                                   sorted(fields), object_text(name))
            elif definition_of(field).has_rows:
                self.wrong_type(
                    ("name_field",),
                    data["name_field"],
                    field["type"],
                    Text("a field that is not a table", "非子表字段"),
                )
        for i, rule in enumerate(data.get("validations", [])):
            self.check_expression(
                rule["rule"],
                ("validations", i, "rule"),
                Text(f"validation rule {i + 1}", f"第 {i + 1} 条校验规则"),
                fields,
                object_text(name),
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
        self.check_actions(fields, name)
        self.check_duplicates_and_timeline(fields, name)
        for role, grant in data.get("permissions", {}).items():
            for field_name in grant.get("fields", {}):
                self.check_known(
                    field_name,
                    ("permissions", role, "fields", field_name),
                    sorted(fields),
                    name,
                )

    def check_duplicates_and_timeline(
        self, fields: Mapping[str, Mapping[str, Any]], name: str
    ) -> None:
        """``duplicates`` compares text values (not computed, not references);
        ``timeline`` names the object's lookups to other objects' records."""
        data = self.doc.data
        for i, check in enumerate(data.get("duplicates", [])):
            for j, field_name in enumerate(check["fields"]):
                path: tuple[PathPart, ...] = ("duplicates", i, "fields", j)
                field = fields.get(field_name)
                if field is None:
                    self.unknown_field(path, field_name, sorted(fields),
                                       object_text(name))
                    continue
                kind = definition_of(field)
                if (kind.computed or kind.reference_target(field) is not None
                        or kind.cel_type(field) != STRING):
                    self.wrong_type(path, field_name, field["type"],
                                    Text("a text field (text, phone, email …)",
                                         "文本类字段（文本、电话、邮箱…）"))
        for i, field_name in enumerate(data.get("timeline", [])):
            path = ("timeline", i)
            field = fields.get(field_name)
            if field is None:
                self.unknown_field(path, field_name, sorted(fields), object_text(name))
            elif definition_of(field).reference_target(field) not in self.objects:
                self.wrong_type(path, field_name, field["type"],
                                Text("a lookup or master_detail field",
                                     "查找或主从字段"))

    def check_actions(self, fields: Mapping[str, Mapping[str, Any]],
                      name: str) -> None:
        """The object's ``actions`` and ``schedules``: unique names, boolean
        conditions, assignments of writable fields with values of their types, a
        schedule doing one thing (``set`` or ``action``) at a time it can keep."""
        data = self.doc.data
        owner = object_text(name)
        actions = data.get("actions", [])
        self.check_unique(actions, ("actions",), Text("action", "动作"))
        for i, action in enumerate(actions):
            what = Text(f"action '{action['api_name']}'",
                        f"动作 '{action['api_name']}'")
            if "when" in action:
                self.check_expression(action["when"], ("actions", i, "when"), what,
                                      fields, owner, system=True, gives=BOOL)
            self.check_assignments(action["set"], ("actions", i, "set"), what,
                                   fields, owner)
        schedules = data.get("schedules", [])
        self.check_unique(schedules, ("schedules",), Text("schedule", "定时任务"))
        for i, schedule in enumerate(schedules):
            here: tuple[PathPart, ...] = ("schedules", i)
            label = schedule["api_name"]
            what = Text(f"schedule '{label}'", f"定时任务 '{label}'")
            self.check_expression(schedule["where"], (*here, "where"), what, fields,
                                  owner, system=True, gives=BOOL)
            if ("set" in schedule) == ("action" in schedule):
                found = (Text("has both set and action", "同时填写了 set 和 action")
                         if "set" in schedule
                         else Text("has neither set nor action",
                                   "既没有 set 也没有 action"))
                self.add(here, "schedule_set_or_action", name=label, found=found)
            if "set" in schedule:
                self.check_assignments(schedule["set"], (*here, "set"), what, fields,
                                       owner)
            if "at" in schedule and schedule["every"] == "hour":
                self.add((*here, "at"), "schedule_at_hourly", name=label)

    def check_assignments(
        self,
        assignments: Mapping[str, str],
        path: tuple[PathPart, ...],
        what: Text,
        fields: Mapping[str, Mapping[str, Any]],
        owner: Text,
    ) -> None:
        """``set: {field: expression}``: each field one a client may write, each
        expression giving a value of the field's type."""
        writable = sorted(n for n, f in fields.items()
                          if not definition_of(f).computed)
        for target, source in assignments.items():
            here = (*path, target)
            field = fields.get(target)
            if field is None or definition_of(field).computed:
                why = (Text("a system field", "是系统字段") if target in SYSTEM_FIELDS
                       else Text("not a field of the object", "不是本对象的字段")
                       if field is None
                       else Text(f"a computed {field['type']} field",
                                 f"是计算字段（{field['type']}）"))
                self.add(here, "set_not_writable", what=what, name=target, why=why,
                         allowed=writable, hint=suggest(target, writable))
                continue
            self.check_expression(
                source, here, Text(f"{what.en} (set {target})",
                                   f"{what.zh}（{target} 的赋值）"),
                fields, owner, system=True, gives=definition_of(field).cel_type(field))

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
                    object_text(form),
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
            definition_of(field).check(self, field, raw, here, scope, owner,
                                       object_name, in_record=path == ("fields",))

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
            self.unknown_field(path, name, sorted(names), object_text(object_name))

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
