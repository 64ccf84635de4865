"""The permission matrix (CONTRACT §5), through the HTTP API on every database.

A 5-level superior chain (ceo → vp → director → manager → rep), two peers on the
lowest level (rep and peer), a joint follower with edit and one with read, and a
user outside the chain; seven objects, one per data scope (own, subordinates,
department, all, each with private sharing) and one per sharing setting
(hierarchy, public_read, public_write, with scope own). Every user holds
``employee`` (read only; ``secret`` hidden, ``note`` read-only); half of them also
hold the custom role ``seller`` (create, read, edit, delete, transfer). Each user
owns one record of each object.

Every user then acts on every record, through record read, edit, delete (and
restore), transfer, history and team, the query (listing, keyword search, filters
and sorts on a hidden field), lookups and quotes, the object's description and the
OpenAPI document, and
each answer is compared with ``tests.common.permissions.allowed`` — the contract
written out independently. A denial must be a 404 identical to the one for a
random id when the user may not see the record, or the bare 403 when they may.
"""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from webtest import TestApp

from propolis.platform.db import Database
from propolis.platform.ids import new_id
from propolis.platform.tenancy.services import create_enterprise
from tests.common.api import PASSWORD, ApiClient, Tenant
from tests.common.permissions import (
    OBJECTS,
    Org,
    allowed,
    build_org,
    ids,
    visible_records,
)
from tests.conftest import unique_account

FORBIDDEN = {"error": {"code": "forbidden", "message": "没有权限", "fields": {}}}


@pytest.fixture(scope="module")
def org(app: TestApp, database: Database) -> Org:
    created = create_enterprise(database, account=unique_account("pm"),
                                name="权限矩阵", admin_phone="13800000000",
                                admin_password=PASSWORD)
    tenant = Tenant(created.account, created.enterprise_id, created.admin_id,
                    created.department_id)
    return build_org(app, tenant)


def missing(client: ApiClient, method: str, path: str, body: Any = None) -> Any:
    """The answer for a random id on the same route: what a hidden record must
    look like."""
    return call(client, method, path.replace("{id}", new_id()), body, 404).json


def call(client: ApiClient, method: str, path: str, body: Any, status: Any) -> Any:
    if method == "GET":
        return client.get(path, status=status)
    if method == "DELETE":
        return client.delete(path, status=status)
    if method == "PATCH":
        return client.patch(path, body, status=status)
    return client.post(path, body, status=status)


def check(client: ApiClient, method: str, route: str, record_id: str, body: Any,
          ok: int, expected: bool, visible: bool) -> Any:
    """One call whose answer must be ``ok``, or the denial that reveals nothing."""
    path = route.replace("{id}", record_id)
    if expected:
        return call(client, method, path, body, ok)
    response = call(client, method, path, body, 404 if not visible else 403)
    if visible:
        assert response.json == FORBIDDEN, (method, path, response.json)
    else:
        assert response.json == missing(client, method, route, body), (method, path)
    return response


@pytest.mark.parametrize("obj", list(OBJECTS))
def test_every_user_on_every_record(org: Org, obj: str) -> None:
    """Record read (with quotes), history, team, edit, read-only and hidden fields,
    transfer, delete and restore."""
    records = org.records[obj]
    base = f"/objects/{obj}/records/{{id}}"
    for user, client in org.clients.items():
        for owner, record in records.items():
            rights = allowed(org, obj, user, owner)
            visible = rights["visible"]
            rid = record["id"]
            got = check(client, "GET", base, rid, None, 200, rights["read"], visible)
            if rights["read"]:
                shown = got.json
                assert ("secret" in shown) is org.writer(user), (user, owner)
                assert shown["note"] == f"note {owner}"
                # quotes read through the lookup only what the user may read there
                target = org.key_of(next(r["owner"] for r in records.values()
                                         if r["id"] == shown["ref"]))
                readable = allowed(org, obj, user, target)["read"]
                assert shown["ref_name"] == (f"{obj} {target} common" if readable
                                             else None), (user, owner, target)
                if org.writer(user):
                    assert (shown["ref_secret"] is not None) is readable
                else:
                    assert shown["ref_secret"] is None
                history = check(client, "GET", base + "/history", rid, None, 200,
                                True, True).json["history"]
                for entry in history:
                    assert ("secret" in entry["changes"]) is (
                        org.writer(user) and entry["action"] == "create"), entry
            else:
                check(client, "GET", base + "/history", rid, None, 200, False,
                      visible)
            check(client, "GET", base + "/team", rid, None, 200, rights["read"],
                  visible)
            same = {"name": record["name"]}
            check(client, "PATCH", base, rid, same, 200, rights["edit"], visible)
            if rights["edit"]:  # the read-only field, named
                refused = client.patch(base.replace("{id}", rid),
                                       {"note": "changed"}, status=400).json
                assert refused["error"]["fields"] == {
                    "note": ["没有修改该字段的权限"]}
            check(client, "POST", base + "/transfer", rid, {"owner": record["owner"]},
                  200, rights["transfer"], visible)
            if check(client, "DELETE", base, rid, None, 204, rights["delete"],
                     visible).status_int == 204:
                client.post(base.replace("{id}", rid) + "/restore", status=200)


@pytest.mark.parametrize("obj", list(OBJECTS))
def test_queries_and_search_see_what_the_user_may_read(org: Org, obj: str) -> None:
    records = org.records[obj]
    for user, client in org.clients.items():
        expected = visible_records(org, obj, user)
        page = client.query(obj, limit=200)
        assert ids(page["records"]) == expected, user
        for shown in page["records"]:
            assert ("secret" in shown) is org.writer(user)
        # keyword search over the visible part only
        assert ids(client.query(obj, q="common", limit=200)["records"]) == expected
        # two small pages, one after the other, give the same records
        first = client.query(obj, limit=2, sort=["-updated_at"])
        seen = ids(first["records"])
        if first["next_cursor"]:
            rest = client.query(obj, limit=200, sort=["-updated_at"],
                                cursor=first["next_cursor"])
            seen |= ids(rest["records"])
        assert seen == expected
        for record in records.values():
            hits = ids(client.query(obj, q=record["secret"])["records"])
            if org.writer(user):
                assert hits == expected & {record["id"]}
            else:
                assert hits == set(), "a hidden field made a record match"
        filters = [{"field": "secret", "op": "eq", "value": "x"}]
        if org.writer(user):
            client.query(obj, filters=filters)
        else:
            for body in ({"filters": filters}, {"sort": ["secret"]}):
                refused = client.post(f"/objects/{obj}/query", body, status=400).json
                assert refused["error"]["fields"] == {"secret": ["没有这个字段"]}


@pytest.mark.parametrize("obj", list(OBJECTS))
def test_lookups_point_only_at_readable_records(org: Org, obj: str) -> None:
    records = org.records[obj]
    base = f"/objects/{obj}/records/"
    for user, client in org.clients.items():
        if not org.writer(user):
            continue
        own = records[user]
        nowhere = client.patch(base + own["id"], {"ref": new_id()}, status=400).json
        for owner, target in records.items():
            if allowed(org, obj, user, owner)["read"]:
                client.patch(base + own["id"], {"ref": target["id"]}, status=200)
            else:
                refused = client.patch(base + own["id"], {"ref": target["id"]},
                                       status=400).json
                assert refused == nowhere
        org.admin.patch(base + own["id"], {"ref": own["ref"]}, status=200)
        # a new record may not point at an unreadable one either
        for owner, target in records.items():
            if not allowed(org, obj, user, owner)["read"]:
                refused = client.post(f"/objects/{obj}/records",
                                      {"name": "x", "ref": target["id"]},
                                      status=400).json
                assert refused == nowhere
                break


@pytest.mark.parametrize("obj", list(OBJECTS))
def test_the_description_shows_the_users_fields(org: Org, obj: str) -> None:
    for user, client in org.clients.items():
        assert obj in [o["api_name"] for o in client.get("/objects").json["objects"]]
        described = client.get(f"/objects/{obj}").json
        fields = {f["api_name"]: f for f in described["fields"]}
        assert ("secret" in fields) is org.writer(user)
        assert fields["note"]["readonly"] and fields["note"]["access"] == "read"
        assert fields["name"]["access"] == ("edit" if org.writer(user) else "read")
        assert "permissions" not in described
        assert ("edit" in described["access"]["verbs"]) is org.writer(user)
        if not org.writer(user):
            for view in described["list_views"]:
                assert "secret" not in view["columns"]
            for layout in described["layouts"]:
                for section in layout["sections"]:
                    assert "secret" not in section["fields"]
    admin = org.admin.get(f"/objects/{obj}").json
    assert "seller" in admin["permissions"]


@pytest.mark.parametrize("obj", list(OBJECTS))
def test_the_openapi_document_shows_the_users_fields(org: Org, obj: str) -> None:
    for user, client in org.clients.items():
        schemas = client.get("/openapi.json").json["components"]["schemas"]
        record, new = schemas[obj]["properties"], schemas[f"{obj}Input"]
        assert ("secret" in record) is org.writer(user)
        assert ("secret" in new["properties"]) is org.writer(user)
        assert record["note"]["readOnly"] and new["properties"]["note"]["readOnly"]
        assert "note" not in new.get("required", [])
        query = schemas[f"{obj}Query"]["properties"]
        fields = query["filters"]["items"]["properties"]["field"]["enum"]
        assert ("secret" in fields) is org.writer(user)
        assert ("-secret" in query["sort"]["items"]["enum"]) is org.writer(user)
    schemas = org.admin.get("/openapi.json").json["components"]["schemas"]
    assert "readOnly" not in schemas[obj]["properties"]["secret"]


def exported(client: ApiClient, obj: str, status: int = 200, **body: Any
             ) -> list[dict[str, str]]:
    """The CSV export of ``obj`` as ``{column key: cell}`` rows (the header's
    api_names in parentheses as keys)."""
    response = client.post(f"/objects/{obj}/export", body, status=status)
    rows = list(csv.reader(io.StringIO(response.body.decode("utf-8-sig"),
                                       newline="")))
    keys = [h.rsplit("(", 1)[1].rstrip(")") for h in rows[0]]
    return [dict(zip(keys, row, strict=True)) for row in rows[1:]]


@pytest.mark.parametrize("obj", list(OBJECTS))
def test_exports_follow_the_same_rules(org: Org, obj: str) -> None:
    """Without the ``export`` verb an export (and an import) is the bare 403;
    with it, the file holds exactly the records the user may read, the columns
    of the fields they may see, and in lookup names and quotes only what they
    could read through the API."""
    records = org.records[obj]
    secrets = {r["secret"] for r in records.values()}
    for client in org.clients.values():
        assert client.post(f"/objects/{obj}/export", {}, status=403).json \
            == FORBIDDEN
        assert client.app.post(
            f"/api/v1/objects/{obj}/import", headers=client.headers(),
            upload_files=[("file", "x.csv", b"name\nx\n")], status=403
        ).json == FORBIDDEN
    roles = {user: client.get(f"/objects/user/records/{org.users[user]}").json[
        "roles"] for user, client in org.clients.items()}
    # export only: its field access is the employee's, so it widens nothing
    org.admin.put("/roles/exporter", {"label": {"zh": "导出", "en": "Exporter"},
                                      "grants": {name: {
                                          "verbs": ["export"], "scope": "own",
                                          "fields": {"secret": "hidden",
                                                     "note": "read"}}
                                          for name in OBJECTS}}, status=200)
    try:
        for user in org.clients:
            org.admin.patch(f"/objects/user/records/{org.users[user]}",
                            {"roles": [*roles[user], "exporter"]}, status=200)
        for user, client in org.clients.items():
            expected = visible_records(org, obj, user)
            by_id = {r["id"]: (owner, r) for owner, r in records.items()}
            for body in ({}, {"q": "common"}, {"sort": ["-updated_at"]}):
                rows = exported(client, obj, **body)
                assert {r["id"] for r in rows} == expected, (user, body)
            raw = client.post(f"/objects/{obj}/export", {}, status=200).text
            header = raw.splitlines()[0]
            assert ("(secret)" in header) is org.writer(user), user
            if not org.writer(user):
                assert not [s for s in secrets if s in raw], "a hidden value leaked"
            for row in exported(client, obj):
                owner, record = by_id[row["id"]]
                assert row["note"] == f"note {owner}"
                target_owner, target = by_id[record["ref"]]
                readable = allowed(org, obj, user, target_owner)["read"]
                # the lookup's name and the quotes only when the target is readable
                assert row["ref.name"] == (target["name"] if readable else "")
                assert row["ref_name"] == (target["name"] if readable else "")
                assert row["ref_secret"] == (
                    target["secret"] if readable and org.writer(user) else "")
            # a filter on a hidden field is refused as in a query
            if not org.writer(user):
                refused = client.post(f"/objects/{obj}/export", {"filters": [
                    {"field": "secret", "op": "eq", "value": "x"}]}, status=400)
                assert refused.json["error"]["fields"] == {
                    "secret": ["没有这个字段"]}
    finally:
        for user in org.clients:
            org.admin.patch(f"/objects/user/records/{org.users[user]}",
                            {"roles": roles[user]}, status=200)
        org.admin.delete("/roles/exporter", status=204)
