from decimal import Decimal
from typing import Any

import pytest
from webob.multidict import MultiDict

from propolis.forms.data import (
    apply_errors,
    form_to_json,
    submitted_version,
)
from propolis.forms.generate import RecordForm, form_class
from propolis.platform.errors import AppError, Conflict, _
from tests.common.forms import record_to_formdata
from tests.common.texts import field_texts
from tests.unit.forms.conftest import RECORD, one, render

FILLED = [
    ("version", "3"), ("name", "  滨江花园 3-2-1201  "), ("notes", "第一行\r\n第二行"),
    ("intro", "<p>hi</p>"), ("floor_area", "128.5"), ("budget", "1234567890123.45"),
    ("ratio", "12.5"), ("start_date", "2026-11-28"), ("visit_time", "09:30"),
    ("inspected_at", "2026-11-28T09:30"), ("safety_ok", "y"),
    ("house_type", "apartment"), ("fit_package", "apt_basic"), ("tags", "vip"),
    ("tags", "urgent"), ("client", "01CLIENT"), ("main_client", ""),
    ("manager", "01USER"), ("dept", ""), ("phone", "0571-88776655"),
    ("email", "a@b.cn"), ("website", "https://example.com"), ("photos", "01FILEA"),
    ("photos", "01FILEB"), ("position-lat", "30.2084"), ("position-lng", "120.2119"),
    ("position-address", ""), ("region-province", "浙江省"), ("region-city", ""),
    ("region-district", ""),
    ("materials-0-id", "01ROWA"), ("materials-0-material", "地板"),
    ("materials-0-qty", "95.5"), ("materials-0-unit_price", "268"),
    ("materials-0-series", "wood"),
    ("materials-1-id", ""), ("materials-1-material", "瓷砖"),
    ("materials-1-qty", "0.1"), ("materials-1-unit_price", ""),
    ("materials-1-series", ""),
    # posted for read-only fields: never taken
    ("code", "GD-9999"), ("material_cost", "1"), ("checked_by", "me"),
]


@pytest.fixture(scope="module")
def cls(site_doc: dict[str, Any]) -> type[RecordForm]:
    return form_class(site_doc, lang="zh")


def refusal(form: RecordForm) -> AppError:
    with pytest.raises(AppError) as info:
        form_to_json(form)
    return info.value


def test_a_submission_becomes_the_services_json(cls: type[RecordForm]) -> None:
    assert form_to_json(cls(MultiDict(FILLED))) == {
        "name": "滨江花园 3-2-1201", "notes": "第一行\n第二行", "intro": "<p>hi</p>",
        "floor_area": Decimal("128.5"), "budget": Decimal("1234567890123.45"),
        "ratio": Decimal("12.5"), "start_date": "2026-11-28", "visit_time": "09:30",
        "inspected_at": "2026-11-28T09:30:00+08:00", "safety_ok": True,
        "house_type": "apartment", "fit_package": "apt_basic",
        "tags": ["vip", "urgent"], "client": "01CLIENT", "main_client": None,
        "manager": "01USER", "dept": None, "phone": "0571-88776655",
        "email": "a@b.cn", "website": "https://example.com", "contract": [],
        "photos": ["01FILEA", "01FILEB"],
        "position": {"lat": Decimal("30.2084"), "lng": Decimal("120.2119"),
                     "address": None},
        "region": {"province": "浙江省", "city": None, "district": None},
        "materials": [
            {"id": "01ROWA", "material": "地板", "qty": Decimal("95.5"),
             "unit_price": Decimal("268"), "series": "wood"},
            {"material": "瓷砖", "qty": Decimal("0.1"), "unit_price": None,
             "series": None}],
    }


def test_empty_inputs_are_null_or_empty_lists(cls: type[RecordForm]) -> None:
    blank = MultiDict([(n, "") for n in (
        "name", "notes", "budget", "start_date", "inspected_at", "house_type",
        "client", "position-lat", "position-lng", "position-address",
        "region-province", "region-city", "region-district", "materials-0-id",
        "materials-0-material", "materials-0-qty")])
    values = form_to_json(cls(blank))
    assert {k: values[k] for k in (
        "name", "notes", "budget", "start_date", "inspected_at", "house_type",
        "client", "position", "region", "tags", "photos", "materials", "safety_ok",
    )} == {"name": None, "notes": None, "budget": None, "start_date": None,
           "inspected_at": None, "house_type": None, "client": None,
           "position": None, "region": None, "tags": [], "photos": [],
           "materials": [], "safety_ok": False}


@pytest.mark.parametrize(("field", "typed", "value"), [
    ("budget", "1,234.50", Decimal("1234.50")),
    ("budget", "１２．５", Decimal("12.5")),  # typed with a Chinese input method
    ("budget", "-0.005", Decimal("-0.005")),  # rounding is the service's
    ("budget", ".5", Decimal("0.5")),
    ("ratio", "12.5 %", Decimal("12.5")),
    ("inspected_at", "2026-11-28 09:30:15", "2026-11-28T09:30:15+08:00"),
    ("inspected_at", "2026-11-28T09:30+00:00", "2026-11-28T09:30:00+00:00"),
])
def test_inputs_are_read_exactly(cls: type[RecordForm], field: str, typed: str,
                                 value: Any) -> None:
    assert form_to_json(cls(MultiDict([(field, typed)])))[field] == value


@pytest.mark.parametrize(("field", "typed", "message"), [
    ("budget", "abc", {"zh": "请输入数字", "en": "enter a number"}),
    ("budget", "1e3", {"zh": "请输入数字", "en": "enter a number"}),
    ("budget", "12,5", {"zh": "请输入数字", "en": "enter a number"}),
    ("ratio", "12.5 %%", {"zh": "请输入数字", "en": "enter a number"}),
    ("inspected_at", "2026-11-28", {
        "zh": "请输入日期和时间，如 2026-11-28 09:30",
        "en": "enter a date and time, e.g. 2026-11-28 09:30"}),
    ("inspected_at", "tomorrow", {
        "zh": "请输入日期和时间，如 2026-11-28 09:30",
        "en": "enter a date and time, e.g. 2026-11-28 09:30"}),
])
def test_unreadable_inputs_are_refused(cls: type[RecordForm], field: str,
                                       typed: str, message: dict[str, str]) -> None:
    error = refusal(cls(MultiDict([(field, typed), ("name", "x")])))
    assert (error.code, error.status, field_texts(error.fields)) == (
        "invalid", 400, {field: [message]})


def test_values_only_the_service_can_judge_are_passed_on(
        cls: type[RecordForm]) -> None:
    values = form_to_json(cls(MultiDict([
        ("budget", "-5"), ("start_date", "2026-02-30"), ("email", "not an email"),
        ("house_type", "castle"), ("photos", "01FILEA"), ("photos", "01FILEA")])))
    # the form refuses none of these: the service's JSON Schema decides, as for the
    # API (duplicate file ids are one file)
    assert (values["budget"], values["start_date"], values["email"],
            values["house_type"], values["photos"]) == (
        Decimal("-5"), "2026-02-30", "not an email", "castle", ["01FILEA"])


def test_parts_of_a_location_or_area_left_empty(cls: type[RecordForm]) -> None:
    values = form_to_json(cls(MultiDict([
        ("position-lat", ""), ("position-lng", ""), ("position-address", "工地"),
        ("region-province", ""), ("region-city", "杭州市")])))
    # a missing required part is left out, so the service says which one is missing
    assert values["position"] == {"address": "工地"}
    assert values["region"] == {"city": "杭州市", "district": None}


def test_rows_are_added_and_removed_by_index_and_keep_their_ids(
        cls: type[RecordForm]) -> None:
    posted = MultiDict([
        # row 1 (01ROWB) was removed; the script gave the new rows indexes 5 and 7
        ("materials-7-id", ""), ("materials-7-material", "新增二"),
        ("materials-0-id", "01ROWA"), ("materials-0-material", "地板"),
        ("materials-0-qty", "95.5"),
        ("materials-5-id", ""), ("materials-5-material", "新增一"),
        ("materials-6-id", ""), ("materials-6-material", ""),  # added, left empty
        ("materials-6-qty", " "),
        # none of these is a row
        ("materials_note", "x"), ("materials-x-qty", "1"), ("materials-01-qty", "1"),
        ("materials-__index__-qty", "1"), (f"materials-{'9' * 5000}-qty", "1"),
    ])
    form = cls(posted, data=RECORD)
    rows = form_to_json(form)["materials"]
    assert [(r.get("id"), r["material"]) for r in rows] == [
        ("01ROWA", "地板"), (None, "新增一"), (None, "新增二")]
    # the empty row is gone from the form as well: row numbers in the service's
    # messages are the rows shown again
    assert [row.index for row in form["materials"]] == [0, 5, 7]
    page = render(form)
    assert one(page, '//*[@id="materials"]').get("data-next-index") == "8"
    assert page.xpath('//output[@id="materials-0-amount"]/text()') == ["¥25,594.00"]


def test_a_row_takes_computed_values_from_the_stored_row_with_its_id(
        cls: type[RecordForm]) -> None:
    # a client that renumbers rows: the second stored row now posts as index 0
    form = cls(MultiDict([("materials-0-id", "01ROWB"),
                          ("materials-0-material", "瓷砖")]), data=RECORD)
    assert form["materials"].entries[0].form["amount"].data == 5394


def test_read_only_fields_are_never_submitted(site_doc: dict[str, Any]) -> None:
    cls = form_class(site_doc, lang="zh", field_access={"budget": "read"})
    values = form_to_json(cls(MultiDict(FILLED)))
    assert not values.keys() & {"budget", "code", "material_cost", "visits",
                                "client_level", "checked_by", "legacy", "owner",
                                "version"}


def test_an_unchanged_edit_form_posts_the_record_back(cls: type[RecordForm]) -> None:
    posted = record_to_formdata(RECORD, cls)
    assert posted.getall("version") == ["3"]
    assert posted.getall("inspected_at") == ["2026-11-28T09:30"]
    assert posted.getall("materials-1-id") == ["01ROWB"]
    assert "code" not in posted and "safety_ok" in posted
    values = form_to_json(cls(posted, data=RECORD))
    assert values == {
        "name": "滨江花园", "notes": "line 1\nline 2", "intro": "<p>hi</p>",
        "floor_area": Decimal("128.5"), "budget": Decimal("0.1"),
        "ratio": Decimal("12.5"), "start_date": "2026-11-28", "visit_time": "09:30",
        "inspected_at": "2026-11-28T09:30:00+08:00", "safety_ok": True,
        "house_type": "apartment", "fit_package": "retired_option", "tags": ["vip"],
        "client": "01CLIENT", "main_client": None, "manager": "01USER",
        "dept": None, "phone": "0571-88776655", "email": "a@b.cn",
        "website": "https://example.com", "contract": [],
        "photos": ["01FILEA", "01FILEB"],
        "position": {"lat": Decimal("30.2084"), "lng": Decimal("120.2119"),
                     "address": "滨江花园"},
        "region": {"province": "浙江省", "city": "杭州市", "district": None},
        "materials": [
            {"id": "01ROWA", "material": "地板", "qty": Decimal("95.5"),
             "unit_price": Decimal("268"), "series": "wood"},
            {"id": "01ROWB", "material": "瓷砖", "qty": Decimal("60"),
             "unit_price": Decimal("89.9"), "series": None}],
    }
    assert submitted_version(cls(posted)) == 3


@pytest.mark.parametrize(("posted", "version"), [
    ([("version", "7")], 7), ([("version", "")], None), ([], None),
    ([("version", "7; drop")], None), ([("version", "²")], None),
])
def test_submitted_version(cls: type[RecordForm], posted: list[tuple[str, str]],
                           version: int | None) -> None:
    assert submitted_version(cls(MultiDict(posted))) == version


SERVICE_ERROR = AppError("invalid", {"zh": "数据有误", "en": "Invalid data"}, {
    "name": [{"zh": "必填", "en": "is required"}],
    "materials": [{"zh": "第 2 行 qty：不能小于 0",
                   "en": "row 2 qty: must be at least 0"}],
    "position": [{"zh": "lat：必填", "en": "lat: is required"}],
    "code": [{"zh": "由系统计算，不能写入", "en": "is computed and cannot be written"}],
    "legacy": [{"zh": "最多 10 个字符", "en": "at most 10 characters"}],
    "nonsense": [{"zh": "没有这个字段", "en": "unknown field"}],
})


@pytest.mark.parametrize(("lang", "texts"), [
    ("zh", {"summary": "数据有误", "name": "必填", "row": "第 2 行 qty：不能小于 0",
            "position": "lat：必填", "legacy": "legacy: 最多 10 个字符",
            "nonsense": "nonsense: 没有这个字段"}),
    ("en", {"summary": "Invalid data", "name": "is required",
            "row": "row 2 qty: must be at least 0", "position": "lat: is required",
            "legacy": "legacy: at most 10 characters",
            "nonsense": "nonsense: unknown field"}),
])
def test_service_errors_land_on_their_fields(cls: type[RecordForm], lang: str,
                                             texts: dict[str, str]) -> None:
    form = cls(MultiDict(FILLED))
    apply_errors(form, SERVICE_ERROR, lang)
    assert form["name"].errors == [texts["name"]]
    assert form["materials"].errors == [texts["row"]]
    assert form["position"].errors == [texts["position"]]
    assert form["code"].errors  # read-only fields show messages too
    # fields the form does not have: the label (or name) says which one
    assert form.form_errors == [texts["summary"], texts["legacy"], texts["nonsense"]]
    assert not form.conflict
    page = render(form)
    name = one(page, '//input[@name="name"]')
    assert (name.get("aria-invalid"), name.get("aria-describedby")) == (
        "true", "name-help name-errors")
    assert one(page, '//ul[@id="name-errors"]/li').text == texts["name"]
    group = one(page, '//*[@id="position"]')
    assert group.get("aria-describedby") == "position-errors"


def test_errors_inside_values_reach_their_input(cls: type[RecordForm]) -> None:
    form = cls(MultiDict([("materials-0-qty", "x"), ("materials-0-material", "a"),
                          ("materials-4-qty", "abc"), ("materials-4-material", "b"),
                          ("position-lat", "北纬30"), ("position-lng", "120")]))
    error = refusal(form)
    assert set(error.fields) == {"materials[0].qty", "materials[1].qty",
                                 "position.lat"}
    apply_errors(form, error, "zh")
    rows = form["materials"].entries
    assert [r.form["qty"].errors for r in rows] == [["请输入数字"], ["请输入数字"]]
    assert form["position"]["lat"].errors == ["请输入数字"]
    assert not form["materials"].errors and not form["position"].errors
    page = render(form)
    qty = one(page, '//input[@name="materials-4-qty"]')
    assert (qty.get("aria-invalid"), qty.get("aria-describedby")) == (
        "true", "materials-qty-help materials-4-qty-errors")
    assert one(page, '//ul[@id="materials-4-qty-errors"]/li').text == "请输入数字"
    assert one(page, '//ul[@id="position-lat-errors"]/li').text == "请输入数字"


@pytest.mark.parametrize(("key", "holder", "text"), [
    ("materials[9].qty", "materials", "第 10 行 qty：坏"),
    ("materials[0]", "materials", "第 1 行：坏"),
    ("materials[0].nope", "materials", "第 1 行 nope：坏"),
    ("materials[0].id", "materials", "第 1 行 id：坏"),
    ("position.nope", "position", "nope：坏"),
    ("name[0]", "name", "第 1 行：坏"),
])
def test_paths_that_lead_nowhere_stop_at_the_last_field(
        cls: type[RecordForm], key: str, holder: str, text: str) -> None:
    form = cls(data=RECORD)
    apply_errors(form, AppError("invalid", {"zh": "数据有误", "en": "Invalid data"},
                                {key: [{"zh": "坏", "en": "bad"}]}), "zh")
    assert form[holder].errors == [text]


def test_a_version_conflict_asks_for_a_reload(cls: type[RecordForm]) -> None:
    form = cls(MultiDict(FILLED))
    apply_errors(form, Conflict("conflict", _(
        "The record was changed by someone else: it is now at version ${version}; "
        "reload and try again", mapping={"version": 4})), "zh")
    assert form.conflict
    assert form.form_errors == ["记录已被他人修改，当前版本为 4，请刷新后重试"]
    locked = cls(MultiDict(FILLED))
    apply_errors(locked, Conflict("locked", _("The record is under approval")), "en")
    assert not locked.conflict
    assert locked.form_errors == ["The record is under approval"]
