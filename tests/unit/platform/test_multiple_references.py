"""``multiple: true`` on user and department fields: a list of ids."""

from __future__ import annotations

from propolis.platform.fields.registry import field_type

MEMBERS = {"api_name": "members", "type": "user", "multiple": True}
OWNER = {"api_name": "owner_user", "type": "user"}


def test_a_list_is_stored_as_json_and_is_no_single_reference() -> None:
    users = field_type(MEMBERS)
    assert users.column(MEMBERS).kind == "json"
    assert field_type(OWNER).column(OWNER).kind == "string"
    assert users.reference_target(MEMBERS) is None
    assert users.targets(MEMBERS) == "user"
    assert field_type(OWNER).targets(OWNER) is None
    assert users.value_schema(MEMBERS)["type"] == "array"
    assert users.operators(MEMBERS) == {"contains", "isnull"}
    assert not users.orders(MEMBERS)


def test_values_in_json_and_in_sheets() -> None:
    users = field_type(MEMBERS)
    assert users.parse(MEMBERS, []) is None
    assert users.to_json(MEMBERS, None, "UTC") == []
    assert users.to_cell(MEMBERS, ["a", "b"], "zh") == "a;b"
    assert users.from_cell(MEMBERS, "a; b；a", "UTC") == ["a", "b"]


def test_multiple_cannot_be_switched_on_a_stored_field() -> None:
    users = field_type(MEMBERS)
    assert not users.converts_to(OWNER, users, MEMBERS)
    assert not users.converts_to(MEMBERS, users, OWNER)
    assert users.converts_to(MEMBERS, users, dict(MEMBERS))
