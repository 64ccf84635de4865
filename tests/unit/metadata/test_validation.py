from __future__ import annotations

import copy
from typing import Any

import pytest

from propolis.metadata import (
    Document,
    MetadataError,
    Problem,
    load_system_objects,
    load_text,
    normalize_object,
    validate_documents,
)
from tests.unit.metadata.test_schemas import (
    APPROVAL_YAML,
    CONTACT_YAML,
    CONTRACT_YAML,
    CUSTOMER_YAML,
    EXPENSE_CLAIM_YAML,
    EXTENSION_YAML,
    PRODUCT_YAML,
    REPORT_YAML,
)


def problems_of(docs: list[Any], **kwargs: Any) -> list[Problem]:
    with pytest.raises(MetadataError) as info:
        validate_documents(docs, **kwargs)
    return info.value.problems


def codes(problems: list[Problem]) -> list[tuple[str, str]]:
    return [(p.code, p.path) for p in problems]


def contract_docs() -> list[Document]:
    return load_text(
        CUSTOMER_YAML + "---\n" + PRODUCT_YAML + "---\n" + CONTACT_YAML, "crm.yaml"
    )


def customer_with(*fields: dict[str, Any], **keys: Any) -> list[Document]:
    """The CONTRACT objects, with ``fields`` appended to customer and ``keys`` set."""
    docs = contract_docs()
    docs[0].data["fields"] += list(fields)
    docs[0].data.update(keys)
    return docs


def test_contract_objects_validate_and_come_back_normalized() -> None:
    customer, product, contact = validate_documents(contract_docs())
    assert [o["api_name"] for o in (customer, product, contact)] == [
        "customer",
        "product",
        "contact",
    ]
    fields = {f["api_name"]: f for f in customer["fields"]}
    assert fields["level"]["options"][2] == {
        "value": "C",
        "label": {"zh": "C", "en": "C"},
        "parent": None,
        "attributes": {},
    }
    assert fields["total"]["readonly"] is True and fields["total"]["precision"] == 2
    assert customer["list_views"][0]["label"] == {"zh": "全部客户", "en": "全部客户"}
    assert product["sharing"] == "hierarchy"


def test_every_contract_example_validates_together() -> None:
    docs = validate_documents(load_text(CONTRACT_YAML, "contract.yaml"))
    assert [d["kind"] for d in docs] == [
        "object",
        "object",
        "object",
        "object",
        "approval",
        "report",
        "extension",
    ]
    approval, report, extension = docs[4:]
    assert (
        approval["steps"][0]["sign"] == "any" and approval["steps"][4]["sign"] == "all"
    )
    assert report["assignees"] == {"departments": ["sales"], "users": [], "roles": []}
    assert extension["requires"]["extensions"] == {"crm": ">=1.0"}


@pytest.mark.parametrize("text", [APPROVAL_YAML, REPORT_YAML, EXTENSION_YAML])
def test_each_contract_example_validates_alone(text: str) -> None:
    objects = load_text(EXPENSE_CLAIM_YAML) if "form:" in text else []
    assert len(validate_documents([*objects, *load_text(text)])) == len(objects) + 1


def test_system_objects_validate() -> None:
    department, user = load_system_objects()
    assert department["api_name"] == "department" and user["api_name"] == "user"
    assert user["deletable"] is False
    assert {department["sharing"], user["sharing"]} == {"public_read"}
    fields = {f["api_name"]: f for f in user["fields"]}
    assert fields["password"]["hidden"] and fields["password"]["max_length"] == 200
    assert fields["roles"]["default"] == ["employee"]
    assert fields["departments"]["fields"][0]["type"] == "department"
    assert "password" not in user["layouts"][0]["sections"][0]["fields"]


def test_unknown_key_names_file_line_path_and_fix() -> None:
    docs = load_text(
        "kind: object\napi_name: customer\nfields:\n"
        "  - {api_name: name, type: text}\n"
        "  - {api_name: note, type: text, colour: red}\n",
        "customer.yaml",
    )
    [problem] = problems_of(docs)
    assert str(problem) == (
        "customer.yaml:5 fields[1].colour: unknown key 'colour' for a text field — "
        "remove it, or check the spelling; allowed keys: api_name, type, label, help, "
        "required, unique, searchable, readonly, hidden, max_length, default"
    )
    assert problem.as_text()["zh"].startswith("未知的键 'colour'（text 字段）；删除它")


def test_misspelt_field_type_lists_the_types_and_suggests_one() -> None:
    [problem] = problems_of(customer_with({"api_name": "memo", "type": "txt"}))
    assert problem.path == "fields[12].type"
    assert problem.message == "'txt' is not a valid field type"
    assert problem.fix.startswith("use one of text, textarea, richtext")
    assert "(did you mean 'text'?)" in problem.fix
    assert problem.message_zh == "'txt' 不是有效的字段类型"


def test_wrong_type_says_what_was_expected() -> None:
    [problem] = problems_of(
        customer_with(
            {
                "api_name": "memo",
                "type": "text",
                "required": "yes",
            }
        )
    )
    assert problem.path == "fields[12].required"
    assert problem.message == "expected true or false, found a string 'yes'"


def test_missing_required_key_is_named() -> None:
    [problem] = problems_of([{"kind": "object", "fields": []}])
    assert (problem.code, problem.path, problem.message) == (
        "required",
        "",
        "missing required key 'api_name'",
    )


def test_missing_and_unknown_kind() -> None:
    found = problems_of([{"api_name": "x1"}, {"kind": "objet", "api_name": "x2"}])
    assert codes(found) == [("missing_kind", ""), ("unknown_kind", "kind")]
    assert "did you mean 'object'?" in found[1].fix


def test_dangling_lookup() -> None:
    found = problems_of(
        customer_with({"api_name": "vendor", "type": "lookup", "to": "vendr"})
    )
    assert codes(found) == [("unknown_object", "fields[12].to")]
    assert found[0].message == "object 'vendr' does not exist"


def test_lookups_may_target_system_and_existing_objects() -> None:
    existing = {"vendor": normalize_object({"api_name": "vendor", "fields": []})}
    validate_documents(
        customer_with(
            {"api_name": "vendor", "type": "lookup", "to": "vendor"},
            {"api_name": "manager", "type": "lookup", "to": "user"},
            {"api_name": "region", "type": "master_detail", "to": "department"},
        ),
        existing=existing,
    )


def test_formula_referencing_a_missing_field_names_the_formula() -> None:
    formula = {
        "api_name": "margin",
        "type": "formula",
        "returns": "currency",
        "expression": "amount - cost",
    }
    [problem] = problems_of(customer_with(formula))
    assert (problem.code, problem.path) == (
        "expression_unknown_name",
        "fields[12].expression",
    )
    assert problem.message == (
        "formula 'margin' uses 'cost', which is not a field of object 'customer'"
    )
    assert "公式 'margin'" in problem.message_zh


def test_formula_that_does_not_compile_names_the_formula() -> None:
    formula = {
        "api_name": "margin",
        "type": "formula",
        "returns": "number",
        "expression": "amount +* 2",
    }
    [problem] = problems_of(customer_with(formula))
    assert problem.code == "expression_syntax"
    assert problem.message.startswith("formula 'margin' does not compile: ")


def test_formula_members_must_be_columns_of_the_table() -> None:
    formula = {
        "api_name": "weight",
        "type": "formula",
        "returns": "number",
        "expression": "sum(items.map(i, i.qty * i.weight)) + parent.level",
    }
    found = problems_of(customer_with(formula))
    assert codes(found) == [
        ("expression_unknown_member", "fields[12].expression"),
        ("expression_no_members", "fields[12].expression"),
    ]
    assert found[0].message == (
        "formula 'weight' uses 'items.weight', but 'items' has no 'weight'"
    )
    assert found[0].fix == "use one of price, product, qty"
    assert "'parent.level'" in found[1].message


def test_table_column_formula_sees_its_row() -> None:
    docs = contract_docs()
    items = docs[0].data["fields"][8]
    items["fields"].append(
        {
            "api_name": "line_total",
            "type": "formula",
            "returns": "currency",
            "expression": "qty * price",
        }
    )
    validate_documents(docs)
    items["fields"].append(
        {
            "api_name": "bad_total",
            "type": "formula",
            "returns": "currency",
            "expression": "qty * amount",
        }
    )
    [problem] = problems_of(docs)
    assert problem.path == "fields[8].fields[4].expression"
    assert problem.message.endswith("which is not a field of table 'items'")


def test_validation_rule_must_reference_fields() -> None:
    docs = customer_with(
        validations=[{"rule": "closing_date > today()", "message": "x"}]
    )
    [problem] = problems_of(docs)
    assert (problem.code, problem.path) == (
        "expression_unknown_name",
        "validations[0].rule",
    )
    assert "did you mean 'close_date'?" in problem.fix


def test_duplicate_field_names() -> None:
    found = problems_of(customer_with({"api_name": "phone", "type": "text"}))
    assert codes(found) == [("duplicate_name", "fields[12].api_name")]
    assert found[0].message == "field 'phone' is defined more than once"


@pytest.mark.parametrize("name", ["select", "order", "user", "table", "default", "in"])
def test_reserved_word_field_name(name: str) -> None:
    [problem] = problems_of(customer_with({"api_name": name, "type": "text"}))
    assert (problem.code, problem.path) == ("reserved_word", "fields[12].api_name")
    assert problem.message == f"'{name}' is a reserved word in SQL or CEL"


def test_system_field_names_are_taken() -> None:
    [problem] = problems_of(
        customer_with({"api_name": "created_at", "type": "datetime"})
    )
    assert problem.code == "system_field_name"
    assert "life_status" in problem.fix


def test_object_names_are_only_checked_against_the_pattern() -> None:
    validate_documents(
        [
            {
                "kind": "object",
                "api_name": "order",
                "fields": [{"api_name": "number_text", "type": "text"}],
            }
        ]
    )


def test_rollup_via_must_point_back_to_this_object() -> None:
    docs = contract_docs()
    docs[2].data["fields"].append(
        {"api_name": "product", "type": "lookup", "to": "product"}
    )
    rollup = {
        "api_name": "contact_count",
        "type": "rollup",
        "from": "contact",
        "via": "product",
        "function": "count",
    }
    docs[0].data["fields"][10] = rollup
    [problem] = problems_of(docs)
    assert (problem.code, problem.path) == ("rollup_via_target", "fields[10].via")
    assert problem.message == "'contact.product' points to 'product', not to 'customer'"


def test_rollup_from_via_and_field_are_checked() -> None:
    found = problems_of(
        customer_with(
            {
                "api_name": "ghost_count",
                "type": "rollup",
                "from": "ghost",
                "via": "customer",
                "function": "count",
            },
            {
                "api_name": "by_name",
                "type": "rollup",
                "from": "contact",
                "via": "name",
                "function": "count",
            },
            {
                "api_name": "name_sum",
                "type": "rollup",
                "from": "contact",
                "via": "customer",
                "function": "sum",
                "field": "name",
            },
            {
                "api_name": "latest",
                "type": "rollup",
                "from": "contact",
                "via": "customer",
                "function": "max",
                "field": "created_at",
            },
            {
                "api_name": "nothing",
                "type": "rollup",
                "from": "contact",
                "via": "customer",
                "function": "avg",
                "field": "nope",
            },
        )
    )
    assert codes(found) == [
        ("unknown_object", "fields[12].from"),
        ("wrong_field_type", "fields[13].via"),
        ("wrong_field_type", "fields[14].field"),
        # the stored rollup is a decimal: max over a datetime is refused
        ("wrong_field_type", "fields[15].field"),
        ("unknown_field", "fields[16].field"),
    ]


def test_quote_goes_through_a_reference_to_a_field_of_its_target() -> None:
    found = problems_of(
        customer_with(
            {
                "api_name": "parent_phone",
                "type": "quote",
                "via": "parent",
                "field": "phone",
            },
            {
                "api_name": "owner_name",
                "type": "quote",
                "via": "phone",
                "field": "name",
            },
            {
                "api_name": "parent_x",
                "type": "quote",
                "via": "parent",
                "field": "colour",
            },
            {"api_name": "via_ghost", "type": "quote", "via": "ghost", "field": "name"},
        )
    )
    assert codes(found) == [
        ("wrong_field_type", "fields[13].via"),
        ("unknown_field", "fields[14].field"),
        ("unknown_field", "fields[15].via"),
    ]


def test_select_default_must_be_an_option() -> None:
    found = problems_of(
        customer_with(
            {
                "api_name": "grade",
                "type": "select",
                "options": ["A", "B"],
                "default": "Z",
            },
            {
                "api_name": "labels",
                "type": "multiselect",
                "options": ["x1"],
                "default": ["x1", "x2"],
            },
            {"api_name": "twice", "type": "select", "options": ["A", {"value": "A"}]},
        )
    )
    assert codes(found) == [
        ("default_not_option", "fields[12].default"),
        ("default_not_option", "fields[13].default"),
        ("duplicate_name", "fields[14].options[1]"),
    ]
    assert found[1].message == "default 'x2' is not one of the options"


def test_dependent_select_options_name_their_parent() -> None:
    province = {"api_name": "province", "type": "select", "options": ["zj", "js"]}
    city = {
        "api_name": "city",
        "type": "select",
        "depends_on": "province",
        "options": [{"value": "hz", "parent": "zj"}, {"value": "nj", "parent": "js"}],
    }
    validate_documents(customer_with(province, city))

    city["options"] += [{"value": "sh"}, {"value": "gz", "parent": "gd"}]
    province["options"][0] = {"value": "zj", "parent": "cn"}
    found = problems_of(
        customer_with(
            province,
            city,
            {
                "api_name": "town",
                "type": "select",
                "depends_on": "name",
                "options": ["t1"],
            },
        )
    )
    assert codes(found) == [
        ("option_parent_unexpected", "fields[12].options[0].parent"),
        ("option_parent_missing", "fields[13].options[2]"),
        ("option_parent_unknown", "fields[13].options[3].parent"),
        ("wrong_field_type", "fields[14].depends_on"),
    ]


def test_views_layouts_permissions_and_name_field_name_real_fields() -> None:
    docs = customer_with(name_field="title")
    docs[0].data["list_views"][0]["columns"].append("colour")
    docs[0].data["list_views"][0]["sort"].append("-rank")
    docs[0].data["layouts"][0]["sections"][0]["fields"].append("size")
    docs[0].data["permissions"]["employee"]["fields"]["secret"] = "hidden"
    found = problems_of(docs)
    assert codes(found) == [
        ("unknown_field", "name_field"),
        ("unknown_field", "list_views[0].columns[4]"),
        ("unknown_field", "list_views[0].sort[1]"),
        ("unknown_field", "layouts[0].sections[0].fields[3]"),
        ("unknown_field", "permissions.employee.fields.secret"),
    ]


def test_approval_form_and_conditions_are_checked() -> None:
    approval = load_text(
        APPROVAL_YAML.replace("total > 5000", "amount > 5000"), "flow.yaml"
    )
    found = problems_of([*load_text(EXPENSE_CLAIM_YAML), *approval])
    assert codes(found) == [("expression_unknown_name", "steps[3].when")]
    assert found[0].line == 10
    assert found[0].message.startswith("the condition of step 4 uses 'amount'")

    orphan = load_text(APPROVAL_YAML.replace("form: expense_claim", "form: claims"))
    assert codes(problems_of(orphan)) == [("unknown_object", "form")]


def test_many_problems_are_reported_together_with_correct_lines() -> None:
    text = CUSTOMER_YAML.replace(
        "{api_name: phone, type: phone}", "{api_name: phone, type: phone, colour: red}"
    )
    text += """\
---
kind: object
api_name: contact
fields:
  - {api_name: name, type: text}
  - {api_name: customer, type: lookup, to: customer}
  - api_name: select
    type: text
  - {api_name: name, type: number}
  - api_name: supplier
    type: lookup
    to: supplier
"""
    with pytest.raises(MetadataError) as info:
        validate_documents(
            [*load_text(text, "crm.yaml"), *load_text(PRODUCT_YAML, "p.yaml")]
        )
    found = info.value.problems
    assert [(p.code, p.line, p.path) for p in found] == [
        ("unknown_key", 13, "fields[4].colour"),
        ("reserved_word", 41, "fields[2].api_name"),
        ("duplicate_name", 43, "fields[3].api_name"),
        ("unknown_object", 46, "fields[4].to"),
    ]
    lines = str(info.value).splitlines()
    assert len(lines) == 4 and lines[3].startswith("crm.yaml:46 fields[4].to: ")


def test_a_broken_object_does_not_cascade_into_its_referrers() -> None:
    docs = contract_docs()
    docs[1].data["colour"] = "red"  # product is broken
    assert codes(problems_of(docs)) == [("unknown_key", "colour")]


def test_documents_of_one_kind_and_name_appear_once_per_batch() -> None:
    docs = [*contract_docs(), *load_text(PRODUCT_YAML, "again.yaml")]
    [problem] = problems_of(docs)
    assert (problem.code, problem.source, problem.path) == (
        "duplicate_document",
        "again.yaml",
        "api_name",
    )


def test_plain_dicts_validate_too_and_their_problems_have_no_line() -> None:
    doc = {
        "kind": "object",
        "api_name": "memo",
        "fields": [{"api_name": "body", "type": "txt"}],
    }
    [problem] = problems_of([doc])
    assert (problem.source, problem.line) == ("<document>", None)
    assert str(problem).startswith("<document> fields[0].type: ")


def test_a_document_over_an_existing_object_is_checked_merged() -> None:
    existing = {o["api_name"]: o for o in validate_documents(contract_docs())}
    layer = {
        "kind": "object",
        "api_name": "customer",
        "fields": [
            {
                "api_name": "level",
                "type": "select",
                "options": ["A", "B", "C", "D"],
                "label": {"zh": "等级", "en": "Grade"},
            },
            {
                "api_name": "score",
                "type": "formula",
                "returns": "number",
                "expression": "amount * 2",
            },
        ],
    }
    others = {k: v for k, v in existing.items() if k != "customer"}
    [merged] = validate_documents(
        [layer], existing={**others, "customer": existing["customer"]}
    )
    names = [f["api_name"] for f in merged["fields"]]
    assert names[:12] == [f["api_name"] for f in existing["customer"]["fields"]]
    assert names[12] == "score"
    assert merged["fields"][1]["label"] == {"zh": "等级", "en": "Grade"}
    assert merged["deletable"] is False

    changed = copy.deepcopy(layer)
    changed["fields"][0]["type"] = "text"
    del changed["fields"][0]["options"]
    [problem] = problems_of([changed], existing=existing)
    assert (problem.code, problem.path) == ("layer_change", "fields[0].type")


def test_a_document_for_a_system_object_extends_it() -> None:
    layer = {
        "kind": "object",
        "api_name": "user",
        "fields": [{"api_name": "employee_no", "type": "text", "unique": True}],
    }
    [user] = validate_documents([layer])
    names = [f["api_name"] for f in user["fields"]]
    assert names[0] == "name" and names[-1] == "employee_no"
    assert user["deletable"] is False


def test_formulas_may_not_refer_to_each_other_in_a_circle() -> None:
    doc = {"kind": "object", "api_name": "loop", "fields": [
        {"api_name": "fa", "type": "formula", "returns": "number",
         "expression": "fb + 1"},
        {"api_name": "fb", "type": "formula", "returns": "number",
         "expression": "fc * 2"},
        {"api_name": "fc", "type": "formula", "returns": "number", "expression": "fa"},
        {"api_name": "fd", "type": "formula", "returns": "number", "expression": "fa"},
    ]}
    with pytest.raises(MetadataError) as caught:
        validate_documents([doc])
    [problem] = caught.value.problems
    assert problem.path == "fields[0].expression"
    assert "fa → fb → fc → fa" in problem.message


def test_table_fields_refuse_what_rows_cannot_do() -> None:
    doc = {"kind": "object", "api_name": "order_form", "fields": [
        {"api_name": "customer", "type": "lookup", "to": "user"},
        {"api_name": "level", "type": "quote", "via": "customer", "field": "name"},
        {"api_name": "total", "type": "formula", "returns": "text",
         "expression": "level"},
        {"api_name": "items", "type": "table", "fields": [
            {"api_name": "sku", "type": "text", "unique": True},
            {"api_name": "kind", "type": "select", "options": ["a"]},
            {"api_name": "sub", "type": "select", "depends_on": "kind",
             "options": [{"value": "x", "parent": "a"}]},
        ]},
    ]}
    with pytest.raises(MetadataError) as caught:
        validate_documents([doc])
    paths = sorted(p.path for p in caught.value.problems)
    assert paths == ["fields[2].expression", "fields[3].fields[0].unique",
                     "fields[3].fields[2].depends_on"]
