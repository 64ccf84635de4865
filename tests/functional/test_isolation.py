"""No route, id or filter reaches another enterprise's data (CONTRACT §5): two
enterprises define the same objects with the same names and hold similar records;
every route is walked with one's token against the other's ids."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from pyramid.interfaces import IRoutesMapper
from webtest import TestApp

from propolis.platform.errors import AppError
from propolis.platform.records.interfaces import IRecordService
from propolis.platform.web.offline import service_request
from tests.common.api import ApiClient, Tenant, error, login, login_admin

ANY_ID = "01M8G8GSZQNQVV21PHH07GT5K9"
CUSTOMER = {
    "fields": [
        {"api_name": "name", "type": "text", "required": True, "unique": True,
         "searchable": True},
        {"api_name": "secret", "type": "text"},
        {"api_name": "parent", "type": "lookup", "to": "customer"},
        {"api_name": "files", "type": "file"},
        {"api_name": "score", "type": "formula", "returns": "number",
         "expression": "size(name)"},
    ],
}


@dataclass
class Side:
    tenant: Tenant
    api: ApiClient
    live: dict[str, Any]  # a record
    binned: dict[str, Any]  # a record in the recycle bin
    file_id: str
    job_id: str
    versions: list[int]


def make_side(app: TestApp, tenant: Tenant, word: str) -> Side:
    api = login_admin(app, tenant)
    label = {"zh": f"客户{word}", "en": f"Customer {word}"}
    api.define("customer", {**CUSTOMER, "label": label,
                            "fields": CUSTOMER["fields"][:-1]})
    file_id = api.upload(f"{word}.txt", f"only {word}".encode())["id"]
    live = api.create("customer", {"name": "华为", "secret": f"{word} 的秘密",
                                   "files": [file_id]})
    binned = api.create("customer", {"name": "腾讯", "secret": f"{word} 的旧秘密"})
    api.delete(f"/objects/customer/records/{binned['id']}", status=204)
    # the formula added to an object that has rows: a backfill job
    job_id = api.define("customer", {**CUSTOMER, "label": label})["jobs"][0]
    versions = [v["version"] for v in api.get("/metadata/versions").json["versions"]]
    return Side(tenant, api, live, binned, file_id, job_id, versions)


@pytest.fixture
def sides(app: TestApp, enterprise: Callable[..., Tenant]) -> tuple[Side, Side]:
    # the same admin phone in both: logins are per enterprise
    return (make_side(app, enterprise("甲公司"), "甲"),
            make_side(app, enterprise("乙公司"), "乙"))


def test_one_enterprise_never_reaches_the_others_records(sides: tuple[Side, Side]):
    a, b = sides
    assert a.live["id"] != b.live["id"]
    records = "/objects/customer/records"
    not_found = [
        ("get", f"{records}/{b.live['id']}"),
        ("patch", f"{records}/{b.live['id']}"),
        ("delete", f"{records}/{b.live['id']}"),
        ("get", f"{records}/{b.live['id']}/history"),
        ("get", f"{records}/{b.binned['id']}/history"),
        ("post", f"{records}/{b.binned['id']}/restore"),
        ("post", f"{records}/{b.live['id']}/restore"),
        ("get", f"/files/{b.file_id}"),
        ("get", f"/jobs/{b.job_id}"),
    ]
    for method, path in not_found:
        if method == "patch":
            response = a.api.patch(path, {"secret": "stolen"}, status=404)
        elif method == "post":
            response = a.api.post(path, {}, status=404)
        else:
            response = getattr(a.api, method)(path, status=404)
        assert error(response)["code"] == "not_found", (method, path)
        assert "乙" not in response.text, (method, path)

    # filters on the other's ids find nothing
    for flt in ({"field": "id", "op": "eq", "value": b.live["id"]},
                {"field": "id", "op": "in", "value": [b.live["id"], b.binned["id"]]},
                {"field": "secret", "op": "contains", "value": "乙"}):
        assert a.api.query("customer", filters=[flt]) == {
            "records": [], "next_cursor": None}
    assert a.api.query("customer", q="乙")["records"] == []
    # references to the other's records and files are dangling
    refused = a.api.post(records, {"name": "阿里", "parent": b.live["id"],
                                   "files": [b.file_id]}, status=400)
    assert error(refused)["fields"] == {
        "parent": ["找不到所选的记录（可能已删除）"], "files": ["找不到上传的文件"]}
    # nothing of B was touched by all of that
    assert b.api.read("customer", b.live["id"]) == b.live | {
        "score": b.api.read("customer", b.live["id"])["score"]}
    assert [r["id"] for r in b.api.get("/objects/customer/deleted").json[
        "records"]] == [b.binned["id"]]
    assert b.api.get(f"/files/{b.file_id}", status=200).body == "only 乙".encode()


def test_each_token_sees_only_its_own_enterprise(sides: tuple[Side, Side]):
    a, b = sides
    for me, other, word in ((a, b, "甲"), (b, a, "乙")):
        page = me.api.query("customer", sort=["name"])["records"]
        assert [(r["id"], r["secret"]) for r in page] == [
            (me.live["id"], f"{word} 的秘密")]
        binned = me.api.get("/objects/customer/deleted").json["records"]
        assert [r["id"] for r in binned] == [me.binned["id"]]
        assert me.api.get("/objects/customer").json["label"]["zh"] == f"客户{word}"
        users = me.api.query("user")["records"]
        assert [u["id"] for u in users] == [me.tenant.admin_id]
        departments = me.api.query("department")["records"]
        assert [d["id"] for d in departments] == [me.tenant.department_id]
        assert me.api.get(f"/jobs/{me.job_id}", status=200).json["id"] == me.job_id
        versions = me.api.get("/metadata/versions").json
        assert [v["version"] for v in versions["versions"]] == me.versions
        # the other's admin user and department are not there
        me.api.get(f"/objects/user/records/{other.tenant.admin_id}", status=404)
        me.api.get(f"/objects/department/records/{other.tenant.department_id}",
                   status=404)


def test_metadata_changes_stay_in_their_enterprise(sides: tuple[Side, Side]):
    a, b = sides
    a.api.define("supplier", {"fields": [{"api_name": "name", "type": "text"}]})
    assert "supplier" in [o["api_name"] for o in a.api.get("/objects").json["objects"]]
    assert "supplier" not in [o["api_name"] for o in
                              b.api.get("/objects").json["objects"]]
    response = b.api.post("/objects/supplier/records", {"name": "x"}, status=404)
    assert error(response)["code"] == "no_such_object"
    b.api.get("/objects/supplier", status=404)
    # rolling back to a version only the other enterprise has
    newest_of_a = a.api.get("/metadata/versions").json["current"]
    assert newest_of_a > b.api.get("/metadata/versions").json["current"]
    response = b.api.post("/metadata/objects/customer/rollback",
                          {"version": newest_of_a}, status=404)
    assert error(response)["code"] == "version_not_found"
    assert "supplier" not in b.api.get("/openapi.json").json["components"]["schemas"]


# Routes anyone may call: logging in, and what comes before having an account.
# A route joins this list only on purpose: any other must refuse anonymous calls.
OPEN_ROUTES = {"api.session": {"POST"}, "api.captcha": {"GET"},
               "api.enterprises": {"POST"}, "api.org.join": {"POST"},
               "api.org.join.info": {"GET"}}
CONTRACT_ROUTES = {
    ("DELETE", "/api/v1/session"), ("GET", "/api/v1/objects"),
    ("GET", "/api/v1/objects/customer"), ("POST", "/api/v1/objects/customer/records"),
    ("GET", f"/api/v1/objects/customer/records/{ANY_ID}"),
    ("PATCH", f"/api/v1/objects/customer/records/{ANY_ID}"),
    ("DELETE", f"/api/v1/objects/customer/records/{ANY_ID}"),
    ("GET", f"/api/v1/objects/customer/records/{ANY_ID}/history"),
    ("POST", f"/api/v1/objects/customer/records/{ANY_ID}/restore"),
    ("POST", "/api/v1/objects/customer/query"),
    ("GET", "/api/v1/objects/customer/deleted"),
    ("POST", "/api/v1/files"), ("GET", f"/api/v1/files/{ANY_ID}"),
    ("PUT", "/api/v1/metadata/objects/customer"),
    ("POST", "/api/v1/metadata/objects/customer/rollback"),
    ("GET", "/api/v1/metadata/versions"), ("GET", f"/api/v1/jobs/{ANY_ID}"),
    ("GET", "/api/v1/openapi.json"),
}


def api_routes(app: TestApp) -> tuple[list[tuple[str, str]], set[tuple[str, str]]]:
    """Every (method, path) the API serves, from the application's own
    configuration, with placeholders filled: those that need a login, and the
    (route name, method) of those that do not."""
    registry = app.app.registry
    introspector = registry.introspector
    patterns = {r.name: "/" + r.pattern.lstrip("/") for r in
                registry.getUtility(IRoutesMapper).get_routes()}
    guarded, open_ = set(), set()
    for view in introspector.get_category("views"):
        item = view["introspectable"]
        name = item["route_name"]
        if not name or not name.startswith("api."):
            continue
        permissions = [p for p in introspector.related(item)
                       if p.category_name == "permissions"]
        methods = item["request_methods"]
        path = patterns[name].replace("{object}", "customer")
        path = re.sub(r"\{[^}]+\}", ANY_ID, path)
        for method in [methods] if isinstance(methods, str) else methods:
            if permissions:
                guarded.add((method, path))
            else:
                open_.add((name, method))
    return sorted(guarded), open_


def test_every_route_needs_a_valid_token(app: TestApp,
                                         enterprise: Callable[..., Tenant]):
    tenant = enterprise()
    admin = login_admin(app, tenant)
    routes, open_ = api_routes(app)
    assert CONTRACT_ROUTES <= set(routes)
    assert open_ <= {(n, m) for n, ms in OPEN_ROUTES.items() for m in ms}
    for headers in ({}, {"Authorization": "Bearer forged-token"},
                    {"Authorization": f"Basic {admin.token}"}):
        for method, path in routes:
            response = app.request(path, method=method, headers=headers,
                                   body=b'{"name": "x", "version": 1}',
                                   content_type="application/json",
                                   expect_errors=True)
            assert response.status_int == 401, (method, path, response.status)
            assert error(response) == {"code": "unauthenticated",
                                       "message": "请先登录", "fields": {}}
            assert response.headers["WWW-Authenticate"] == "Bearer"
    # none of those requests did anything
    assert "customer" not in [o["api_name"] for o in
                              admin.get("/objects").json["objects"]]


def test_a_disabled_user_is_locked_out_at_once(app: TestApp,
                                               enterprise: Callable[..., Tenant]):
    tenant = enterprise()
    admin = login_admin(app, tenant)
    clerk = admin.create("user", {"name": "小王", "phone": "13900000001",
                                  "password": "clerk-pass-1",
                                  "main_department": tenant.department_id})
    assert "password" not in clerk
    client = login(app, tenant.account, "13900000001", "clerk-pass-1")
    assert client.get("/objects", status=200).json["objects"]
    admin.patch(f"/objects/user/records/{clerk['id']}", {"status": "disabled"},
                status=200)
    # the token issued before is refused on every kind of route
    for response in (client.get("/objects", status=401),
                     client.get(f"/objects/user/records/{clerk['id']}", status=401),
                     client.post("/objects/department/query", {}, status=401),
                     client.get("/openapi.json", status=401)):
        assert error(response)["code"] == "unauthenticated"
    response = app.post_json("/api/v1/session", {
        "account": tenant.account, "login": "13900000001",
        "password": "clerk-pass-1"}, status=401)
    assert error(response)["code"] == "login_failed"
    # disabling revoked the token (issue 10.4): enabled again, the user logs in
    # anew and the old token stays dead
    admin.patch(f"/objects/user/records/{clerk['id']}", {"status": "active"},
                status=200)
    client.get("/objects", status=401)
    login(app, tenant.account, "13900000001", "clerk-pass-1").get("/objects",
                                                                  status=200)


def test_a_users_status_is_required_and_keeps_an_admin(
        app: TestApp, enterprise: Callable[..., Tenant]):
    """Issue 10.4: ``status: null`` locked the user out for good; nothing kept
    an admin from disabling themselves or the last admin."""
    tenant = enterprise()
    admin = login_admin(app, tenant)
    clerk = admin.create("user", {"name": "小王", "phone": "13900000001",
                                  "main_department": tenant.department_id})
    path = f"/objects/user/records/{clerk['id']}"
    response = admin.patch(path, {"status": None}, status=400)
    assert error(response)["fields"] == {
        "status": ["必填：在职、待激活或已停用"]}
    assert admin.get(path).json["status"] == "active"
    refused = admin.post("/objects/user/records", {
        "name": "小李", "phone": "13900000002", "status": None}, status=400)
    assert list(error(refused)["fields"]) == ["status"]
    me = f"/objects/user/records/{tenant.admin_id}"
    response = admin.in_language("en").patch(me, {"status": "disabled"}, status=400)
    assert error(response)["fields"] == {"status": ["you cannot disable yourself"]}
    # a second admin may disable the first; then they are the last one, and
    # may not take the role away from themselves
    admin.patch(path, {"roles": ["employee", "admin"], "password": "clerk-pass-1"},
                status=200)
    other = login(app, tenant.account, "13900000001", "clerk-pass-1")
    other.patch(me, {"status": "disabled"}, status=200)
    admin.get(path, status=401)  # the first admin's token was revoked
    response = other.in_language("en").patch(path, {"roles": ["employee"]},
                                             status=400)
    assert error(response)["fields"] == {"roles": [
        "this is the only active administrator: make another user an "
        "administrator first"]}
    assert other.get(path).json["roles"] == ["employee", "admin"]


def test_the_platform_never_disables_the_last_admin(
        app: TestApp, enterprise: Callable[..., Tenant]):
    tenant = enterprise()
    with service_request(app.app.registry, tenant.account) as request:
        records = request.find_service(IRecordService)
        with pytest.raises(AppError) as refused:
            records.update("user", tenant.admin_id, {"status": "disabled"})
    assert list(refused.value.fields) == ["status"]
