"""What validation checks in expressions beyond names: regular expressions RE2
refuses, ill-typed operations, and ``option()`` against the options' attributes."""

from __future__ import annotations

from typing import Any

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
