"""Roles combined into a user's grant on one object (no database)."""

from __future__ import annotations

from typing import Any

from propolis.metadata.normalize import normalize_object
from propolis.platform.permissions.grants import combine, role_grant


def doc(permissions: dict[str, Any] | None = None) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "kind": "object", "api_name": "lead",
        "fields": [{"api_name": "name", "type": "text"},
                   {"api_name": "secret", "type": "text"},
                   {"api_name": "score", "type": "number"}]}
    if permissions is not None:
        raw["permissions"] = permissions
    return normalize_object(raw)


def test_without_permissions_employees_create_read_and_edit_their_own() -> None:
    grant = combine(doc(), {"employee"})
    assert grant.verbs == {"create", "read", "edit"}
    assert grant.scopes == {v: {"own"} for v in ("create", "read", "edit")}
    assert grant.hidden == grant.readonly == frozenset()
    assert role_grant(doc(), "employee").default  # type: ignore[union-attr]


def test_every_user_is_an_employee() -> None:
    assert combine(doc(), set()).verbs == {"create", "read", "edit"}


def test_the_admin_may_do_everything_whatever_is_written() -> None:
    grant = combine(doc({"admin": {"verbs": ["read"], "scope": "own"}}), {"admin"})
    assert grant.everything
    assert grant.verbs == {"create", "read", "edit", "delete", "import", "export",
                           "transfer"}


def test_a_role_the_object_does_not_name_grants_nothing() -> None:
    written = doc({"employee": {"verbs": ["read"], "scope": "all"}})
    assert role_grant(written, "auditor") is None
    assert combine(written, {"auditor"}).verbs == {"read"}
    assert role_grant(written, "employee").default is False  # type: ignore[union-attr]


def test_roles_unite_per_verb() -> None:
    """A wide scope on one verb never widens another role's verb."""
    grant = combine(doc({
        "employee": {"verbs": ["create", "read", "edit"], "scope": "own"},
        "viewer": {"verbs": ["read", "export"], "scope": "all"},
        "closer": {"verbs": ["edit", "delete"], "scope": "subordinates"},
    }), {"viewer", "closer"})
    assert grant.verbs == {"create", "read", "edit", "delete", "export"}
    assert grant.scopes["read"] == {"own", "all"}
    assert grant.scopes["edit"] == {"own", "subordinates"}
    assert grant.scopes["delete"] == {"subordinates"}
    assert grant.scopes["export"] == {"all"}


def test_field_access_is_the_most_open_of_the_roles() -> None:
    permissions = {
        "employee": {"verbs": ["read"], "fields": {"secret": "hidden",
                                                   "score": "read"}},
        "viewer": {"verbs": ["read"], "fields": {"secret": "read"}},
        "silent": {"verbs": [], "fields": {"name": "hidden"}},
    }
    alone = combine(doc(permissions), set())
    assert alone.hidden == {"secret"} and alone.readonly == {"score"}
    both = combine(doc(permissions), {"viewer", "silent"})
    # viewer names neither name nor score: edit; a role without verbs counts not
    assert both.hidden == frozenset()
    assert both.readonly == {"secret"}
    assert both.field_access == {"name": "edit", "secret": "read", "score": "edit"}


def test_a_user_without_any_grant_sees_no_field() -> None:
    grant = combine(doc({"employee": {"verbs": []}}), set())
    assert grant.verbs == frozenset()
    assert grant.hidden == {"name", "secret", "score"}
