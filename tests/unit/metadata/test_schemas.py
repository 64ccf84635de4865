"""The JSON Schemas of the four document kinds, checked through validate_documents."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from propolis.metadata import (
    KINDS,
    MetadataError,
    Problem,
    kind_schema,
    load_text,
    validate_documents,
)

# CONTRACT §2, verbatim, plus the objects its examples assume.
CUSTOMER_YAML = """\
kind: object
api_name: customer            # ^[a-z][a-z0-9_]{1,62}$ ; stable, never renamed
label: {zh: 客户, en: Customer}
name_field: name              # what a record is called in lists, lookups, feeds
deletable: false              # records can never be deleted (customers)
sharing: hierarchy            # private | hierarchy | public_read | public_write
fields:
  - {api_name: name, type: text, label: {zh: 客户名称, en: Name}, required: true,
     unique: true, max_length: 200, searchable: true}
  - {api_name: level, type: select, options: [A, B, C], default: C}
  - {api_name: tags, type: multiselect, options: [{value: vip, label: {zh: 重要}}]}
  - {api_name: parent, type: lookup, to: customer}
  - {api_name: phone, type: phone}
  - {api_name: amount, type: currency, precision: 2, min: 0}
  - {api_name: code, type: autonumber, format: "KH-{YYYY}{MM}-{seq:5}"}
  - {api_name: close_date, type: date}
  - {api_name: items, type: table, fields: [ {api_name: product, type: lookup, to: product},
                                            {api_name: qty, type: number, min: 1},
                                            {api_name: price, type: currency, precision: 2} ]}
  - {api_name: total, type: formula, returns: currency,
     expression: "sum(items.map(i, i.qty * i.price))"}
  - {api_name: contact_count, type: rollup, from: contact, via: customer, function: count}
  - {api_name: parent_level, type: quote, via: parent, field: level}
permissions:                  # per role; absent: employee gets create/read/edit, scope own
  employee: {verbs: [create, read, edit], scope: own, fields: {level: read}}
  crm_admin: {verbs: [create, read, edit, delete, import, export, transfer], scope: all}
validations:
  - {rule: "close_date == null || close_date >= date(created_at)",
     message: {zh: 结单日期不能早于创建日期, en: Close date before creation}}
list_views:
  - {api_name: all, label: {zh: 全部客户}, columns: [name, level, owner, updated_at],
     sort: ["-updated_at"]}
layouts:
  - {api_name: default, sections: [{label: {zh: 基本信息}, columns: 2, fields: [name, level, phone]}]}
"""  # noqa: E501 (verbatim from the contract)

PRODUCT_YAML = """\
kind: object
api_name: product
label: {zh: 产品, en: Product}
fields:
  - {api_name: name, type: text, required: true}
  - {api_name: price, type: currency}
"""

CONTACT_YAML = """\
kind: object
api_name: contact
label: {zh: 联系人, en: Contact}
fields:
  - {api_name: name, type: text, required: true}
  - {api_name: customer, type: lookup, to: customer}
"""

EXPENSE_CLAIM_YAML = """\
kind: object
api_name: expense_claim
label: {zh: 差旅费报销单}
fields:
  - {api_name: reason, type: textarea}
  - {api_name: total, type: currency}
"""

APPROVAL_YAML = """\
kind: approval
api_name: expense_claim
label: {zh: 差旅费报销单}
form: expense_claim            # an object whose records are the filled forms
mode: fixed                    # fixed | free (free: each approver picks the next, §5)
steps:
  - {approver: {relation: department_head}}
  - {approver: {position: finance_director}}
  - {approver: {position: principal}}
  - {approver: {position: chairman}, when: "total > 5000"}
  - {approver: {users: [u_1001, u_1002]}, sign: all}      # sign: any (default) | all
cc: [{position: hr}]
"""

REPORT_YAML = """\
kind: report
api_name: daily_sales
period: daily                  # daily | weekly | monthly
fields: [{api_name: calls, type: number}, {api_name: revenue, type: currency}]
assignees: {departments: [sales]}
due: "18:00"
"""

EXTENSION_YAML = """\
kind: extension
api_name: decoration_industry
version: 1.2.0
requires: {propolis: ">=1.0", extensions: {crm: ">=1.0"}}
contents: [objects/*.yaml, approvals/*.yaml, reports/*.yaml, roles.yaml, data/*.yaml]
"""

CONTRACT_YAML = "---\n".join(
    [
        CUSTOMER_YAML,
        PRODUCT_YAML,
        CONTACT_YAML,
        EXPENSE_CLAIM_YAML,
        APPROVAL_YAML,
        REPORT_YAML,
        EXTENSION_YAML,
    ]
)

CONTRACT_FIELD_TYPES = (
    "text textarea richtext number currency percent date time datetime boolean "
    "select multiselect lookup master_detail table autonumber formula rollup quote "
    "phone email url file image location area user department"
    " users audience"  # CONTRACT §9: audience; users for mentions and attendees
).split()

# The smallest valid field of each type.
MINIMAL_FIELDS: dict[str, dict[str, Any]] = {t: {} for t in CONTRACT_FIELD_TYPES}
MINIMAL_FIELDS.update(
    select={"options": ["a", "b"]},
    multiselect={"options": [{"value": "a", "label": {"zh": "甲", "en": "A"}}]},
    lookup={"to": "department"},
    master_detail={"to": "department"},
    table={"fields": [{"api_name": "qty", "type": "number"}]},
    autonumber={"format": "NO-{YY}{MM}{DD}-{seq:4}"},
    formula={"returns": "number", "expression": "1 + 2"},
    rollup={"from": "thing", "via": "parent", "function": "count"},
    quote={"via": "boss", "field": "name"},
)


def obj(*fields: dict[str, Any], **keys: Any) -> dict[str, Any]:
    """An object document ``thing``; its own ``boss`` (user) and ``parent`` (lookup to
    thing) come first, so that quotes and rollups have something to go through."""
    name = keys.pop("api_name", "thing")
    own = [
        {"api_name": "boss", "type": "user"},
        {"api_name": "parent", "type": "lookup", "to": name},
    ]
    return {"kind": "object", "api_name": name, "fields": [*own, *fields], **keys}


def problems(*docs: dict[str, Any]) -> list[Problem]:
    with pytest.raises(MetadataError) as info:
        validate_documents(docs)
    return info.value.problems


def only(found: list[Problem]) -> Problem:
    assert len(found) == 1, found
    return found[0]


def walk(node: Any, skip: tuple[str, ...] = ()) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for key, value in node.items():
            if key not in skip:
                yield from walk(value, skip)
    elif isinstance(node, list):
        for value in node:
            yield from walk(value, skip)


@pytest.mark.parametrize("kind", KINDS)
def test_schemas_are_valid_draft_2020_12(kind: str) -> None:
    Draft202012Validator.check_schema(kind_schema(kind))


def test_kind_schema_returns_a_copy_and_refuses_unknown_kinds() -> None:
    kind_schema("object")["title"] = "changed"
    assert kind_schema("object")["title"] == "Propolis object"
    with pytest.raises(KeyError):
        kind_schema("workflow")


@pytest.mark.parametrize("kind", KINDS)
def test_unknown_keys_are_refused_everywhere(kind: str) -> None:
    # `if/then/else` only add constraints to a schema that is closed already; the
    # field base schemas delegate to a closed per-type schema through allOf
    for node in walk(kind_schema(kind), skip=("if", "then", "else")):
        if "properties" in node:
            assert node.get("additionalProperties") is False or "allOf" in node, node


@pytest.mark.parametrize("kind", KINDS)
def test_every_enum_and_pattern_is_explained_in_both_languages(kind: str) -> None:
    for node in walk(kind_schema(kind)):
        if "enum" in node or "pattern" in node:
            assert node["title"] and node["x-zh"]["title"], node
        if "pattern" in node:
            assert node["description"] and node["x-zh"]["description"], node


def test_object_schema_knows_every_field_type_of_the_contract() -> None:
    defs = kind_schema("object")["$defs"]
    assert defs["field_type"]["enum"] == CONTRACT_FIELD_TYPES
    assert all(f"{t}_field" in defs for t in CONTRACT_FIELD_TYPES)


@pytest.mark.parametrize("ftype", CONTRACT_FIELD_TYPES)
def test_minimal_field_of_each_type_is_valid(ftype: str) -> None:
    field = {"api_name": "probe", "type": ftype, **MINIMAL_FIELDS[ftype]}
    [normalized] = validate_documents([obj(field)])
    assert normalized["fields"][2]["type"] == ftype


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        (CUSTOMER_YAML, "object"),
        (PRODUCT_YAML, "object"),
        (CONTACT_YAML, "object"),
        (APPROVAL_YAML, "approval"),
        (REPORT_YAML, "report"),
        (EXTENSION_YAML, "extension"),
    ],
)
def test_contract_examples_match_their_schema(text: str, kind: str) -> None:
    [doc] = load_text(text)
    assert doc.kind == kind
    assert list(Draft202012Validator(kind_schema(kind)).iter_errors(doc.data)) == []


def test_type_specific_key_on_another_type_names_the_type_and_allowed_keys() -> None:
    problem = only(
        problems(obj({"api_name": "qty", "type": "number", "max_length": 3}))
    )
    assert problem.code == "unknown_key"
    assert problem.path == "fields[2].max_length"
    assert "for a number field" in problem.message
    assert "precision" in problem.fix and "max_length" not in problem.fix
    assert "number 字段" in problem.message_zh


@pytest.mark.parametrize("name", ["customer", "ab", "close_date", "a1", "x" * 63])
def test_api_name_pattern_accepts(name: str) -> None:
    validate_documents([obj(api_name=name)])


@pytest.mark.parametrize(
    "name", ["Customer", "a", "1abc", "_hidden", "close-date", "x" * 64]
)
def test_api_name_pattern_refuses_with_the_rule(name: str) -> None:
    problem = only(problems({"kind": "object", "api_name": name}))
    assert (problem.code, problem.path) == ("pattern", "api_name")
    assert "lowercase letter" in problem.fix and "小写字母" in problem.fix_zh


@pytest.mark.parametrize(
    "fmt", ["{seq:6}", "KH-{YYYY}{MM}-{seq:5}", "{YY}{DD}/{seq:12}"]
)
def test_autonumber_format_accepts(fmt: str) -> None:
    validate_documents([obj({"api_name": "code", "type": "autonumber", "format": fmt})])


@pytest.mark.parametrize(
    "fmt", ["KH-{YYYY}", "{seq:0}", "{seq:5}{seq:5}", "{yyyy}{seq:3}"]
)
def test_autonumber_format_refuses(fmt: str) -> None:
    field = {"api_name": "code", "type": "autonumber", "format": fmt}
    problem = only(problems(obj(field)))
    assert (problem.code, problem.path) == ("pattern", "fields[2].format")
    assert "{seq:N}" in problem.fix


def test_precision_is_bounded() -> None:
    field = {"api_name": "amount", "type": "currency", "precision": 11}
    problem = only(problems(obj(field)))
    assert (problem.code, problem.path) == ("maximum", "fields[2].precision")


def test_computed_fields_cannot_be_made_writable() -> None:
    field = {
        "api_name": "total",
        "type": "formula",
        "returns": "number",
        "expression": "1",
        "readonly": False,
    }
    assert only(problems(obj(field))).code == "const"


def test_rollup_count_takes_no_field_and_the_others_need_one() -> None:
    count = {
        **MINIMAL_FIELDS["rollup"],
        "api_name": "kids",
        "type": "rollup",
        "field": "boss",
    }
    summed = {
        **MINIMAL_FIELDS["rollup"],
        "api_name": "total",
        "type": "rollup",
        "function": "sum",
    }
    found = problems(obj(count, summed))
    assert [(p.code, p.path) for p in found] == [
        ("not_allowed", "fields[2].field"),
        ("required", "fields[3]"),
    ]
    assert "'field'" in found[1].message


def test_a_table_cannot_hold_a_table_or_a_rollup() -> None:
    inner = {
        "api_name": "inner",
        "type": "table",
        "fields": [{"api_name": "qty", "type": "number"}],
    }
    rollup = {
        "api_name": "kids",
        "type": "rollup",
        "from": "thing",
        "via": "parent",
        "function": "count",
    }
    found = problems(
        obj({"api_name": "rows", "type": "table", "fields": [inner, rollup]})
    )
    assert [(p.code, p.path) for p in found] == [
        ("enum", "fields[2].fields[0].type"),
        ("enum", "fields[2].fields[1].type"),
    ]
    assert "table" not in found[0].fix.split("; ")[0].split(", ")


def test_select_needs_options_and_lookup_needs_to() -> None:
    found = problems(
        obj(
            {"api_name": "level", "type": "select"},
            {"api_name": "parent", "type": "lookup"},
        )
    )
    assert [(p.code, p.path, p.message) for p in found] == [
        ("required", "fields[2]", "missing required key 'options'"),
        ("required", "fields[3]", "missing required key 'to'"),
    ]


def test_label_is_a_string_or_zh_en() -> None:
    found = problems(
        obj(label={"zh": "东西", "fr": "chose"}), obj(api_name="other", label=3)
    )
    assert [(p.code, p.path) for p in found] == [
        ("unknown_key", "label.fr"),
        ("type", "label"),
    ]
    assert "allowed keys: zh, en" in found[0].fix
    assert (
        found[1].message
        == "expected a string or a mapping (key: value), found a whole number 3"
    )


def test_permission_scope_and_field_access_are_enums() -> None:
    grant = {
        "verbs": ["read", "fly"],
        "scope": "everything",
        "fields": {"boss": "write"},
    }
    found = problems(obj(permissions={"employee": grant}))
    assert [(p.code, p.path) for p in found] == [
        ("enum", "permissions.employee.verbs[1]"),
        ("enum", "permissions.employee.scope"),
        ("enum", "permissions.employee.fields.boss"),
    ]
    assert "own, subordinates, department, all" in found[1].fix


def test_approval_approver_takes_exactly_one_way() -> None:
    approval = {
        "kind": "approval",
        "api_name": "leave",
        "form": "department",
        "steps": [{"approver": {}}, {"approver": {"position": "hr", "role": "admin"}}],
    }
    found = problems(approval)
    assert [(p.code, p.path) for p in found] == [
        ("min_properties", "steps[0].approver"),
        ("max_properties", "steps[1].approver"),
    ]
    assert "relation, position, role, users, submitter_choice" in found[0].fix


def test_approval_percentage_sign_needs_a_percentage() -> None:
    approval = {
        "kind": "approval",
        "api_name": "leave",
        "form": "department",
        "steps": [
            {"approver": {"role": "admin"}, "sign": "percentage"},
            {"approver": {"role": "admin"}, "percentage": 50},
        ],
    }
    found = problems(approval)
    assert [(p.code, p.path) for p in found] == [
        ("required", "steps[0]"),
        ("not_allowed", "steps[1].percentage"),
    ]


def test_fixed_approval_needs_steps_free_does_not() -> None:
    base = {"kind": "approval", "api_name": "leave", "form": "department"}
    assert only(problems(base)).message == "missing required key 'steps'"
    [free] = validate_documents([{**base, "mode": "free"}])
    assert free["mode"] == "free" and free["steps"] == []


def test_report_fields_are_a_subset_and_due_is_hh_mm() -> None:
    report = {
        "kind": "report",
        "api_name": "weekly",
        "period": "weekly",
        "due": "25:00",
        "fields": [{"api_name": "owner_ref", "type": "lookup", "to": "user"}],
    }
    found = problems(report)
    assert [(p.code, p.path) for p in found] == [
        ("enum", "fields[0].type"),
        ("pattern", "due"),
    ]
    assert found[0].fix.startswith(
        "use one of number, currency, percent, text, select, date"
    )
    assert found[1].fix == "use 24-hour HH:MM, e.g. 18:00"


def test_extension_version_is_semver() -> None:
    extension = {
        "kind": "extension",
        "api_name": "crm",
        "version": "1.2",
        "requires": {"propolis": "at least 1"},
    }
    found = problems(extension)
    assert [(p.code, p.path) for p in found] == [
        ("pattern", "version"),
        ("pattern", "requires.propolis"),
    ]
