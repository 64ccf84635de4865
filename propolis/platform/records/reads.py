"""Reading records: one record, pages of records (filters, sort, keyword search,
keyset cursors), counts per value, the recycle bin, history; every read limited to
what the actor's access policy lets them reach and see."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    String,
    cast,
    false,
    literal,
    or_,
    select,
    true,
    union_all,
)

from propolis.platform.db import dialect_for
from propolis.platform.errors import NotFound, _
from propolis.platform.fields.registry import field_type
from propolis.platform.fields.values import OUTPUT_SYSTEM_FIELDS, to_json_value
from propolis.platform.permissions.policy import READ, forbidden
from propolis.platform.query.search import keyword_over_fields
from propolis.platform.query.services import (
    grouped_count,
    keyword_condition,
    query_page,
    visible_page,
)
from propolis.platform.records import history
from propolis.platform.records.plan import (
    SYSTEM_COLUMNS,
    ObjectPlan,
    RecordServiceBase,
    stored,
)
from propolis.platform.storage.platform_tables import record_topics

# records read back at once for the events of a bulk change
WHOLE_CHUNK = 500


@dataclass(frozen=True)
class FileHolder:
    """A record holding an uploaded file: ``visible`` when the actor sees the
    field holding it, ``reachable`` when they may read the record."""

    object: str
    record_id: str
    visible: bool
    reachable: bool


class Reads(RecordServiceBase):
    """Reading records on the actor's behalf."""

    def get(self, object: str, id: str) -> dict[str, Any]:
        """One record; 404 when it does not exist or is in the recycle bin."""
        plan = self._plan(object)
        conn = self.session.connection()
        rec = self._load(conn, plan, id, verb=READ)
        return self._out(plan, rec, self._quotes(conn, plan, [rec])[rec["id"]])

    def list_deleted(
        self, object: str, limit: int = 50, cursor: str | None = None
    ) -> dict[str, Any]:
        """The recycle bin, most recently deleted first, a page at a time."""
        plan = self._plan(object)
        self.policy.require(plan.name, READ)
        conn = self.session.connection()
        rows, next_cursor = query_page(
            conn, plan.table, self._readable(plan), sort=["-deleted_at"],
            limit=limit, cursor=cursor, deleted=True,
            visible=self.policy.branches(plan.name, plan.table, READ, conn))
        return {"records": self._page(conn, plan, rows), "next_cursor": next_cursor}

    def history(self, object: str, id: str) -> list[dict[str, Any]]:
        """A record's field-level changes, oldest first (also while it is in the
        recycle bin)."""
        plan = self._plan(object)
        conn = self.session.connection()
        self._load(conn, plan, id, deleted=None, verb=READ)
        entries = history.read(conn, plan.name, id, self.tz)
        hidden = self.policy.hidden(plan.name)
        if hidden:
            for entry in entries:
                entry["changes"] = {n: v for n, v in entry["changes"].items()
                                    if n not in hidden}
        return entries

    def query(
        self,
        object: str,
        *,
        filters: list[dict[str, Any]] | None = None,
        sort: list[str] | None = None,
        limit: int = 50,
        cursor: str | None = None,
        q: str | None = None,
    ) -> dict[str, Any]:
        """A page of live records matching every filter and every keyword of
        ``q``, in ``sort`` order (``id`` breaks ties), and the next page's
        cursor."""
        plan = self._plan(object)
        self.policy.require(plan.name, READ)
        conn = self.session.connection()
        q, where = self._keyword(conn, plan, q)
        rows, next_cursor = query_page(
            conn, plan.table, self._readable(plan), filters=filters, sort=sort,
            limit=limit, cursor=cursor, q=q,
            fts=plan.fts if self._fts(conn, plan) else None, where=where,
            visible=self.policy.branches(plan.name, plan.table, READ, conn))
        return {"records": self._page(conn, plan, rows), "next_cursor": next_cursor}

    def stream(
        self,
        objects: list[str],
        *,
        before: str | None = None,
        limit: int = 20,
        topic: str | None = None,
        author: str | None = None,
        q: str | None = None,
    ) -> list[tuple[str, dict[str, Any]]]:
        """The feed's page: up to ``limit`` live records of ``objects`` that the
        actor may read, newest first (ids are time-ordered), older than the
        record ``before``; those naming ``topic`` or written by ``author`` when
        given; as ``(object, record)``. One statement finds the page (each
        object's first ids under its own visibility branches, see
        ``visible_page``, their union ordered by id), then each object on it
        reads its records."""
        conn = self.session.connection()
        dialect = dialect_for(conn)
        pages = []
        plans = {}
        for object in objects:
            plan = plans[object] = self._plan(object)
            if not self.policy.allows(plan.name, READ):
                continue
            table = plan.table
            where: list[ColumnElement[bool]] = [table.c.deleted_at.is_(None)]
            if before:
                where.append(table.c.id < before)
            if author:
                where.append(table.c.created_by == author)
            if topic is not None:
                where.append(table.c.id.in_(select(record_topics.c.record_id).where(
                    record_topics.c.object == plan.name,
                    record_topics.c.topic == topic)))
            found, keyword = self._keyword(conn, plan, q)
            where += keyword
            match = keyword_condition(table, found, dialect,
                                      plan.fts if self._fts(conn, plan) else None)
            if match is not None:
                where.append(match)
            order = [table.c.id.desc()]
            branches = self.policy.branches(plan.name, table, READ)
            if branches is not None:
                where.append(visible_page(table, branches, where, order, limit))
            pages.append(select(literal(plan.name).label("object"),
                                table.c.id.label("id"))
                         .where(*where).order_by(*order).limit(limit).subquery())
        if not pages:
            return []
        ids = union_all(*[select(p.c.object, p.c.id) for p in pages]).subquery()
        page = conn.execute(select(ids.c.object, ids.c.id)
                            .order_by(ids.c.id.desc()).limit(limit)).all()
        records: dict[str, dict[str, Any]] = {}
        for object in dict.fromkeys(row.object for row in page):
            plan = plans[object]
            wanted = [row.id for row in page if row.object == object]
            rows = list(conn.execute(select(plan.table).where(
                plan.table.c.id.in_(wanted))))
            records.update((r["id"], r) for r in self._page(conn, plan, rows))
        return [(row.object, records[row.id]) for row in page]

    def count_by(
        self,
        object: str,
        field: str,
        *,
        filters: list[dict[str, Any]] | None = None,
        q: str | None = None,
    ) -> list[tuple[Any, int]]:
        """How many of the records ``query`` would find hold each value of the
        select or boolean ``field`` (as stored; None for empty), largest first."""
        plan = self._plan(object)
        self.policy.require(plan.name, READ)
        conn = self.session.connection()
        q, where = self._keyword(conn, plan, q)
        return grouped_count(
            conn, plan.table, self._readable(plan), field, filters=filters, q=q,
            fts=plan.fts if self._fts(conn, plan) else None, where=where,
            visible=self.policy.branches(plan.name, plan.table, READ))

    def _keyword(
        self, conn: Connection, plan: ObjectPlan, q: str | None
    ) -> tuple[str | None, list[ColumnElement[bool]]]:
        """``q`` for the query layer, or, when some searched field is hidden from
        the actor, None and the keyword as a condition over the visible fields
        (``search_text`` holds the hidden values too)."""
        hidden = self.policy.hidden(plan.name)
        if q is None or not hidden & plan.searched:
            return q, []
        keyword = keyword_over_fields(
            plan.table, [f for f in plan.searchable if f["api_name"] not in hidden],
            {n: (plan.children[n], subs)
             for n, subs in plan.searchable_rows.items()
             if subs and n not in hidden},
            q, dialect_for(conn))
        return None, [keyword] if keyword is not None else []

    def check(self, object: str, id: str, verb: str) -> None:
        """Raises as a read or change of the record would: 404 when the actor
        cannot reach the record (or it does not exist), 403 when ``verb`` is not
        theirs on it."""
        plan = self._plan(object)
        self._load(self.session.connection(), plan, id, verb=verb)

    def file_holders(self, file_id: str) -> list[FileHolder]:
        """The records (live or in the recycle bin) whose file or image fields,
        or their tables' rows, hold the uploaded file ``file_id``, each with
        whether the actor reaches the record and sees the field holding it."""
        if not file_id.isalnum():  # ids are ULIDs: nothing to escape in LIKE
            return []
        quoted = f'%"{file_id}"%'
        conn = self.session.connection()
        found: list[FileHolder] = []
        for name in self.effective.objects:
            plan = self._plan(name)
            # (the field whose access decides, the columns that may hold the id)
            holding = [(f["api_name"], [plan.table.c[f["api_name"]]])
                       for f in plan.file_fields]
            holding += [(table, [plan.children[table].c[s["api_name"]]
                                 for s in subs])
                        for table, subs in plan.row_file_fields.items() if subs]
            if not holding:
                continue
            hidden = self.policy.hidden(name)
            readable: ColumnElement[bool] = false()
            if self.policy.allows(name, READ):
                reach = self.policy.condition(name, plan.table, READ)
                readable = true() if reach is None else reach
            for field, columns in holding:
                held = or_(*(cast(c, String).like(quoted) for c in columns))
                stmt = select(plan.table.c.id, readable.label("_reach"))
                if columns[0].table is plan.table:
                    stmt = stmt.where(held)
                else:
                    child = columns[0].table
                    stmt = stmt.where(plan.table.c.id.in_(
                        select(child.c.parent_id).where(held)))
                found.extend(FileHolder(name, row.id, field not in hidden,
                                        bool(row._reach))
                             for row in conn.execute(stmt))
        return found

    def variables(self, object: str, id: str, *, verb: str | None = READ,
                  lock: bool = False) -> dict[str, Any]:
        """The record as expressions see it (``when`` of an action, ``where`` of a
        schedule, an approval step's ``when``): Python values by api_name, system
        fields included, a table's rows as lists of maps. Raises as ``check`` with
        ``verb`` (None: no right asked, for a caller that checked the actor's);
        ``lock`` holds the row until the transaction ends."""
        plan = self._plan(object)
        return self._load(self.session.connection(), plan, id, verb=verb, lock=lock)

    def scan(self, object: str, *, after: str | None = None,
             limit: int = 200) -> list[dict[str, Any]]:
        """The next ``limit`` live records the actor may read after the id
        ``after``, in id order, as expressions see them (see ``variables``): a
        pass over every record, a batch at a time."""
        plan = self._plan(object)
        self.policy.require(plan.name, READ)
        conn = self.session.connection()
        table = plan.table
        stmt = select(table).where(table.c.deleted_at.is_(None))
        visible = self.policy.condition(plan.name, table)
        if visible is not None:
            stmt = stmt.where(visible)
        if after is not None:
            stmt = stmt.where(table.c.id > after)
        return self._with_rows(
            conn, plan, list(conn.execute(stmt.order_by(table.c.id).limit(limit))))

    def _with_rows(self, conn: Connection, plan: ObjectPlan, rows: list[Any]
                   ) -> list[dict[str, Any]]:
        """Records from their rows, with their tables' rows."""
        recs = [self._from_row(plan, row._mapping) for row in rows]
        if plan.tables and recs:
            children = self._load_rows(conn, plan, [r["id"] for r in recs])
            for rec in recs:
                for f in plan.tables:
                    rec[f["api_name"]] = children[f["api_name"]].get(rec["id"], [])
        return recs

    @staticmethod
    def _fts(conn: Connection, plan: ObjectPlan) -> bool:
        return plan.has_search and dialect_for(conn).search_table

    def _from_row(self, plan: ObjectPlan, row: Mapping[Any, Any]) -> dict[str, Any]:
        rec = {name: row[name] for name in SYSTEM_COLUMNS}
        for f in plan.stored:
            rec[f["api_name"]] = field_type(f).from_column(f, row[f["api_name"]])
        return rec

    def _load(
        self,
        conn: Connection,
        plan: ObjectPlan,
        id: str,
        *,
        deleted: bool | None = False,
        lock: bool = False,
        verb: str | None = None,
    ) -> dict[str, Any]:
        """The record ``id``. With ``verb``, on the actor's behalf: the record must
        be one they reach (else the same 404 as a missing id) and ``verb`` theirs
        on it (else 403)."""
        table = plan.table
        policy = self.policy
        checked = None if policy.unrestricted else verb
        stmt = plan.by_id
        if checked is not None:
            reach = policy.condition(plan.name, table, checked)
            stmt = stmt.add_columns((true() if reach is None else reach)
                                    .label("_reach"))
            visible = policy.condition(plan.name, table)
            if visible is not None:
                stmt = stmt.where(visible)
        if lock:
            stmt = stmt.with_for_update(of=table)
        row = conn.execute(stmt, {"_id": id}).first()
        if row is None or (deleted is not None
                           and (row.deleted_at is not None) != deleted):
            raise NotFound("not_found", _("The record does not exist or was deleted"))
        if checked is not None and not (policy.allows(plan.name, checked)
                                        and row._mapping["_reach"]):
            raise forbidden()
        rec = self._from_row(plan, row._mapping)
        rows = self._load_rows(conn, plan, [id])
        for f in plan.tables:
            rec[f["api_name"]] = rows[f["api_name"]].get(id, [])
        return rec

    def _load_rows(
        self, conn: Connection, plan: ObjectPlan, ids: list[str]
    ) -> dict[str, dict[str, list[dict[str, Any]]]]:
        found: dict[str, dict[str, list[dict[str, Any]]]] = {}
        for f in plan.tables:
            child = plan.children[f["api_name"]]
            by_parent: dict[str, list[dict[str, Any]]] = {}
            subs = [(s, field_type(s)) for s in f["fields"] if stored(s)]
            if ids:
                for row in conn.execute(
                        select(child).where(child.c.parent_id.in_(ids))
                        .order_by(child.c.parent_id, child.c.row_order)):
                    m = row._mapping
                    item = {"id": m["id"]}
                    for s, stype in subs:
                        item[s["api_name"]] = stype.from_column(s, m[s["api_name"]])
                    by_parent.setdefault(m["parent_id"], []).append(item)
            found[f["api_name"]] = by_parent
        return found

    def _page(
        self, conn: Connection, plan: ObjectPlan, rows: list[Any]
    ) -> list[dict[str, Any]]:
        recs = self._with_rows(conn, plan, rows)
        quoted = self._quotes(conn, plan, recs)
        return [self._out(plan, rec, quoted[rec["id"]]) for rec in recs]

    def _wholes(
        self, conn: Connection, plan: ObjectPlan, ids: Sequence[str]
    ) -> Iterator[dict[str, Any]]:
        """The records ``ids`` (the recycle bin included) as ``_whole`` gives
        them, read a chunk at a time."""
        for start in range(0, len(ids), WHOLE_CHUNK):
            chunk = ids[start:start + WHOLE_CHUNK]
            recs = self._with_rows(conn, plan, list(conn.execute(
                select(plan.table).where(plan.table.c.id.in_(chunk)))))
            quoted = self._quotes(conn, plan, recs)
            for rec in recs:
                yield self._json(plan, rec, quoted[rec["id"]])

    def _out(
        self, plan: ObjectPlan, rec: Mapping[str, Any], quoted: Mapping[str, Any]
    ) -> dict[str, Any]:
        """A record as the actor may see it."""
        return self.policy.strip(plan.name, self._json(plan, rec, quoted))

    def _whole(
        self, conn: Connection, plan: ObjectPlan, rec: Mapping[str, Any]
    ) -> dict[str, Any]:
        """A record as JSON values with its quotes, before the actor's strip."""
        return self._json(plan, rec, self._quotes(conn, plan, [dict(rec)])[rec["id"]])

    def _readable(self, plan: ObjectPlan) -> dict[str, Mapping[str, Any]]:
        """The fields the actor may filter and sort on."""
        hidden = self.policy.hidden(plan.name)
        return {n: f for n, f in plan.visible.items() if n not in hidden}

    def _quotes(
        self, conn: Connection, plan: ObjectPlan, recs: list[dict[str, Any]]
    ) -> dict[str, dict[str, Any]]:
        """Quote values of a page of records: one query per lookup field quoted
        through, whatever the page size."""
        quoted: dict[str, dict[str, Any]] = {r["id"]: {} for r in recs}
        policy = self.policy
        for via, quotes in plan.quotes.items():
            target = quotes[0][1]
            target_object = plan.quote_targets[via]
            ids = {r[via] for r in recs if r.get(via)}
            found: dict[str, Mapping[Any, Any]] = {}
            # a quote shows only what the actor could read on the quoted record
            hidden = policy.hidden(target_object)
            columns = [target.c[f["api_name"]] for _, _, f in quotes
                       if stored(f) and f["api_name"] not in hidden]
            if ids and columns and policy.allows(target_object, READ):
                stmt = select(target.c.id, *columns).where(
                    target.c.id.in_(sorted(ids)), target.c.deleted_at.is_(None))
                reach = policy.condition(target_object, target, READ)
                if reach is not None:
                    stmt = stmt.where(reach)
                found = {row.id: row._mapping for row in conn.execute(stmt)}
            for rec in recs:
                source = found.get(rec.get(via))  # type: ignore[arg-type]
                for name, _quote, f in quotes:
                    value = None
                    if source is not None and f["api_name"] in source:
                        value = field_type(f).from_column(f, source[f["api_name"]])
                    quoted[rec["id"]][name] = field_type(f).to_json(f, value, self.tz)
        return quoted

    def _json(
        self, plan: ObjectPlan, rec: Mapping[str, Any], quoted: Mapping[str, Any]
    ) -> dict[str, Any]:
        out: dict[str, Any] = {"id": rec["id"]}
        tz = self.tz
        for name, f in plan.visible.items():
            ftype = field_type(f)
            if name in plan.quoted:
                out[name] = quoted.get(name)
            elif ftype.has_rows:
                out[name] = [
                    {"id": row["id"], **{s["api_name"]: field_type(s).to_json(
                        s, row.get(s["api_name"]), tz) for s in f["fields"]}}
                    for row in rec[name]]
            else:
                out[name] = ftype.to_json(f, rec[name], tz)
        for name in OUTPUT_SYSTEM_FIELDS:
            out[name] = to_json_value(rec[name], tz)
        if rec["deleted_at"] is not None:
            out["deleted_at"] = to_json_value(rec["deleted_at"], tz)
            out["deleted_by"] = rec["deleted_by"]
        return out
