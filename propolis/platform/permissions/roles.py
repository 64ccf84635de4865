"""Roles as an enterprise admin manages them.

There is no role table: a role is an option of the ``user.roles`` multiselect and
its grants are entries in objects' ``permissions:``. A custom role is therefore a
metadata change of the enterprise's own layer — the ``user`` document gains the
option, each object the role's entry — applied like any other (validated, a new
metadata version, audited), so roles travel with ``metadata export`` and roll back
with the objects they are written in.

Putting a role replaces its grants in the enterprise's own layer; a grant that the
system or an extension writes for a built-in role stays unless the body overrides
it. The enterprise admin role is never written: it may always do everything.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, func, select

from propolis.metadata import Document
from propolis.platform.db import dialect_for
from propolis.platform.errors import AppError, Message, NotFound, _, both
from propolis.platform.meta.effective import Effective
from propolis.platform.permissions.grants import (
    ADMIN,
    BUILTIN_LABELS,
    BUILTIN_ROLES,
    FIELD_ACCESS,
    SCOPES,
    VERBS,
    role_grant,
)
from propolis.platform.storage.platform_tables import meta_versions

ROLE_RE = re.compile(r"^[a-z][a-z0-9_]{1,62}$")
ROLES_FIELD = "roles"
Errors = dict[str, list[Message]]


def _invalid(errors: Errors) -> AppError:
    return AppError("invalid", _("Invalid role"), errors)


def role_options(effective: Effective) -> list[dict[str, Any]]:
    """The options of ``user.roles``: every role of the enterprise, in order."""
    return list(effective.objects["user"].fields[ROLES_FIELD]["options"])


def grants_of(effective: Effective, role: str) -> dict[str, dict[str, Any]]:
    """``role``'s grant on every object that gives it one (the contract's default
    for ``employee`` included, marked ``default``)."""
    found = {}
    for name, obj in sorted(effective.objects.items()):
        grant = role_grant(obj.doc, role)
        if grant is not None:
            found[name] = {"verbs": [v for v in VERBS if v in grant.verbs],
                           "scope": grant.scope, "fields": dict(grant.fields),
                           "default": grant.default}
    return found


def assigned(conn: Connection, effective: Effective, role: str) -> int:
    """How many users (the recycle bin included) hold ``role``."""
    users = effective.tables.main["user"]
    return int(conn.execute(
        select(func.count()).select_from(users)
        .where(dialect_for(conn).json_contains(users.c[ROLES_FIELD], role))
    ).scalar_one())


def describe_role(
    conn: Connection, effective: Effective, option: Mapping[str, Any]
) -> dict[str, Any]:
    """One role as the admin routes show it."""
    role = option["value"]
    return {
        "api_name": role,
        "label": option.get("label") or (
            both(BUILTIN_LABELS[role]) if role in BUILTIN_LABELS
            else {"zh": role, "en": role}),
        "builtin": role in BUILTIN_ROLES,
        "users": assigned(conn, effective, role),
        "everything": role == ADMIN,
        "grants": {} if role == ADMIN else grants_of(effective, role),
    }


def list_roles(conn: Connection, effective: Effective) -> list[dict[str, Any]]:
    return [describe_role(conn, effective, o) for o in role_options(effective)]


def check_role_name(role: str) -> None:
    if not ROLE_RE.match(role):
        raise _invalid({"api_name": [_("a role name is 2–63 lower-case letters, "
                                       "digits or underscores, starting with a "
                                       "letter")]})


def _label(value: Any) -> dict[str, str] | None:
    if isinstance(value, str) and value.strip():
        return {"zh": value.strip(), "en": value.strip()}
    if isinstance(value, dict) and value and set(value) <= {"zh", "en"} and all(
            isinstance(v, str) and v.strip() for v in value.values()):
        zh = value.get("zh") or value["en"]
        return {"zh": zh.strip(), "en": (value.get("en") or zh).strip()}
    return None


def parse_role(
    effective: Effective, role: str, body: Mapping[str, Any]
) -> tuple[dict[str, str] | None, dict[str, dict[str, Any]]]:
    """The label (None: keep the current one) and the grants of a ``PUT`` body;
    400 naming each wrong part (``grants.customer.verbs`` …)."""
    errors: Errors = {}
    for key in set(body) - {"label", "grants"}:
        errors[str(key)] = [_("unknown key")]
    label = None
    if "label" in body:
        label = _label(body["label"])
        if label is None:
            errors["label"] = [_("must be text or {zh, en}")]
    known = {o["value"] for o in role_options(effective)}
    if label is None and "label" not in body and role not in known \
            and role not in BUILTIN_ROLES:
        errors["label"] = [_("a new role needs a label")]
    raw = body.get("grants", {})
    grants: dict[str, dict[str, Any]] = {}
    if not isinstance(raw, dict):
        errors["grants"] = [_("must be {object: grant}")]
        raw = {}
    for name, grant in raw.items():
        here = f"grants.{name}"
        obj = effective.object(str(name))
        if obj is None:
            errors[here] = [_("unknown object")]
            continue
        if not isinstance(grant, dict) or set(grant) - {"verbs", "scope", "fields"}:
            errors[here] = [_("must be {verbs, scope, fields}")]
            continue
        verbs = grant.get("verbs", [])
        if not isinstance(verbs, list) or any(v not in VERBS for v in verbs):
            errors[f"{here}.verbs"] = [_("must be a list of: ${verbs}",
                                         mapping={"verbs": ' '.join(VERBS)})]
        scope = grant.get("scope", "own")
        if scope not in SCOPES:
            errors[f"{here}.scope"] = [_("must be one of ${scopes}",
                                         mapping={"scopes": ' | '.join(SCOPES)})]
        fields = grant.get("fields", {})
        if not isinstance(fields, dict):
            errors[f"{here}.fields"] = [_("must be {field: access}")]
            fields = {}
        for fname, access in fields.items():
            if fname not in obj.fields:
                errors[f"{here}.fields.{fname}"] = [_("unknown field")]
            elif access not in FIELD_ACCESS:
                errors[f"{here}.fields.{fname}"] = [_(
                        "must be one of ${field_access}",
                        mapping={"field_access": ' | '.join(FIELD_ACCESS)})]
        if here not in errors and isinstance(verbs, list):
            grants[obj.api_name] = {"verbs": [v for v in VERBS if v in verbs],
                                    "scope": scope, "fields": dict(fields)}
    if errors:
        raise _invalid(errors)
    return label, grants


def as_document(value: Any) -> Any:
    """A stored (normalized) document in the form the metadata language accepts
    back: normalizing filled in nulls and generated views, which it refuses."""
    if isinstance(value, dict):
        return {k: as_document(v) for k, v in value.items()
                if v is not None and k != "generated"}
    if isinstance(value, list):
        return [as_document(v) for v in value
                if not (isinstance(v, dict) and v.get("generated"))]
    return value


def own_documents(conn: Connection, effective: Effective) -> dict[str, dict[str, Any]]:
    """The enterprise's own layer of object documents at ``effective``'s version."""
    documents = conn.execute(select(meta_versions.c.documents).where(
        meta_versions.c.version == effective.version)).scalar_one_or_none() or []
    return {d["api_name"]: d for d in documents}


def role_documents(
    conn: Connection,
    effective: Effective,
    role: str,
    label: dict[str, str] | None,
    grants: Mapping[str, Mapping[str, Any]] | None,
) -> list[Document]:
    """The documents that make ``role`` as described (``grants`` None: remove the
    role and its grants): the enterprise's own documents of the objects concerned,
    changed, or new documents laid over the lower layers."""
    own = own_documents(conn, effective)
    changed: dict[str, dict[str, Any]] = {}

    def document(name: str) -> dict[str, Any]:
        if name not in changed:
            changed[name] = (as_document(copy.deepcopy(own[name])) if name in own
                             else {"kind": "object", "api_name": name})
        return changed[name]

    options = role_options(effective)
    values = [o["value"] for o in options]
    if grants is None:
        options = [o for o in options if o["value"] != role]
    elif role not in values or label is not None:
        current = options[values.index(role)] if role in values else {"value": role}
        option = {**current, "label": label or current.get("label")}
        options = ([option if o["value"] == role else o for o in options]
                   if role in values else [*options, option])
    if options != role_options(effective):
        user = document("user")
        wanted = {"api_name": ROLES_FIELD, "type": "multiselect",
                  "options": as_document(options)}
        fields = user.setdefault("fields", [])
        for i, f in enumerate(fields):
            if f["api_name"] == ROLES_FIELD:
                fields[i] = {**f, "options": wanted["options"]}
                break
        else:
            fields.append(wanted)
    for name in effective.objects:
        wanted_grant = None if grants is None else grants.get(name)
        has = name in own and role in own[name].get("permissions", {})
        if wanted_grant is None and not has:
            continue
        if has and wanted_grant == {k: own[name]["permissions"][role][k]
                                    for k in ("verbs", "scope", "fields")}:
            continue
        doc = document(name)
        permissions = doc.setdefault("permissions", {})
        if wanted_grant is None:
            permissions.pop(role, None)
        else:
            permissions[role] = dict(wanted_grant)
    return [Document(doc, f"roles/{role}.json") for doc in changed.values()]


def check_deletable(conn: Connection, effective: Effective, role: str) -> None:
    """Refuses deleting a built-in role, an unknown one or one still assigned."""
    if role in BUILTIN_ROLES:
        raise AppError("builtin_role", _("Built-in roles cannot be deleted"))
    if role not in {o["value"] for o in role_options(effective)}:
        raise NotFound("no_such_role", _("There is no role '${role}'",
                                         mapping={"role": role}))
    users = assigned(conn, effective, role)
    if users:
        raise AppError("role_in_use", _("${users} user(s) still hold this role; take "
                                        "it from them first",
                                        mapping={"users": users}),
            status=409)
