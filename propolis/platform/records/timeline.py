"""A record's timeline: the records of other objects that point to it through a
lookup their object lists in ``timeline:`` (a follow-up's ``customer``), and
those that point to a record pointing to it, one hop further (a follow-up on an
opportunity shows on the opportunity's customer), newest first, a page at a
time, only what the actor may read.

Which lookups lead to an object is read from the metadata: a source object's
``timeline`` field ``f`` to object ``T`` lists the source's records on ``T``'s
records (``f = id``), and on the records of every object ``O`` that a lookup
``g`` of ``T`` points to (``f IN (SELECT id FROM T WHERE g = id)``). The page is
keyset on (``created_at``, ``id``) descending over every source object."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, or_, select

from propolis.platform.errors import AppError, _
from propolis.platform.fields.values import to_json_value
from propolis.platform.meta.effective import Effective
from propolis.platform.permissions.policy import READ
from propolis.platform.records.plan import reference_target
from propolis.platform.records.reads import Reads

MAX_LIMIT = 100
# (source object, its lookup, None | (the object in between, its lookup to here))
Path = tuple[str, str, tuple[str, str] | None]
CACHE_KEY = "records.timeline"


def bad_cursor() -> AppError:
    return AppError("invalid", _("Invalid cursor"),
                    {"cursor": [_("invalid cursor: start again from the first page")]})


def timeline_paths(effective: Effective, object: str) -> list[Path]:
    """The ways records reach ``object``'s timeline (see the module docstring)."""
    paths: list[Path] = []
    for source, obj in sorted(effective.objects.items()):
        for name in obj.doc.get("timeline", ()):
            target = reference_target(obj.fields[name])
            if target == object:
                paths.append((source, name, None))
            middle = effective.object(target) if target else None
            if middle is None:
                continue
            for via, f in middle.fields.items():
                if reference_target(f) == object and target != object:
                    paths.append((source, name, (str(target), via)))
    return paths


def encode_cursor(created_at: dt.datetime, id: str) -> str:
    raw = json.dumps([created_at.isoformat(), id]).encode()
    return base64.urlsafe_b64encode(raw).decode()


def decode_cursor(cursor: str) -> tuple[dt.datetime, str]:
    try:
        when, id = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        moment = dt.datetime.fromisoformat(when)
    except (ValueError, TypeError, binascii.Error, UnicodeError):
        raise bad_cursor() from None
    if not isinstance(id, str) or moment.tzinfo is None:
        raise bad_cursor()
    return moment, id


class Timeline(Reads):
    """``timeline`` of the record service."""

    def timeline(self, object: str, id: str, *, limit: int = 20,
                 cursor: str | None = None) -> dict[str, Any]:
        """``{"items": [{"object", "id", "name", "created_at", "created_by",
        "record"}], "next_cursor"}``; 404 when the actor may not read the
        record."""
        plan = self._plan(object)
        conn = self.session.connection()
        self._load(conn, plan, id, verb=READ)
        if isinstance(limit, bool) or not isinstance(limit, int) or not (
                1 <= limit <= MAX_LIMIT):
            raise AppError("invalid", _("Invalid limit"),
                           {"limit": [_("must be an integer from 1 to ${max_limit}",
                                        mapping={"max_limit": MAX_LIMIT})]})
        after = decode_cursor(cursor) if cursor else None
        cache = self.effective.objects[plan.name].cache
        paths = cache.get(CACHE_KEY)
        if paths is None:
            paths = cache[CACHE_KEY] = timeline_paths(self.effective, plan.name)
        by_source: dict[str, list[ColumnElement[bool]]] = {}
        for source, name, hop in paths:
            if not self.policy.allows(source, READ):
                continue
            column = self._plan(source).table.c[name]
            if hop is None:
                by_source.setdefault(source, []).append(column == id)
            else:
                middle = self._plan(hop[0]).table
                by_source.setdefault(source, []).append(column.in_(
                    select(middle.c.id).where(middle.c[hop[1]] == id)))
        found: list[tuple[dt.datetime, str, str, Any]] = []
        for source, conditions in by_source.items():
            found += self._rows(conn, source, conditions, after, limit + 1)
        found.sort(key=lambda item: (item[0], item[1]), reverse=True)
        page = found[:limit]
        items = []
        for source in {s for _at, _id, s, _row in page}:
            splan = self._plan(source)
            rows = [row for _at, _id, s, row in page if s == source]
            records = {r["id"]: r for r in self._page(conn, splan, rows)}
            name_field = self.effective.objects[source].doc["name_field"]
            for created_at, rid, s, _row in page:
                if s != source:
                    continue
                record = records[rid]
                items.append({"object": source, "id": rid,
                              "name": record.get(name_field),
                              "created_at": to_json_value(created_at, self.tz),
                              "created_by": record["created_by"], "record": record,
                              "_key": (created_at, rid)})
        items.sort(key=lambda item: item["_key"], reverse=True)
        for item in items:
            del item["_key"]
        next_cursor = (encode_cursor(*page[-1][:2])
                       if len(found) > limit and page else None)
        return {"items": items, "next_cursor": next_cursor}

    def _rows(self, conn: Connection, source: str,
              conditions: list[ColumnElement[bool]],
              after: tuple[dt.datetime, str] | None, limit: int
              ) -> list[tuple[dt.datetime, str, str, Any]]:
        plan = self._plan(source)
        table = plan.table
        stmt = select(table).where(table.c.deleted_at.is_(None), or_(*conditions))
        reach = self.policy.condition(source, table, READ)
        if reach is not None:
            stmt = stmt.where(reach)
        if after is not None:
            moment, last = after
            stmt = stmt.where(or_(table.c.created_at < moment,
                                  and_(table.c.created_at == moment,
                                       table.c.id < last)))
        stmt = stmt.order_by(table.c.created_at.desc(), table.c.id.desc()).limit(limit)
        return [(row.created_at, row.id, source, row) for row in conn.execute(stmt)]

