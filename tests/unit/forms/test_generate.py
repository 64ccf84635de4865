import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from webob.multidict import MultiDict

from propolis.forms.fields import ReadOnlyField, SpecField
from propolis.forms.generate import form_class, form_class_for
from propolis.metadata.normalize import normalize_object
from propolis.platform.meta.effective import ObjectMeta
from tests.unit.forms.conftest import RECORD, one, render

LABELABLE = {"input", "select", "textarea", "output"}


def attrs(element: Any) -> dict[str, str]:
    return dict(element.attrib)


def test_every_field_type_gets_its_input(site_doc: dict[str, Any]) -> None:
    page = render(form_class(site_doc, lang="zh")())
    name = one(page, '//input[@name="name"]')
    assert attrs(name) == {"id": "name", "name": "name", "type": "text",
                           "maxlength": "50", "required": "",
                           "aria-describedby": "name-help", "value": ""}
    assert one(page, '//textarea[@name="notes"]').get("maxlength") == "100000"
    assert "data-richtext" in one(page, '//textarea[@name="intro"]').attrib
    floor = attrs(one(page, '//input[@name="floor_area"]'))
    assert (floor["type"], floor["inputmode"], floor["step"], floor["min"],
            floor["max"]) == ("number", "decimal", "0.1", "1", "5000")
    budget = attrs(one(page, '//input[@name="budget"]'))
    assert (budget["step"], budget["min"]) == ("0.01", "0")
    assert "max" not in budget  # the storage's limit is not worth a hint
    assert one(page, '//input[@name="ratio"]').get("step") == "0.1"
    today = dt.datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()
    start = one(page, '//input[@name="start_date"]')
    assert (start.get("type"), start.get("value")) == ("date", today)
    assert one(page, '//input[@name="visit_time"]').get("type") == "time"
    assert one(page, '//input[@name="inspected_at"]').get("type") == "datetime-local"
    safety = one(page, '//input[@name="safety_ok"]')
    assert safety.get("type") == "checkbox" and "checked" not in safety.attrib
    for ftype, name in (("tel", "phone"), ("email", "email"), ("url", "website")):
        assert one(page, f'//input[@name="{name}"]').get("type") == ftype
    for name, target in (("client", "client"), ("main_client", "client"),
                         ("manager", "user"), ("dept", "department")):
        # the id in a hidden input, the name in a combobox searching the target
        assert one(page, f'//input[@name="{name}"]').get("type") == "hidden"
        box = one(page, f'//input[@id="{name}"]')
        assert (box.get("role"), box.get("aria-controls"), box.get("name"),
                box.get("data-lookup")) == ("combobox", f"{name}-options", None,
                                            target)
        assert one(page, f'//ul[@id="{name}-options"]').get("role") == "listbox"
        assert one(page, f'//input[@name="{name}"]/..').get("data-lookup") == target


def test_selects_offer_options_in_the_language_and_name_their_parent(
        site_doc: dict[str, Any]) -> None:
    page = render(form_class(site_doc, lang="zh")())
    house = one(page, '//select[@name="house_type"]')
    assert "required" in house.attrib and "multiple" not in house.attrib
    assert [(o.get("value"), o.text) for o in house.xpath("option")] == [
        ("", "请选择"), ("apartment", "公寓"), ("villa", "别墅")]
    package = one(page, '//select[@name="fit_package"]')
    assert (package.get("data-depends-on"), package.get("data-options"),
            package.get("data-options-include")) == (
        "house_type", "fit_package", "house_type fit_package")
    assert [(o.get("value"), o.get("data-parent")) for o in package.xpath("option")
            ] == [("", None), ("apt_basic", "apartment"), ("villa_custom", "villa")]
    # a multiselect is a group of checkboxes
    tags = one(page, '//*[@id="tags"]')
    assert (tags.get("role"), tags.get("aria-labelledby")) == ("group", "tags-label")
    assert [(b.get("value"), one(tags, f'.//label[@for="{b.get("id")}"]').text)
            for b in tags.xpath('.//input[@type="checkbox"][@name="tags"]')] == [
        ("urgent", "加急"), ("vip", "重要客户")]


def test_a_dependent_select_offers_the_options_of_the_parents_value(
        site_doc: dict[str, Any]) -> None:
    form = form_class(site_doc, lang="zh")(
        MultiDict({"house_type": "villa", "fit_package": ""}))
    package = render(form).xpath('//select[@name="fit_package"]/option/@value')
    assert package == ["", "villa_custom"]


def test_file_inputs_carry_the_upload_rules(site_doc: dict[str, Any]) -> None:
    page = render(form_class(site_doc, lang="zh")(data=RECORD))
    contract = attrs(one(page, '//input[@id="contract"]'))
    messages = {k: contract.pop(k) for k in list(contract)
                if k in ("data-too-big", "data-wrong-type", "data-too-many",
                         "data-uploading", "data-failed", "data-remove")}
    assert contract == {"id": "contract", "type": "file", "accept": "application/pdf",
                        "data-max-size-mb": "20", "data-max-count": "1",
                        "data-upload": "contract"}  # no name: contents never post
    # the script's messages, in the page's language, {placeholders} filled there
    assert messages["data-too-big"] == "文件超过 {mb} MB 上限：{name}"
    assert len(messages) == 6
    photos = attrs(one(page, '//input[@id="photos"]'))
    assert (photos["accept"], photos["data-max-size-mb"], photos["data-max-count"],
            "multiple" in photos) == ("image/*", "10", "20", True)
    kept = page.xpath('//input[@type="hidden"][@name="photos"]/@value')
    assert kept == ["01FILEA", "01FILEB"]
    # each kept image is shown (by its name when the page knows it) and removable
    form = form_class(site_doc, lang="en")(data=RECORD)
    form.names.update({"01FILEA": "site.jpg"})
    items = render(form).xpath('//*[@data-files="photos"]//li')
    assert [li.xpath(".//img/@src") for li in items] == [
        ["/api/v1/files/01FILEA"], ["/api/v1/files/01FILEB"]]
    assert [li.xpath("string(.//button)") for li in items] == [
        "Remove site.jpg", "Remove 01FILEB"]


def test_location_and_area_are_labelled_groups(site_doc: dict[str, Any]) -> None:
    page = render(form_class(site_doc, lang="en")(data=RECORD))
    group = one(page, '//*[@id="position"]')
    assert (group.get("role"), group.get("aria-labelledby")) == (
        "group", "position-label")
    assert one(page, '//label[@id="position-label"]').get("for") is None
    for part, label, value in (("lat", "Latitude", "30.2084"),
                               ("lng", "Longitude", "120.2119"),
                               ("address", "Address", "滨江花园")):
        field = one(page, f'//input[@name="position-{part}"]')
        assert field.get("value") == value
        assert one(page, f'//label[@for="position-{part}"]').text == label
    assert one(page, '//input[@name="position-lat"]').get("inputmode") == "decimal"
    # the area's parts are selects of China's divisions, each of the part above
    parts = {p: one(page, f'//select[@name="region-{p}"]')
             for p in ("province", "city", "district")}
    assert [s.xpath("option[@selected]/@value") for s in parts.values()] == [
        ["浙江省"], ["杭州市"], [""]]
    assert len(parts["province"].xpath("option")) == 32  # 31 and the empty choice
    assert "宁波市" in parts["city"].xpath("option/@value")
    assert "西湖区" in parts["district"].xpath("option/@value")
    assert (parts["district"].get("data-options"), parts["district"].get("data-part"),
            parts["district"].get("data-options-include")) == (
        "region", "district", "region-province region-city region-district")
    assert one(page, '//button[@data-geolocate="position"]').text == "Use my location"


def test_table_rows_keep_their_ids_and_come_with_a_template(
        site_doc: dict[str, Any]) -> None:
    page = render(form_class(site_doc, lang="zh")(data=RECORD))
    table = one(page, '//*[@id="materials"]')
    assert (table.get("data-table"), table.get("data-next-index"),
            table.get("aria-labelledby")) == ("materials", "2", "materials-label")
    rows = table.xpath('.//tbody/tr[@data-row]')
    assert [r.xpath('.//input[@type="hidden"]/@value') for r in rows] == [
        ["01ROWA"], ["01ROWB"]]
    assert rows[0].xpath('.//input[@name="materials-0-qty"]/@value') == ["95.5"]
    assert rows[1].xpath('.//output[@id="materials-1-amount"]/text()') == ["¥5,394.00"]
    material = one(rows[0], './/input[@name="materials-0-material"]')
    assert "required" in material.attrib
    qty = one(rows[0], './/input[@name="materials-0-qty"]')
    assert qty.get("aria-describedby") == "materials-qty-help"
    assert one(table, './/small[@id="materials-qty-help"]').text == "按平方米计"
    label = one(rows[0], './/label[@for="materials-0-qty"]')
    assert (label.text, label.get("class")) == ("数量", "visually-hidden")
    template = one(table, './/template[@data-table-template="materials"]')
    assert template.xpath('.//input/@name') == [
        "materials-__index__-material", "materials-__index__-qty",
        "materials-__index__-unit_price", "materials-__index__-id"]
    assert template.xpath('.//select/@name') == ["materials-__index__-series"]
    assert len(table.xpath('.//button[@data-table-remove]')) == 3
    assert one(table, './/button[@data-table-add="materials"]').text == "添加一行"


def test_every_field_has_a_label_linked_to_its_control(
        site_doc: dict[str, Any]) -> None:
    form = form_class(site_doc, lang="zh")(data=RECORD)
    page = render(form)
    for field in form:
        if not isinstance(field, SpecField):
            continue
        label = one(page, f'//label[@id="{field.id}-label"]')
        assert label.text == field.spec["label"]["zh"]
        if field.labels_control:
            control = one(page, f'//*[@id="{label.get("for")}"]')
            assert control.tag in LABELABLE, field.id
        else:
            group = one(page, f'//*[@aria-labelledby="{field.id}-label"]')
            assert group.get("id") == field.id
    # every input a user can reach has a label, inside groups and rows too
    for control in page.xpath('//input[not(@type="hidden")] | //select | //textarea'):
        assert page.xpath(f'//label[@for="{control.get("id")}"]'), control.get("id")


def test_labels_options_and_buttons_follow_the_language(
        site_doc: dict[str, Any]) -> None:
    page = render(form_class(site_doc, lang="en")())
    assert one(page, '//label[@for="name"]').text == "Site name"
    assert one(page, '//p[@id="name-help"]').text == "As on the contract"
    assert [o.text for o in page.xpath('//select[@name="house_type"]/option')] == [
        "Choose…", "Apartment", "Villa"]
    assert one(page, '//button[@data-table-add]').text == "Add a row"
    assert one(page, '//label[@for="region-province"]').text == "Province"


def test_computed_and_readonly_fields_show_values_but_post_nothing(
        site_doc: dict[str, Any]) -> None:
    form = form_class(site_doc, lang="zh")(data=RECORD)
    page = render(form)
    shown = {"code": "GD-0001", "material_cost": "¥30,988.00", "visits": "2",
             "client_level": "A", "checked_by": "质检", "owner": "01USER"}
    for name, text in shown.items():
        assert isinstance(form[name], ReadOnlyField)
        output = one(page, f'//output[@id="{name}"]')
        assert (output.text, output.get("name")) == (text, None)
    assert one(page, '//output[@id="owner"]').get("data-lookup") == "user"
    names = set(page.xpath("//input/@name | //select/@name | //textarea/@name"))
    assert not names & {*shown, "legacy"}
    assert "legacy" not in form  # hidden in the metadata: not on the form at all


def test_field_access_hides_and_locks_fields(site_doc: dict[str, Any]) -> None:
    cls = form_class(site_doc, lang="zh",
                     field_access={"budget": "read", "phone": "hidden",
                                   "materials": "read", "name": "edit"})
    page = render(cls(data=RECORD))
    assert one(page, '//output[@id="budget"]').text == "¥0.10"
    assert not page.xpath('//*[@name="budget"] | //*[@id="phone"]')
    assert "phone" not in cls()
    table = one(page, '//table[@id="materials"]')
    assert table.get("aria-labelledby") == "materials-label"
    assert [td.text for td in table.xpath(".//tbody/tr[1]/td")] == [
        "地板", "95.5", "¥268.00", "wood", "¥25,594.00"]
    assert not table.xpath(".//input")
    assert one(page, '//input[@name="name"]') is not None


def test_an_edit_form_shows_the_record(site_doc: dict[str, Any]) -> None:
    page = render(form_class(site_doc, lang="zh")(data=RECORD))
    # 01:30 UTC is 09:30 in the enterprise's zone
    assert one(page, '//input[@name="inspected_at"]').get("value") == (
        "2026-11-28T09:30")
    assert one(page, '//input[@name="budget"]').get("value") == "0.1"
    assert "checked" in one(page, '//input[@name="safety_ok"]').attrib
    assert page.xpath('//select[@name="house_type"]/option[@selected]/@value') == [
        "apartment"]
    assert page.xpath('//input[@name="tags"][@checked]/@value') == ["vip"]
    # a value whose option was removed from the metadata stays choosable, so that
    # saving the form does not silently clear it
    assert page.xpath('//select[@name="fit_package"]/option[@selected]/@value') == [
        "retired_option"]
    assert one(page, '//textarea[@name="notes"]').text.strip() == "line 1\nline 2"
    assert one(page, '//input[@name="version"]').get("value") == "3"


def test_fields_follow_the_layout_order(site_doc: dict[str, Any]) -> None:
    names = [f.short_name for f in form_class(site_doc, lang="zh")()]
    assert names[:8] == ["version", "name", "code", "client", "client_level",
                         "house_type", "fit_package", "owner"]
    compact = [f.short_name for f in form_class(site_doc, lang="zh",
                                                layout="compact")()]
    assert compact[:4] == ["version", "budget", "name", "code"]


def test_form_classes_are_made_once_per_version_language_and_access(
        site_doc: dict[str, Any]) -> None:
    obj = ObjectMeta(site_doc)
    zh = form_class_for(obj, lang="zh")
    assert form_class_for(obj, lang="zh") is zh
    assert form_class_for(obj, lang="zh", field_access={}) is zh
    assert form_class_for(obj, lang="en") is not zh
    read = form_class_for(obj, lang="zh", field_access={"budget": "read"})
    assert read is not zh
    assert form_class_for(obj, lang="zh", field_access={"budget": "read"}) is read
    assert form_class_for(ObjectMeta(site_doc), lang="zh") is not zh  # a new version


@pytest.mark.parametrize("kwargs", [
    {"lang": "fr"},
    {"lang": "zh", "field_access": {"budget": "write"}},
    {"lang": "zh", "layout": "nope"},
])
def test_bad_arguments_are_refused(site_doc: dict[str, Any],
                                   kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        form_class(site_doc, **kwargs)


def test_a_field_named_like_a_form_attribute_is_just_a_field() -> None:
    doc = normalize_object({"kind": "object", "api_name": "odd", "fields": [
        {"api_name": "data", "type": "text"}, {"api_name": "errors", "type": "text"},
        {"api_name": "process", "type": "number"}]})
    form = form_class(doc, lang="en")(data={"data": "x", "errors": "y", "process": 2})
    assert [form[n]._value() for n in ("data", "errors", "process")] == ["x", "y", "2"]
    assert form.errors == {}
