"""Expressions meet user input through the API: regular expressions run on RE2
(linear time), and a formula that cannot be computed or stored is a 400 naming the
field, with nothing stored."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from webtest import TestApp

from tests.common.api import ApiClient, Tenant, error, login_admin

PROBE = {
    "label": {"zh": "探针", "en": "Probe"},
    "fields": [
        {"api_name": "title", "type": "textarea"},
        {"api_name": "pattern", "type": "text"},
        {"api_name": "amount", "type": "number", "precision": 2},
        {"api_name": "raw", "type": "text"},
        {"api_name": "only_as", "type": "formula", "returns": "boolean",
         "expression": "title.matches('^(a+)+$')"},
        {"api_name": "custom", "type": "formula", "returns": "boolean",
         "expression": "title.matches(pattern)"},
        {"api_name": "parsed", "type": "formula", "returns": "number",
         "expression": "int(raw)"},
        {"api_name": "scaled", "type": "formula", "returns": "currency",
         "precision": 2, "expression": "amount * 1000000000"},
    ],
}


@pytest.fixture
def api(app: TestApp, enterprise: Callable[..., Tenant]) -> ApiClient:
    client = login_admin(app, enterprise())
    client.define("probe", PROBE)
    return client


def count(api: ApiClient) -> int:
    return len(api.query("probe", limit=200)["records"])


def test_a_catastrophic_pattern_answers_at_once_on_a_long_value(api: ApiClient):
    record = api.create("probe", {"title": "a" * 20_000 + "b"})
    assert record["only_as"] is False
    record = api.create("probe", {"title": "a" * 20_000})
    assert record["only_as"] is True


def test_a_pattern_re2_refuses_at_run_time_is_a_400_naming_the_formula(
        api: ApiClient):
    response = api.post("/objects/probe/records",
                        {"title": "ab", "pattern": "a(?=b)"}, status=400)
    found = error(response)
    assert list(found["fields"]) == ["custom"]
    [message] = found["fields"]["custom"]
    assert message.startswith("无法计算：matches(): the regular expression 'a(?=b)' "
                              "is not supported")
    assert count(api) == 0
    assert api.create("probe", {"title": "ab", "pattern": "a(b)"})["custom"] is True


@pytest.mark.parametrize(("body", "field"), [
    ({"raw": "1e100000"}, "parsed"),
    ({"raw": "-1e18"}, "parsed"),
    ({"raw": "1e999999999"}, "parsed"),
    ({"amount": 10_000_000_000}, "scaled"),
])
def test_a_formula_result_out_of_range_is_a_400_naming_it(
        api: ApiClient, body: dict[str, object], field: str):
    response = api.post("/objects/probe/records", body, status=400)
    found = error(response)
    assert list(found["fields"]) == [field]
    assert found["fields"][field][0].startswith("无法计算：")
    english = api.in_language("en").post("/objects/probe/records", body, status=400)
    assert "out of range" in error(english)["fields"][field][0]
    assert count(api) == 0


def test_a_formula_result_at_the_edge_of_the_range_is_stored(api: ApiClient):
    # returns: number keeps 2 places, so 16 digits before the point
    record = api.create("probe", {"raw": "9999999999999999.4", "amount": 9_999_999})
    assert record["parsed"] == 9_999_999_999_999_999
    assert record["scaled"] == 9_999_999_000_000_000
    path = f"/objects/probe/records/{record['id']}"
    response = api.patch(path, {"raw": "1e16", "version": record["version"]},
                         status=400)
    assert error(response)["fields"] == {"parsed": [
        "无法计算：the result 1E+16 is out of range: the field holds at most "
        "9999999999999999 in magnitude"]}
    assert api.read("probe", record["id"])["parsed"] == 9_999_999_999_999_999
