"""How values are compared by an object's ``duplicates:`` (查重 keys)."""

from __future__ import annotations

import pytest

from propolis.platform.records.duplicates import normalized_key, record_key_rows


@pytest.mark.parametrize(("a", "b"), [
    ("上海建工", " 上海建工 "),
    ("ACME Trading", "acme   trading"),
    ("ＡＣＭＥ　Ｔｒａｄｉｎｇ", "acme trading"),  # full-width letters and space
    ("１２３", "123"),
    ("Straße", "STRASSE"),  # case-folded, not just lower-cased
])
def test_equal_after_normalisation(a: str, b: str) -> None:
    assert normalized_key(a) == normalized_key(b)


@pytest.mark.parametrize(("a", "b"), [
    ("上海建工", "上海 建工"),  # inner spaces are collapsed, not removed
    ("建工", "建工集团"),
])
def test_different_values_stay_different(a: str, b: str) -> None:
    assert normalized_key(a) != normalized_key(b)


def test_empty_values_have_no_key() -> None:
    assert [normalized_key(v) for v in (None, "", "   ", 12)] == [None] * 4
    assert len(normalized_key("长" * 400) or "") == 255


def test_a_record_has_one_row_per_rule_and_filled_field() -> None:
    rows = record_key_rows("customer", [["name", "short_name"], ["mobile"]],
                           {"id": "r1", "name": "Acme", "short_name": None,
                            "mobile": "139"})
    assert rows == [
        {"object": "customer", "record_id": "r1", "rule": 0, "field": "name",
         "key": "acme"},
        {"object": "customer", "record_id": "r1", "rule": 1, "field": "mobile",
         "key": "139"}]
