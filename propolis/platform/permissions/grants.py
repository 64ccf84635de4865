"""Roles and what they grant on one object (CONTRACT §5).

An object's ``permissions:`` gives each role verbs, a data scope and per-field
access. A role the object does not name gets nothing, except the two defaults of
the contract: ``employee`` may create, read and edit with scope ``own``, and
``admin`` may do everything (always: the enterprise admin is never restricted).

A user holds several roles (every user holds ``employee``); what they may do is the
union of what each role allows. The union is taken per verb: a verb reaches the
records in the scopes of the roles that grant *that* verb, so one role's wide scope
never widens another role's verb (reading everything with one role and editing
one's own records with another does not make everything editable). Per field the
most open access of the roles that grant anything wins.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from propolis.platform.errors import _

BUILTIN_ROLES = ("admin", "crm_admin", "approval_admin", "announcement_admin",
                 "log_admin", "employee")
BUILTIN_LABELS = {
    "admin": _("Administrator"),
    "crm_admin": _("CRM administrator"),
    "approval_admin": _("Approval administrator"),
    "announcement_admin": _("Announcement administrator"),
    "log_admin": _("Log administrator"),
    "employee": _("Employee"),
}
ADMIN = "admin"
EMPLOYEE = "employee"
VERBS = ("create", "read", "edit", "delete", "import", "export", "transfer")
SCOPES = ("own", "subordinates", "department", "all")
# Field access from closed to open: the most open of a user's roles wins.
FIELD_ACCESS = ("hidden", "read", "edit")
# What a role gets on an object whose ``permissions:`` does not name it.
DEFAULT_GRANTS: Mapping[str, Mapping[str, Any]] = {
    EMPLOYEE: {"verbs": ["create", "read", "edit"], "scope": "own", "fields": {}},
}


@dataclass(frozen=True)
class RoleGrant:
    """One role's entry for one object, as written or by default."""

    role: str
    verbs: frozenset[str]
    scope: str
    fields: Mapping[str, str]
    default: bool  # the contract's default rather than the object's ``permissions:``


@dataclass(frozen=True)
class Grant:
    """What a user's roles together grant on one object.

    ``scopes`` maps each granted verb to the data scopes it reaches; ``hidden`` and
    ``readonly`` are the fields the user may not see, and may see but not change.
    ``everything``: the enterprise admin (or the platform itself), never restricted.
    """

    verbs: frozenset[str]
    scopes: Mapping[str, frozenset[str]]
    hidden: frozenset[str] = frozenset()
    readonly: frozenset[str] = frozenset()
    roles: tuple[RoleGrant, ...] = ()
    everything: bool = False
    field_access: Mapping[str, str] = field(default_factory=dict)

    def allows(self, verb: str) -> bool:
        return verb in self.verbs


def role_grant(doc: Mapping[str, Any], role: str) -> RoleGrant | None:
    """``role``'s entry on the object ``doc`` (normalized), None when it has none."""
    written = doc.get("permissions", {}).get(role)
    entry = written if written is not None else DEFAULT_GRANTS.get(role)
    if entry is None:
        return None
    return RoleGrant(role, frozenset(entry["verbs"]), entry.get("scope", "own"),
                     dict(entry.get("fields", {})), written is None)


def full_grant(doc: Mapping[str, Any]) -> Grant:
    """Everything on the object: the enterprise admin's grant."""
    return Grant(frozenset(VERBS), {v: frozenset({"all"}) for v in VERBS},
                 everything=True,
                 field_access={f["api_name"]: "edit" for f in doc["fields"]})


def combine(doc: Mapping[str, Any], roles: Iterable[str]) -> Grant:
    """The union of ``roles``' grants on the object ``doc`` (see the module
    docstring)."""
    roles = set(roles) | {EMPLOYEE}
    if ADMIN in roles:
        return full_grant(doc)
    entries = tuple(g for r in sorted(roles) if (g := role_grant(doc, r)) is not None
                    and g.verbs)
    scopes: dict[str, set[str]] = {}
    for entry in entries:
        for verb in entry.verbs:
            scopes.setdefault(verb, set()).add(entry.scope)
    rank = {access: i for i, access in enumerate(FIELD_ACCESS)}
    access: dict[str, str] = {}
    for f in doc["fields"]:
        name = f["api_name"]
        levels = [entry.fields.get(name, "edit") for entry in entries]
        access[name] = max(levels, key=rank.__getitem__) if levels else "hidden"
    return Grant(
        verbs=frozenset(scopes),
        scopes={verb: frozenset(s) for verb, s in scopes.items()},
        hidden=frozenset(n for n, a in access.items() if a == "hidden"),
        readonly=frozenset(n for n, a in access.items() if a == "read"),
        roles=entries,
        field_access=access,
    )
