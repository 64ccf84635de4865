"""What validation checks in expressions beyond names: regular expressions RE2
refuses, ill-typed operations, and ``option()`` against the options' attributes."""

from __future__ import annotations

from typing import Any

import pytest

from propolis.metadata import validate_documents
from tests.unit.metadata.test_validation import codes, customer_with, problems_of


def formula(expression: str, returns: str = "number") -> dict[str, Any]:
    return {"api_name": "calc", "type": "formula", "returns": returns,
            "expression": expression}


def test_a_literal_pattern_re2_refuses_is_a_metadata_error() -> None:
    found = problems_of(customer_with(
        formula("name.matches('^(a)\\\\1$') ? 1 : 0"),
        validations=[{"rule": "phone.matches('(?<=1)3')", "message": "x"}]))
    assert codes(found) == [("expression_syntax", "fields[12].expression"),
                            ("expression_syntax", "validations[0].rule")]
    assert found[0].message.startswith(
        "formula 'calc' does not compile: matches(): the regular expression "
        "'^(a)\\\\1$' is not supported: ")
    assert "RE2" in found[1].message


VIP = {"api_name": "vip", "type": "boolean"}


@pytest.mark.parametrize(("expression", "detail"), [
    ("vip * 1.5", "operator '*' cannot be applied to bool and number"),
    ("name * 2", "operator '*' cannot be applied to string and number"),
    ("name + amount", "operator '+' cannot be applied to string and number"),
    ("-name == ''", "operator '-' cannot be applied to string"),
    ("close_date > created_at ? 1 : 0",
     "operator '>' cannot compare date with datetime; convert with date(...)"),
    ("days_between(close_date, close_date) + (close_date - close_date)",
     "operator '-' cannot subtract dates; use days_between(a, b)"),
    ("size(amount)", "size() cannot take a number; it takes list or map or string"),
    ("sum(items.map(i, i.product))", "sum() expects numbers, got a list of string"),
    ("amount ? 1 : 0", "'?:' expects a boolean, got number"),
    ("items.all(i, i.qty) ? 1 : 0", "'all' expects a boolean, got number"),
    ("int(vip)", "int() cannot take a bool; it takes number or string"),
    ("items[0].qty * items.qty", "cannot read field 'qty' of a list"),
])
def test_ill_typed_formulas_are_refused_naming_the_formula(
        expression: str, detail: str) -> None:
    [problem] = problems_of(customer_with(VIP, formula(expression)))
    assert (problem.code, problem.path) == ("expression_type",
                                            "fields[13].expression")
    assert problem.message == f"formula 'calc' cannot work: {detail}"
    assert problem.message_zh.startswith("公式 'calc'无法计算：")


@pytest.mark.parametrize("expression", [
    "sum(items.map(i, i.qty * i.price)) * 1.1",
    "vip ? amount : 0",
    "level == 'A' && amount > 10 ? days_between(close_date, created_at) : null",
    "size(name) + size(tags) + items.filter(i, i.qty > 1).size()",
    "int(string(amount)) + double('1.5') + (close_date + 30 > today() ? 1 : 0)",
    "[1, 'a'][0] + 1",
    "name.matches('^a') ? -amount : amount % 7",
    "has(items.qty) ? 1 : 0",
])
def test_well_typed_formulas_pass(expression: str) -> None:
    validate_documents(customer_with(VIP, formula(expression)))


def test_a_result_of_the_wrong_kind_is_refused() -> None:
    found = problems_of(customer_with(
        formula("name"), formula("created_at", "date") | {"api_name": "due"},
        validations=[{"rule": "amount + 1", "message": "x"}]))
    assert [(p.code, p.path, p.message) for p in found] == [
        ("expression_result_type", "fields[12].expression",
         "formula 'calc' gives text, but must give a number"),
        ("expression_result_type", "fields[13].expression",
         "formula 'due' gives a date and time, but must give a date"),
        ("expression_result_type", "validations[0].rule",
         "validation rule 1 gives a number, but must give true or false"),
    ]
    # any result converts to text
    validate_documents(customer_with(formula("amount * 2", "text")))


def with_attributes(*extra: dict[str, Any], **keys: Any) -> list[Any]:
    docs = customer_with(*extra, **keys)
    level = docs[0].data["fields"][1]
    level["options"] = [
        {"value": "A", "attributes": {"weight": 3, "code": "a", "closed": False}},
        {"value": "B", "attributes": {"weight": 2}},
        "C",
    ]
    tags = docs[0].data["fields"][2]
    tags["options"][0]["attributes"] = {"weight": 1.5}
    return docs


def test_option_reads_declared_attributes_of_select_fields() -> None:
    [customer, *_] = validate_documents(with_attributes(
        formula("option(level, 'weight') * amount"),
        formula("sum(option(tags, 'weight'))") | {"api_name": "tag_weight"},
        validations=[{"rule": "!option(level, 'closed') || amount > 0",
                      "message": "x"}]))
    level = next(f for f in customer["fields"] if f["api_name"] == "level")
    assert [o["attributes"] for o in level["options"]] == [
        {"weight": 3, "code": "a", "closed": False}, {"weight": 2}, {}]


def test_option_on_a_field_that_is_not_a_select_or_an_undeclared_attribute() -> None:
    found = problems_of(with_attributes(
        formula("option(amount, 'weight')"),
        formula("option(level, 'wieght')") | {"api_name": "typo"},
        formula("option(level, 'code') * 2") | {"api_name": "texty"}))
    assert codes(found) == [("option_not_select", "fields[12].expression"),
                            ("option_unknown_attribute", "fields[13].expression"),
                            ("expression_type", "fields[14].expression")]
    assert found[0].message == ("formula 'calc' calls option() on 'amount', which is "
                                "not a select or multiselect field")
    assert found[0].fix == "use one of level, tags"
    assert found[1].message == ("formula 'typo' reads the attribute 'wieght' of "
                                "'level', which none of its options declares")
    assert found[1].fix.startswith("use one of closed, code, weight (did you mean "
                                   "'weight'?), or add attributes: {wieght: …}")
    assert "'level' 的属性 'wieght'" in found[1].message_zh
    assert found[2].message.endswith(
        "operator '*' cannot be applied to string and number")


def test_option_takes_a_field_name_and_a_quoted_attribute() -> None:
    for expression in ("option(level, name)", "option('level', 'weight')",
                       "option(level)"):
        [problem] = problems_of(with_attributes(formula(expression)))
        assert problem.code == "expression_syntax"
        assert "option() takes a select field and an attribute name in quotes" in (
            problem.message)


def test_attribute_values_are_scalars_with_api_names() -> None:
    docs = with_attributes()
    docs[0].data["fields"][1]["options"][1]["attributes"] = {
        "Weight": 1, "nested": {"a": 1}}
    found = problems_of(docs)
    assert sorted(p.path for p in found) == [
        "fields[1].options[1].attributes",
        "fields[1].options[1].attributes.nested"]
