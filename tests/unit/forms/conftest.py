"""An object with a field of every type (the worked example of docs/metadata.md §15,
extended), a record of it as the record service returns it, and a page-like
rendering of a form to parse with lxml."""

from __future__ import annotations

from typing import Any

import lxml.html
import pytest

from propolis.forms.fields import SpecField
from propolis.forms.generate import RecordForm
from propolis.forms.widgets import errors_html, help_id
from propolis.metadata.normalize import normalize_object

CLIENT = {
    "kind": "object", "api_name": "client", "label": {"zh": "业主", "en": "Client"},
    "fields": [
        {"api_name": "name", "type": "text", "required": True},
        {"api_name": "level", "type": "select", "options": ["A", "B"]},
    ],
}

SITE = {
    "kind": "object", "api_name": "site", "label": {"zh": "装修工地", "en": "Site"},
    "fields": [
        {"api_name": "name", "type": "text", "required": True, "max_length": 50,
         "label": {"zh": "工地名称", "en": "Site name"},
         "help": {"zh": "合同上的工地名称", "en": "As on the contract"}},
        {"api_name": "code", "type": "autonumber", "format": "GD-{seq:4}",
         "label": {"zh": "工地编号", "en": "Site number"}},
        {"api_name": "notes", "type": "textarea",
         "label": {"zh": "备注", "en": "Notes"}},
        {"api_name": "intro", "type": "richtext",
         "label": {"zh": "介绍", "en": "Intro"}},
        {"api_name": "floor_area", "type": "number", "precision": 1, "min": 1,
         "max": 5000, "label": {"zh": "建筑面积", "en": "Floor area"}},
        {"api_name": "budget", "type": "currency", "precision": 2, "min": 0,
         "label": {"zh": "合同金额", "en": "Contract amount"}},
        {"api_name": "ratio", "type": "percent", "precision": 1,
         "label": {"zh": "占比", "en": "Share"}},
        {"api_name": "start_date", "type": "date", "default": "today",
         "label": {"zh": "开工日期", "en": "Start"}},
        {"api_name": "visit_time", "type": "time",
         "label": {"zh": "回访时间", "en": "Visit time"}},
        {"api_name": "inspected_at", "type": "datetime",
         "label": {"zh": "巡检时间", "en": "Inspected at"}},
        {"api_name": "safety_ok", "type": "boolean", "default": False,
         "label": {"zh": "安全交底已完成", "en": "Safety briefing done"}},
        {"api_name": "house_type", "type": "select", "required": True,
         "label": {"zh": "房屋类型", "en": "House type"},
         "options": [{"value": "apartment", "label": {"zh": "公寓", "en": "Apartment"}},
                     {"value": "villa", "label": {"zh": "别墅", "en": "Villa"}}]},
        {"api_name": "fit_package", "type": "select", "depends_on": "house_type",
         "label": {"zh": "装修套餐", "en": "Package"},
         "options": [
             {"value": "apt_basic", "label": {"zh": "公寓基础装", "en": "Basic"},
              "parent": "apartment"},
             {"value": "villa_custom", "label": {"zh": "别墅定制", "en": "Bespoke"},
              "parent": "villa"}]},
        {"api_name": "tags", "type": "multiselect",
         "label": {"zh": "标签", "en": "Tags"},
         "options": [{"value": "urgent", "label": {"zh": "加急", "en": "Urgent"}},
                     {"value": "vip", "label": {"zh": "重要客户", "en": "VIP"}}]},
        {"api_name": "client", "type": "lookup", "to": "client",
         "label": {"zh": "业主", "en": "Client"}},
        {"api_name": "main_client", "type": "master_detail", "to": "client"},
        {"api_name": "manager", "type": "user",
         "label": {"zh": "项目经理", "en": "Project manager"}},
        {"api_name": "dept", "type": "department"},
        {"api_name": "phone", "type": "phone"},
        {"api_name": "email", "type": "email"},
        {"api_name": "website", "type": "url"},
        {"api_name": "contract", "type": "file", "max_count": 1,
         "accept": ["application/pdf"], "label": {"zh": "施工合同", "en": "Contract"}},
        {"api_name": "photos", "type": "image", "max_count": 20,
         "label": {"zh": "现场照片", "en": "Photos"}},
        {"api_name": "position", "type": "location",
         "label": {"zh": "工地定位", "en": "Map position"}},
        {"api_name": "region", "type": "area",
         "label": {"zh": "所在地区", "en": "Region"}},
        {"api_name": "materials", "type": "table",
         "label": {"zh": "主材清单", "en": "Materials"},
         "fields": [
             {"api_name": "material", "type": "text", "required": True,
              "label": {"zh": "材料", "en": "Material"}},
             {"api_name": "qty", "type": "number", "precision": 2, "min": 0,
              "label": {"zh": "数量", "en": "Quantity"},
              "help": {"zh": "按平方米计", "en": "In square metres"}},
             {"api_name": "unit_price", "type": "currency", "precision": 2,
              "label": {"zh": "单价", "en": "Unit price"}},
             {"api_name": "series", "type": "select", "options": ["wood", "tile"]},
             {"api_name": "amount", "type": "formula", "returns": "currency",
              "label": {"zh": "金额", "en": "Amount"},
              "expression": "qty * unit_price"},
         ]},
        {"api_name": "material_cost", "type": "formula", "returns": "currency",
         "label": {"zh": "主材合计", "en": "Material cost"},
         "expression": "sum(materials.map(m, m.qty * m.unit_price))"},
        {"api_name": "visits", "type": "rollup", "from": "site_visit", "via": "site",
         "function": "count", "label": {"zh": "回访次数", "en": "Visits"}},
        {"api_name": "client_level", "type": "quote", "via": "client",
         "field": "level", "label": {"zh": "业主级别", "en": "Client level"}},
        {"api_name": "checked_by", "type": "text", "readonly": True},
        {"api_name": "legacy", "type": "text", "hidden": True},
    ],
    "validations": [
        {"rule": "budget == null || budget <= 100000000000000",
         "message": {"zh": "合同金额过大", "en": "Contract amount too large"}},
    ],
    "layouts": [
        {"api_name": "default", "sections": [
            {"label": {"zh": "基本信息", "en": "Basics"}, "columns": 2,
             "fields": ["name", "code", "client", "client_level", "house_type",
                        "fit_package", "owner"]},
            {"label": {"zh": "进度与预算", "en": "Progress and budget"}, "columns": 3,
             "fields": ["start_date", "inspected_at", "budget", "material_cost",
                        "notes", "ratio"]},
            {"label": {"zh": "主材", "en": "Materials"}, "columns": 1,
             "fields": ["materials"]},
        ]},
        {"api_name": "compact", "sections": [
            {"columns": 1, "fields": ["budget", "name"]},
        ]},
    ],
}

SITE_VISIT = {
    "kind": "object", "api_name": "site_visit",
    "fields": [
        {"api_name": "site", "type": "master_detail", "to": "site", "required": True},
        {"api_name": "score", "type": "number", "precision": 0},
    ],
}

# What the record service returns for a site (ids are made up; 01:30 UTC is 09:30
# in Asia/Shanghai).
RECORD: dict[str, Any] = {
    "id": "01SITE", "name": "滨江花园", "code": "GD-0001", "notes": "line 1\nline 2",
    "intro": "<p>hi</p>", "floor_area": 128.5, "budget": 0.1, "ratio": 12.5,
    "start_date": "2026-11-28", "visit_time": "09:30",
    "inspected_at": "2026-11-28T01:30:00+00:00", "safety_ok": True,
    "house_type": "apartment", "fit_package": "retired_option", "tags": ["vip"],
    "client": "01CLIENT", "main_client": None, "manager": "01USER", "dept": None,
    "phone": "0571-88776655", "email": "a@b.cn", "website": "https://example.com",
    "contract": [], "photos": ["01FILEA", "01FILEB"],
    "position": {"lat": 30.2084, "lng": 120.2119, "address": "滨江花园"},
    "region": {"province": "浙江省", "city": "杭州市", "district": None},
    "materials": [
        {"id": "01ROWA", "material": "地板", "qty": 95.5, "unit_price": 268,
         "series": "wood", "amount": 25594},
        {"id": "01ROWB", "material": "瓷砖", "qty": 60, "unit_price": 89.9,
         "series": None, "amount": 5394},
    ],
    "material_cost": 30988, "visits": 2, "client_level": "A", "checked_by": "质检",
    "legacy": "old", "owner": "01USER", "owner_department": None,
    "created_by": "01USER", "created_at": "2026-11-28T09:00:00+08:00",
    "updated_by": "01USER", "updated_at": "2026-11-28T09:00:00+08:00",
    "life_status": "normal", "version": 3,
}


@pytest.fixture(scope="session")
def site_doc() -> dict[str, Any]:
    return normalize_object(SITE)


def render(form: RecordForm) -> Any:
    """The form as a page would show it (labels, controls, help, errors), parsed."""
    parts = []
    for field in form:
        if not isinstance(field, SpecField):
            parts.append(str(field()))
            continue
        help_text = (f'<p id="{help_id(field)}">{field.description}</p>'
                     if field.description else "")
        parts.append(f"<div>{field.label()}{field()}{help_text}"
                     f"{errors_html(field)}</div>")
    return lxml.html.fromstring(f"<form>{''.join(parts)}</form>")


def one(doc: Any, xpath: str) -> Any:
    """The single element ``xpath`` finds (fails the test otherwise)."""
    found = doc.xpath(xpath)
    assert len(found) == 1, f"{xpath}: {len(found)} found"
    return found[0]
