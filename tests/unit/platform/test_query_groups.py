"""Record counts per value of a select or boolean field (the list page's summary
chart): the same filters, keyword and visibility as a page of the query."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session

from propolis.platform.db import Database
from propolis.platform.errors import AppError
from propolis.platform.permissions.actor import Actor
from propolis.platform.records.services import RecordService
from tests.common.records import Tenant, drop_tenant, make_tenant

# name, stage, won, owned by the other user?
DEALS = [
    ("上海甲", "won", True, False), ("上海乙", "won", True, False),
    ("北京丙", "lost", False, False), ("广州丁", None, None, False),
    ("上海戊", "lead", False, True), ("深圳己", "won", True, True),
]


@pytest.fixture(scope="module")
def tenant(database: Database) -> Iterator[Tenant]:
    made = make_tenant(database)
    engine = database.tenant_engine(made.account)
    with Session(bind=engine) as session, session.begin():
        admin = RecordService(session, made.effective, made.actor())
        for name, stage, won, other in DEALS:
            rec = admin.create("deal", {"name": name, "stage": stage, "won": won})
            if other:
                admin.transfer("deal", rec["id"], made.other_user_id)
        admin.delete("deal", admin.create("deal", {"name": "已删除",
                                                   "stage": "won"})["id"])
    yield made
    drop_tenant(made)


def service(tenant: Tenant, actor: Actor | None = None) -> Iterator[RecordService]:
    engine = tenant.database.tenant_engine(tenant.account)
    with Session(bind=engine) as session, session.begin():
        yield RecordService(session, tenant.effective, actor or tenant.actor())


@pytest.fixture
def admin(tenant: Tenant) -> Iterator[RecordService]:
    yield from service(tenant)


@pytest.fixture
def employee(tenant: Tenant) -> Iterator[RecordService]:
    yield from service(tenant, Actor(tenant.other_user_id, tenant.department_id,
                                     frozenset({"employee"})))


def test_counts_per_value_largest_first_empty_included(admin: RecordService) -> None:
    # ties in value order, the empty group last
    assert admin.count_by("deal", "stage") == [("won", 3), ("lead", 1), ("lost", 1),
                                               (None, 1)]
    assert dict(admin.count_by("deal", "won")) == {True: 3, False: 2, None: 1}


def test_filters_and_keyword_narrow_the_counts(admin: RecordService) -> None:
    assert admin.count_by("deal", "stage", q="上海") == [("won", 2), ("lead", 1)]
    assert admin.count_by("deal", "stage", filters=[
        {"field": "won", "op": "eq", "value": False}]) == [("lead", 1), ("lost", 1)]


def test_only_the_records_the_user_may_read(employee: RecordService) -> None:
    assert employee.count_by("deal", "stage") == [("lead", 1), ("won", 1)]


@pytest.mark.parametrize("field", ["name", "amount", "nonsense", "tags"])
def test_fields_that_cannot_be_grouped_are_named(admin: RecordService,
                                                 field: str) -> None:
    with pytest.raises(AppError) as info:
        admin.count_by("deal", field)
    assert info.value.status == 400 and field in info.value.fields


def test_bad_filters_are_the_query_s_errors(admin: RecordService) -> None:
    with pytest.raises(AppError) as info:
        admin.count_by("deal", "stage", filters=[
            {"field": "amount", "op": "gt", "value": "lots"}])
    assert "amount" in info.value.fields
