"""What a save tells the audience index and the topic index, in the save's
transaction (like ``search_text``, nothing waits for a worker):

* on an object shared by audience (``sharing: audience``), who the record is sent
  to (``record_audience``, read by the access policy): the values of its
  ``audience`` fields, the users its ``users`` and ``user`` fields name (the
  people @mentioned, the assignee, the attendees), the users @named in its text,
  and everyone when it names a company-wide topic;
* for every object, the ``#话题#`` in its text fields (``record_topics``);
* on an object with receipts (``social: {receipts: true}``), when its ``receipt``
  is set, one pending receipt per recipient (``record_receipts``).

The rows a record's own fields give are rewritten on every save; those a reply
adds (someone @mentioned in a comment) are kept. The users newly mentioned, or
newly named by a ``user`` field (an assignee), are told (``inbox.notify``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import Connection, delete, insert, select

from propolis.platform.errors import _
from propolis.platform.fields.types.audience import members
from propolis.platform.meta.effective import Effective
from propolis.platform.records.inbox import notify
from propolis.platform.storage.platform_tables import (
    department_tree,
    record_audience,
    record_receipts,
    record_topics,
    topics,
)

# #话题#: up to 100 characters without '#' or a line break between two '#'
TOPIC = re.compile(r"#([^#\r\n]{1,100})#")
# @name: up to the next space or punctuation
MENTION = re.compile(r"@([^\s@#,，.。:：;；!！?？、()（）]{1,64})")
TEXT_TYPES = frozenset({"text", "textarea", "richtext"})
RECORD = "record"
COMMENT = "comment"


def found_topics(texts: Iterable[str | None]) -> list[str]:
    """The topics named in ``texts``, in order, each once."""
    seen: dict[str, None] = {}
    for text in texts:
        for match in TOPIC.finditer(text or ""):
            name = match.group(1).strip()
            if name:
                seen.setdefault(name)
    return list(seen)


def mentioned_names(texts: Iterable[str | None]) -> list[str]:
    return list(dict.fromkeys(m.group(1) for text in texts
                              for m in MENTION.finditer(text or "")))


def users_named(conn: Connection, effective: Effective, names: list[str]
                ) -> list[str]:
    """The ids of the live users called one of ``names``."""
    if not names:
        return []
    users = effective.tables.main["user"]
    return list(conn.execute(select(users.c.id).where(
        users.c.name.in_(names), users.c.deleted_at.is_(None))).scalars())


def superior_of(conn: Connection, effective: Effective, user: str | None
                ) -> list[str]:
    if user is None:
        return []
    users = effective.tables.main["user"]
    found = conn.execute(select(users.c.superior).where(users.c.id == user)
                         ).scalar()
    return [found] if found else []


def texts_of(fields: Mapping[str, Mapping[str, Any]], rec: Mapping[str, Any]
             ) -> list[str]:
    return [rec.get(n) or "" for n, f in fields.items() if f["type"] in TEXT_TYPES]


def index(conn: Connection, effective: Effective, object: str,
          fields: Mapping[str, Mapping[str, Any]], rec: Mapping[str, Any],
          old: Mapping[str, Any] | None, *, shared: bool, receipts: bool,
          actor: str | None, name: str) -> None:
    """Rewrites the record's own rows in both indexes (see the module
    docstring); ``old`` is the record before an update (None: a new one)."""
    texts = texts_of(fields, rec)
    names = found_topics(texts)
    rid = rec["id"]
    # most saves name no topic, before or after: no statement for them
    if old is not None and (names or found_topics(texts_of(fields, old))):
        conn.execute(delete(record_topics).where(
            record_topics.c.object == object, record_topics.c.record_id == rid))
    if names:
        conn.execute(insert(record_topics), [
            {"topic": n, "object": object, "record_id": rid,
             "created_at": rec["created_at"]} for n in names])
    if not shared:
        return
    rows: set[tuple[str, str]] = set()
    mentioned: set[str] = set()
    assigned: set[str] = set()
    for field_name, field in fields.items():
        value = rec.get(field_name)
        if field["type"] == "audience":
            everyone, users, departments = members(value)
            if everyone:
                rows.add(("all", ""))
            rows.update(("user", u) for u in users)
            rows.update(("department", d) for d in departments)
            if field.get("superior"):
                rows.update(("user", u) for u in superior_of(
                    conn, effective, rec["created_by"]))
        elif field["type"] == "users" and value:
            rows.update(("user", u) for u in value)
            mentioned.update(value)
        elif field["type"] == "user" and value:
            rows.add(("user", value))
            assigned.add(value)
    named = users_named(conn, effective, mentioned_names(texts))
    rows.update(("user", u) for u in named)
    mentioned.update(named)
    if names and conn.execute(select(topics.c.name).where(
            topics.c.name.in_(names), topics.c.company_wide == 1).limit(1)).first():
        rows.add(("all", ""))
    audience = record_audience.c
    before: set[str] = set()
    if old is not None:
        before = set(conn.execute(select(audience.target).where(
            audience.object == object, audience.record_id == rid,
            audience.kind == "user", audience.source == RECORD)).scalars())
        conn.execute(delete(record_audience).where(
            audience.object == object, audience.record_id == rid,
            audience.source == RECORD))
    if rows:
        conn.execute(insert(record_audience), [
            {"object": object, "record_id": rid, "kind": kind, "target": target,
             "source": RECORD} for kind, target in sorted(rows)])
    told = sorted(mentioned - before - {actor})
    notify(conn, told, "mention", _("You were mentioned in “${name}”",
                                    mapping={"name": name}),
           object=object, record_id=rid)
    notify(conn, sorted(assigned - mentioned - before - {actor}), "assigned",
           _("“${name}” was assigned to you", mapping={"name": name}),
           object=object, record_id=rid)
    if receipts and rec.get("receipt") and not (old and old.get("receipt")):
        asked = [u for u in recipients(conn, effective, object, rid)
                 if u != rec["created_by"]]
        if asked:
            conn.execute(insert(record_receipts), [
                {"object": object, "record_id": rid, "user_id": u} for u in asked])
            notify(conn, asked, "receipt", _("Please confirm “${name}”",
                                             mapping={"name": name}),
                   object=object, record_id=rid)


def add_readers(conn: Connection, object: str, record_id: str,
                users: Iterable[str]) -> None:
    """Gives ``users`` read access to the record (someone @mentioned in a
    reply)."""
    audience = record_audience.c
    have = set(conn.execute(select(audience.target).where(
        audience.object == object, audience.record_id == record_id,
        audience.kind == "user", audience.source == COMMENT)).scalars())
    new = sorted(set(users) - have)
    if new:
        conn.execute(insert(record_audience), [
            {"object": object, "record_id": record_id, "kind": "user", "target": u,
             "source": COMMENT} for u in new])


def recipients(conn: Connection, effective: Effective, object: str,
               record_id: str) -> list[str]:
    """Every live user the record is sent to (named, in a department named or
    below one, everyone), as ids."""
    users = effective.tables.main["user"]
    audience = record_audience.c
    rows = conn.execute(select(audience.kind, audience.target).where(
        audience.object == object, audience.record_id == record_id)).all()
    live = users.c.deleted_at.is_(None)
    if any(kind == "all" for kind, _ in rows):
        return sorted(conn.execute(select(users.c.id).where(live)).scalars())
    found = {target for kind, target in rows if kind == "user"}
    departments = [target for kind, target in rows if kind == "department"]
    if departments:
        below = select(department_tree.c.descendant).where(
            department_tree.c.ancestor.in_(departments))
        found.update(conn.execute(select(users.c.id).where(
            live, users.c.main_department.in_(below))).scalars())
    return sorted(found)
