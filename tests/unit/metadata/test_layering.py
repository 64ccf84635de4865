from __future__ import annotations

from typing import Any

import pytest

from propolis.metadata import MetadataError, merge_layers

SYSTEM_CUSTOMER: dict[str, Any] = {
    "kind": "object",
    "api_name": "customer",
    "label": {"zh": "客户", "en": "Customer"},
    "sharing": "hierarchy",
    "fields": [
        {"api_name": "name", "type": "text", "required": True},
        {"api_name": "level", "type": "select", "options": ["A", "B"]},
        {"api_name": "parent", "type": "lookup", "to": "customer"},
        {
            "api_name": "items",
            "type": "table",
            "fields": [{"api_name": "qty", "type": "number"}],
        },
    ],
    "permissions": {"employee": {"verbs": ["read"], "scope": "own"}},
    "validations": [{"rule": "name != ''", "message": "name"}],
}


def layer(*fields: dict[str, Any], **keys: Any) -> dict[str, Any]:
    return {"kind": "object", "api_name": "customer", "fields": list(fields), **keys}


def field_map(obj: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["api_name"]: f for f in obj["fields"]}


def test_objects_of_any_layer_appear_normalized() -> None:
    product = {
        "kind": "object",
        "api_name": "product",
        "fields": [{"api_name": "name", "type": "text"}],
    }
    merged = merge_layers([SYSTEM_CUSTOMER], [product], [])
    assert sorted(merged) == ["customer", "product"]
    assert merged["product"]["label"] == {"zh": "product", "en": "product"}
    assert field_map(merged["customer"])["name"]["max_length"] == 255


def test_later_layers_add_fields_after_the_lower_ones() -> None:
    merged = merge_layers(
        [SYSTEM_CUSTOMER],
        [layer({"api_name": "industry", "type": "text"})],
        [layer({"api_name": "wechat", "type": "text"})],
    )["customer"]
    assert [f["api_name"] for f in merged["fields"]] == [
        "name",
        "level",
        "parent",
        "items",
        "industry",
        "wechat",
    ]
    # the generated layout is recomputed, so it shows the added fields
    assert merged["layouts"][0]["generated"] is True
    assert merged["layouts"][0]["sections"][0]["fields"][-1] == "wechat"


def test_later_layers_override_what_they_state_and_inherit_the_rest() -> None:
    tenant = layer(
        {
            "api_name": "level",
            "type": "select",
            "options": ["A", "B", "C"],
            "label": {"zh": "等级", "en": "Grade"},
            "required": True,
        },
        {"api_name": "name", "type": "text", "help": "Full legal name"},
        label="Account",
    )
    merged = merge_layers([SYSTEM_CUSTOMER], [], [tenant])["customer"]
    fields = field_map(merged)
    assert merged["label"] == {"zh": "Account", "en": "Account"}
    assert merged["sharing"] == "hierarchy"
    assert [o["value"] for o in fields["level"]["options"]] == ["A", "B", "C"]
    assert fields["level"]["label"] == {"zh": "等级", "en": "Grade"}
    assert fields["level"]["required"] is True
    assert fields["name"]["required"] is True  # inherited
    assert fields["name"]["help"] == {"zh": "Full legal name", "en": "Full legal name"}


def test_a_later_layer_hides_fields_it_cannot_remove() -> None:
    tenant = layer({"api_name": "parent", "type": "lookup", "hidden": True})
    merged = merge_layers([SYSTEM_CUSTOMER], [], [tenant])["customer"]
    assert field_map(merged)["parent"]["hidden"] is True
    assert field_map(merged)["parent"]["to"] == "customer"
    assert "parent" not in merged["layouts"][0]["sections"][0]["fields"]
    # a layer that leaves fields out does not remove them
    assert (
        len(merge_layers([SYSTEM_CUSTOMER], [], [layer()])["customer"]["fields"]) == 4
    )


def test_type_change_is_refused() -> None:
    with pytest.raises(MetadataError) as info:
        merge_layers(
            [SYSTEM_CUSTOMER], [], [layer({"api_name": "level", "type": "text"})]
        )
    [problem] = info.value.problems
    assert (problem.code, problem.source, problem.path) == (
        "layer_change",
        "tenant layer",
        "fields[0].type",
    )
    assert problem.message == (
        "field 'level' of 'customer' has type 'select' in a lower layer; "
        "a later layer cannot change it to 'text'"
    )
    assert "hidden: true" in problem.fix


def test_lookup_target_change_is_refused_and_all_refusals_are_reported() -> None:
    with pytest.raises(MetadataError) as info:
        merge_layers(
            [SYSTEM_CUSTOMER],
            [layer({"api_name": "parent", "type": "lookup", "to": "account"})],
            [
                layer(
                    {
                        "api_name": "items",
                        "type": "table",
                        "fields": [{"api_name": "qty", "type": "text"}],
                    }
                )
            ],
        )
    assert [(p.source, p.path) for p in info.value.problems] == [
        ("extension layer", "fields[0].to"),
        ("tenant layer", "fields[0].fields[0].type"),
    ]


def test_table_columns_merge_like_fields() -> None:
    tenant = layer(
        {
            "api_name": "items",
            "type": "table",
            "fields": [
                {"api_name": "qty", "type": "number", "label": "Quantity"},
                {"api_name": "price", "type": "currency"},
            ],
        }
    )
    items = field_map(merge_layers([SYSTEM_CUSTOMER], [], [tenant])["customer"])[
        "items"
    ]
    assert [c["api_name"] for c in items["fields"]] == ["qty", "price"]
    assert items["fields"][0]["label"] == {"zh": "Quantity", "en": "Quantity"}


def test_permissions_views_layouts_and_validations() -> None:
    extension = layer(list_views=[{"api_name": "mine", "columns": ["name"]}])
    tenant = layer(
        permissions={"crm_admin": {"verbs": ["read", "edit"], "scope": "all"}},
        list_views=[
            {"api_name": "mine", "columns": ["name", "level"]},
            {"api_name": "vip", "columns": ["name"]},
        ],
        validations=[
            {"rule": "name != ''", "message": "again"},
            {"rule": "level != null", "message": "level"},
        ],
    )
    merged = merge_layers([SYSTEM_CUSTOMER], [extension], [tenant])["customer"]
    assert sorted(merged["permissions"]) == ["crm_admin", "employee"]
    assert [(v["api_name"], v["columns"]) for v in merged["list_views"]] == [
        ("mine", ["name", "level"]),
        ("vip", ["name"]),
    ]
    assert [v["rule"] for v in merged["validations"]] == ["name != ''", "level != null"]


def test_layers_do_not_modify_their_inputs() -> None:
    tenant = layer({"api_name": "wechat", "type": "text"})
    before = repr(SYSTEM_CUSTOMER), repr(tenant)
    merge_layers([SYSTEM_CUSTOMER], [], [tenant])
    assert (repr(SYSTEM_CUSTOMER), repr(tenant)) == before
