"""Why a user can or cannot see and change a record.

The answer is computed by the same ``AccessPolicy`` that enforces access: each
rule that could reach the record (a role's data scope, the object's sharing, the
record's team) is evaluated for that one record in one query, and the verdicts
are the enforcement's own (the verb granted by a role AND a rule carrying the verb
that holds). The reasons then say which rule holds (with the superior chain from
the user down to the owner, when the chain is what reaches it) and, for each
verdict that is no, why.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, select

from propolis.platform.errors import (
    COMMA,
    AppError,
    Message,
    NotFound,
    _,
    _c,
    joined,
    translate,
)
from propolis.platform.meta.effective import Effective
from propolis.platform.permissions.actor import Actor
from propolis.platform.permissions.policy import AccessPolicy, Rule
from propolis.platform.storage.platform_tables import USERS

VERDICTS = ("read", "edit", "delete")
SCOPE_TEXT = {
    "own": _("records the user owns"),
    "subordinates": _("records owned by the user or anyone below them, at any depth"),
    "department": _("records of the user's departments and the departments below"),
    "all": _("every record"),
}
SHARING_TEXT = {
    "hierarchy": _("superiors see and edit the records of everyone below them"),
    "public_read": _("everyone may read"),
    "public_write": _("everyone may read and edit"),
    "audience": _("the users and departments (and those below) it is sent to, and "
                  "those @mentioned, may read"),
}


def load_actor(conn: Connection, effective: Effective, user_id: str) -> Actor | None:
    """The user ``user_id`` as an actor (their roles, ``employee`` included), None
    when there is no such user."""
    users = effective.tables.main["user"]
    row = conn.execute(select(users.c.id, users.c.main_department, users.c.roles)
                       .where(users.c.id == user_id)).first()
    if row is None:
        return None
    return Actor(user_id=row.id, department_id=row.main_department,
                 roles=frozenset(row.roles or ()) | {"employee"})


class _Explainer:
    def __init__(self, conn: Connection, effective: Effective, lang: str) -> None:
        self.conn = conn
        self.effective = effective
        self.lang = lang

    def text(self, value: Message) -> str:
        return translate(value, self.lang)

    def names(self, ids: list[str]) -> list[dict[str, Any]]:
        users = self.effective.tables.main["user"]
        found = {r.id: r.name for r in self.conn.execute(
            select(users.c.id, users.c.name).where(users.c.id.in_(ids)))}
        return [{"id": i, "name": found.get(i)} for i in ids]

    def reason(self, rule: Rule, policy: AccessPolicy, object: str,
               record: Mapping[Any, Any]) -> dict[str, Any]:
        granted = sorted(v for v in rule.verbs if policy.allows(object, v))
        out: dict[str, Any] = {"kind": rule.kind, "verbs": granted}
        user = policy.user_id or ""
        if rule.kind == "admin":
            out["role"] = rule.name
            out["message"] = self.text(_("the enterprise admin may see and change "
                                         "everything in the enterprise"))
        elif rule.kind == "scope":
            out.update(scope=rule.name, roles=list(rule.roles))
            out["message"] = self.text(_(
                    "the data scope of role(s) ${roles}: ${scope}",
                    mapping={"roles": joined(list(rule.roles), COMMA),
                             "scope": SCOPE_TEXT[rule.name]}))
        elif rule.kind == "sharing":
            out["sharing"] = rule.name
            text = SHARING_TEXT[rule.name]
            out["message"] = self.text(_("the object's sharing ${name}: ${text}",
                                         mapping={"name": rule.name, "text": text}))
        else:
            out["access"] = rule.name
            out["message"] = self.text(_("the user is a joint follower of the record "
                                         "(${name})",
                                         mapping={"name": rule.name}))
        if rule.predicate == "chain" and record["owner"]:
            out["chain"] = self.names(USERS.path(self.conn, user, record["owner"]))
        if rule.predicate == "department" and record["owner_department"]:
            out["department"] = record["owner_department"]
        return out

    def denial(self, verb: str, policy: AccessPolicy, object: str,
               record: Mapping[Any, Any]) -> dict[str, Any]:
        if not policy.allows(object, verb):
            return {"kind": "verb_not_granted", "verb": verb,
                    "message": self.text(_("none of the user's roles grants ${verb} "
                                           "on ${object}",
                                           mapping={"verb": verb, "object": object}))}
        return {"kind": "no_rule", "verb": verb, "owner": record["owner"],
                "message": self.text(_("no rule reaches this record: the owner is "
                                       "not the user nor below them in the chain, "
                                       "the owning department is outside their "
                                       "data scope, and neither the sharing "
                                       "setting nor the record's team grants it"))}


def explain(
    conn: Connection,
    effective: Effective,
    object: str,
    record_id: str,
    user_id: str,
    lang: str,
) -> dict[str, Any]:
    """``{"user", "record", "read", "edit", "delete", "reasons"}`` for
    ``user_id`` on the record (in the recycle bin too); 404 for a missing record,
    400 naming ``user`` for a missing user."""
    actor = load_actor(conn, effective, user_id)
    if actor is None:
        raise AppError("invalid", _c("platform.permissions.explain", "No such user"),
                       {"user": [_c("platform.permissions.explain", "no such user")]})
    table = effective.tables.main[object]
    policy = AccessPolicy(effective, actor)
    rules = policy.rules(object)
    checked = sorted({r.predicate for r in rules} - {"all"})
    row = conn.execute(
        select(table.c.owner, table.c.owner_department, table.c.deleted_at,
               *[policy.predicate(object, table, p).label(f"p_{p}") for p in checked])
        .where(table.c.id == record_id)).first()
    if row is None:
        raise NotFound("not_found", _("The record does not exist"))
    record = row._mapping
    holds = {"all": True, **{p: bool(record[f"p_{p}"]) for p in checked}}
    held = [r for r in rules if holds[r.predicate]]
    if holds.get("team_edit"):  # one team entry: name it once, with its access
        held = [r for r in held if r.predicate != "team"]
    verdicts = {verb: policy.allows(object, verb) and any(verb in r.verbs for r in held)
                for verb in VERDICTS}
    helper = _Explainer(conn, effective, lang)
    reasons = [helper.reason(r, policy, object, record) for r in held]
    reasons += [helper.denial(v, policy, object, record)
                for v in VERDICTS if not verdicts[v]]
    return {
        "user": helper.names([user_id])[0],
        "record": {"object": object, "id": record_id, "owner": record["owner"],
                   "owner_department": record["owner_department"],
                   "deleted": record["deleted_at"] is not None},
        **verdicts,
        "reasons": reasons,
    }
