"""The one enforcement point: who may do what to which records (CONTRACT §5).

An ``AccessPolicy`` is made per request from the actor (their user id and roles)
and the enterprise's effective metadata. It answers three kinds of question:

* object level: may the user create, read, export … records of an object at all
  (``allows``/``require``), and which fields are hidden or read-only for them;
* record level, as SQL: the records a verb reaches (``condition``) — a condition
  over the object's table that the caller puts into its own statement, so a page,
  a keyword search, a lookup check or a quote read is one query, whatever the
  number of records, and nothing is filtered in Python;
* the reasons behind both, for the explain route (``rules``).

A verb reaches a record through one of the *rules*: a role's data scope (``own``:
the owner is me; ``subordinates``: the owner is me or below me in the superior
chain; ``department``: the owning department is one of mine or below one;
``all``), the object's ``sharing`` (``hierarchy``: records owned below me, to read
and change; ``public_read``: every record, to read; ``public_write``: every record,
to read and change; ``audience``: the records sent to me, to read) and the
record's team (joint followers with ``read`` or ``edit``). Changing a record
(``edit``, ``delete``, ``transfer``) through sharing or the team needs that verb
all the same. The chain and the department tree are the closure tables of
``hierarchy``; nothing here is cached, so a new superior counts on the next
request.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Connection,
    Select,
    Table,
    and_,
    exists,
    false,
    func,
    literal,
    or_,
    select,
    union,
)

from propolis.platform.db import dialect_for
from propolis.platform.errors import Forbidden, _
from propolis.platform.meta.effective import Effective, ObjectMeta
from propolis.platform.permissions.actor import Actor
from propolis.platform.permissions.grants import ADMIN, Grant, combine, full_grant
from propolis.platform.storage.platform_tables import (
    department_tree,
    record_audience,
    record_team,
    user_hierarchy,
)

READ = "read"
# Verbs that act on one record (the others act on the object: create, import, and
# export, whose rows are the readable ones).
RECORD_VERBS = ("read", "edit", "delete", "transfer")
WRITE_VERBS = frozenset({"edit", "delete", "transfer"})
# What each data scope, sharing setting and team access reaches, as predicates:
#   own         the owner is the user
#   chain       the owner is the user or below them (user_hierarchy)
#   department  the owning department is one of theirs or below one
#   team        the user follows the record; team_edit: with "edit"
#   audience    the record is sent to the user, one of their departments or one
#               above, or everyone; or the user was @mentioned (record_audience)
#   all         every record
SCOPE_PREDICATES = {"own": "own", "subordinates": "chain",
                    "department": "department", "all": "all"}
SHARING_RULES: Mapping[str, tuple[str, frozenset[str]]] = {
    "hierarchy": ("chain", frozenset({READ, *WRITE_VERBS})),
    "public_read": ("all", frozenset({READ})),
    "public_write": ("all", frozenset({READ, *WRITE_VERBS})),
    "audience": ("audience", frozenset({READ})),
}
DENIED = _("Not allowed")
# ObjectMeta.cache keys of what is kept per set of roles
GRANTS = "permissions.grant"
RULES = "permissions.rules"
# How many people below a user make SQLite walk a page in sort order (``_shape``):
# about where walking starts to find a page sooner than sorting the rows of
# everyone below, for tables of 10^5–10^6 rows in enterprises of 10^3–10^4 users.
WALK_BELOW = 100


def forbidden() -> Forbidden:
    """The one answer to a refused verb: it names nothing about the record."""
    return Forbidden("forbidden", DENIED)


@dataclass(frozen=True)
class Rule:
    """One way a user reaches records of an object: ``kind`` "scope" (``name`` the
    data scope, ``roles`` the roles that give it), "sharing" (``name`` the setting),
    "team" (``name`` the access) or "admin"; ``verbs`` are the record verbs it
    carries, ``predicate`` which records it reaches (see ``SCOPE_PREDICATES``)."""

    kind: str
    name: str
    predicate: str
    verbs: frozenset[str]
    roles: tuple[str, ...] = ()


class AccessPolicy:
    """What one actor may do in one enterprise (see the module docstring). The
    platform itself (an actor without a user: jobs, the CLI, enterprise creation)
    and the enterprise admin are never restricted."""

    def __init__(self, effective: Effective, actor: Actor) -> None:
        self.effective = effective
        self.actor = actor
        self.user_id = actor.user_id
        self.unrestricted = actor.user_id is None or ADMIN in actor.roles
        # what the per-version caches are keyed by: the roles (None: everything)
        self._roles = None if self.unrestricted else actor.roles
        self._grants: dict[str, Grant] = {}
        self._above: Select[Any] | None = None

    # -- objects and fields ----------------------------------------------------

    def _object(self, object: str) -> ObjectMeta:
        obj = self.effective.object(object)
        if obj is None:
            raise KeyError(object)
        return obj

    def grant(self, object: str) -> Grant:
        """The user's combined grant on ``object``. It follows from the metadata
        version and the roles alone, so it is kept with the object's other
        per-version data for everyone holding the same roles."""
        found = self._grants.get(object)
        if found is None:
            obj = self._object(object)
            grants = obj.cache.setdefault(GRANTS, {})
            found = grants.get(self._roles)
            if found is None:
                found = grants[self._roles] = (
                    full_grant(obj.doc) if self.unrestricted
                    else combine(obj.doc, self.actor.roles))
            self._grants[object] = found
        return found

    def allows(self, object: str, verb: str) -> bool:
        return verb in self.grant(object).verbs

    def require(self, object: str, verb: str) -> None:
        """403 unless one of the user's roles grants ``verb`` on ``object``."""
        if not self.allows(object, verb):
            raise forbidden()

    def readable_objects(self) -> list[str]:
        """The objects the user may read, by api_name."""
        return sorted(n for n in self.effective.objects if self.allows(n, READ))

    def hidden(self, object: str) -> frozenset[str]:
        """Fields the user may not see: absent from output, history, search,
        filters, sorts, forms and exports."""
        return self.grant(object).hidden

    def readonly(self, object: str) -> frozenset[str]:
        """Fields the user sees but may not change."""
        return self.grant(object).readonly

    def field_access(self, object: str) -> dict[str, str]:
        """``hidden``, ``read`` or ``edit`` for every field of ``object``."""
        return dict(self.grant(object).field_access)

    def visible_fields(self, object: str) -> dict[str, dict[str, Any]]:
        """The object's fields the user may see, by api_name, in order."""
        hidden = self.hidden(object)
        return {n: f for n, f in self._object(object).fields.items()
                if n not in hidden}

    def strip(self, object: str, record: dict[str, Any]) -> dict[str, Any]:
        """``record`` (JSON values) without the fields hidden from the user; the
        one filter every way out (API, history, exports) applies."""
        hidden = self.hidden(object)
        if hidden:
            for name in hidden & record.keys():
                del record[name]
        return record

    # -- records -----------------------------------------------------------------

    def rules(self, object: str) -> tuple[Rule, ...]:
        """Every way the user reaches records of ``object`` (like the grant, the
        same for everyone holding the same roles)."""
        rules = self._object(object).cache.setdefault(RULES, {})
        found = rules.get(self._roles)
        if found is None:
            found = rules[self._roles] = self._rules(object, self.grant(object))
        return found

    def _rules(self, object: str, grant: Grant) -> tuple[Rule, ...]:
        if grant.everything:
            return (Rule("admin", ADMIN, "all", frozenset(RECORD_VERBS)),)
        rules = []
        for scope, predicate in SCOPE_PREDICATES.items():
            verbs = frozenset(v for v in RECORD_VERBS
                              if scope in grant.scopes.get(v, ()))
            if verbs:
                roles = tuple(g.role for g in grant.roles
                              if g.scope == scope and g.verbs & verbs)
                rules.append(Rule("scope", scope, predicate, verbs, roles))
        sharing = self._object(object).doc.get("sharing", "hierarchy")
        if sharing in SHARING_RULES:
            predicate, verbs = SHARING_RULES[sharing]
            rules.append(Rule("sharing", sharing, predicate, verbs))
        rules.append(Rule("team", "read", "team", frozenset({READ})))
        rules.append(Rule("team", "edit", "team_edit",
                          frozenset({READ, *WRITE_VERBS})))
        return tuple(rules)

    def predicates(self, object: str, verb: str | None = None) -> set[str]:
        """The predicates through which ``verb`` (None: any verb) reaches records,
        without those another one in the set includes."""
        found = {r.predicate for r in self.rules(object)
                 if verb is None or verb in r.verbs}
        if "all" in found:
            return {"all"}
        if "chain" in found:
            found.discard("own")  # the chain holds the user at depth 0
        if "team" in found:
            found.discard("team_edit")
        return found

    def condition(
        self, object: str, table: Table, verb: str | None = None
    ) -> ColumnElement[bool] | None:
        """The records of ``object`` (rows of ``table``) that ``verb`` may reach
        (None: any verb), whether or not a role grants the verb itself; None when
        that is every record."""
        branches = self.branches(object, table, verb)
        if branches is None:
            return None
        return or_(*branches) if branches else false()

    def branches(
        self,
        object: str,
        table: Table,
        verb: str | None = None,
        conn: Connection | None = None,
    ) -> list[ColumnElement[bool]] | None:
        """``condition`` as the conditions it is the union of (a query pages each
        on its own, see ``query_page``); None when every record is reached. With
        ``conn``, the branches are shaped for a page on that connection (see
        ``_shape``)."""
        found = self.predicates(object, verb)
        if found == {"all"}:
            return None
        walk = False
        if conn is not None:
            found, walk = self._shape(conn, object, found)
        return [self.predicate(object, table, p, walk=walk) for p in sorted(found)]

    def _shape(
        self, conn: Connection, object: str, found: set[str]
    ) -> tuple[set[str], bool]:
        """One small query before a page, so that the page is planned for this
        user:

        * the team branch is left out when the user follows no record of the
          object (most users, most objects): one branch less to plan and run;
        * PostgreSQL plans the page for this user's values rather than reusing a
          generic plan of the same statement prepared for someone else (a sales
          rep's plan walks a manager's page through half the table);
        * SQLite keeps no statistics of the chain, so it always starts from the
          owners below the user: right for a sales rep, but for a manager with
          thousands below them it sorts half the table for one page. Past
          ``WALK_BELOW`` people below the user it is told to walk the sort order
          and look each owner up instead (``walk``)."""
        me = literal(self.user_id)
        columns = []
        team = found & {"team", "team_edit"}
        if team:
            columns.append(exists(select(literal(1)).where(
                record_team.c.user_id == me, record_team.c.object == object)
            ).label("follows"))
        dialect = dialect_for(conn)
        chain = not dialect.plans_with_statistics and "chain" in found
        if chain:
            below = (select(literal(1)).where(user_hierarchy.c.ancestor == me)
                     .limit(WALK_BELOW).subquery())
            columns.append(select(func.count()).select_from(below)
                           .scalar_subquery().label("below"))
        custom_plans = dialect.custom_plans()
        if custom_plans is not None:
            columns.append(custom_plans.label("plans"))
        if not columns:
            return found, False
        row = conn.execute(select(*columns)).one()._mapping
        if team and not row["follows"]:
            found = found - team
        return found, chain and row["below"] >= WALK_BELOW

    def predicate(
        self, object: str, table: Table, name: str, *, walk: bool = False
    ) -> ColumnElement[bool]:
        """One predicate (see ``SCOPE_PREDICATES``) as SQL over ``table``; ``walk``
        writes the chain as a lookup per row (see ``_shape``)."""
        me = literal(self.user_id)
        if name == "own":
            return table.c.owner == me
        if name == "chain" and walk:
            return exists(select(literal(1)).where(
                user_hierarchy.c.ancestor == me,
                user_hierarchy.c.descendant == table.c.owner))
        if name == "chain":
            return table.c.owner.in_(select(user_hierarchy.c.descendant)
                                     .where(user_hierarchy.c.ancestor == me))
        if name == "department":
            return table.c.owner_department.in_(
                select(department_tree.c.descendant)
                .where(department_tree.c.ancestor.in_(self.my_departments())))
        if name == "audience":
            # a probe per row by the index's (object, record_id): a page walks
            # the sort order, and most feeds hold posts sent to everyone or to a
            # department, so it stops soon; an IN list would gather every post
            # sent to everyone before sorting them
            return exists(self.audience(object).where(
                record_audience.c.record_id == table.c.id))
        if name in ("team", "team_edit"):
            followed = select(record_team.c.record_id).where(
                record_team.c.object == object, record_team.c.user_id == me)
            if name == "team_edit":
                followed = followed.where(record_team.c.access == "edit")
            return table.c.id.in_(followed)
        raise ValueError(f"unknown predicate {name!r}")

    def audience(self, object: str) -> Select[Any]:
        """The ids of the records of ``object`` sent to the user: to them, to
        everyone, or to one of their departments or a department above one."""
        me = literal(self.user_id)
        rows = record_audience.c
        return select(rows.record_id).where(rows.object == object, or_(
            and_(rows.kind == "user", rows.target == me),
            and_(rows.kind == "all", rows.target == ""),
            and_(rows.kind == "department", rows.target.in_(self._above_mine()))))

    def _above_mine(self) -> Select[Any]:
        """The user's departments and those above them, built once per policy (a
        feed asks for it once per object). The tables are not aliased (aliasing
        the wide user table costs more than the page): the subqueries are never
        correlated with the records being filtered."""
        if self._above is None:
            users = self.effective.tables.main["user"]
            me = literal(self.user_id)
            mine: Select[Any] | CompoundSelect = select(
                users.c.main_department).where(users.c.id == me).correlate(None)
            others = self.effective.tables.children["user"].get("departments")
            if others is not None:
                mine = union(mine, select(others.c.department).where(
                    others.c.parent_id == me).correlate(None))
            self._above = select(department_tree.c.ancestor).where(
                department_tree.c.descendant.in_(mine)).correlate(None)
        return self._above

    def my_departments(self) -> Select[Any] | CompoundSelect:
        """The user's departments (main and others) as a subquery. The user table
        is aliased: the records being filtered may be users themselves."""
        users = self.effective.tables.main["user"].alias("my_user")
        me = literal(self.user_id)
        mine: Select[Any] = select(users.c.main_department).where(
            users.c.id == me, users.c.main_department.is_not(None))
        others = self.effective.tables.children["user"].get("departments")
        if others is None:
            return mine
        rows = others.alias("my_departments")
        return union(mine, select(rows.c.department).where(rows.c.parent_id == me))
