from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy.orm import Session

from propolis.platform.db import Database
from propolis.platform.errors import AppError
from propolis.platform.records.services import RecordService
from tests.common.records import Tenant, drop_tenant, make_tenant, open_service

# name, amount, stage, tags, close_date, signed_at, won
DEALS: list[tuple[Any, ...]] = [
    ("上海建工集团", 100, "won", ["hot", "vip"], "2026-01-05",
     "2026-01-05T10:00:00+08:00", True),
    ("北京建工", 100, "lead", ["cold"], None, None, False),
    ("Shanghai Metro", None, "lost", [], "2026-02-01", "2026-02-01T00:00:00+00:00",
     None),
    ("广州地铁 100%_off", 250.5, "won", ["hot"], "2026-03-10", None, True),
    ("'; drop table o_deal; --", 0.1, None, [], None, None, None),
    ('quote " star * paren (x)', 0.2, "lead", ["vip"], "2026-01-05", None, False),
    ("emoji 🎉 party", None, "lead", None, "2026-04-01",
     "2026-04-01T08:00:00+08:00", False),
    ("ab", 100, "won", ["cold", "hot"], None, None, True),
    ("深圳", 99.99, None, [], "2026-03-10", None, None),
    ("上海浦东", None, "won", ["vip"], None, "2026-05-01T12:00:00+08:00", True),
]


@pytest.fixture(scope="module")
def tenant(database: Database) -> Iterator[Tenant]:
    made = make_tenant(database)
    engine = database.tenant_engine(made.account)
    with Session(bind=engine) as session, session.begin():
        svc = RecordService(session, made.effective, made.actor())
        customer = svc.create("customer", {"name": "客户甲"})["id"]
        for i, (name, amount, stage, tags, close, signed, won) in enumerate(DEALS):
            svc.create("deal", {
                "name": name, "amount": amount, "stage": stage, "tags": tags,
                "close_date": close, "signed_at": signed, "won": won,
                "customer": customer if i % 3 == 0 else None,
                "notes": "<p>备注 <b>重要</b></p>" if i == 1 else None,
                "region": {"province": "上海"} if i < 2 else None})
        gone = svc.create("deal", {"name": "上海已删除", "amount": 100})
        svc.delete("deal", gone["id"])
    yield made
    drop_tenant(made)


@pytest.fixture
def svc(tenant: Tenant) -> Iterator[RecordService]:
    yield from open_service(tenant)


def names(svc: RecordService, filters: list[dict[str, Any]] | None = None,
          **kw: Any) -> set[str]:
    page = svc.query("deal", filters=filters or [], limit=200, **kw)
    return {r["name"] for r in page["records"]}


def where(field: str, op: str, value: Any) -> list[dict[str, Any]]:
    return [{"field": field, "op": op, "value": value}]


def refused(svc: RecordService, **kw: Any) -> AppError:
    with pytest.raises(AppError) as info:
        svc.query("deal", **kw)
    assert info.value.status == 400
    return info.value


def test_everything_but_deleted_records(svc: RecordService) -> None:
    assert len(names(svc)) == len(DEALS)


@pytest.mark.parametrize("field, op, value, expected", [
    ("amount", "eq", 100, {"上海建工集团", "北京建工", "ab"}),
    ("amount", "ne", 100, {"Shanghai Metro", "广州地铁 100%_off",
                           "'; drop table o_deal; --", 'quote " star * paren (x)',
                           "emoji 🎉 party", "深圳", "上海浦东"}),
    ("amount", "gt", 100, {"广州地铁 100%_off"}),
    ("amount", "gte", 100, {"上海建工集团", "北京建工", "ab", "广州地铁 100%_off"}),
    ("amount", "lt", 0.2, {"'; drop table o_deal; --"}),
    ("amount", "lte", 0.2, {"'; drop table o_deal; --", 'quote " star * paren (x)'}),
    ("amount", "between", [0.2, 99.99], {'quote " star * paren (x)', "深圳"}),
    ("amount", "in", [0.1, 250.5], {"'; drop table o_deal; --", "广州地铁 100%_off"}),
    ("amount", "isnull", True, {"Shanghai Metro", "emoji 🎉 party", "上海浦东"}),
    ("stage", "eq", "won", {"上海建工集团", "广州地铁 100%_off", "ab", "上海浦东"}),
    ("stage", "in", ["lost", "lead"], {"北京建工", "Shanghai Metro",
                                       'quote " star * paren (x)', "emoji 🎉 party"}),
    ("stage", "isnull", True, {"'; drop table o_deal; --", "深圳"}),
    ("tags", "contains", "vip", {"上海建工集团", 'quote " star * paren (x)',
                                 "上海浦东"}),
    ("tags", "contains", "hot", {"上海建工集团", "广州地铁 100%_off", "ab"}),
    ("tags", "isnull", False, {"上海建工集团", "北京建工", "广州地铁 100%_off", "ab",
                               'quote " star * paren (x)', "上海浦东"}),
    ("name", "contains", "建工", {"上海建工集团", "北京建工"}),
    ("name", "contains", "SHANGHAI", {"Shanghai Metro"}),
    ("name", "contains", "100%_", {"广州地铁 100%_off"}),
    ("name", "contains", "%", {"广州地铁 100%_off"}),
    ("name", "contains", "_", {"广州地铁 100%_off", "'; drop table o_deal; --"}),
    ("name", "startswith", "上海", {"上海建工集团", "上海浦东"}),
    ("name", "startswith", "'; drop", {"'; drop table o_deal; --"}),
    ("name", "eq", "ab", {"ab"}),
    ("name", "gt", "z", {"上海建工集团", "北京建工", "广州地铁 100%_off", "深圳",
                         "上海浦东"}),
    ("close_date", "eq", "2026-01-05", {"上海建工集团", 'quote " star * paren (x)'}),
    ("close_date", "between", ["2026-02-01", "2026-03-10"],
     {"Shanghai Metro", "广州地铁 100%_off", "深圳"}),
    ("close_date", "lt", "2026-02-01", {"上海建工集团", 'quote " star * paren (x)'}),
    ("signed_at", "gte", "2026-02-01T08:00:00+08:00",
     {"Shanghai Metro", "emoji 🎉 party", "上海浦东"}),
    ("signed_at", "lt", "2026-02-01T00:00:00Z", {"上海建工集团"}),
    ("won", "eq", True, {"上海建工集团", "广州地铁 100%_off", "ab", "上海浦东"}),
    ("won", "ne", True, {"北京建工", "Shanghai Metro", "'; drop table o_deal; --",
                         'quote " star * paren (x)', "emoji 🎉 party", "深圳"}),
    ("notes", "contains", "重要", {"北京建工"}),
    ("region", "isnull", False, {"上海建工集团", "北京建工"}),
    ("life_status", "eq", "normal", {d[0] for d in DEALS}),
    ("version", "gt", 1, set()),
])
def test_filters(svc: RecordService, field: str, op: str, value: Any,
                 expected: set[str]) -> None:
    assert names(svc, where(field, op, value)) == expected


def test_filters_combine_and_reach_system_fields(svc: RecordService,
                                                 tenant: Tenant) -> None:
    assert names(svc, where("owner", "eq", tenant.user_id)) == {d[0] for d in DEALS}
    assert names(svc, where("owner", "eq", tenant.other_user_id)) == set()
    everything = svc.query("deal", filters=[], limit=200)["records"]
    first = min(everything, key=lambda r: r["created_at"])
    assert first["name"] not in names(svc, where("created_at", "gt",
                                                 first["created_at"]))
    some = [everything[0]["id"], everything[1]["id"]]
    assert len(names(svc, where("id", "in", some))) == 2
    customer = everything[0]["customer"] or everything[3]["customer"]
    assert names(svc, where("customer", "eq", customer)) == {
        DEALS[i][0] for i in range(0, len(DEALS), 3)}
    assert names(svc, [*where("stage", "eq", "won"), *where("amount", "gte", 100)]) \
        == {"上海建工集团", "ab", "广州地铁 100%_off"}


@pytest.mark.parametrize("filters, field", [
    (where("nope", "eq", 1), "nope"),
    (where("amount", "like", 1), "amount"),
    (where("amount", "eq", "ten"), "amount"),
    (where("amount", "eq", True), "amount"),
    (where("amount", "eq", None), "amount"),
    (where("amount", "contains", "1"), "amount"),
    (where("stage", "eq", "unknown"), "stage"),
    (where("tags", "contains", "unknown"), "tags"),
    (where("tags", "eq", "hot"), "tags"),
    (where("close_date", "gt", "yesterday"), "close_date"),
    (where("signed_at", "gt", "2026-01-01T00:00:00"), "signed_at"),
    (where("won", "eq", "yes"), "won"),
    (where("amount", "between", [1]), "amount"),
    (where("amount", "in", []), "amount"),
    (where("amount", "isnull", "yes"), "amount"),
    (where("customer_name", "eq", "客户甲"), "customer_name"),
    ([{"field": "amount", "op": "eq", "value": 1, "extra": 1}], "filters"),
    ("amount = 1", "filters"),
])
def test_bad_filters_are_400_naming_the_field(svc: RecordService, filters: Any,
                                              field: str) -> None:
    assert field in refused(svc, filters=filters).fields


SORTS = [["amount"], ["-amount"], ["-amount", "name"], ["close_date", "-name"],
         ["won", "-signed_at"], ["stage", "-amount", "close_date"], ["-id"], [],
         ["-updated_at"], ["customer", "amount"]]


@pytest.mark.parametrize("sort", SORTS)
@pytest.mark.parametrize("size", [1, 3])
def test_keyset_pages_return_every_row_once_in_order(svc: RecordService,
                                                     sort: list[str],
                                                     size: int) -> None:
    whole = [r["id"] for r in svc.query("deal", sort=sort, limit=200)["records"]]
    assert len(whole) == len(DEALS)
    paged, cursor = [], None
    while True:
        page = svc.query("deal", sort=sort, limit=size, cursor=cursor)
        assert len(page["records"]) <= size
        paged += [r["id"] for r in page["records"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
        assert "=" not in cursor and "/" not in cursor and "+" not in cursor
    assert paged == whole


def test_nulls_sort_last_ascending_and_first_descending(svc: RecordService) -> None:
    up = [r["amount"] for r in svc.query("deal", sort=["amount"])["records"]]
    assert up == [0.1, 0.2, 99.99, 100, 100, 100, 250.5, None, None, None]
    down = [r["amount"] for r in svc.query("deal", sort=["-amount"])["records"]]
    assert down == [None, None, None, 250.5, 100, 100, 100, 99.99, 0.2, 0.1]


def test_keyset_with_filters_and_keyword(svc: RecordService) -> None:
    page = svc.query("deal", filters=where("amount", "gte", 100), sort=["-amount"],
                     limit=2, q=None)
    assert [r["amount"] for r in page["records"]] == [250.5, 100]
    rest = svc.query("deal", filters=where("amount", "gte", 100), sort=["-amount"],
                     limit=2, cursor=page["next_cursor"])
    assert [r["amount"] for r in rest["records"]] == [100, 100]
    assert rest["next_cursor"] is None


def test_bad_limits_sorts_and_cursors(svc: RecordService) -> None:
    for limit in (0, 201, "10", True):
        assert "limit" in refused(svc, limit=limit).fields
    assert svc.query("deal", limit=200)["next_cursor"] is None
    assert "nope" in refused(svc, sort=["nope"]).fields
    assert "tags" in refused(svc, sort=["tags"]).fields
    assert "customer_name" in refused(svc, sort=["customer_name"]).fields
    cursor = svc.query("deal", sort=["amount"], limit=1)["next_cursor"]
    assert "cursor" in refused(svc, sort=["-amount"], cursor=cursor).fields
    for bad in ("not base64!", "e30", cursor[:-3] + "AAA", 12):
        assert "cursor" in refused(svc, sort=["amount"], cursor=bad).fields


@pytest.mark.parametrize("q, expected", [
    ("上海", {"上海建工集团", "上海浦东"}),  # two characters: LIKE
    ("建工集团", {"上海建工集团"}),  # trigram full-text search
    ("建工", {"上海建工集团", "北京建工"}),
    ("shanghai", {"Shanghai Metro"}),
    ("SHANGHAI METRO", {"Shanghai Metro"}),
    ("上海 集团", {"上海建工集团"}),  # every term must match
    ("100%_off", {"广州地铁 100%_off"}),
    ("%", {"广州地铁 100%_off"}),
    ("_", {"广州地铁 100%_off", "'; drop table o_deal; --"}),
    ("o_deal", {"'; drop table o_deal; --"}),
    ("'; drop table", {"'; drop table o_deal; --"}),
    ('"*', set()),
    ('" star *', {'quote " star * paren (x)'}),
    ("(x)", {'quote " star * paren (x)'}),
    ("AND OR NOT", set()),
    ("🎉", {"emoji 🎉 party"}),
    ("备注", {"北京建工"}),  # rich text is searched without its tags
    ("<b>", set()),
    ("已删除", set()),
    ("   ", {d[0] for d in DEALS}),
])
def test_keyword_search(svc: RecordService, q: str, expected: set[str]) -> None:
    assert names(svc, q=q) == expected


def test_keyword_search_follows_updates(svc: RecordService) -> None:
    record = svc.create("deal", {"name": "杭州西湖项目"})
    assert names(svc, q="西湖项目") == {"杭州西湖项目"}
    svc.update("deal", record["id"], {"name": "宁波港口"}, version=None)
    assert names(svc, q="西湖项目") == set()
    assert names(svc, q="宁波港口") == {"宁波港口"}
    svc.delete("deal", record["id"])
    assert names(svc, q="宁波港口") == set()


def test_too_long_keyword_is_refused(svc: RecordService) -> None:
    assert "q" in refused(svc, q="x" * 201).fields
    assert "q" in refused(svc, q=5).fields
