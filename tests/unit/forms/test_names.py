"""What pages show instead of ids (references and files by name), and the area
picker's divisions."""

from typing import Any

import pytest

from propolis.forms import areas
from propolis.forms.display import display_text
from propolis.forms.generate import form_class
from propolis.forms.names import file_ids, name_of, references
from tests.unit.forms.conftest import RECORD, one, render


def test_references_and_files_are_found_in_fields_and_table_rows() -> None:
    specs = [{"api_name": "client", "type": "lookup", "to": "client"},
             {"api_name": "manager", "type": "user"},
             {"api_name": "photos", "type": "image"},
             {"api_name": "rows", "type": "table", "fields": [
                 {"api_name": "product", "type": "lookup", "to": "product"},
                 {"api_name": "scan", "type": "file"}]}]
    record = {"client": "C1", "manager": "", "photos": ["F1", "F2"],
              "rows": [{"product": "P1", "scan": ["F3"]}, {"product": None}]}
    assert references(specs, record) == {"client": {"C1"}, "product": {"P1"}}
    assert file_ids(specs, record) == {"F1", "F2", "F3"}


def test_a_record_without_a_name_is_called_by_its_id() -> None:
    assert name_of({"id": "01X", "title": "单"}, "title") == "单"
    assert name_of({"id": "01X", "title": ""}, "title") == "01X"
    assert name_of({"id": "01X"}, "title") == "01X"  # hidden from the user


def test_read_only_references_show_the_name_with_a_link(
        site_doc: dict[str, Any]) -> None:
    access = {f["api_name"]: "read" for f in site_doc["fields"]}
    form = form_class(site_doc, lang="zh", field_access=access)(data=RECORD)
    form.names.update({"01CLIENT": "王先生", "01USER": "管理员", "01FILEA": "a.jpg"})
    page = render(form)
    assert one(page, '//output[@id="client"]/a').get("href") == "/o/client/r/01CLIENT"
    assert one(page, '//output[@id="client"]/a').text == "王先生"
    # the organisation's records have no record page: the name alone
    assert one(page, '//output[@id="manager"]').text == "管理员"
    assert one(page, '//output[@id="photos"]//li[1]//img').get("alt") == "a.jpg"
    # an id the page could not name (the user may not read it) stays an id
    form.names.clear()
    assert one(render(form), '//output[@id="client"]').text == "01CLIENT"


def test_the_divisions_follow_province_and_city() -> None:
    assert "浙江省" in areas.names("province", None, None)
    assert areas.names("city", "浙江省", None)[0] == "杭州市"
    assert "西湖区" in areas.names("district", "浙江省", "杭州市")
    assert areas.names("city", None, None) == []
    assert areas.names("district", "浙江省", "不存在市") == []
    with pytest.raises(ValueError):
        areas.names("street", "浙江省", "杭州市")


def test_a_stored_area_name_outside_the_dataset_is_kept(
        site_doc: dict[str, Any]) -> None:
    record = {**RECORD, "region": {"province": "浙江省", "city": "新城市",
                                   "district": None}}
    page = render(form_class(site_doc, lang="zh")(data=record))
    city = one(page, '//select[@name="region-city"]')
    assert city.xpath("option[@selected]/@value") == ["新城市"]


def test_an_area_reads_province_city_district_whatever_the_key_order() -> None:
    stored = {"city": "杭州市", "district": "西湖区", "province": "浙江省"}
    assert display_text({"type": "area"}, stored, "zh", "Asia/Shanghai") == (
        "浙江省 杭州市 西湖区")
