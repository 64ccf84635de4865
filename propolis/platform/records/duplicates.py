"""Duplicate checks (查重, an object's ``duplicates:``): a value equal to another
record's, after normalisation, is refused, whoever may see that record.

Each rule names fields compared together: a value of any of them against the
values of all of them in every other record of the object (live, in a pool,
owned by anyone, in the recycle bin). Values are compared as keys: NFKC (full-
width letters and digits become half-width), trimmed, inner runs of spaces made
one, case-folded. The keys live in the tenant table ``record_keys``, written by
every save, so a check is one indexed query whatever the number of records.

The refusal names the owner of each match (the seed's 客户报备: "负责人：王伟")
even when the actor cannot read it, and never shows what the actor could not
read otherwise: the match's name only where it is the value the actor typed, its
id only where the actor may read the record."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import Connection, delete, insert, select, true

from propolis.platform.errors import Conflict, Message, _
from propolis.platform.meta.effective import Effective
from propolis.platform.permissions.policy import READ, forbidden
from propolis.platform.records.plan import ObjectPlan
from propolis.platform.records.reads import Reads
from propolis.platform.storage.platform_tables import record_keys

KEY_LENGTH = 255
BATCH = 500


def normalized_key(value: Any) -> str | None:
    """The key a value is compared by; None for an empty value."""
    if not isinstance(value, str):
        return None
    key = " ".join(unicodedata.normalize("NFKC", value).split()).casefold()
    return key[:KEY_LENGTH] or None


def rules_of(doc: Mapping[str, Any]) -> list[list[str]]:
    """An object document's duplicate rules, as the lists of fields compared."""
    return [list(rule["fields"]) for rule in doc.get("duplicates", ())]


def record_key_rows(object: str, rules: list[list[str]], rec: Mapping[str, Any]
                    ) -> list[dict[str, Any]]:
    """The ``record_keys`` rows of one record (Python values by api_name)."""
    rows = []
    for index, fields in enumerate(rules):
        for name in fields:
            key = normalized_key(rec.get(name))
            if key is not None:
                rows.append({"object": object, "record_id": rec["id"],
                             "rule": index, "field": name, "key": key})
    return rows


def rebuild_keys(conn: Connection, effective: Effective, object: str) -> int:
    """Writes the keys of every record of ``object`` anew (its rules changed);
    returns how many records were read."""
    conn.execute(delete(record_keys).where(record_keys.c.object == object))
    obj = effective.object(object)
    rules = rules_of(obj.doc) if obj is not None else []
    names = sorted({n for fields in rules for n in fields})
    if not names:
        return 0
    table = effective.tables.main[object]
    done = 0
    last: str | None = None
    while True:
        stmt = select(table.c.id, *[table.c[n] for n in names]).order_by(table.c.id)
        if last is not None:
            stmt = stmt.where(table.c.id > last)
        rows = [dict(r._mapping) for r in conn.execute(stmt.limit(BATCH))]
        if not rows:
            return done
        keys = [k for row in rows for k in record_key_rows(object, rules, row)]
        if keys:
            conn.execute(insert(record_keys), keys)
        done += len(rows)
        last = rows[-1]["id"]


class DuplicateFound(Conflict):
    """409 ``duplicate``, with the matches the client may be told of."""

    def __init__(self, message: Message, fields: Mapping[str, list[Message]],
                 duplicates: list[dict[str, Any]]) -> None:
        super().__init__("duplicate", message, fields)
        self.duplicates = duplicates

    def as_json(self, lang: str = "zh") -> dict[str, Any]:
        out = super().as_json(lang)
        out["error"]["duplicates"] = self.duplicates
        return out


class Duplicates(Reads):
    """The duplicate checks of the record service."""

    def duplicates(self, object: str, data: Mapping[str, Any],
                   exclude: str | None = None) -> list[dict[str, Any]]:
        """The records whose compared values equal one in ``data`` (a partial
        record: the 查重 tool), as the refusal lists them: ``name``,
        ``owner_name``, ``field`` (the actor's field that matched) and ``id``
        where the actor may read the record. Needs ``create`` or ``read`` on the
        object."""
        plan = self._plan(object)
        if not (self.policy.allows(plan.name, "create")
                or self.policy.allows(plan.name, READ)):
            raise forbidden()
        values = {n: v for n, v in data.items()
                  if isinstance(n, str) and n in plan.duplicate_fields}
        return self._matches(self.session.connection(), plan, values, exclude)

    def _check_duplicates(self, conn: Connection, plan: ObjectPlan,
                          rec: Mapping[str, Any], changed: Iterable[str] | None
                          ) -> None:
        """409 ``duplicate`` when ``rec`` matches another record (only the
        ``changed`` fields on an update: a value kept is not checked again)."""
        names = plan.duplicate_fields
        if changed is not None:
            names = names & set(changed)
        if not names:
            return
        found = self._matches(conn, plan, {n: rec[n] for n in names}, rec["id"])
        if not found:
            return
        label = self.effective.objects[plan.name].doc["label"]
        first = found[0]
        owner = first["owner_name"]
        zh_owner = f"负责人：{owner}" if owner else "暂无负责人"
        en_owner = f"owner: {owner}" if owner else "no owner"
        message = _("Duplicates the existing ${label} '${name}' (${en_owner})",
                    mapping={"label": {"zh": label['zh'], "en": label['en'].lower()},
                             "name": first['name'],
                             "en_owner": en_owner,
                             "zh_owner": zh_owner})
        fields: dict[str, list[Message]] = {m["field"]: [message] for m in found}
        raise DuplicateFound(message, fields, found)

    def _matches(self, conn: Connection, plan: ObjectPlan,
                 values: Mapping[str, Any], exclude: str | None
                 ) -> list[dict[str, Any]]:
        asked: dict[tuple[int, str], list[str]] = {}  # (rule, key) -> fields
        for index, fields in enumerate(plan.duplicate_rules):
            for name in fields:
                key = normalized_key(values.get(name))
                if key is not None:
                    asked.setdefault((index, key), []).append(name)
        if not asked:
            return []
        hits: dict[str, tuple[str, str]] = {}  # record id -> (actor's field, value)
        for (index, key), names in asked.items():
            stmt = select(record_keys.c.record_id).where(
                record_keys.c.object == plan.name, record_keys.c.rule == index,
                record_keys.c.key == key)
            if exclude is not None:
                stmt = stmt.where(record_keys.c.record_id != exclude)
            for record_id in conn.execute(stmt).scalars():
                hits.setdefault(record_id, (names[0], values[names[0]]))
        if not hits:
            return []
        table = plan.table
        name_field = self.effective.objects[plan.name].doc["name_field"]
        users = self.effective.tables.main["user"]
        reach = self.policy.condition(plan.name, table, READ)
        readable = (true() if reach is None else reach).label("_readable")
        named = table.c[name_field] if name_field in table.c else table.c.id
        stmt = (select(table.c.id, named.label("_name"), users.c.name.label("_owner"),
                       readable)
                .outerjoin(users, users.c.id == table.c.owner)
                .where(table.c.id.in_(sorted(hits))).order_by(table.c.id))
        may_read = self.policy.allows(plan.name, READ)
        out = []
        for row in conn.execute(stmt):
            field, value = hits[row.id]
            seen = may_read and bool(row._readable)
            item: dict[str, Any] = {
                "name": str(row._name) if seen and row._name is not None else value,
                "owner_name": row._owner, "field": field}
            if seen:
                item["id"] = row.id
            out.append(item)
        return out

    def _write_keys(self, conn: Connection, plan: ObjectPlan,
                    rec: Mapping[str, Any], changed: Iterable[str] | None) -> None:
        """Keeps ``record_keys`` in step with a save (``changed``: None for a
        create)."""
        if not plan.duplicate_fields:
            return
        if changed is not None:
            if not plan.duplicate_fields & set(changed):
                return
            conn.execute(delete(record_keys).where(
                record_keys.c.object == plan.name,
                record_keys.c.record_id == rec["id"]))
        rows = record_key_rows(plan.name, plan.duplicate_rules, rec)
        if rows:
            conn.execute(insert(record_keys), rows)

