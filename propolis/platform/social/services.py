"""Replies, likes, receipts, topics and the feed (see the package docstring).

Every call about a record first reads it through the record service, so what a
user may do around a record follows from whether they may read it, and a record
they may not read is the 404 of a missing one. The feed is a page per object
that has ``social: {feed: true}`` (the record service's ``stream``: the access
policy's own condition, newest first) merged by id in one statement: ids are
time-ordered, so the last id of a page is the cursor of the next, the same for
every object."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy import delete, desc, func, insert, select, update
from sqlalchemy.orm import Session
from zope.interface import implementer

from propolis.platform.errors import AppError, Forbidden, Message, NotFound, _, _c
from propolis.platform.ids import new_id
from propolis.platform.meta.effective import Effective
from propolis.platform.permissions.actor import Actor
from propolis.platform.permissions.policy import AccessPolicy
from propolis.platform.records.audience import (
    TOPIC,
    add_readers,
    mentioned_names,
    users_named,
)
from propolis.platform.records.inbox import notify
from propolis.platform.social.interfaces import ISocialService
from propolis.platform.storage.platform_tables import (
    record_audience,
    record_comments,
    record_drafts,
    record_likes,
    record_receipts,
    record_topics,
    topic_follows,
    topics,
)

MAX_COMMENT = 5000
MAX_TOPIC = 100
FEATURES = {
    "comments": _("Replies are not enabled on this object"),
    "likes": _("Likes are not enabled on this object"),
    "receipts": _("Receipts are not enabled on this object"),
    "drafts": _("Drafts are not enabled on this object"),
}
NO_DRAFT = _("There is no such draft")


def invalid(field: str, message: Message) -> AppError:
    return AppError("invalid", _("Invalid input"), {field: [message]})


def id_list(body: Mapping[str, Any], name: str) -> list[str]:
    value = body.get(name) or []
    if not isinstance(value, list) or len(value) > 100 or not all(
            isinstance(v, str) and 0 < len(v) <= 32 for v in value):
        raise invalid(name, _("must be a list of ids"))
    return list(dict.fromkeys(value))


@implementer(ISocialService)
class SocialService:
    """Around the records of one enterprise, on behalf of one actor (the
    request's), inside the request's transaction."""

    def __init__(self, session: Session, effective: Effective, actor: Actor,
                 policy: AccessPolicy, records: Any, tz: str) -> None:
        self.session = session
        self.effective = effective
        self.actor = actor
        self.me = actor.user_id
        self.policy = policy
        self.records = records
        self.tz = tz

    @property
    def conn(self) -> Any:
        return self.session.connection()

    # -- one record --------------------------------------------------------------

    def _record(self, object: str, id: str, feature: str | None = None
                ) -> dict[str, Any]:
        """The record as the actor may read it (404 otherwise); 404
        ``not_enabled`` when its object does not have ``feature``."""
        record: dict[str, Any] = self.records.get(object, id)
        if feature is not None:
            social = self.effective.objects[object].doc.get("social") or {}
            if not social.get(feature):
                raise NotFound("not_enabled", FEATURES[feature])
        return record

    def _name(self, object: str, record: Mapping[str, Any]) -> str:
        field = self.effective.objects[object].doc.get("name_field") or "id"
        return str(record.get(field) or record["id"])

    def comments(self, object: str, id: str) -> dict[str, Any]:
        self._record(object, id, "comments")
        c = record_comments.c
        rows = self.conn.execute(select(record_comments).where(
            c.object == object, c.record_id == id).order_by(c.id)).all()
        return {"comments": [self._comment(r._mapping) for r in rows]}

    def _comment(self, row: Mapping[str, Any]) -> dict[str, Any]:
        return {"id": row["id"], "content": row["content"],
                "files": row["files"] or [], "mentions": row["mentions"] or [],
                "created_by": row["created_by"],
                "created_at": row["created_at"].isoformat()}

    def add_comment(self, object: str, id: str, body: Mapping[str, Any]
                    ) -> dict[str, Any]:
        record = self._record(object, id, "comments")
        content = body.get("content")
        if not isinstance(content, str) or not content.strip():
            raise invalid("content", _("required"))
        if len(content) > MAX_COMMENT:
            raise invalid("content", _("at most ${max_comment} characters",
                                       mapping={"max_comment": MAX_COMMENT}))
        files = id_list(body, "files")
        unknown = set(body) - {"content", "files", "mentions"}
        if unknown:
            raise invalid(sorted(unknown)[0], _c("platform.social.services",
                    "unknown field"))
        conn = self.conn
        mentioned = set(id_list(body, "mentions"))
        mentioned.update(users_named(conn, self.effective,
                                     mentioned_names([content])))
        mentioned.discard(self.me or "")
        now = dt.datetime.now(dt.UTC)
        row: dict[str, Any] = {"id": new_id(), "object": object, "record_id": id,
               "content": content, "files": files or None,
               "mentions": sorted(mentioned) or None, "created_by": self.me,
               "created_at": now}
        conn.execute(insert(record_comments).values(row))
        if self.effective.objects[object].doc.get("sharing") == "audience":
            add_readers(conn, object, id, mentioned)
        self._topics(object, id, content, now)
        name = self._name(object, record)
        notify(conn, sorted(mentioned), "mention",
               _("You were mentioned in a reply to “${name}”", mapping={"name": name}),
               object=object, record_id=id)
        author = record.get("created_by")
        if author and author != self.me and author not in mentioned:
            notify(conn, [author], "comment",
                   _("New reply to “${name}”", mapping={"name": name}),
                   object=object, record_id=id)
        return self._comment(row)

    def _topics(self, object: str, id: str, content: str, at: dt.datetime) -> None:
        """The topics a reply names join the record's (kept on later saves only
        while the record's own text names them: a reply marks, it does not
        own)."""
        rt = record_topics.c
        have = set(self.conn.execute(select(rt.topic).where(
            rt.object == object, rt.record_id == id)).scalars())
        new = [m.group(1).strip() for m in TOPIC.finditer(content)]
        new = [n for n in dict.fromkeys(new) if n and n not in have]
        if new:
            self.conn.execute(insert(record_topics), [
                {"topic": n, "object": object, "record_id": id, "created_at": at}
                for n in new])

    def like(self, object: str, id: str) -> dict[str, Any]:
        self._record(object, id, "likes")
        lk = record_likes.c
        mine = (lk.object == object, lk.record_id == id, lk.user_id == self.me)
        conn = self.conn
        if conn.execute(select(lk.user_id).where(*mine)).first():
            conn.execute(delete(record_likes).where(*mine))
            liked = False
        else:
            conn.execute(insert(record_likes).values(
                object=object, record_id=id, user_id=self.me,
                liked_at=dt.datetime.now(dt.UTC)))
            liked = True
        count = conn.execute(select(func.count()).select_from(record_likes).where(
            lk.object == object, lk.record_id == id)).scalar_one()
        return {"liked": liked, "count": count}

    # -- receipts ------------------------------------------------------------------

    def confirm(self, object: str, id: str) -> dict[str, Any]:
        self._record(object, id, "receipts")
        rc = record_receipts.c
        mine = (rc.object == object, rc.record_id == id, rc.user_id == self.me)
        row = self.conn.execute(select(rc.confirmed_at).where(*mine)).first()
        if row is None:
            raise Forbidden("not_a_recipient", _("You are not asked to confirm this"))
        if row.confirmed_at is None:
            self.conn.execute(update(record_receipts).where(*mine).values(
                confirmed_at=dt.datetime.now(dt.UTC)))
        return {"confirmed": True}

    def _authored(self, object: str, id: str) -> dict[str, Any]:
        record = self._record(object, id, "receipts")
        if record.get("created_by") != self.me and not self.policy.unrestricted:
            raise Forbidden("forbidden", _("Only the author sees the receipts"))
        return record

    def receipts(self, object: str, id: str) -> dict[str, Any]:
        self._authored(object, id)
        rc = record_receipts.c
        rows = self.conn.execute(select(rc.user_id, rc.confirmed_at).where(
            rc.object == object, rc.record_id == id).order_by(rc.user_id)).all()
        return {"confirmed": [r.user_id for r in rows if r.confirmed_at],
                "pending": [r.user_id for r in rows if not r.confirmed_at]}

    def remind(self, object: str, id: str) -> dict[str, Any]:
        record = self._authored(object, id)
        pending = self.receipts(object, id)["pending"]
        name = self._name(object, record)
        rc = record_receipts.c
        self.conn.execute(update(record_receipts).where(
            rc.object == object, rc.record_id == id, rc.confirmed_at.is_(None)
        ).values(reminded_at=dt.datetime.now(dt.UTC)))
        told = notify(self.conn, pending, "receipt",
                      _c("platform.social.services",
                              "Please confirm “${name}”",
                              mapping={"name": name}),
                      object=object, record_id=id)
        return {"reminded": told}

    # -- drafts --------------------------------------------------------------------

    def _drafts_of(self, object: str) -> None:
        """404 unless ``object`` exists, the actor may create its records and it
        keeps drafts."""
        obj = self.effective.object(object)
        if obj is None:
            raise NotFound("no_such_object", _("There is no object '${object}'",
                                               mapping={"object": object}))
        self.policy.require(object, "create")
        if not (obj.doc.get("social") or {}).get("drafts"):
            raise NotFound("not_enabled", FEATURES["drafts"])

    def _draft_out(self, row: Mapping[str, Any]) -> dict[str, Any]:
        return {"id": row["id"], "data": row["data"],
                "created_at": row["created_at"].isoformat(),
                "updated_at": row["updated_at"].isoformat()}

    def drafts(self, object: str) -> dict[str, Any]:
        self._drafts_of(object)
        d = record_drafts.c
        rows = self.conn.execute(select(record_drafts).where(
            d.user_id == self.me, d.object == object).order_by(d.id.desc())).all()
        return {"drafts": [self._draft_out(r._mapping) for r in rows]}

    def _draft(self, object: str, id: str) -> Mapping[str, Any]:
        d = record_drafts.c
        row = self.conn.execute(select(record_drafts).where(
            d.id == id, d.user_id == self.me, d.object == object)).first()
        if row is None:
            raise NotFound("not_found", NO_DRAFT)
        return row._mapping

    def save_draft(self, object: str, id: str | None, data: Mapping[str, Any]
                   ) -> dict[str, Any]:
        self._drafts_of(object)
        fields = self.policy.visible_fields(object)
        unknown = sorted(set(data) - set(fields))
        if unknown:
            raise invalid(unknown[0], _("There is no such field"))
        now = dt.datetime.now(dt.UTC)
        if id is None:
            row = {"id": new_id(), "object": object, "user_id": self.me,
                   "data": dict(data), "created_at": now, "updated_at": now}
            self.conn.execute(insert(record_drafts).values(row))
            return self._draft_out(row)
        found = dict(self._draft(object, id))
        found.update(data=dict(data), updated_at=now)
        self.conn.execute(update(record_drafts).where(
            record_drafts.c.id == id).values(data=found["data"], updated_at=now))
        return self._draft_out(found)

    def delete_draft(self, object: str, id: str) -> None:
        self._drafts_of(object)
        self._draft(object, id)
        self.conn.execute(delete(record_drafts).where(record_drafts.c.id == id))

    def submit_draft(self, object: str, id: str) -> dict[str, Any]:
        self._drafts_of(object)
        draft = self._draft(object, id)
        # a refusal (400 naming the fields) rolls the request back: the draft stays
        created: dict[str, Any] = self.records.create(object, draft["data"])
        self.conn.execute(delete(record_drafts).where(record_drafts.c.id == id))
        return created

    # -- the feed -------------------------------------------------------------------

    def feed_objects(self) -> list[str]:
        return [n for n, obj in self.effective.objects.items()
                if (obj.doc.get("social") or {}).get("feed")]

    def feed(self, *, type: str | None = None, topic: str | None = None,
             author: str | None = None, q: str | None = None,
             cursor: str | None = None, limit: int = 20) -> dict[str, Any]:
        objects = self.feed_objects()
        if type is not None:
            if type not in objects:
                raise invalid("type", _("is not an object of the feed"))
            objects = [type]
        if cursor is not None and (len(cursor) > 32 or not cursor.isalnum()):
            raise invalid("cursor", _("invalid cursor"))
        found = self.records.stream(objects, before=cursor, limit=limit + 1,
                                    topic=topic, author=author, q=q)
        page = found[:limit]
        return {"items": [{"object": o, "id": r["id"], "created_at": r["created_at"],
                           "created_by": r["created_by"], "record": r}
                          for o, r in page],
                "next_cursor": page[-1][1]["id"] if len(found) > limit else None}

    # -- topics ----------------------------------------------------------------------

    def _check_topic(self, name: str) -> str:
        name = name.strip()
        if not name or len(name) > MAX_TOPIC or "#" in name:
            raise invalid("name", _("a topic is 1 to ${max_topic} characters without "
                                    "'#'",
                                    mapping={"max_topic": MAX_TOPIC}))
        return name

    def topics(self) -> dict[str, Any]:
        rt = record_topics.c
        latest = (select(rt.topic, func.max(rt.created_at).label("latest"))
                  .group_by(rt.topic).subquery())
        followed = set(self.conn.execute(select(topic_follows.c.topic).where(
            topic_follows.c.user_id == self.me)).scalars())
        settings = {r.name: r for r in self.conn.execute(select(topics))}
        rows = self.conn.execute(select(latest).order_by(
            desc(latest.c.latest)).limit(200)).all()
        names = [r.topic for r in rows]
        names += [n for n in settings if n not in names]
        out = [{"name": n,
                "pinned": bool(settings[n].pinned) if n in settings else False,
                "company_wide": bool(settings[n].company_wide)
                if n in settings else False,
                "followed": n in followed} for n in names]
        out.sort(key=lambda item: not item["pinned"])  # stable: latest within
        return {"topics": out}

    def topic(self, name: str) -> dict[str, Any]:
        name = self._check_topic(name)
        row = self.conn.execute(select(topics).where(topics.c.name == name)).first()
        followed = self.conn.execute(select(topic_follows.c.topic).where(
            topic_follows.c.user_id == self.me, topic_follows.c.topic == name)
        ).first() is not None
        return {"name": name, "pinned": bool(row and row.pinned),
                "company_wide": bool(row and row.company_wide),
                "followed": followed}

    def follow(self, name: str, follow: bool) -> dict[str, Any]:
        name = self._check_topic(name)
        tf = topic_follows.c
        self.conn.execute(delete(topic_follows).where(tf.user_id == self.me,
                                                      tf.topic == name))
        if follow:
            self.conn.execute(insert(topic_follows).values(
                user_id=self.me, topic=name, followed_at=dt.datetime.now(dt.UTC)))
        return self.topic(name)

    def set_topic(self, name: str, body: Mapping[str, Any]) -> dict[str, Any]:
        if not self.policy.unrestricted:
            raise Forbidden("forbidden", _("Not allowed"))
        name = self._check_topic(name)
        for key in body:
            if key not in ("pinned", "company_wide"):
                raise invalid(key, _c("platform.social.services", "unknown field"))
            if not isinstance(body[key], bool):
                raise invalid(key, _("must be true or false"))
        current = self.topic(name)
        values = {k: int(body.get(k, current[k]))
                  for k in ("pinned", "company_wide")}
        conn = self.conn
        conn.execute(delete(topics).where(topics.c.name == name))
        conn.execute(insert(topics).values(
            name=name, created_by=self.me, created_at=dt.datetime.now(dt.UTC),
            **values))
        if values["company_wide"] and not current["company_wide"]:
            self._everyone_reads(name)
        return self.topic(name)

    def _everyone_reads(self, name: str) -> None:
        """A topic made company-wide: its posts on objects shared by audience
        become readable by everyone (the next save of a post keeps it so)."""
        rt = record_topics.c
        ra = record_audience.c
        for object, obj in self.effective.objects.items():
            if obj.doc.get("sharing") != "audience":
                continue
            ids = set(self.conn.execute(select(rt.record_id).where(
                rt.topic == name, rt.object == object)).scalars())
            ids -= set(self.conn.execute(select(ra.record_id).where(
                ra.object == object, ra.kind == "all", ra.source == "record",
                ra.record_id.in_(ids))).scalars()) if ids else set()
            if ids:
                self.conn.execute(insert(record_audience), [
                    {"object": object, "record_id": i, "kind": "all", "target": "",
                     "source": "record"} for i in sorted(ids)])
