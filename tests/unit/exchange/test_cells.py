"""Field values as cells and back, per field type: what an export writes is what
an import reads."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from propolis.platform.errors import both
from propolis.platform.exchange.cells import (
    SYSTEM_COLUMNS,
    Column,
    cell_text,
    from_cell,
    same_value,
    to_cell,
)
from propolis.platform.fields.values import ValueProblem

TZ = "Asia/Shanghai"
LEVEL = {"api_name": "level", "type": "select", "label": {"zh": "等级", "en": "Level"},
         "options": [{"value": "A", "label": {"zh": "甲级", "en": "Class A"}},
                     {"value": "B", "label": {"zh": "乙级", "en": "Class B"}}]}
TAGS = {**LEVEL, "api_name": "tags", "type": "multiselect"}
ITEMS = {"api_name": "items", "type": "table", "fields": [
    {"api_name": "qty", "type": "number"},
    {"api_name": "line", "type": "formula", "returns": "number", "expression": "qty"}]}


def field(ftype: str, **extra: Any) -> dict[str, Any]:
    return {"api_name": "f", "type": ftype, **extra}


# (field, JSON value, the cell an export writes, the JSON value read back)
ROUND_TRIPS = [
    (field("text"), "华为", "华为", "华为"),
    (field("phone"), "13800000000", "13800000000", "13800000000"),
    (field("richtext"), "<p>好</p>", "<p>好</p>", "<p>好</p>"),
    (field("currency"), 1234.5, Decimal("1234.5"), Decimal("1234.5")),
    (field("number"), 3, 3, Decimal(3)),
    (field("percent"), 12.5, Decimal("12.5"), Decimal("12.5")),
    (field("number"), 0.00001, Decimal("0.00001"), Decimal("0.00001")),
    (field("date"), "2026-11-28", "2026-11-28", "2026-11-28"),
    (field("time"), "09:30", "09:30", "09:30"),
    (field("datetime"), "2026-11-28T09:30:00+08:00", "2026-11-28T09:30:00+08:00",
     "2026-11-28T09:30:00+08:00"),
    (field("boolean"), True, "是", True),
    (field("boolean"), False, "否", False),
    (LEVEL, "A", "A", "A"),
    (TAGS, ["B", "A"], "B;A", ["B", "A"]),
    (field("lookup", to="x"), "01M8G8GSZQNQVV21PHH07GT5K9",
     "01M8G8GSZQNQVV21PHH07GT5K9", "01M8G8GSZQNQVV21PHH07GT5K9"),
    (field("file"), ["a1", "b2"], '["a1","b2"]', ["a1", "b2"]),
    (field("area"), {"province": "广东省", "city": "深圳市", "district": None},
     '{"province":"广东省","city":"深圳市","district":null}',
     {"province": "广东省", "city": "深圳市", "district": None}),
    (field("location"), {"lat": 22.5, "lng": 113.9, "address": "科技园"},
     '{"lat":22.5,"lng":113.9,"address":"科技园"}',
     {"lat": 22.5, "lng": 113.9, "address": "科技园"}),
    (ITEMS, [{"id": "r1", "qty": 2, "line": 2}], '[{"id":"r1","qty":2,"line":2}]',
     [{"id": "r1", "qty": 2}]),  # the computed sub-field is not written back
]


@pytest.mark.parametrize(("doc", "value", "cell", "back"), ROUND_TRIPS)
def test_round_trip(doc: dict[str, Any], value: Any, cell: Any, back: Any) -> None:
    written = to_cell(doc, value, "zh")
    assert written == cell and type(written) is type(cell)
    assert from_cell(doc, cell_text(written), TZ) == back
    assert same_value(doc, back, value)


def test_empty_values_are_empty_cells_and_back() -> None:
    for doc in (field("text"), TAGS, field("file"), ITEMS, field("number")):
        assert to_cell(doc, None, "zh") is None
        assert to_cell(doc, [], "zh") is None
        assert from_cell(doc, "", TZ) is None
        assert cell_text(None) == ""


def test_english_booleans_and_quotes() -> None:
    assert to_cell(field("boolean"), True, "en") == "yes"
    quote = field("quote", via="parent", field="x")
    assert to_cell(quote, 12.5, "zh") == Decimal("12.5")
    assert to_cell(quote, False, "en") == "no"
    assert to_cell(quote, ["a"], "zh") == '["a"]'
    assert to_cell(quote, "甲", "zh") == "甲"


@pytest.mark.parametrize(("doc", "text", "value"), [
    (field("currency"), "1,234.50", Decimal("1234.50")),
    (field("currency"), "¥ 1,000", Decimal("1000")),
    (field("percent"), "12.5%", Decimal("12.5")),
    (field("date"), "2026/1/5", "2026-01-05"),
    (field("date"), "2026年1月5日", "2026-01-05"),
    (field("date"), "2026-01-05 00:00:00", "2026-01-05"),
    (field("time"), "9:30", "09:30"),
    (field("time"), "09:30:15", "09:30:15"),
    (field("datetime"), "2026-11-28 09:30:00", "2026-11-28T09:30:00+08:00"),
    (field("datetime"), "2026/11/28 09:30", "2026-11-28T09:30:00+08:00"),
    (field("datetime"), "2026-11-28", "2026-11-28T00:00:00+08:00"),
    (field("datetime"), "2026-11-28T01:30:00Z", "2026-11-28T01:30:00+00:00"),
    (field("boolean"), "TRUE", True),
    (field("boolean"), "0", False),
    (field("boolean"), "yes", True),
    (LEVEL, "乙级", "B"),
    (LEVEL, "Class A", "A"),
    (TAGS, "A；乙级;A", ["A", "B"]),
    (field("file"), "a1; b2", ["a1", "b2"]),
    (field("area"), "广东省/深圳市/南山区",
     {"province": "广东省", "city": "深圳市", "district": "南山区"}),
    (field("area"), "北京市", {"province": "北京市", "city": None, "district": None}),
])
def test_what_people_type_is_read_too(doc: dict[str, Any], text: str,
                                      value: Any) -> None:
    assert from_cell(doc, text, TZ) == value


@pytest.mark.parametrize(("doc", "text", "message"), [
    (field("number"), "很多", "'很多' is not a number"),
    (field("number"), "NaN", "'NaN' is not a number"),
    (field("date"), "28.11.2026x", "a date looks like 2026-11-28"),
    (field("date"), "2026-02-30", "a date looks like 2026-11-28"),
    (field("date"), "2026-01-05 09:30", "a date has no time of day"),
    (field("time"), "9.30", "a time looks like 09:30"),
    (field("datetime"), "tomorrow", "a date-time looks like"),
    (field("boolean"), "maybe", "'maybe' should be yes or no"),
    (LEVEL, "C", "'C' is not one of the options (A, B)"),
    (TAGS, "A;Z", "'Z' is not one of the options"),
    (ITEMS, "{not json", "must be a JSON array"),
    (field("location"), "[1, 2]", "must be a JSON object"),
    (field("area"), "a/b/c/d", "an area looks like province/city/district"),
])
def test_bad_cells_say_what_is_wrong(doc: dict[str, Any], text: str,
                                     message: str) -> None:
    with pytest.raises(ValueProblem) as problem:
        from_cell(doc, text, TZ)
    assert message in both(problem.value.message)["en"]
    assert both(problem.value.message)["zh"]


def test_numbers_compare_as_numbers() -> None:
    money = field("currency")
    assert same_value(money, Decimal("12.50"), 12.5)
    assert same_value(money, Decimal("0.1"), 0.1)
    assert not same_value(money, Decimal("0.2"), 0.1)
    assert same_value(TAGS, None, [])
    assert not same_value(field("text"), "a", None)


def test_cell_text_of_exact_numbers() -> None:
    assert cell_text(Decimal("1234.50")) == "1234.5"
    assert cell_text(Decimal("1E+2")) == "100"
    assert cell_text(Decimal("0")) == "0"
    assert cell_text(" 好 ") == "好"


def test_headers_name_the_column_and_say_what_is_imported() -> None:
    client = {"api_name": "client", "type": "lookup", "to": "client",
              "label": {"zh": "客户", "en": "Client"}}
    assert Column("client.name", client, "name", "client").header("zh") == \
        "客户 (client.name)"
    assert Column("client", client, "value", "client").header("en") == \
        "Client ID (client)"
    assert Column("level", LEVEL).header("en") == "Level (level)"
    assert Column("level", LEVEL).imported
    assert not Column("total", field("formula", returns="number",
                                     expression="1")).imported
    assert not Column("owner", SYSTEM_COLUMNS["owner"], "value", "user").imported
    assert Column("version", SYSTEM_COLUMNS["version"]).imported


def test_json_cells_keep_the_apis_key_order() -> None:
    # PostgreSQL's JSONB gives the keys back in its own order
    stored = {"city": "深圳市", "district": None, "province": "广东省"}
    assert to_cell(field("area"), stored, "zh") == \
        '{"province":"广东省","city":"深圳市","district":null}'
    assert to_cell(field("location"), {"lng": 1.5, "address": None, "lat": 2},
                   "zh") == '{"lat":2,"lng":1.5,"address":null}'
