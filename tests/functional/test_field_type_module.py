"""A field type defined in this one module, ``rating`` (a whole number of stars,
1 to the definition's ``scale``), works everywhere once registered: metadata
validation and its schema, create and read, filters and sorting, CSV export and
import, the OpenAPI document and the record pages. Registered for each test only:
no other test sees it."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import lxml.html
import pytest
from webtest import TestApp

from propolis.metadata import MetadataError, fieldtypes, validate_documents
from propolis.metadata.checks import Checks
from propolis.metadata.errors import PathPart, Text, quote
from propolis.metadata.expressions.typecheck import NUMBER, CelType
from propolis.metadata.fieldtypes import Scope
from propolis.platform.fields.base import ColumnSpec, Field, FieldType, Schema
from propolis.platform.fields.cells import bad, number_cell
from propolis.platform.fields.registry import registered
from propolis.platform.fields.values import ValueProblem, to_decimal
from tests.common.accounts import browser, web_login
from tests.common.api import ApiClient, Tenant, error, login_admin, url


class Rating(FieldType):
    """A rating: 1 to ``scale`` stars (5 unless the definition says)."""

    name = "rating"
    description = {"zh": "评分：1 到 5 颗星", "en": "Rating: 1 to 5 stars"}
    value_kind = "number"
    keys = {"scale": {"type": "integer", "minimum": 3, "maximum": 10},
            "default": {"type": "integer", "minimum": 1}}
    filter_ops = frozenset({"eq", "ne", "gt", "gte", "lt", "lte", "in", "between",
                            "isnull"})
    sortable = True

    def normalize(self, field: dict[str, Any]) -> None:
        field.setdefault("scale", 5)

    def check(self, checks: Checks, field: Field, raw: Field,
              here: tuple[PathPart, ...], scope: Scope, owner: Text,
              object_name: str, *, in_record: bool) -> None:
        default = field["default"]
        if default is not None and default > field["scale"]:
            checks.add((*here, "default"), "maximum", value=quote(default),
                       limit=field["scale"])

    def cel_type(self, field: Field) -> CelType:
        return NUMBER

    def column(self, field: Field) -> ColumnSpec | None:
        return ColumnSpec("decimal", 0)

    def value_schema(self, field: Field) -> Schema:
        return {"type": "integer", "minimum": 1, "maximum": field["scale"]}

    def parse(self, field: Field, value: Any) -> Any:
        return to_decimal(value)

    def operand(self, field: Field, value: Any, column: Any) -> Any:
        number = to_decimal(value)
        if number != number.to_integral_value():
            raise ValueProblem({"zh": "应为整数", "en": "must be a whole number"})
        return number

    def cursor_value(self, field: Field, value: Any, column: Any) -> Any:
        return Decimal(value)

    def to_cell(self, field: Field, value: Any, lang: str) -> Any:
        return number_cell(value)

    def from_cell(self, field: Field, text: str, tz: str) -> Any:
        stars = text.strip().rstrip("★☆ ")
        if not stars.isdigit():
            raise bad({"zh": f"「{text}」不是星数",
                       "en": f"{text!r} is not a number of stars"})
        return int(stars)

    def same_value(self, field: Field, new: Any, old: Any) -> bool:
        return new == old


REVIEW = {"label": {"zh": "评价", "en": "Review"}, "fields": [
    {"api_name": "title", "type": "text", "required": True},
    {"api_name": "stars", "type": "rating", "label": {"zh": "星级", "en": "Stars"},
     "required": True},
    {"api_name": "fine", "type": "rating", "scale": 10, "default": 7},
]}


@pytest.fixture
def rating() -> Iterator[FieldType]:
    with registered(Rating) as rating:
        yield rating


@pytest.fixture
def admin(app: TestApp, enterprise: Callable[..., Tenant], rating: FieldType
          ) -> ApiClient:
    client = login_admin(app, enterprise())
    client.define("review", REVIEW)
    return client


def reviews(admin: ApiClient, **body: Any) -> list[tuple[str, int]]:
    found = admin.query("review", **body)["records"]
    return [(r["title"], r["stars"]) for r in found]


def test_metadata_knows_the_type_only_while_it_is_registered() -> None:
    doc = {"kind": "object", "api_name": "review", "fields": REVIEW["fields"]}
    with registered(Rating):
        [review] = validate_documents([doc])
        assert review["fields"][1]["scale"] == 5  # the type's default
        with pytest.raises(MetadataError) as refused:
            validate_documents([{**doc, "fields": [
                {"api_name": "stars", "type": "rating", "scale": 11,
                 "precision": 2}]}])
        assert sorted(p.code for p in refused.value.problems) == [
            "maximum", "unknown_key"]
    assert "rating" not in fieldtypes.type_names()
    with pytest.raises(MetadataError) as refused:
        validate_documents([doc])
    assert [(p.code, p.path) for p in refused.value.problems] == [
        ("enum", "fields[1].type"), ("enum", "fields[2].type")]


def test_definitions_are_checked_through_the_api(app: TestApp,
                                                 enterprise: Callable[..., Tenant],
                                                 rating: FieldType) -> None:
    client = login_admin(app, enterprise(), lang="en")
    refused = error(client.put("/metadata/objects/review", {"fields": [
        {"api_name": "stars", "type": "rating", "scale": 5, "default": 6}]},
        status=400))
    assert list(refused["fields"]) == ["fields[0].default"]


def test_create_read_and_refuse(admin: ApiClient) -> None:
    made = admin.create("review", {"title": "好", "stars": 4})
    assert (made["stars"], made["fine"]) == (4, 7)
    assert admin.read("review", made["id"])["stars"] == 4
    for wrong in (6, 0, 2.5, "4"):
        refused = error(admin.post("/objects/review/records",
                                   {"title": "差", "stars": wrong}, status=400))
        assert list(refused["fields"]) == ["stars"]
    changed = admin.patch(f"/objects/review/records/{made['id']}",
                          {"stars": 5, "version": made["version"]}, status=200).json
    assert changed["stars"] == 5


def test_filter_and_sort(admin: ApiClient) -> None:
    for title, stars in (("a", 2), ("b", 5), ("c", 4), ("d", 5)):
        admin.create("review", {"title": title, "stars": stars})
    assert reviews(admin, filters=[{"field": "stars", "op": "gte", "value": 4}],
                   sort=["stars", "title"]) == [("c", 4), ("b", 5), ("d", 5)]
    assert reviews(admin, filters=[{"field": "stars", "op": "in", "value": [2, 4]}],
                   sort=["-stars"]) == [("c", 4), ("a", 2)]
    # pages after the first continue from the cursor's stars
    first = admin.query("review", sort=["-stars", "title"], limit=2)
    rest = admin.query("review", sort=["-stars", "title"], limit=2,
                       cursor=first["next_cursor"])["records"]
    assert [r["title"] for r in first["records"]] == ["b", "d"]
    assert [r["title"] for r in rest] == ["c", "a"]
    refused = error(admin.post("/objects/review/query", {"filters": [
        {"field": "stars", "op": "contains", "value": 4}]}, status=400))
    assert list(refused["fields"]) == ["stars"]
    refused = error(admin.post("/objects/review/query", {"filters": [
        {"field": "stars", "op": "eq", "value": 4.5}]}, status=400))
    assert list(refused["fields"]) == ["stars"]


def test_csv_export_and_import(admin: ApiClient) -> None:
    made = admin.create("review", {"title": "好", "stars": 4})
    exported = admin.post("/objects/review/export", {}, status=200)
    rows = list(csv.reader(io.StringIO(exported.body.decode("utf-8-sig"))))
    header = [h.rsplit("(", 1)[1].rstrip(")") for h in rows[0]]
    assert rows[1][header.index("stars")] == "4"
    rows[1][header.index("stars")] = "3★"
    new = [""] * len(header)
    new[header.index("title")], new[header.index("stars")] = "新", "5"
    bad_row = list(new)
    bad_row[header.index("stars")] = "很好"
    out = io.StringIO()
    csv.writer(out).writerows([rows[0], rows[1], new, bad_row])
    report = admin.app.post(
        url("/objects/review/import"), headers=admin.headers(),
        upload_files=[("file", "reviews.csv", out.getvalue().encode())],
        status=200).json
    assert (report["updated"], report["created"], report["failed"]) == (1, 1, 1)
    assert admin.read("review", made["id"])["stars"] == 3
    assert reviews(admin, filters=[{"field": "title", "op": "eq", "value": "新"}]
                   ) == [("新", 5)]


def test_openapi_describes_the_values(admin: ApiClient) -> None:
    document = admin.get("/openapi.json", status=200).json
    schemas = document["components"]["schemas"]
    assert schemas["reviewInput"]["properties"]["stars"] == {
        "type": "integer", "minimum": 1, "maximum": 5, "title": "星级"}
    assert schemas["review"]["properties"]["fine"] == {
        "type": ["integer", "null"], "minimum": 1, "maximum": 10, "title": "fine"}
    query = schemas["reviewQuery"]["properties"]
    assert "stars" in query["filters"]["items"]["properties"]["field"]["enum"]
    assert "-stars" in query["sort"]["items"]["enum"]


def test_the_pages_show_it(app: TestApp, enterprise: Callable[..., Tenant],
                           rating: FieldType) -> None:
    tenant = enterprise()
    api = login_admin(app, tenant)
    api.define("review", REVIEW)
    made = api.create("review", {"title": "好", "stars": 4})
    page = browser(app)
    web_login(page, tenant)
    detail = lxml.html.fromstring(page.get(f"/o/review/r/{made['id']}").text)
    # no input of its own on the pages: shown as it is
    assert [o.text for o in detail.xpath('//output[@id="stars"]')] == ["4"]
    listed = lxml.html.fromstring(page.get("/o/review").text)
    assert "4" in [c.text_content().strip() for c in listed.xpath("//td")]
