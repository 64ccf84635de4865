"""Validation of metadata documents: the JSON Schema of each kind, then the checks a
schema cannot express (names, references between fields and objects, expressions).
Every problem found is reported at once, each with its file, line, path and fix.
"""

from __future__ import annotations

import copy
import difflib
import functools
import json
from collections.abc import Collection, Iterable, Iterator, Mapping
from importlib.resources import files
from types import MappingProxyType
from typing import Any

from jsonschema import Draft202012Validator, ValidationError

from propolis.metadata.errors import (
    NO_TEXT,
    MetadataError,
    PathPart,
    Problem,
    Text,
    quote,
)
from propolis.metadata.layering import merge_object
from propolis.metadata.loader import Document, check_limits, load_system_documents
from propolis.metadata.normalize import (
    NUMERIC_TYPES,
    normalize_document,
    normalize_object,
)

KINDS = ("object", "approval", "report", "extension")

# name → type of the fields every object has; no field may take these names.
SYSTEM_FIELDS: Mapping[str, str] = MappingProxyType(
    {
        "id": "text",
        "owner": "user",
        "owner_department": "department",
        "created_by": "user",
        "created_at": "datetime",
        "updated_by": "user",
        "updated_at": "datetime",
        "life_status": "select",
        "version": "number",
    }
)

# Field api_names become column names and CEL variables: a word that SQL (SQL:2016,
# PostgreSQL, SQLite) reserves needs quoting in every statement, one that CEL
# reserves cannot be used in an expression at all, so both are refused.
RESERVED_WORDS = frozenset(
    """
    all alter analyse analyze and any array as asc asymmetric authorization
    autoincrement between binary both by case cast check collate collation column
    commit concurrently constraint create cross current_catalog current_date
    current_role current_schema current_time current_timestamp current_user default
    deferrable delete desc distinct do drop else end escape except exists false fetch
    for foreign freeze from full glob grant group having ilike in index initially
    inner insert intersect into is isnull join lateral leading left like limit
    localtime localtimestamp natural not notnull null offset on only or order outer
    overlaps placing pragma primary references regexp returning right rollback select
    session_user set similar some symmetric system_user table tablesample then to
    trailing transaction trigger true union unique update user using vacuum values
    variadic verbose view when where window with
    break const continue function if import let loop namespace package return var
    void while
""".split()
)

SYSTEM_OBJECTS = ("user", "department")
REFERENCE_TYPES = ("lookup", "master_detail", "user", "department")
_MEMBERS = {
    "area": frozenset({"province", "city", "district"}),
    "location": frozenset({"lat", "lng", "address"}),
}
_JSON_TYPES = {
    "string": Text("a string", "字符串"),
    "integer": Text("a whole number", "整数"),
    "number": Text("a number", "数字"),
    "boolean": Text("true or false", "true 或 false"),
    "object": Text("a mapping (key: value)", "映射（键: 值）"),
    "array": Text("a list", "列表"),
    "null": Text("null", "null"),
}
# bool before int: True is an int too
_PYTHON_TYPES = (
    (bool, "boolean"),
    (int, "integer"),
    (float, "number"),
    (str, "string"),
    (dict, "object"),
    (list, "array"),
)


@functools.cache
def _schema(kind: str) -> dict[str, Any]:
    source = files("propolis.metadata").joinpath("schemas", f"{kind}.json")
    schema: dict[str, Any] = json.loads(source.read_text("utf-8"))
    return schema


@functools.cache
def _validator(kind: str) -> Draft202012Validator:
    return Draft202012Validator(_schema(kind))


def kind_schema(kind: str) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of one document kind, as published."""
    if kind not in KINDS:
        raise KeyError(f"unknown metadata kind {kind!r}; kinds: {', '.join(KINDS)}")
    return copy.deepcopy(_schema(kind))


def validate_documents(
    docs: Iterable[Document | Mapping[str, Any]],
    *,
    existing: Mapping[str, Mapping[str, Any]] | None = None,
) -> list[dict[str, Any]]:
    """Checks a batch of documents and returns them normalized, in order.

    ``existing`` holds the tenant's other effective objects (api_name → normalized
    object): lookups, rollups and approval forms may refer to them, as to the system
    objects ``user`` and ``department``. An object document whose api_name is in
    ``existing`` (or is a system object) is a later layer over that object: it is
    checked, and returned, merged over it (see ``layering``).
    Raises ``MetadataError`` with every problem found.
    """
    documents = [d if isinstance(d, Document) else Document(dict(d)) for d in docs]
    existing = existing or {}
    problems: list[Problem] = []
    valid: list[Document] = []
    for doc in documents:
        # documents built from API bodies have not been through the loader
        limit = check_limits(doc.data, doc.source)
        found = [limit] if limit else _schema_problems(doc)
        problems += found
        if not found:
            valid.append(doc)
    problems += _duplicate_documents(documents)

    # Every object the batch may refer to; None: it exists but is itself broken, so
    # references to it are not checked further (its own problems are reported).
    objects: dict[str, Mapping[str, Any] | None] = {**_system_objects(), **existing}
    objects.update(
        (d.api_name, None) for d in documents if d.kind == "object" and d.api_name
    )
    effective: dict[int, dict[str, Any]] = {}
    for doc in valid:
        if doc.kind != "object":
            continue
        name = doc.data["api_name"]
        lower = existing.get(name) or _system_objects().get(name)
        try:
            merged = merge_object(lower, doc) if lower else doc.data
        except MetadataError as exc:
            problems += exc.problems
            continue
        effective[id(doc)] = objects[name] = normalize_object(merged)

    for doc in valid:
        checks = _Checks(doc, objects)
        if doc.kind == "object" and id(doc) in effective:
            checks.check_object(effective[id(doc)])
        elif doc.kind == "approval":
            checks.check_approval()
        elif doc.kind == "report":
            checks.check_report(normalize_document(doc.data))
        problems += checks.problems
    if problems:
        raise MetadataError(problems)
    return [effective.get(id(d)) or normalize_document(d.data) for d in documents]


def load_system_objects() -> list[dict[str, Any]]:
    """The system objects ``department`` and ``user``, validated and normalized."""
    return validate_documents(load_system_documents())


@functools.cache
def _system_objects() -> Mapping[str, Mapping[str, Any]]:
    # Only read here (never handed out), so the cached dicts are safe to share.
    return MappingProxyType(
        {
            doc.data["api_name"]: normalize_object(doc.data)
            for doc in load_system_documents()
        }
    )


def _duplicate_documents(documents: list[Document]) -> list[Problem]:
    seen: set[tuple[str | None, str]] = set()
    problems = []
    for doc in documents:
        key = (doc.kind, doc.api_name or "")
        if doc.api_name and key in seen:
            problems.append(
                doc.problem(
                    ("api_name",),
                    "duplicate_document",
                    kind=doc.kind,
                    name=doc.api_name,
                )
            )
        seen.add(key)
    return problems


# --- JSON Schema -----------------------------------------------------------------


def _schema_problems(doc: Document) -> list[Problem]:
    kind = doc.data.get("kind")
    if kind is None:
        return [doc.problem((), "missing_kind", allowed=KINDS)]
    if kind not in KINDS:
        return [
            doc.problem(
                ("kind",),
                "unknown_kind",
                value=quote(kind),
                allowed=KINDS,
                hint=_suggest(kind, KINDS),
            )
        ]
    found = [
        p for e in _validator(kind).iter_errors(doc.data) for p in _explain(doc, e)
    ]
    return sorted(found, key=lambda p: p.line or 0)


def _explain(doc: Document, error: ValidationError) -> Iterator[Problem]:
    """A JSON Schema error in words, with the fix."""
    path = tuple(error.absolute_path)
    keyword, expected, instance = error.validator, error.validator_value, error.instance
    schema = error.schema if isinstance(error.schema, dict) else {}
    keys = list(schema.get("properties", {}))
    if keyword == "additionalProperties":
        for key in instance:
            if key not in keys:
                yield doc.problem(
                    (*path, key),
                    "unknown_key",
                    key=key,
                    where=_field_context(schema),
                    allowed=keys,
                    hint=_suggest(key, keys),
                )
    elif keyword == "required":
        for key in expected:
            if key not in instance:
                yield doc.problem(path, "required", key=key)
    elif keyword == "type":
        wanted = [expected] if isinstance(expected, str) else expected
        yield doc.problem(
            path, "type", expected=_either(wanted), found=_found(instance)
        )
    elif keyword == "enum":
        yield doc.problem(
            path,
            "enum",
            value=quote(instance),
            title=_title(schema),
            allowed=expected,
            hint=_suggest(instance, expected),
        )
    elif keyword == "const":
        yield doc.problem(
            path, "const", value=quote(instance), expected=quote(expected)
        )
    elif keyword == "pattern":
        rule = Text(
            schema.get("description", f"a value matching {expected}"),
            schema.get("x-zh", {}).get("description", f"符合 {expected} 的值"),
        )
        yield doc.problem(
            path, "pattern", value=quote(instance), title=_title(schema), rule=rule
        )
    elif keyword == "not" and expected == {}:  # the schemas' way to forbid a key
        yield doc.problem(path, "not_allowed", key=path[-1] if path else "")
    elif keyword in ("minimum", "exclusiveMinimum", "maximum"):
        code = {"exclusiveMinimum": "exclusive_minimum"}.get(keyword, keyword)
        yield doc.problem(path, code, value=quote(instance), limit=expected)
    elif keyword == "minItems":
        yield doc.problem(path, "min_items", count=len(instance), limit=expected)
    elif keyword == "minLength":
        yield doc.problem(path, "min_length")
    elif keyword == "uniqueItems":
        repeated = next(v for i, v in enumerate(instance) if v in instance[:i])
        yield doc.problem(path, "unique_items", value=quote(repeated))
    elif keyword == "minProperties":
        yield doc.problem(path, "min_properties", limit=expected, allowed=keys)
    elif keyword == "maxProperties":
        yield doc.problem(
            path, "max_properties", count=len(instance), limit=expected, allowed=keys
        )
    else:
        yield doc.problem(path, "schema", detail=error.message, kind=doc.kind)


def _field_context(schema: Mapping[str, Any]) -> Text:
    # the per-type field schemas pin `type` with a const: name it in the message
    ftype = schema.get("properties", {}).get("type")
    if isinstance(ftype, dict) and "const" in ftype:
        return Text(f" for a {ftype['const']} field", f"（{ftype['const']} 字段）")
    return NO_TEXT


def _title(schema: Mapping[str, Any]) -> Text:
    return Text(
        schema.get("title", "value"), schema.get("x-zh", {}).get("title", "取值")
    )


def _either(json_types: list[str]) -> Text:
    names = [_JSON_TYPES[t] for t in json_types]
    return Text(" or ".join(n.en for n in names), "或".join(n.zh for n in names))


def _found(instance: Any) -> Text:
    json_type = next(
        (name for kind, name in _PYTHON_TYPES if isinstance(instance, kind)), "null"
    )
    name = _JSON_TYPES[json_type]
    if isinstance(instance, dict | list) or instance is None:
        return name
    return Text(f"{name.en} {quote(instance)}", f"{name.zh} {quote(instance)}")


def _suggest(word: Any, choices: Iterable[Any]) -> Text:
    if not isinstance(word, str):
        return NO_TEXT
    close = difflib.get_close_matches(word, [str(c) for c in choices], n=1)
    if not close:
        return NO_TEXT
    return Text(f" (did you mean '{close[0]}'?)", f"（是否想写 '{close[0]}'？）")


# --- semantic checks -------------------------------------------------------------


def _object(name: str) -> Text:
    return Text(f"object '{name}'", f"对象 '{name}'")


def _value_type(field: Mapping[str, Any]) -> str:
    return str(field["returns"] if field["type"] == "formula" else field["type"])


def _target(field: Mapping[str, Any]) -> str | None:
    """The object a reference field points to."""
    if field["type"] in ("lookup", "master_detail"):
        return str(field["to"])
    return str(field["type"]) if field["type"] in SYSTEM_OBJECTS else None


class _Checks:
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
        """Formulas are computed in dependency order, so they may not refer to each
        other in a circle."""
        from propolis.metadata.expressions import ExpressionError, compile_expression

        uses: dict[str, set[str]] = {}
        for name, field in fields.items():
            if field["type"] != "formula":
                continue
            try:
                refs = compile_expression(field["expression"]).references
            except ExpressionError:
                continue  # reported as a syntax error
            uses[name] = {r for r in refs if r in fields
                          and fields[r]["type"] == "formula"}
        done: set[str] = set()

        def visit(name: str, trail: list[str]) -> None:
            if name in trail:
                cycle = trail[trail.index(name):] + [name]
                written = [f.get("api_name") for f in self.doc.data.get("fields", [])]
                path: tuple[PathPart, ...] = (
                    ("fields", written.index(name), "expression")
                    if name in written else ("fields",))
                self.add(path, "formula_cycle", cycle=" → ".join(cycle))
                done.update(cycle)  # one report per circle
                return
            if name in done:
                return
            for used in sorted(uses.get(name, ())):
                visit(used, [*trail, name])
            done.add(name)

        for name in sorted(uses):
            visit(name, [])

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
    ) -> None:
        """Compiles ``source``; every variable it reads must be in ``scope`` (or a
        system field when ``system``). ``scope`` None: the syntax alone is checked."""
        from propolis.metadata.expressions import ExpressionError, compile_expression

        try:
            compiled = compile_expression(source)
        except ExpressionError as exc:
            self.add(path, "expression_syntax", what=what, detail=str(exc))
            return
        if scope is None:
            return
        known = sorted(scope.keys() | (SYSTEM_FIELDS.keys() if system else set()))
        for name in sorted(compiled.references):
            if name not in known:
                self.add(
                    path,
                    "expression_unknown_name",
                    what=what,
                    name=name,
                    owner=owner,
                    allowed=known,
                    hint=_suggest(name, known),
                )
                continue
            members = sorted(compiled.member_references.get(name, ()))
            field = scope.get(name)
            if field is not None and field["type"] == "quote":
                self.add(path, "formula_reads_quote", what=what, name=name)
                continue
            if not members:
                continue
            if field is None or field["type"] not in ("table", *_MEMBERS):
                actual = field["type"] if field else SYSTEM_FIELDS[name]
                self.add(
                    path,
                    "expression_no_members",
                    what=what,
                    name=name,
                    member=members[0],
                    actual=actual,
                )
                continue
            allowed = sorted(
                _MEMBERS.get(field["type"]) or {c["api_name"] for c in field["fields"]}
            )
            for member in members:
                if member not in allowed:
                    self.add(
                        path,
                        "expression_unknown_member",
                        what=what,
                        name=name,
                        member=member,
                        allowed=allowed,
                        hint=_suggest(member, allowed),
                    )

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
            hint=_suggest(name, names),
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
            path, "unknown_object", name=name, allowed=known, hint=_suggest(name, known)
        )
