import multiprocessing
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import event, func, select, update

from propolis.platform.auth.passwords import verify_password
from propolis.platform.db import Database
from propolis.platform.errors import AppError, both
from propolis.platform.records.services import RecordService
from propolis.platform.storage.platform_tables import record_history
from tests.common.records import (
    NUMBERED,
    Tenant,
    autonumber_worker,
    drop_tenant,
    make_tenant,
    open_service,
)
from tests.common.texts import texts


@pytest.fixture(scope="module")
def tenant(database: Database) -> Iterator[Tenant]:
    made = make_tenant(database)
    yield made
    drop_tenant(made)


@pytest.fixture
def svc(tenant: Tenant) -> Iterator[RecordService]:
    yield from open_service(tenant)


def count(svc: RecordService, object: str) -> int:
    table = svc.effective.tables.main[object]
    return svc.session.execute(select(func.count()).select_from(table)).scalar_one()


def refused(fn: Any, *args: Any, **kw: Any) -> AppError:
    with pytest.raises(AppError) as info:
        fn(*args, **kw)
    return info.value


def test_every_field_type_round_trips(svc: RecordService, tenant: Tenant) -> None:
    product = svc.create("product", {"name": "螺丝", "price": 2.5})
    customer = svc.create("customer", {"name": "甲公司"})
    data = {
        "text1": "hello", "area_text": "line 1\nline 2", "rich": "<p>hi <b>x</b></p>",
        "num": 3.1416, "money": 1234.5, "pct": 12.5, "day": "2026-11-28",
        "clock": "09:30", "moment": "2026-11-28T09:30:00+08:00", "flag": True,
        "choice": "y", "choices": ["q", "p"], "prod": product["id"],
        "master": customer["id"],
        "rows": [{"label": "a", "amount": 1.1, "when": "2026-01-01"},
                 {"label": "b", "amount": None, "when": None}],
        "tel": "+86 138-0000-0000", "mail": "a@b.cn", "link": "https://example.com/x",
        "attachments": [tenant.file_ids[0]], "photos": [tenant.file_ids[1]],
        "place": {"lat": 31.2304, "lng": 121.4737, "address": "上海"},
        "region": {"province": "浙江省", "city": "杭州市", "district": "西湖区"},
        "person": tenant.other_user_id, "dept": tenant.department_id,
        "province": "zj", "city": "hz",
    }
    created = svc.create("sample", data)
    got = svc.get("sample", created["id"])
    assert got == created
    for name, value in data.items():
        if name != "rows":
            assert got[name] == value, name
    assert [{k: r[k] for k in ("label", "amount", "when")} for r in got["rows"]] == \
        data["rows"]
    assert all(len(r["id"]) == 26 for r in got["rows"])
    assert got["serial"] == "S001"
    assert got["twice"] == 6.2832
    assert got["prod_price"] == 2.5
    assert got["owner"] == tenant.user_id
    assert got["owner_department"] == tenant.department_id
    assert got["created_by"] == got["updated_by"] == tenant.user_id
    assert got["created_at"].endswith("+08:00")
    assert got["life_status"] == "normal" and got["version"] == 1


def test_empty_values_round_trip(svc: RecordService) -> None:
    created = svc.create("sample", {"choices": [], "attachments": [], "rows": []})
    got = svc.get("sample", created["id"])
    assert got["choices"] == got["attachments"] == got["rows"] == []
    assert got["text1"] is None and got["place"] is None and got["flag"] is None


def test_decimals_are_exact(svc: RecordService) -> None:
    order = svc.create("sales_order", {"items": [{"qty": 1, "price": 0.1},
                                                 {"qty": 1, "price": 0.2}]})
    assert order["total"] == 0.3
    assert svc.get("sales_order", order["id"])["total"] == 0.3
    table = svc.effective.tables.main["sales_order"]
    stored = svc.session.execute(select(table.c.total, table.c.third).where(
        table.c.id == order["id"])).one()
    assert stored.total == Decimal("0.30")
    assert stored.third == Decimal("0.10")  # 0.3 / 3
    money = svc.create("sample", {"money": 1.005, "num": 0.00005, "pct": 33.35})
    assert (money["money"], money["num"], money["pct"]) == (1.01, 0.0001, 33.4)


def test_formulas_use_rows_and_other_formulas(svc: RecordService) -> None:
    order = svc.create("sales_order", {"discount": 10, "items": [
        {"qty": 3, "price": 19.99}, {"qty": 2, "price": 0.5}]})
    assert [r["line"] for r in order["items"]] == [59.97, 1]
    assert order["total"] == 60.97
    assert order["net"] == 54.87  # 60.97 - 6.097 = 54.873
    assert order["third"] == 20.32
    assert order["lines"] == 2
    changed = svc.update("sales_order", order["id"], {"discount": 0}, version=1)
    assert changed["net"] == 60.97 and changed["total"] == 60.97
    assert svc.create("sales_order", {})["total"] == 0  # sum of no rows
    error = refused(svc.create, "sales_order", {"title": "boom"})
    assert error.status == 400 and list(error.fields) == ["bad"]


def test_unknown_computed_and_system_fields_are_refused(svc: RecordService) -> None:
    error = refused(svc.create, "customer", {"name": "x", "nope": 1, "total": 1,
                                             "code": "K", "contact_count": 3,
                                             "parent_level": "A", "owner": "u",
                                             "version": 3})
    assert error.status == 400
    assert texts(error.fields["nope"]) == [
        {"zh": "没有这个字段", "en": "unknown field"}]
    assert set(error.fields) == {"nope", "total", "code", "contact_count",
                                 "parent_level", "owner", "version"}
    assert count(svc, "customer") == 0


def test_schema_errors_come_all_at_once(svc: RecordService) -> None:
    error = refused(svc.create, "customer", {
        "level": "Z", "amount": -1, "tags": ["vip", "nope"], "close_date": "tomorrow",
        "phone": "call me", "score": "ten"})
    assert error.code == "invalid"
    assert set(error.fields) == {"name", "level", "amount", "tags", "close_date",
                                 "phone", "score"}
    error = refused(svc.create, "sample", {"moment": "2026-11-28 09:30:00"})
    assert "offset" in both(error.fields["moment"][0])["en"]


def test_defaults_and_owner(svc: RecordService, tenant: Tenant) -> None:
    record = svc.create("customer", {"name": "x"})
    assert record["level"] == "C"
    explicit = svc.create("customer", {"name": "y", "level": None})
    assert explicit["level"] is None
    user = svc.get("user", tenant.user_id)
    assert user["roles"] == ["employee"] and user["status"] == "active"


def test_references_must_exist(svc: RecordService, tenant: Tenant) -> None:
    product = svc.create("product", {"name": "p"})
    error = refused(svc.create, "sample", {
        "prod": "01NOSUCHRECORD0000000000", "person": "01NOSUCHUSER", "dept":
        tenant.user_id, "attachments": ["01NOSUCHFILE"],
        "rows": [{"label": "x"}]})
    assert set(error.fields) == {"prod", "person", "dept", "attachments"}
    svc.delete("product", product["id"])
    error = refused(svc.create, "sample", {"prod": product["id"]})
    assert list(error.fields) == ["prod"]
    order_error = refused(svc.create, "sales_order", {"items": [
        {"qty": 1, "product": product["id"]}]})
    assert list(order_error.fields) == ["items"]


def test_kept_reference_to_a_deleted_record_does_not_block_other_edits(
        svc: RecordService) -> None:
    product = svc.create("product", {"name": "p"})
    sample = svc.create("sample", {"prod": product["id"], "text1": "a"})
    svc.delete("product", product["id"])
    changed = svc.update("sample", sample["id"], {"text1": "b"}, version=None)
    assert changed["prod"] == product["id"] and changed["prod_price"] is None


def test_dependent_select(svc: RecordService) -> None:
    assert svc.create("sample", {"province": "js", "city": "nj"})["city"] == "nj"
    error = refused(svc.create, "sample", {"province": "js", "city": "hz"})
    assert list(error.fields) == ["city"]
    record = svc.create("sample", {"province": "zj", "city": "hz"})
    error = refused(svc.update, "sample", record["id"], {"province": "js"},
                    version=None)
    assert list(error.fields) == ["city"]


def test_unique_conflict_names_the_field_and_writes_nothing(
        svc: RecordService) -> None:
    svc.create("customer", {"name": "上海建工集团"})
    before = count(svc, "customer")
    error = refused(svc.create, "customer", {"name": "上海建工集团"})
    assert error.status == 400 and list(error.fields) == ["name"]
    assert count(svc, "customer") == before
    other = svc.create("customer", {"name": "other"})
    error = refused(svc.update, "customer", other["id"], {"name": "上海建工集团"},
                    version=None)
    assert list(error.fields) == ["name"]
    assert svc.get("customer", other["id"])["name"] == "other"


def test_unique_index_backstop_keeps_the_transaction_usable(
        svc: RecordService, monkeypatch: pytest.MonkeyPatch) -> None:
    svc.create("product", {"name": "bolt"})
    original = RecordService._check_unique
    calls = []

    def racing(self: RecordService, *args: Any, **kw: Any) -> None:
        # the first check runs before a concurrent save commits: it sees nothing
        calls.append(args)
        if len(calls) > 1:
            original(self, *args, **kw)

    monkeypatch.setattr(RecordService, "_check_unique", racing)
    before = count(svc, "product")
    error = refused(svc.create, "product", {"name": "bolt", "price": 1})
    assert error.status == 400 and list(error.fields) == ["name"]
    assert len(calls) == 2
    assert count(svc, "product") == before
    assert svc.create("product", {"name": "nut"})["name"] == "nut"


def test_records_in_the_recycle_bin_keep_their_unique_values(
        svc: RecordService) -> None:
    product = svc.create("product", {"name": "gone"})
    svc.delete("product", product["id"])
    error = refused(svc.create, "product", {"name": "gone"})
    assert "recycle bin" in both(error.fields["name"][0])["en"]


def test_stale_version_is_a_conflict(svc: RecordService) -> None:
    record = svc.create("customer", {"name": "v"})
    assert svc.update("customer", record["id"], {"score": 1}, version=1)["version"] == 2
    error = refused(svc.update, "customer", record["id"], {"score": 2}, version=1)
    assert error.status == 409 and error.code == "conflict"
    assert "version 2" in both(error.message)["en"]
    assert svc.get("customer", record["id"])["score"] == 1
    assert svc.update("customer", record["id"], {"score": 3}, version=None)[
        "version"] == 3


def test_records_under_approval_are_locked(svc: RecordService) -> None:
    record = svc.create("contact", {"name": "c"})
    table = svc.effective.tables.main["contact"]
    svc.session.execute(update(table).where(table.c.id == record["id"])
                        .values(life_status="in_review"))
    for call in (lambda: svc.update("contact", record["id"], {"name": "d"},
                                    version=None),
                 lambda: svc.delete("contact", record["id"])):
        error = refused(call)
        assert error.status == 409 and error.code == "locked"


def test_delete_restore_and_the_recycle_bin(svc: RecordService) -> None:
    error = refused(svc.delete, "customer", svc.create("customer", {"name": "k"})["id"])
    assert error.status == 403
    record = svc.create("contact", {"name": "c"})
    svc.delete("contact", record["id"])
    for call in (lambda: svc.get("contact", record["id"]),
                 lambda: svc.update("contact", record["id"], {"name": "x"},
                                    version=None),
                 lambda: svc.delete("contact", record["id"])):
        assert refused(call).status == 404
    assert svc.query("contact", filters=[])["records"] == []
    deleted = svc.list_deleted("contact", limit=10, cursor=None)
    assert [r["id"] for r in deleted["records"]] == [record["id"]]
    assert deleted["records"][0]["deleted_by"] == svc.actor.user_id
    restored = svc.restore("contact", record["id"])
    assert restored["version"] == 3 and "deleted_at" not in restored
    assert svc.get("contact", record["id"])["name"] == "c"
    assert refused(svc.restore, "contact", record["id"]).status == 404
    assert refused(svc.get, "contact", "01NOSUCH").status == 404
    assert refused(svc.get, "nothing", "x").status == 404


def test_list_deleted_pages(svc: RecordService) -> None:
    ids = [svc.create("contact", {"name": f"c{i}"})["id"] for i in range(5)]
    for record_id in ids:
        svc.delete("contact", record_id)
    seen, cursor = [], None
    while True:
        page = svc.list_deleted("contact", limit=2, cursor=cursor)
        seen += [r["id"] for r in page["records"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(ids) and len(seen) == 5


def test_history(svc: RecordService, tenant: Tenant) -> None:
    record = svc.create("sales_order", {"title": "t", "items": [
        {"qty": 1, "price": 2}]})
    row_id = record["items"][0]["id"]
    svc.update("sales_order", record["id"], {"title": "u"}, version=1)
    same = svc.update("sales_order", record["id"], {"title": "u"}, version=2)
    assert same["version"] == 2
    svc.update("sales_order", record["id"], {"items": [
        {"id": row_id, "qty": 2, "price": 2}]}, version=2)
    svc.delete("sales_order", record["id"])
    svc.restore("sales_order", record["id"])
    entries = svc.history("sales_order", record["id"])
    assert [(e["action"], e["version"]) for e in entries] == [
        ("create", 1), ("update", 2), ("update", 3), ("delete", 4), ("restore", 5)]
    assert entries[0]["changes"]["title"] == [None, "t"]
    assert entries[0]["changes"]["total"] == [None, 2]
    assert "customer" not in entries[0]["changes"]  # empty values are not news
    assert entries[1]["changes"] == {"title": ["t", "u"]}
    assert set(entries[2]["changes"]) == {"items", "total", "net", "third"} - {"net"}
    old_rows, new_rows = entries[2]["changes"]["items"]
    assert old_rows[0]["qty"] == 1 and new_rows[0]["qty"] == 2
    assert old_rows[0]["id"] == new_rows[0]["id"] == row_id
    assert entries[2]["changes"]["total"] == [2, 4]
    assert all(e["changed_by"] == tenant.user_id for e in entries)
    rows = svc.session.execute(select(func.count()).select_from(record_history).where(
        record_history.c.record_id == record["id"])).scalar_one()
    assert rows == 5


def test_table_rows_keep_their_ids(svc: RecordService) -> None:
    record = svc.create("sales_order", {"items": [
        {"qty": 1, "price": 1, "note": "a"}, {"qty": 2, "price": 1, "note": "b"}]})
    first, second = (r["id"] for r in record["items"])
    changed = svc.update("sales_order", record["id"], {"items": [
        {"id": second, "qty": 5, "price": 1, "note": "b"},
        {"qty": 1, "price": 3, "note": "c"},
        {"id": "01FOREIGNROWID00000000000", "qty": 1, "price": 1}]}, version=None)
    ids = [r["id"] for r in changed["items"]]
    assert ids[0] == second and first not in ids
    assert len(set(ids)) == 3 and "01FOREIGNROWID00000000000" not in ids
    assert [r["note"] for r in svc.get("sales_order", record["id"])["items"]] == [
        "b", "c", None]
    assert changed["total"] == 9


def test_validation_rules(svc: RecordService) -> None:
    error = refused(svc.create, "customer", {"name": "r", "close_date": "2001-01-01"})
    assert error.status == 400
    assert both(error.message) == {"zh": "结单日期不能早于创建日期",
                             "en": "Close date before creation"}
    assert "close_date" in error.fields
    assert svc.create("customer", {"name": "r", "close_date": "2999-01-01"})
    error = refused(svc.create, "sales_order", {"discount": 60, "items": [
        {"qty": 1000, "price": 2000}]})
    assert both(error.message)["en"] == "Order total too large; Discount above 50%"
    assert set(error.fields) == {"discount", "total"}


def test_rollups_follow_their_children(svc: RecordService) -> None:
    a = svc.create("customer", {"name": "a"})
    b = svc.create("customer", {"name": "b"})
    assert (a["contact_count"], a["contact_spend"], a["max_spend"]) == (0, 0, None)
    c1 = svc.create("contact", {"name": "1", "customer": a["id"], "spend": 10})
    svc.create("contact", {"name": "2", "customer": a["id"], "spend": 0.1})
    svc.create("contact", {"name": "3", "customer": a["id"]})

    def rolled(record_id: str) -> tuple[Any, ...]:
        r = svc.get("customer", record_id)
        return r["contact_count"], r["contact_spend"], r["max_spend"], r["avg_spend"]

    assert rolled(a["id"]) == (3, 10.1, 10, 5.05)
    assert svc.get("customer", a["id"])["spend_share"] == 1.01  # formula on rollup
    svc.update("contact", c1["id"], {"customer": b["id"]}, version=None)
    assert rolled(a["id"]) == (2, 0.1, 0.1, 0.1)
    assert rolled(b["id"]) == (1, 10, 10, 10)
    svc.update("contact", c1["id"], {"spend": 1.23}, version=None)
    assert rolled(b["id"]) == (1, 1.23, 1.23, 1.23)
    svc.delete("contact", c1["id"])
    assert rolled(b["id"]) == (0, 0, None, None)
    assert svc.get("customer", b["id"])["spend_share"] == 0
    svc.restore("contact", c1["id"])
    assert rolled(b["id"]) == (1, 1.23, 1.23, 1.23)
    assert svc.get("customer", b["id"])["version"] == 1  # derived, not an edit


def test_quotes_are_read_through_the_lookup_in_one_query_per_page(
        svc: RecordService) -> None:
    parent = svc.create("customer", {"name": "总公司", "level": "A"})
    children = [svc.create("customer", {"name": f"分公司{i}", "parent": parent["id"]})
                for i in range(5)]
    assert children[0]["parent_level"] == "A"
    assert children[0]["parent_name"] == "总公司"
    svc.update("customer", parent["id"], {"level": "B"}, version=None)
    assert svc.get("customer", children[1]["id"])["parent_level"] == "B"
    statements: list[str] = []
    conn = svc.session.connection()

    def log(_c: Any, _cur: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    event.listen(conn, "before_cursor_execute", log)
    try:
        page = svc.query("customer", filters=[
            {"field": "parent", "op": "eq", "value": parent["id"]}])
    finally:
        event.remove(conn, "before_cursor_execute", log)
    assert {r["parent_level"] for r in page["records"]} == {"B"}
    assert len(page["records"]) == 5
    assert len(statements) == 2  # the page, then one query for both quotes


def test_strings_are_stored_verbatim(svc: RecordService) -> None:
    odd = ["'; DROP TABLE o_customer; --", 'Robert"); --', "100% _sure_ \\",
           "👩‍💻 emoji 🎉", "名字\t带\n换行", "NULL"]
    for i, value in enumerate(odd):
        record = svc.create("sample", {"text1": value[:20], "area_text": value})
        got = svc.get("sample", record["id"])
        assert (got["text1"], got["area_text"]) == (value[:20], value), i
    assert count(svc, "sample") == len(odd)


def test_autonumbers_count_per_period(svc: RecordService) -> None:
    codes = [svc.create("ticket", {"title": str(i)})["code"] for i in range(3)]
    year = codes[0][2:6]
    assert codes == [f"T-{year}-0001", f"T-{year}-0002", f"T-{year}-0003"]
    first = svc.create("customer", {"name": "n1"})["code"]
    assert first.startswith("KH-") and first.endswith("-00001")


@pytest.mark.slow
def test_autonumbers_are_unique_across_processes(database: Database) -> None:
    tenant = make_tenant(database, [NUMBERED])
    try:
        context = multiprocessing.get_context("spawn")
        args = (database.url, database.tenant_dir, tenant.account,
                tenant.effective.version, 50)
        with context.Pool(4) as pool:
            results = pool.starmap(autonumber_worker, [args] * 4)
        codes = [c for chunk in results for c in chunk]
        assert len(codes) == 200 and len(set(codes)) == 200
        year = codes[0][2:6]
        assert sorted(codes) == [f"T-{year}-{n:04d}" for n in range(1, 201)]
    finally:
        drop_tenant(tenant)


def test_passwords_are_write_only_and_hashed(svc: RecordService,
                                             tenant: Tenant) -> None:
    user = svc.create("user", {"name": "王五", "phone": "13800000009",
                               "password": "s3cret-pass"})
    assert "password" not in user and "password" not in svc.get("user", user["id"])
    table = svc.effective.tables.main["user"]

    def stored() -> str:
        return svc.session.execute(select(table.c.password).where(
            table.c.id == user["id"])).scalar_one()

    assert verify_password(stored(), "s3cret-pass")
    changed = svc.update("user", user["id"], {"password": "other-pass"}, version=1)
    assert changed["version"] == 2 and verify_password(stored(), "other-pass")
    entries = svc.history("user", user["id"])
    assert entries[0]["changes"]["password"] == [None, "******"]
    assert entries[1]["changes"] == {"password": ["******", "******"]}
    assert "s3cret" not in str(entries) and "$argon2" not in str(entries)
    with pytest.raises(AppError) as info:
        svc.query("user", filters=[{"field": "password", "op": "startswith",
                                    "value": "$argon2"}])
    assert "password" in info.value.fields
    records = svc.query("user", filters=[])["records"]
    assert records and all("password" not in r for r in records)
