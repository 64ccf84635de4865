"""Forms against the real record service: what a form submits is saved as the API
would save it, and the service's refusals come back onto the form's fields."""

from collections.abc import Iterator
from typing import Any

import pytest
from webob.multidict import MultiDict

from propolis.forms.data import (
    apply_errors,
    form_to_json,
    submitted_version,
)
from propolis.forms.generate import RecordForm, form_class_for
from propolis.platform.db import Database
from propolis.platform.errors import AppError, Conflict
from propolis.platform.records.services import RecordService
from tests.common.forms import record_to_formdata
from tests.common.records import Tenant, drop_tenant, make_tenant, open_service
from tests.unit.forms.conftest import CLIENT, SITE, SITE_VISIT


@pytest.fixture(scope="module")
def tenant(database: Database) -> Iterator[Tenant]:
    made = make_tenant(database, (CLIENT, SITE, SITE_VISIT))
    yield made
    drop_tenant(made)


@pytest.fixture
def svc(tenant: Tenant) -> Iterator[RecordService]:
    yield from open_service(tenant)


def site_form(tenant: Tenant, lang: str = "zh") -> type[RecordForm]:
    return form_class_for(tenant.effective.objects["site"], lang=lang)


def refusal(fn: Any, *args: Any, **kwargs: Any) -> AppError:
    with pytest.raises(AppError) as info:
        fn(*args, **kwargs)
    return info.value


def posted(tenant: Tenant, client: str, **changes: str) -> MultiDict:
    data = {
        "name": "滨江花园", "budget": "1234567890123.45", "floor_area": "128.5",
        "inspected_at": "2026-11-28T09:30", "house_type": "apartment",
        "fit_package": "apt_basic", "client": client, "manager": tenant.user_id,
        "dept": tenant.department_id, "contract": tenant.file_ids[0],
        "position-lat": "30.2084", "position-lng": "120.2119",
        "region-province": "浙江省", "region-city": "杭州市",
        "materials-0-material": "地板", "materials-0-qty": "95.5",
        "materials-0-unit_price": "268", "materials-1-material": "瓷砖",
        "materials-1-qty": "60", "materials-1-unit_price": "89.9", **changes}
    return MultiDict([(k, v) for k, v in data.items() if v is not None])


def test_a_form_saves_what_the_api_would(tenant: Tenant,
                                         svc: RecordService) -> None:
    client = svc.create("client", {"name": "业主甲", "level": "A"})["id"]
    cls = site_form(tenant)
    saved = svc.create("site", form_to_json(cls(posted(tenant, client))))
    assert (saved["budget"], saved["floor_area"], saved["inspected_at"]) == (
        1234567890123.45, 128.5, "2026-11-28T09:30:00+08:00")
    assert [(r["material"], r["qty"], r["amount"]) for r in saved["materials"]] == [
        ("地板", 95.5, 25594), ("瓷砖", 60, 5394)]
    assert (saved["material_cost"], saved["client_level"], saved["safety_ok"],
            saved["start_date"] is not None) == (30988, "A", False, True)
    assert saved["position"] == {"lat": 30.2084, "lng": 120.2119, "address": None}
    assert saved["contract"] == [tenant.file_ids[0]] and saved["tags"] == []
    by_api = svc.create("site", {
        "name": "滨江花园 API", "budget": 1234567890123.45, "floor_area": 128.5,
        "inspected_at": "2026-11-28T09:30:00+08:00", "house_type": "apartment",
        "fit_package": "apt_basic", "client": client, "manager": tenant.user_id,
        "dept": tenant.department_id, "contract": [tenant.file_ids[0]],
        "position": {"lat": 30.2084, "lng": 120.2119},
        "region": {"province": "浙江省", "city": "杭州市"},
        "materials": [{"material": "地板", "qty": 95.5, "unit_price": 268},
                      {"material": "瓷砖", "qty": 60, "unit_price": 89.9}]})
    skip = {"id", "name", "code", "created_at", "updated_at", "materials"}
    assert {k: v for k, v in saved.items() if k not in skip} == {
        k: v for k, v in by_api.items() if k not in skip}


@pytest.mark.parametrize(("lang", "expected"), [
    ("zh", {"name": ["必填"], "budget": ["不能小于 0"], "floor_area": ["不能小于 1"],
            "email": ["邮箱地址格式不正确"], "position": ["lng：必填"],
            "materials": ["第 1 行 qty：不能小于 0", "第 2 行 material：必填"]}),
    ("en", {"name": ["is required"], "budget": ["must be at least 0"],
            "floor_area": ["must be at least 1"], "email": ["is not an e-mail address"],
            "position": ["lng: is required"],
            "materials": ["row 1 qty: must be at least 0",
                          "row 2 material: is required"]}),
])
def test_schema_errors_land_on_their_fields(tenant: Tenant, svc: RecordService,
                                            lang: str,
                                            expected: dict[str, list[str]]) -> None:
    cls = site_form(tenant, lang)
    form = cls(posted(tenant, "", name="", budget="-1", floor_area="0",
                      email="not an email", **{"position-lng": "",
                                               "materials-0-qty": "-1",
                                               "materials-1-material": ""}))
    apply_errors(form, refusal(svc.create, "site", form_to_json(form)), lang)
    for name, messages in expected.items():
        assert list(form[name].errors) == messages, name
    assert form.form_errors == [{"zh": "数据有误", "en": "Invalid data"}[lang]]


def test_later_checks_land_on_their_fields_too(tenant: Tenant,
                                               svc: RecordService) -> None:
    cls = site_form(tenant)
    client = svc.create("client", {"name": "业主乙"})["id"]
    mismatch = cls(posted(tenant, client, house_type="villa"))
    apply_errors(mismatch, refusal(svc.create, "site", form_to_json(mismatch)), "zh")
    assert mismatch["fit_package"].errors == ["与「house_type」的选择不匹配"]
    missing = cls(posted(tenant, "01NOSUCHCLIENT00000000000"))
    apply_errors(missing, refusal(svc.create, "site", form_to_json(missing)), "en")
    assert missing["client"].errors == [
        "the chosen record does not exist (or is in the recycle bin)"]
    rule = cls(posted(tenant, client, budget="200000000000000"))
    apply_errors(rule, refusal(svc.create, "site", form_to_json(rule)), "zh")
    assert rule["budget"].errors == ["合同金额过大"]
    assert rule.form_errors == ["合同金额过大"]


@pytest.mark.parametrize(("typed", "sent"), [
    ({"budget": "-1"}, {"budget": -1}),
    ({"start_date": "2026-02-30"}, {"start_date": "2026-02-30"}),
    ({"house_type": "castle"}, {"house_type": "castle"}),
    ({"name": "长" * 51}, {"name": "长" * 51}),
    ({"website": "ftp://example.com"}, {"website": "ftp://example.com"}),
    ({"phone": "call me"}, {"phone": "call me"}),
    ({"visit_time": "25:00"}, {"visit_time": "25:00"}),
])
def test_a_form_refuses_exactly_what_the_api_refuses(
        tenant: Tenant, svc: RecordService, typed: dict[str, str],
        sent: dict[str, Any]) -> None:
    cls = site_form(tenant)
    by_form = refusal(svc.create, "site", form_to_json(cls(MultiDict(
        {"name": "甲", "house_type": "apartment", **typed}))))
    by_api = refusal(svc.create, "site",
                     {"name": "甲", "house_type": "apartment", **sent})
    assert by_form.fields == by_api.fields


def test_an_unchanged_edit_form_changes_nothing_and_edits_keep_row_ids(
        tenant: Tenant, svc: RecordService) -> None:
    cls = site_form(tenant)
    client = svc.create("client", {"name": "业主丙"})["id"]
    record = svc.create("site", form_to_json(cls(posted(tenant, client))))
    form = cls(record_to_formdata(record, cls), data=record)
    same = svc.update("site", record["id"], form_to_json(form),
                      version=submitted_version(form))
    assert same["version"] == record["version"] == 1
    edited = record_to_formdata(record, cls)
    for key in ("materials-0-id", "materials-0-material", "materials-0-qty",
                "materials-0-unit_price", "materials-0-series"):
        del edited[key]  # the first row removed
    edited.update({"materials-2-material": "乳胶漆", "materials-2-qty": "3",
                   "budget": "500000"})
    form = cls(edited, data=record)
    saved = svc.update("site", record["id"], form_to_json(form),
                       version=submitted_version(form))
    kept = record["materials"][1]["id"]
    assert [(r["id"] == kept, r["material"]) for r in saved["materials"]] == [
        (True, "瓷砖"), (False, "乳胶漆")]
    assert (saved["budget"], saved["version"]) == (500000, 2)


def test_a_stale_form_offers_a_reload(tenant: Tenant, svc: RecordService) -> None:
    cls = site_form(tenant)
    client = svc.create("client", {"name": "业主丁"})["id"]
    record = svc.create("site", form_to_json(cls(posted(tenant, client))))
    svc.update("site", record["id"], {"budget": 1})  # someone else saves first
    form = cls(record_to_formdata(record, cls), data=record)
    error = refusal(svc.update, "site", record["id"], form_to_json(form),
                    version=submitted_version(form))
    assert isinstance(error, Conflict)
    apply_errors(form, error, "zh")
    assert form.conflict
    assert form.form_errors[0].startswith("记录已被他人修改")
