import datetime as dt
import itertools
import json
import random
from decimal import Decimal

import pytest

from propolis.metadata.normalize import normalize_field, normalize_object
from propolis.platform.errors import both
from propolis.platform.fields.files import file_accepted, file_problem
from propolis.platform.fields.registry import field_type
from propolis.platform.fields.schema import object_schema
from propolis.platform.fields.values import ValueProblem, decimal_json, to_json_value
from propolis.platform.records.schema import make_validator
from tests.common.texts import field_texts, texts

TZ = "Asia/Shanghai"


def from_json(field: dict, value: object) -> object:
    return field_type(field).from_json(field, value)


def to_json(field: dict, value: object, tz: str) -> object:
    return field_type(field).to_json(field, value, tz)


def to_column(field: dict, value: object) -> object:
    return field_type(field).to_column(field, value)


def from_column(field: dict, value: object) -> object:
    return field_type(field).from_column(field, value)


def search_words(field: dict, value: object) -> str:
    return field_type(field).search_words(field, value)


def field(type_: str, **kw: object) -> dict:
    return normalize_field({"api_name": "f", "type": type_, **kw})


@pytest.mark.parametrize("value, text", [
    (Decimal("0.1"), "0.1"), (Decimal("0.30"), "0.3"), (Decimal("12.00"), "12"),
    (Decimal("-5.25"), "-5.25"), (Decimal("123456789012.34"), "123456789012.34"),
    (Decimal("99999999999999999999"), "99999999999999999999"),
])
def test_decimals_become_json_numbers_with_the_same_digits(value: Decimal,
                                                           text: str) -> None:
    assert json.dumps(decimal_json(value)) == text


def test_numbers_in_are_exact_and_rounded_half_up_to_the_precision() -> None:
    money = field("currency", precision=2)
    assert from_json(money, 0.1) == Decimal("0.10")
    assert from_json(money, 1.005) == Decimal("1.01")  # not 1.00 as binary 1.005 is
    assert from_json(money, 2.675) == Decimal("2.68")
    assert from_json(money, 7) == Decimal("7.00")
    assert from_json(field("percent"), 12.5) == Decimal("12.50")
    assert from_json(field("number", precision=0), Decimal("2.5")) == Decimal("3")


def test_dates_times_and_datetimes() -> None:
    assert from_json(field("date"), "2026-11-28") == dt.date(2026, 11, 28)
    assert from_json(field("time"), "09:30") == dt.time(9, 30)
    assert to_json(field("time"), dt.time(9, 30), TZ) == "09:30"
    assert to_json(field("time"), dt.time(9, 30, 15), TZ) == "09:30:15"
    moment = from_json(field("datetime"), "2026-11-28T09:30:00+08:00")
    assert moment == dt.datetime(2026, 11, 28, 1, 30, tzinfo=dt.UTC)
    assert to_json(field("datetime"), moment, TZ) == "2026-11-28T09:30:00+08:00"
    assert to_json(field("datetime"), moment, "UTC") == "2026-11-28T01:30:00+00:00"
    with pytest.raises(ValueProblem):
        from_json(field("datetime"), "2026-11-28T09:30:00")  # naive
    with pytest.raises(ValueProblem):
        from_json(field("date"), "2026-02-30")


def test_richtext_is_sanitised() -> None:
    html = '<p onclick="x()">hi <b>there</b><script>alert(1)</script></p>'
    assert from_json(field("richtext"), html) == "<p>hi <b>there</b></p>"
    assert search_words(field("richtext"), "<p>hi <b>there</b></p>") == "hi there"


def test_json_columns_store_sql_null_for_empty_values() -> None:
    tags = field("multiselect", options=["a"])
    assert from_json(tags, []) is None
    assert to_column(tags, None) is not None  # sqlalchemy.null(), not None -> 'null'
    assert to_json(tags, None, TZ) == []
    assert to_json(field("file"), None, TZ) == []
    assert to_json(field("area"), None, TZ) is None


def test_location_and_area() -> None:
    place = from_json(field("location"), {"lat": 31.2304, "lng": 121.4737})
    assert place == {"lat": Decimal("31.2304"), "lng": Decimal("121.4737"),
                     "address": None}
    stored = to_column(field("location"), place)
    assert stored == {"lat": 31.2304, "lng": 121.4737, "address": None}
    assert to_json(field("location"), from_column(field("location"), stored), TZ) == {
        "lat": 31.2304, "lng": 121.4737, "address": None}
    area = from_json(field("area"), {"province": "浙江省", "city": "杭州市"})
    assert area == {"province": "浙江省", "city": "杭州市", "district": None}


def test_to_json_value_handles_nested_values() -> None:
    value = {"a": [Decimal("1.50"), dt.date(2026, 1, 2)], "b": None}
    assert to_json_value(value) == {"a": [1.5, "2026-01-02"], "b": None}
    with pytest.raises(TypeError):
        to_json_value(object())


def test_search_words_include_option_labels() -> None:
    tags = field("multiselect", options=[{"value": "vip",
                                          "label": {"zh": "重要", "en": "VIP"}}])
    assert search_words(tags, ["vip"]) == "vip 重要 VIP"
    assert search_words(field("lookup", to="x"), "01ABC") == ""


def test_schema_reports_every_error_at_once_in_both_languages() -> None:
    fields = [
        field("text", api_name="name", required=True, max_length=5),
        field("currency", api_name="amount", min=0),
        field("select", api_name="level", options=["A", "B"]),
        field("datetime", api_name="at"),
        field("email", api_name="mail"),
        field("url", api_name="site"),
        field("time", api_name="clock"),
        field("table", api_name="items", fields=[
            {"api_name": "qty", "type": "number", "required": True, "min": 1}]),
    ]
    validator = make_validator(object_schema(fields, create=True))
    errors = validator.errors({
        "amount": -1, "level": "Z", "at": "2026-11-28T09:30:00",
        "mail": "nope", "site": "javascript:alert(1)", "clock": "25:00",
        "items": [{"qty": 1}, {"qty": 0}, {}],
    })
    assert set(errors) == {"name", "amount", "level", "at", "mail", "site", "clock",
                           "items"}
    errors = field_texts(errors)
    assert errors["name"] == [{"zh": "必填", "en": "is required"}]
    assert errors["amount"][0]["en"] == "must be at least 0"
    assert "offset" in errors["at"][0]["en"]
    assert {m["en"] for m in errors["items"]} == {"row 2 qty: must be at least 1",
                                                  "row 3 qty: is required"}
    assert validator.errors({"name": "ok"}) == {}
    assert texts(validator.errors({"name": "toolong"})["name"])[0]["zh"] == \
        "最多 5 个字符"


def test_update_schema_does_not_require_absent_fields_but_refuses_null() -> None:
    fields = [field("text", api_name="name", required=True)]
    validator = make_validator(object_schema(fields, create=False))
    assert validator.errors({}) == {}
    assert texts(validator.errors({"name": None})["name"]) == [
        {"zh": "必填", "en": "is required"}]
    assert texts(validator.errors({"name": ""})["name"]) == [
        {"zh": "必填", "en": "is required"}]


CANDIDATES = [None, True, False, 0, -1, 1.5, 10**20, Decimal("2.50"), "", "x",
              "x" * 300, "A", "vip", "p", "zj", "2026-11-28", "2026-02-30",
              "2026-11-28T09:30:00+08:00", "2026-11-28T09:30:00", "09:30", "9:30",
              "a@b.cn", "a@b", "https://x.cn", "ftp://x.cn", "+86 138-0000", "call",
              [], ["vip"], ["vip", "vip"], ["p", "q"], [1], [{}], {},
              {"province": "浙江"}, {"province": ""}, {"city": "x"},
              {"lat": 1, "lng": 2}, {"lat": 91, "lng": 0}, {"lat": 1},
              [{"qty": 1}], [{"qty": 0}], [{"qty": 1, "id": None, "x": 1}], [{}]]


def test_fast_check_agrees_with_jsonschema() -> None:
    from tests.common.records import CUSTOMER, ORDER, SAMPLE

    rng = random.Random(7)
    compared = 0
    for doc in (CUSTOMER, ORDER, SAMPLE):
        fields = normalize_object(doc)["fields"]
        for create in (True, False):
            validator = make_validator(object_schema(fields, create=create))
            names = list(validator.schema["properties"])
            documents = [{n: v} for n, v in itertools.product(names, CANDIDATES)]
            documents += [{n: rng.choice(CANDIDATES) for n in rng.sample(
                names, rng.randint(0, len(names)))} for _ in range(300)]
            for data in documents:
                assert validator.is_valid(data) == validator.validator.is_valid(data), (
                    doc["api_name"], data)
                compared += 1
    assert compared > 2000


@pytest.mark.parametrize(("accept", "name", "content_type", "ok"), [
    ([], "a.exe", "application/x-msdownload", True),
    (["image/*"], "a.png", "image/png", True),
    (["image/*"], "a.png", "application/octet-stream", False),
    (["image/*"], "a.pdf", "imagex/pdf", False),
    ([".pdf"], "合同.PDF", "application/octet-stream", True),
    ([".pdf"], "a.pdf.exe", "application/pdf", False),
    (["application/pdf"], "a", "Application/PDF; charset=binary", True),
    (["*/*"], "a", "text/plain", True),
    (["text/plain", ".csv"], "a.csv", "application/vnd.ms-excel", True),
])
def test_accept_matches_names_and_types_as_file_inputs_do(
    accept: list[str], name: str, content_type: str, ok: bool
) -> None:
    assert file_accepted(accept, name, content_type) is ok


def test_a_file_over_the_size_limit_names_the_limit() -> None:
    image = normalize_field({"api_name": "p", "type": "image", "max_size_mb": 2})
    mb = 1024 * 1024
    assert file_problem(image, "a.png", 2 * mb, "image/png") is None
    assert both(file_problem(image, "a.png", 2 * mb + 1, "image/png")) == {
        "zh": "文件「a.png」超过 2 MB 的上限",
        "en": "file 'a.png' is larger than the 2 MB limit"}
    assert both(file_problem(image, "a.txt", 10, "text/plain")) == {
        "zh": "文件「a.txt」的类型不在允许的范围内（image/*）",
        "en": "file 'a.txt' is not of an accepted type (image/*)"}
