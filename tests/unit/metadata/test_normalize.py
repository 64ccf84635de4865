from __future__ import annotations

import copy
from typing import Any

from propolis.metadata import normalize_document, normalize_object


def fields_of(*fields: dict[str, Any], **keys: Any) -> dict[str, dict[str, Any]]:
    obj = normalize_object(
        {"kind": "object", "api_name": "deal", "fields": list(fields), **keys}
    )
    return {f["api_name"]: f for f in obj["fields"]}


def test_object_defaults() -> None:
    obj = normalize_object({"kind": "object", "api_name": "deal"})
    assert obj == {
        "kind": "object",
        "api_name": "deal",
        "label": {"zh": "deal", "en": "deal"},
        "description": None,
        "name_field": "id",
        "app": "apps",
        "deletable": True,
        "sharing": "hierarchy",
        "fields": [],
        "permissions": {},
        "validations": [],
        "list_views": [
            {
                "api_name": "all",
                "label": {"zh": "全部", "en": "All"},
                "columns": ["id"],
                "sort": ["-updated_at"],
                "filters": [],
                "generated": True,
            }
        ],
        "layouts": [
            {
                "api_name": "default",
                "label": {"zh": "默认布局", "en": "Default"},
                "sections": [
                    {
                        "label": {"zh": "基本信息", "en": "Details"},
                        "columns": 2,
                        "fields": [],
                    }
                ],
                "generated": True,
            }
        ],
    }


def test_labels_become_zh_and_en() -> None:
    fields = fields_of(
        {"api_name": "title", "type": "text", "label": "标题"},
        {"api_name": "stage", "type": "text", "label": {"en": "Stage"}},
        {"api_name": "memo", "type": "text"},
    )
    assert fields["title"]["label"] == {"zh": "标题", "en": "标题"}
    assert fields["stage"]["label"] == {"zh": "Stage", "en": "Stage"}
    assert fields["memo"]["label"] == {"zh": "memo", "en": "memo"}


def test_common_field_defaults() -> None:
    title = fields_of({"api_name": "title", "type": "text"})["title"]
    assert title == {
        "api_name": "title",
        "type": "text",
        "label": {"zh": "title", "en": "title"},
        "help": None,
        "required": False,
        "unique": False,
        "searchable": False,
        "hidden": False,
        "readonly": False,
        "default": None,
        "max_length": 255,
    }


def test_type_specific_defaults() -> None:
    fields = fields_of(
        {"api_name": "qty", "type": "number"},
        {"api_name": "amount", "type": "currency", "precision": 4},
        {"api_name": "rate", "type": "percent"},
        {
            "api_name": "total",
            "type": "formula",
            "returns": "currency",
            "expression": "1",
        },
        {
            "api_name": "exact",
            "type": "formula",
            "returns": "number",
            "expression": "1",
            "precision": 6,
        },
        {
            "api_name": "summary",
            "type": "formula",
            "returns": "text",
            "expression": "'x'",
        },
        {
            "api_name": "cnt",
            "type": "rollup",
            "from": "x1",
            "via": "deal",
            "function": "count",
        },
        {"api_name": "code", "type": "autonumber", "format": "{seq:4}"},
        {"api_name": "photos", "type": "image"},
    )
    assert (fields["qty"]["precision"], fields["qty"]["min"], fields["qty"]["max"]) == (
        2,
        None,
        None,
    )
    assert fields["amount"]["precision"] == 4
    assert fields["rate"]["precision"] == 2
    assert fields["total"]["precision"] == 2
    assert fields["exact"]["precision"] == 6
    assert fields["summary"]["precision"] is None
    assert fields["cnt"]["field"] is None
    assert all(fields[n]["readonly"] for n in ("total", "cnt", "code"))
    assert fields["photos"]["accept"] == ["image/*"]


def test_options_are_normalized() -> None:
    fields = fields_of(
        {
            "api_name": "level",
            "type": "select",
            "options": ["A", {"value": "B", "label": {"zh": "乙"},
                              "attributes": {"weight": 2, "final": True}}],
        },
        {
            "api_name": "city",
            "type": "multiselect",
            "depends_on": "level",
            "options": [{"value": "hz", "parent": "A"}],
        },
    )
    assert fields["level"]["options"] == [
        {"value": "A", "label": {"zh": "A", "en": "A"}, "parent": None,
         "attributes": {}},
        {"value": "B", "label": {"zh": "乙", "en": "乙"}, "parent": None,
         "attributes": {"weight": 2, "final": True}},
    ]
    assert fields["level"]["depends_on"] is None
    assert fields["city"]["options"][0]["parent"] == "A"


def test_table_columns_are_normalized_too() -> None:
    items = fields_of(
        {
            "api_name": "items",
            "type": "table",
            "fields": [
                {"api_name": "qty", "type": "number"},
                {"api_name": "note", "type": "text", "label": "备注"},
            ],
        }
    )["items"]
    assert items["fields"][0]["precision"] == 2
    assert items["fields"][1]["label"] == {"zh": "备注", "en": "备注"}
    assert items["fields"][1]["max_length"] == 255


def test_default_list_view_and_layout() -> None:
    obj = normalize_object(
        {
            "kind": "object",
            "api_name": "deal",
            "fields": [
                {"api_name": "code", "type": "autonumber", "format": "{seq:4}"},
                {"api_name": "name", "type": "text"},
                {
                    "api_name": "items",
                    "type": "table",
                    "fields": [{"api_name": "qty", "type": "number"}],
                },
                {"api_name": "secret", "type": "text", "hidden": True},
                {"api_name": "stage", "type": "text"},
                {"api_name": "amount", "type": "currency"},
                {"api_name": "owner_note", "type": "text"},
                {"api_name": "extra", "type": "text"},
            ],
        }
    )
    assert obj["name_field"] == "name"
    assert obj["list_views"][0]["columns"] == [
        "name",
        "code",
        "stage",
        "amount",
        "owner_note",
    ]
    assert obj["layouts"][0]["sections"][0]["fields"] == [
        "code",
        "name",
        "items",
        "stage",
        "amount",
        "owner_note",
        "extra",
    ]


def test_declared_views_and_layouts_replace_the_generated_ones() -> None:
    obj = normalize_object(
        {
            "kind": "object",
            "api_name": "deal",
            "name_field": "title",
            "fields": [{"api_name": "title", "type": "text"}],
            "list_views": [{"api_name": "open", "columns": ["title"]}],
            "layouts": [{"api_name": "compact", "sections": [{"fields": ["title"]}]}],
        }
    )
    assert obj["list_views"] == [
        {
            "api_name": "open",
            "columns": ["title"],
            "label": {"zh": "open", "en": "open"},
            "sort": ["-updated_at"],
            "filters": [],
            "generated": False,
        }
    ]
    assert obj["layouts"][0]["sections"] == [
        {"fields": ["title"], "label": None, "columns": 2}
    ]


def test_permissions_and_validations() -> None:
    obj = normalize_object(
        {
            "kind": "object",
            "api_name": "deal",
            "fields": [],
            "permissions": {"employee": {"verbs": ["read"]}},
            "validations": [{"rule": "true", "message": {"en": "Never"}}],
        }
    )
    assert obj["permissions"] == {
        "employee": {"verbs": ["read"], "scope": "own", "fields": {}}
    }
    assert obj["validations"] == [
        {"rule": "true", "message": {"zh": "Never", "en": "Never"}}
    ]


def test_normalizing_is_idempotent_and_leaves_the_input_alone() -> None:
    doc = {
        "kind": "object",
        "api_name": "deal",
        "label": "交易",
        "fields": [
            {"api_name": "level", "type": "select", "options": ["A"]},
            {
                "api_name": "items",
                "type": "table",
                "fields": [{"api_name": "qty", "type": "number"}],
            },
        ],
        "archived_fields": [{"api_name": "old", "type": "text"}],
    }
    before = copy.deepcopy(doc)
    once = normalize_object(doc)
    assert doc == before
    assert normalize_object(once) == once
    assert once["archived_fields"] == doc["archived_fields"]  # unknown keys survive


def test_other_kinds_get_their_defaults() -> None:
    approval = normalize_document(
        {
            "kind": "approval",
            "api_name": "leave",
            "form": "leave_form",
            "steps": [{"approver": {"relation": "superior"}}],
        }
    )
    assert approval["mode"] == "fixed" and approval["cc"] == []
    assert approval["steps"] == [
        {
            "approver": {"relation": "superior"},
            "when": None,
            "sign": "any",
            "percentage": None,
            "label": None,
            "sla_hours": None,
            "escalate_to": None,
            "escalate_after_hours": None,
        }
    ]
    assert approval["rejected_status"] == "normal"
    report = normalize_document(
        {
            "kind": "report",
            "api_name": "daily",
            "period": "daily",
            "fields": [{"api_name": "calls", "type": "number"}],
        }
    )
    assert report["due"] is None and report["fields"][0]["precision"] == 2
    extension = normalize_document(
        {"kind": "extension", "api_name": "crm", "version": "1.0.0"}
    )
    assert extension["requires"] == {"propolis": None, "extensions": {}}
    assert extension["contents"] == []
