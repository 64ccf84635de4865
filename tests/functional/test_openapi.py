"""``GET /api/v1/openapi.json``: a valid OpenAPI 3.1 document generated from the
enterprise's metadata, whose schemas describe what the API really takes and
returns, built once per metadata version and language."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from webtest import TestApp

from propolis.platform.api import openapi
from propolis.platform.db import Database
from propolis.platform.tenancy.services import current_version, effective_for
from tests.common.api import ApiClient, Tenant, error, login_admin

CONTRACT_OPS = ["between", "contains", "eq", "gt", "gte", "in", "isnull", "lt",
                "lte", "ne", "startswith"]

ITEM = {
    "label": {"zh": "物料", "en": "Item"},
    "fields": [
        {"api_name": "name", "type": "text", "required": True,
         "label": {"zh": "名称", "en": "Name"}},
        {"api_name": "price", "type": "currency", "precision": 2,
         "label": {"zh": "单价", "en": "Price"}},
    ],
}
ORDER = {
    "label": {"zh": "订单", "en": "Order"},
    "fields": [
        {"api_name": "title", "type": "text", "required": True, "max_length": 50,
         "label": {"zh": "标题", "en": "Title"}, "help": {"zh": "简短", "en": "Short"}},
        {"api_name": "stage", "type": "select", "options": ["new", "won"]},
        {"api_name": "tags", "type": "multiselect", "options": ["a", "b"]},
        {"api_name": "item", "type": "lookup", "to": "item",
         "label": {"zh": "物料", "en": "Item"}},
        {"api_name": "item_price", "type": "quote", "via": "item", "field": "price",
         "label": {"zh": "物料单价", "en": "Item price"}},
        {"api_name": "lines", "type": "table", "label": {"zh": "明细", "en": "Lines"},
         "fields": [
             {"api_name": "qty", "type": "number", "precision": 0, "required": True,
              "label": {"zh": "数量", "en": "Quantity"}},
             {"api_name": "price", "type": "currency", "precision": 2},
             {"api_name": "line", "type": "formula", "returns": "currency",
              "expression": "qty * price"}]},
        {"api_name": "total", "type": "formula", "returns": "currency",
         "label": {"zh": "合计", "en": "Total"},
         "expression": "sum(lines.map(l, l.qty * l.price))"},
        {"api_name": "code", "type": "autonumber", "format": "D{seq:3}"},
        {"api_name": "due", "type": "date"},
        {"api_name": "place", "type": "location"},
    ],
}


@pytest.fixture
def tenant(enterprise: Callable[..., Tenant]) -> Tenant:
    return enterprise()


@pytest.fixture
def admin(app: TestApp, tenant: Tenant) -> ApiClient:
    api = login_admin(app, tenant)
    api.define("item", ITEM)
    api.define("purchase", ORDER)
    return api


def schemas(document: dict[str, Any]) -> dict[str, Any]:
    return document["components"]["schemas"]


def validator(document: dict[str, Any], name: str) -> Draft202012Validator:
    """A validator of one component schema, its references resolved in the
    document (JSON Schema 2020-12 is OpenAPI 3.1's dialect)."""
    registry: Registry[Any] = Registry().with_resource(
        "urn:openapi", Resource.from_contents(document, DRAFT202012))
    return Draft202012Validator(
        {"$ref": f"urn:openapi#/components/schemas/{name}"}, registry=registry)


def test_the_document_is_valid_openapi_3_1(admin: ApiClient) -> None:
    response = admin.get("/openapi.json", status=200)
    assert response.content_type == "application/json"
    document = response.json
    validate(document)  # raises on any violation of the OpenAPI 3.1 schema
    assert document["openapi"] == "3.1.0"
    assert document["info"]["title"] == "Propolis 接口"
    assert document["servers"] == [{"url": "/api/v1"}]
    assert document["components"]["securitySchemes"] == {
        "bearer": {"type": "http", "scheme": "bearer"}}
    assert document["security"] == [{"bearer": []}]
    assert document["paths"]["/session"]["post"]["security"] == []
    for name in ("department", "user", "item", "purchase"):
        base = f"/objects/{name}"
        assert set(document["paths"][f"{base}/records/{{id}}"]) == {
            "parameters", "get", "patch", "delete"}
        assert set(document["paths"][f"{base}/records"]) == {"post"}
        assert set(document["paths"][f"{base}/query"]) == {"post"}
        assert set(document["paths"][f"{base}/records/{{id}}/restore"]) == {
            "parameters", "post"}
        assert set(document["paths"][f"{base}/records/{{id}}/history"]) == {
            "parameters", "get"}
        for suffix in ("", "/deleted"):
            assert set(document["paths"][base + suffix]) == {"get"}
        assert {name, f"{name}Input", f"{name}Patch", f"{name}Query",
                f"{name}Page"} <= set(schemas(document))
    create = document["paths"]["/objects/purchase/records"]["post"]
    assert create["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/purchaseInput"}
    assert create["responses"]["201"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/purchase"}
    patch = document["paths"]["/objects/purchase/records/{id}"]["patch"]
    assert patch["responses"]["409"] == {"$ref": "#/components/responses/Conflict"}
    assert document["components"]["responses"]["Conflict"]["content"] == {
        "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    assert schemas(document)["Filter"]["properties"]["op"] == {"enum": CONTRACT_OPS}
    error_schema = schemas(document)["Error"]["properties"]["error"]
    assert error_schema["required"] == ["code", "message", "fields"]


def test_object_schemas_follow_the_metadata(admin: ApiClient) -> None:
    document = admin.get("/openapi.json", status=200).json
    out = schemas(document)["purchase"]
    given = schemas(document)["purchaseInput"]
    assert out["title"] == "订单" and given["title"] == "新建订单"
    props = out["properties"]
    # computed fields are read-only in the output and absent from the input
    assert {n for n, p in props.items() if p.get("readOnly")} == {
        "id", "item_price", "total", "code", "owner", "owner_department",
        "created_by", "created_at", "updated_by", "updated_at", "life_status",
        "version", "deleted_at", "deleted_by"}
    assert set(given["properties"]) == {"title", "stage", "tags", "item", "lines",
                                        "due", "place"}
    assert given["required"] == ["title"]
    assert given["additionalProperties"] is False
    # labels in the caller's language as titles, help as description
    assert props["title"]["title"] == "标题"
    assert props["title"]["description"] == "简短"
    assert props["stage"]["title"] == "stage"
    assert given["properties"]["lines"]["items"]["properties"]["qty"]["title"] == "数量"
    assert given["properties"]["lines"]["items"]["required"] == ["qty"]
    # the input is the record service's own schema: limits and options included
    assert given["properties"]["title"]["maxLength"] == 50
    assert given["properties"]["stage"]["enum"] == ["new", "won", None]
    # the quote has the type of the field it shows; the formula its result's
    assert props["item_price"]["type"] == ["number", "null"]
    assert props["total"]["type"] == ["number", "null"]
    assert props["lines"]["items"]["properties"]["line"]["readOnly"] is True
    assert props["tags"]["type"] == "array"  # lists come back empty, not null
    query = schemas(document)["purchaseQuery"]
    fields = query["properties"]["filters"]["items"]["properties"]["field"]["enum"]
    assert "item_price" not in fields and "lines" not in fields
    assert {"title", "total", "id", "updated_at"} <= set(fields)
    # the system user object never shows its write-only password
    assert "password" not in schemas(document)["user"]["properties"]
    assert schemas(document)["userInput"]["properties"]["password"]["writeOnly"]

    english = admin.in_language("en").get("/openapi.json", status=200).json
    assert schemas(english)["purchase"]["properties"]["title"]["title"] == "Title"
    assert schemas(english)["purchaseInput"]["title"] == "New Order"
    assert english["info"]["title"] == "Propolis API"


def test_records_the_api_returns_match_the_schemas(admin: ApiClient) -> None:
    document = admin.get("/openapi.json", status=200).json
    item = admin.create("item", {"name": "钢板", "price": 12.5})
    body = {"title": "采购一", "stage": "won", "tags": ["a"], "item": item["id"],
            "lines": [{"qty": 2, "price": 3.25}], "due": "2026-12-01",
            "place": {"lat": 30.5, "lng": 114.3, "address": "武汉"}}
    validator(document, "purchaseInput").validate(body)
    created = admin.create("purchase", body)
    empty = admin.create("purchase", {"title": "采购二"})
    admin.delete(f"/objects/purchase/records/{empty['id']}", status=204)
    binned = admin.get("/objects/purchase/deleted", status=200).json
    output = validator(document, "purchase")
    for record in (created, empty, binned["records"][0],
                   admin.read("purchase", created["id"])):
        output.validate(record)
        # every property the API returns is described, and every required one is
        assert set(record) <= set(schemas(document)["purchase"]["properties"])
    assert set(created) == set(schemas(document)["purchase"]["required"])
    # what the input schema refuses, the API refuses too
    refused = {"title": "x", "total": 1}
    assert not validator(document, "purchaseInput").is_valid(
        refused)
    admin.post("/objects/purchase/records", refused, status=400)
    query = {"filters": [{"field": "total", "op": "gte", "value": 1}],
             "sort": ["-total"], "limit": 10}
    validator(document, "purchaseQuery").validate(query)
    assert [r["id"] for r in admin.query("purchase", **query)["records"]] == [
        created["id"]]


def test_built_once_per_version_and_language(
        admin: ApiClient, tenant: Tenant, database: Database,
        monkeypatch: pytest.MonkeyPatch) -> None:
    builds: list[tuple[int, str]] = []
    build = openapi._Builder.build

    def counting(self: openapi._Builder) -> dict[str, Any]:
        builds.append((self.effective.version, self.lang))
        return build(self)

    monkeypatch.setattr(openapi._Builder, "build", counting)
    first = admin.get("/openapi.json", status=200).json
    assert admin.get("/openapi.json", status=200).json == first
    admin.in_language("en").get("/openapi.json", status=200)
    admin.in_language("en").get("/openapi.json", status=200)
    version = first["info"]["version"]
    number = int(version.rsplit(".", 1)[1])
    assert builds == [(number, "zh"), (number, "en")]

    # a metadata change is a new version: a new document, the old one unchanged
    changed = admin.define("item", {**ITEM, "fields": [
        *ITEM["fields"], {"api_name": "weight", "type": "number", "precision": 3}]})
    second = admin.get("/openapi.json", status=200).json
    assert builds[-1] == (changed["version"], "zh")
    assert "weight" in schemas(second)["item"]["properties"]
    assert "weight" not in schemas(first)["item"]["properties"]
    account = tenant.account
    old = effective_for(database, account, number)
    assert openapi._documents[old][(account, "zh")] == first
    current = effective_for(database, account,
                            current_version(database, account))
    assert openapi.openapi_document(current, account, "zh") is \
        openapi.openapi_document(current, account, "zh")


def test_needs_a_login(app: TestApp) -> None:
    response = app.get("/api/v1/openapi.json", status=401)
    assert error(response)["code"] == "unauthenticated"
