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
