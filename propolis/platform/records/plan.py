"""What every part of the record service shares: each object's plan (validators,
compiled expressions, statements, prepared once per metadata version and kept in
``ObjectMeta.cache``), the messages of a refused save, and the service's state (the
session, the metadata, the actor and their access policy)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import Table, bindparam, insert, select
from sqlalchemy.orm import Session

from propolis.metadata.expressions import compile_expression, option_attributes
from propolis.metadata.texts import LANGS, Label, pick
from propolis.platform.errors import AppError, Message, NotFound, _, add_message
from propolis.platform.fields.registry import field_type
from propolis.platform.fields.schema import object_schema, writable
from propolis.platform.fields.types.quote import Quote
from propolis.platform.fields.types.rollup import Rollup
from propolis.platform.fields.values import zone
from propolis.platform.meta.effective import Effective, ObjectMeta
from propolis.platform.permissions.actor import Actor
from propolis.platform.permissions.policy import AccessPolicy
from propolis.platform.query.services import fts_table
from propolis.platform.records.compute import (
    Autonumber,
    RollupLink,
    autonumbers,
    ordered_formulas,
    rollup_links,
)
from propolis.platform.records.events import RecordEvent, listened
from propolis.platform.records.schema import Errors, make_validator
from propolis.platform.storage.plan import search_table_name

# Write-only fields: stored as an argon2 hash, never read back, searched or filtered
# on, and only their change (not the value) goes into the history.
SECRETS = {"user": frozenset({"password"})}
MASK = "******"
INVALID = _("Invalid data")
CACHE_KEY = "records.plan"
# Columns a save writes besides the fields.
SYSTEM_COLUMNS = ("id", "owner", "owner_department", "created_by", "created_at",
                  "updated_by", "updated_at", "life_status", "version", "deleted_at",
                  "deleted_by", "search_text")
UNKNOWN = _("unknown field")
READ_ONLY = _("you may not change this field")
COMPUTED = _("is computed and cannot be written")
SYSTEM = _("is a system field and cannot be written")
MISSING = _("the chosen record does not exist (or is in the recycle bin)")
MISSING_FILE = _("unknown file id")
TAKEN = _("is already used by another record (the recycle bin included)")


def message_text(message: Any) -> Label:
    """A validation rule's message from metadata: one text or a label."""
    if isinstance(message, str):
        return {"zh": message, "en": message}
    return {lang: pick(message, lang) for lang in LANGS}


def invalid(errors: Errors) -> AppError:
    return AppError("invalid", INVALID, errors)


def add_error(errors: Errors, name: str, message: Message) -> None:
    add_message(errors.setdefault(name, []), message)


def reference_target(field: Mapping[str, Any]) -> str | None:
    """The object a reference field points to (None for other fields)."""
    return field_type(field).reference_target(field)


def stored(field: Mapping[str, Any]) -> bool:
    """Whether the field has a column in its record's table."""
    return field_type(field).stored(field)


def references(fields: Iterable[Mapping[str, Any]]) -> list[tuple[str, str]]:
    return [(f["api_name"], target) for f in fields
            if (target := reference_target(f)) is not None]


class ObjectPlan:
    """Everything about one object that saves and reads need, built once per
    metadata version."""

    def __init__(self, effective: Effective, obj: ObjectMeta) -> None:
        self.name = obj.api_name
        self.table: Table = effective.tables.main[self.name]
        # one record by id: built once, it is the statement of every read
        self.by_id = select(self.table).where(self.table.c.id == bindparam("_id"))
        self.children: dict[str, Table] = effective.tables.children[self.name]
        self.fields = obj.fields
        self.deletable = bool(obj.doc.get("deletable", True))
        self.audience = obj.doc.get("sharing") == "audience"
        self.name_field = obj.doc.get("name_field") or "id"
        self.social: dict[str, bool] = dict(obj.doc.get("social") or {})
        fields = list(obj.fields.values())
        self.stored = [f for f in fields if stored(f)]
        self.tables = [f for f in fields if field_type(f).has_rows]
        self.writable = frozenset(f["api_name"] for f in fields if writable(f))
        self.create_validator = make_validator(object_schema(fields, create=True))
        self.update_validator = make_validator(object_schema(fields, create=False))
        self.unique = [f["api_name"] for f in self.stored if f.get("unique")]
        self.defaults = {f["api_name"]: f for f in fields
                         if f.get("default") is not None and writable(f)}
        self.references = references(self.stored)
        # multiple user / department fields: lists of ids, each checked
        self.list_references = [
            (f["api_name"], target) for f in self.stored
            if (target := field_type(f).targets(f)) is not None]
        self.row_references = {f["api_name"]: references(f["fields"])
                               for f in self.tables}
        self.file_fields = [f for f in self.stored if field_type(f).holds_files]
        self.row_file_fields = {
            f["api_name"]: [s for s in f["fields"]
                            if stored(s) and field_type(s).holds_files]
            for f in self.tables}
        self.autonumbers: list[tuple[str, Autonumber]] = autonumbers(self.stored)
        self.formulas = ordered_formulas(fields)
        self.row_formulas = {f["api_name"]: ordered_formulas(f["fields"])
                             for f in self.tables}
        self.rules = [(compile_expression(v["rule"]), message_text(v["message"]))
                      for v in obj.doc.get("validations", ())]
        self.options = option_attributes(fields)
        self.dependent = [f for f in fields if f.get("depends_on")
                          and field_type(f).has_options]
        self.searchable = [f for f in fields if f.get("searchable") and stored(f)]
        self.searchable_rows = {
            f["api_name"]: [s for s in f["fields"]
                            if s.get("searchable") and stored(s)]
            for f in self.tables}
        self.has_search = bool(self.searchable
                               or any(self.searchable_rows.values()))
        # the fields whose values are in search_text
        self.searched = frozenset({f["api_name"] for f in self.searchable}
                                  | {n for n, s in self.searchable_rows.items() if s})
        self.own_rollups = [f for f in self.stored
                            if isinstance(field_type(f), Rollup)]
        # formulas that use a rollup, directly or through another formula: they
        # change when a child record does
        derived = {f["api_name"] for f in self.own_rollups}
        self.rollup_formulas = []
        for formula in self.formulas:  # in dependency order: one pass suffices
            if formula.expression.references & derived:
                derived.add(formula.name)
                self.rollup_formulas.append(formula)
        self.links: list[RollupLink] = rollup_links(
            {n: o.doc for n, o in effective.objects.items()}, self.name)
        # quote fields grouped by the lookup they read through: one query each
        self.quotes: dict[str, list[tuple[str, Table, Mapping[str, Any]]]] = {}
        self.quote_targets: dict[str, str] = {}
        self.quoted = frozenset(f["api_name"] for f in fields
                                if isinstance(field_type(f), Quote))
        for f in fields:
            if f["api_name"] in self.quoted:
                target = reference_target(obj.fields[f["via"]]) or ""
                if f["field"] in SECRETS.get(target, ()):
                    continue  # reads as null
                self.quote_targets[f["via"]] = target
                self.quotes.setdefault(f["via"], []).append(
                    (f["api_name"], effective.tables.main[target],
                     effective.objects[target].fields[f["field"]]))
        self.secrets = SECRETS.get(self.name, frozenset()) & obj.fields.keys()
        self.visible = {n: f for n, f in obj.fields.items() if n not in self.secrets}
        self.history_names = [n for n, f in self.visible.items()
                              if field_type(f).in_history]
        self.insert = insert(self.table)
        self.child_inserts = {n: insert(c) for n, c in self.children.items()}
        self.fts = fts_table(search_table_name(self.name))
        # ``duplicates:``: the fields each rule compares, and all of them
        self.duplicate_rules = [list(r["fields"])
                                for r in obj.doc.get("duplicates", ())]
        self.duplicate_fields = frozenset(n for r in self.duplicate_rules for n in r)


class RecordServiceBase:
    """Records of one enterprise, on behalf of one actor, inside the caller's
    transaction (the service never commits): the state the reads, the checks,
    the derived values and the writes share."""

    def __init__(
        self,
        session: Session,
        effective: Effective,
        actor: Actor,
        *,
        lang: str = "zh",
        tz: str = "Asia/Shanghai",
        policy: AccessPolicy | None = None,
        request: Any = None,
    ) -> None:
        self.session = session
        self.effective = effective
        self.actor = actor
        self.policy = policy or AccessPolicy(effective, actor)
        self.lang = lang  # the language API callers render AppErrors in
        self.tz = tz
        zone(tz)  # an unknown zone fails here rather than in the middle of a save
        # whose registry's subscribers hear of every change (``events.py``); a
        # service made outside the application (an enterprise being created) has
        # no request and tells nobody
        self.request = request

    def _listens(self, event_type: type[RecordEvent]) -> bool:
        """Whether an event of ``event_type`` would reach a subscriber."""
        return self.request is not None and listened(self.request.registry,
                                                     event_type)

    def _tell(self, event_type: type[RecordEvent], plan: ObjectPlan,
              record: Mapping[str, Any], **details: Any) -> None:
        """Notifies the subscribers of a change of ``record`` (JSON values), in the
        transaction of the change. They get a copy: what the caller returns is
        stripped for the actor afterwards."""
        if self.request is not None:
            self.request.registry.notify(event_type(
                request=self.request, session=self.session, actor=self.actor,
                object=plan.name, record_id=record["id"], record=dict(record),
                **details))

    def _plan(self, object: str) -> ObjectPlan:
        obj = self.effective.object(object)
        if obj is None:
            raise NotFound("no_such_object",
                           _("There is no object '${object}'",
                             mapping={"object": object}))
        plan = obj.cache.get(CACHE_KEY)
        if plan is None:
            plan = obj.cache[CACHE_KEY] = ObjectPlan(self.effective, obj)
        return plan
