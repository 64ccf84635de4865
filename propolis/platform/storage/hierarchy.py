"""The superior chain and the department tree, kept as closure tables (declared
with the other platform tables: ``platform_tables.USERS``, ``DEPARTMENTS``).

``user_hierarchy`` holds a row (ancestor, descendant, depth) for every user and
every user at or below them in the chain of ``superior``s (depth 0: the user
themself); ``department_tree`` the same for departments and ``parent``. "Is the
owner below me?" is then one indexed lookup, at any depth.

The record service calls these functions in the transaction that creates, changes,
deletes or restores a user or department, so a change is visible to the very next
request and never cached. Records in the recycle bin leave the tree: their subtree
is cut off from the nodes above them until they are restored. Writers are
serialised per enterprise (PostgreSQL: a table lock that readers never wait for;
SQLite's writers are serial already), so two concurrent moves can never build a
cycle that each alone would not.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import (
    Column,
    Connection,
    Index,
    Integer,
    MetaData,
    Select,
    String,
    Table,
    delete,
    insert,
    inspect,
    literal,
    select,
    true,
)

from propolis.platform.db import dialect_for
from propolis.platform.errors import AppError, _
from propolis.platform.storage.tables import table_name
from propolis.platform.storage.types import UTCDateTime


def closure_table(name: str, metadata: MetaData) -> Table:
    """A tree kept as a closure table: one row per (node, node at or below it),
    ``depth`` 0 for the node itself; the second index answers "what is above
    this node"."""
    return Table(
        name,
        metadata,
        Column("ancestor", String(32), primary_key=True),
        Column("descendant", String(32), primary_key=True),
        Column("depth", Integer, nullable=False),
        Index(f"ix_{name}_descendant", "descendant", "ancestor"),
    )


@dataclass(frozen=True)
class Closure:
    """The closure table of one object's self-reference (``user.superior``,
    ``department.parent``)."""

    object: str
    field: str
    table: Table

    # -- reading -------------------------------------------------------------

    def below(self, node: str) -> Select[tuple[str]]:
        """The nodes at or below ``node`` (a subquery of ids)."""
        c = self.table.c
        return select(c.descendant).where(c.ancestor == node)

    def path(self, conn: Connection, top: str, bottom: str) -> list[str]:
        """The chain from ``top`` down to ``bottom`` (both included); empty when
        ``bottom`` is not at or below ``top``."""
        up = self.table.alias("up")
        down = self.table.alias("down")
        rows = conn.execute(
            select(up.c.ancestor)
            .join(down, down.c.descendant == up.c.ancestor)
            .where(up.c.descendant == bottom, down.c.ancestor == top)
            .order_by(up.c.depth.desc()))
        return list(rows.scalars())

    # -- keeping it in step ----------------------------------------------------

    def added(self, conn: Connection, node: str, parent: str | None) -> None:
        """A new node (under ``parent``, when given)."""
        self._lock(conn)
        conn.execute(insert(self.table).values(ancestor=node, descendant=node,
                                               depth=0))
        if parent is not None:
            self._link(conn, node, parent)

    def check_move(self, conn: Connection, node: str, parent: str | None) -> None:
        """Refuses (400 naming the field) a parent at or below ``node``: the node
        would end up above itself."""
        self._lock(conn)
        if parent is None:
            return
        c = self.table.c
        cycle = conn.execute(select(c.depth).where(c.ancestor == node,
                                                   c.descendant == parent)).first()
        if cycle is not None:
            what = (_("superior") if self.object == "user"
                    else _("parent department"))
            raise AppError("invalid", _("Invalid data"), {self.field: [_(
                    "cannot be the record itself or one below it, at any depth: the "
                    "${what} chain would loop",
                    mapping={"what": what})]})

    def moved(self, conn: Connection, node: str, parent: str | None) -> None:
        """``node`` (and everything below it) now hangs under ``parent``; call
        ``check_move`` first."""
        self._unlink(conn, node)
        if parent is not None:
            self._link(conn, node, parent)

    def removed(self, conn: Connection, node: str) -> None:
        """``node`` went to the recycle bin: its subtree leaves the nodes above."""
        self._lock(conn)
        self._unlink(conn, node)

    def restored(self, conn: Connection, node: str, parent: str | None) -> None:
        """``node`` came back from the recycle bin under its ``parent``."""
        self._lock(conn)
        if parent is not None:
            self._link(conn, node, parent)

    def rebuild(self, conn: Connection) -> None:
        """Fills the table from the object's stored references (an enterprise that
        existed before the table). A loop left in old data is cut where it
        closes."""
        schema = dialect_for(conn).tenant_schema(conn)
        name = table_name(self.object)
        if not inspect(conn).has_table(name, schema=schema):
            return  # a new enterprise: its nodes arrive through the record service
        source = Table(name, MetaData(), Column("id", String(32)),
                       Column(self.field, String(32)),
                       Column("deleted_at", UTCDateTime()))
        parents = {row[0]: row[1] for row in conn.execute(
            select(source.c.id, source.c[self.field])
            .where(source.c.deleted_at.is_(None)))}
        rows = []
        for node in parents:
            rows.append({"ancestor": node, "descendant": node, "depth": 0})
            seen = {node}
            current, depth = parents[node], 1
            while current is not None and current in parents and current not in seen:
                rows.append({"ancestor": current, "descendant": node, "depth": depth})
                seen.add(current)
                current, depth = parents[current], depth + 1
        conn.execute(delete(self.table))
        if rows:
            conn.execute(insert(self.table), rows)

    def _lock(self, conn: Connection) -> None:
        dialect_for(conn).lock_table(conn, self.table.name)

    def _link(self, conn: Connection, node: str, parent: str) -> None:
        """Every node at or above ``parent`` becomes an ancestor of every node at or
        below ``node``."""
        above = self.table.alias("above")
        below = self.table.alias("below")
        conn.execute(insert(self.table).from_select(
            ["ancestor", "descendant", "depth"],
            select(above.c.ancestor, below.c.descendant,
                   above.c.depth + below.c.depth + literal(1))
            # every pair: a cross join
            .select_from(above.join(below, true()))
            .where(above.c.descendant == parent, below.c.ancestor == node)))

    def _unlink(self, conn: Connection, node: str) -> None:
        """Cuts the subtree of ``node`` from the nodes above ``node``."""
        below = self.table.alias("below")
        above = self.table.alias("above")
        c = self.table.c
        conn.execute(delete(self.table).where(
            c.descendant.in_(select(below.c.descendant)
                             .where(below.c.ancestor == node)),
            c.ancestor.in_(select(above.c.ancestor)
                           .where(above.c.descendant == node,
                                  above.c.ancestor != node))))
