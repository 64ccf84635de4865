"""Exporting records to CSV/XLSX and importing them back (CONTRACT §3, §5).

Both act on behalf of one actor, through their ``AccessPolicy`` and the record
service, so a sheet holds exactly what the API would show them and an imported row
is checked exactly as an API call:

* **Export** needs the ``export`` verb (and ``read``). Its rows are the records the
  query of ``POST /objects/{o}/query`` finds for the same ``filters``, ``sort`` and
  ``q``, fetched a keyset page at a time (never OFFSET, never all at once); its
  columns the fields the actor may see, a hidden field having no column at all.
  Every export is written to the audit log with its filter and row count.
* **Import** (``propolis.platform.exchange.imports``) needs ``import`` and
  ``create``. A row without an ``id`` creates a record; a row with one updates
  that record (``edit`` on it), sending only the fields whose cells differ from
  what an export of the record would write, so an exported sheet re-imported
  unchanged changes nothing. Good rows land, bad rows are reported with their
  row number, column and message.

How values look in cells is ``propolis.platform.exchange.cells``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from openpyxl.utils import get_column_letter
from sqlalchemy import select
from sqlalchemy.orm import Session
from zope.interface import implementer

from propolis.metadata.texts import pick
from propolis.platform.audit import record_event
from propolis.platform.errors import AppError, Message, NotFound, _
from propolis.platform.exchange import cells
from propolis.platform.exchange.cells import ID_FIELD, SYSTEM_COLUMNS, Column
from propolis.platform.exchange.interfaces import IExportService
from propolis.platform.exchange.sheets import (
    open_writer,
)
from propolis.platform.fields.registry import field_type
from propolis.platform.meta.effective import Effective, ObjectMeta
from propolis.platform.permissions.policy import READ, AccessPolicy
from propolis.platform.records.plan import SECRETS, reference_target, stored
from propolis.platform.records.services import RecordService

BATCH = 200  # the query's largest page
# ids looked up at once, and names kept between batches of an export
LOOKUP_CHUNK = 500
NAME_CACHE = 20_000
EXPORT_KEYS = frozenset({"filters", "sort", "q", "columns"})
HEADER_KEY = re.compile(
    r"^(.*?)\s*[(（]\s*([A-Za-z_][A-Za-z0-9_]*(?:\.name)?)\s*[)）]$")
UNKNOWN = _("unknown field")


def no_such_object(name: str) -> NotFound:
    return NotFound("no_such_object",
                    _("There is no object '${name}'", mapping={"name": name}))


@dataclass(frozen=True)
class ExportSpec:
    """What to export: the query of ``POST /objects/{o}/query`` (without its
    ``limit`` and ``cursor``: an export has every page) and, optionally, the
    columns (field api_names) to keep."""

    filters: list[Any] = field(default_factory=list)
    sort: list[Any] = field(default_factory=list)
    q: str | None = None
    columns: list[Any] | None = None

    @classmethod
    def from_body(cls, body: Mapping[str, Any]) -> ExportSpec:
        """The spec in a request body or ``--filter`` option (400 naming an unknown
        key; the values are checked by the query)."""
        unknown = sorted(set(body) - EXPORT_KEYS)
        if unknown:
            raise AppError("invalid", _("Unknown export keys"),
                           {str(k): [_("unknown key")]
                            for k in unknown})
        columns = body.get("columns")
        if columns is not None and not isinstance(columns, list):
            raise AppError("invalid", _("Invalid export keys"),
                           {"columns": [_("must be a list of field names")]})
        return cls(filters=body.get("filters") or [], sort=body.get("sort") or [],
                   q=body.get("q"), columns=columns)

    def audit(self) -> dict[str, Any]:
        return {"filters": self.filters, "sort": self.sort, "q": self.q,
                "columns": self.columns}


class Names:
    """The names of referenced records (their object's ``name_field``), as far as
    the actor may read them: a record they cannot reach, or whose name field is
    hidden from them, has no name here, exactly as a quote would show none."""

    def __init__(self, session: Session, effective: Effective, policy: AccessPolicy
                 ) -> None:
        # the session's connection at each use: an import's job commits between
        # batches
        self.session = session
        self.effective = effective
        self.policy = policy
        self.cache: dict[str, dict[str, str | None]] = {}

    def name_field(self, target: str | None) -> str | None:
        """The target's name field when it can name records for this actor: a text
        field with a column, visible to them, on an object they may read."""
        obj = self.effective.object(target) if target else None
        if obj is None or target is None or not self.policy.allows(target, READ):
            return None
        name = obj.doc.get("name_field")
        found = obj.fields.get(name) if name else None
        if found is None or name in self.policy.hidden(target) \
                or name in SECRETS.get(target, ()) or not stored(found) \
                or field_type(found).kind_of(found) != "string":
            return None
        return str(name)

    def _select(self, target: str, name: str, where: Any) -> Iterable[Any]:
        table = self.effective.tables.main[target]
        stmt = select(table.c.id, table.c[name]).where(where,
                                                       table.c.deleted_at.is_(None))
        reach = self.policy.condition(target, table, READ)
        if reach is not None:
            stmt = stmt.where(reach)
        return self.session.connection().execute(stmt)

    def names(self, target: str, ids: Iterable[str]) -> dict[str, str | None]:
        """``{id: name}`` for ``ids`` (None: no name the actor may see)."""
        name = self.name_field(target)
        known = self.cache.setdefault(target, {})
        wanted = sorted({i for i in ids if i and i not in known})
        if len(known) + len(wanted) > NAME_CACHE:
            known.clear()
        table = self.effective.tables.main[target]
        for start in range(0, len(wanted), LOOKUP_CHUNK):
            chunk = wanted[start:start + LOOKUP_CHUNK]
            known.update(dict.fromkeys(chunk))
            if name is not None:
                known.update({row[0]: row[1] for row in
                              self._select(target, name, table.c.id.in_(chunk))})
        return known

    def ids(self, target: str, names: Iterable[str]) -> dict[str, list[str]]:
        """``{name: [ids]}``: the readable records called each of ``names``."""
        name = self.name_field(target)
        found: dict[str, list[str]] = {}
        wanted = sorted(set(names))
        if name is None:
            return found
        column = self.effective.tables.main[target].c[name]
        for start in range(0, len(wanted), LOOKUP_CHUNK):
            chunk = wanted[start:start + LOOKUP_CHUNK]
            for row in self._select(target, name, column.in_(chunk)):
                found.setdefault(row[1], []).append(row[0])
        return found


class _Exchange:
    """What export and import share: the actor's record service, the object's
    columns and the names of referenced records."""

    def __init__(
        self,
        session: Session,
        effective: Effective,
        policy: AccessPolicy,
        *,
        lang: str = "zh",
        tz: str = "Asia/Shanghai",
        ip: str | None = None,
        records: RecordService | None = None,
    ) -> None:
        self.session = session
        self.effective = effective
        self.policy = policy
        self.lang = lang
        self.tz = tz
        self.ip = ip
        # the request's, whose changes its subscribers hear of
        self.records = records or RecordService(session, effective, policy.actor,
                                                lang=lang, tz=tz, policy=policy)
        self.names = Names(session, effective, policy)

    def _object(self, name: str) -> ObjectMeta:
        obj = self.effective.object(name)
        if obj is None:
            raise no_such_object(name)
        return obj

    def fields(self, object: str) -> dict[str, Mapping[str, Any]]:
        """The fields the actor sees (write-only ones never are), by api_name."""
        secrets = SECRETS.get(object, frozenset())
        return {n: f for n, f in self.policy.visible_fields(object).items()
                if n not in secrets}

    def columns(self, object: str, names: Sequence[str]) -> list[Column]:
        """The columns of the fields ``names`` (``id``, fields, system fields)."""
        fields = self.fields(object)
        found = []
        for name in names:
            doc = ID_FIELD if name == "id" else fields.get(name) or SYSTEM_COLUMNS[name]
            target = reference_target(doc)
            if target is not None and self.names.name_field(target) is not None:
                found.append(Column(name + cells.NAME_SUFFIX, doc, "name", target))
            found.append(Column(name, doc, "value", target))
        return found

    def all_columns(self, object: str) -> list[Column]:
        return self.columns(object, ["id", *self.fields(object),
                                     *cells.DEFAULT_SYSTEM])

    def to_rows(self, columns: Sequence[Column], records: Sequence[Mapping[str, Any]]
              ) -> list[list[Any]]:
        """Records (JSON values, as the record service gives them) as rows."""
        named: dict[str, dict[str, str | None]] = {}
        for col in columns:
            if col.part == "name" and col.target is not None:
                ids = [r.get(col.name) for r in records]
                named[col.key] = self.names.names(col.target,
                                                  [i for i in ids if i])
        rows = []
        for rec in records:
            row = []
            for col in columns:
                value = rec.get(col.name)
                if col.part == "name":
                    row.append(named[col.key].get(value) if value else None)
                else:
                    row.append(cells.to_cell(col.field, value, self.lang))
            rows.append(row)
        return rows


@dataclass
class Export:
    """A prepared export: its columns and its rows, a batch at a time."""

    object: str
    label: str
    spec: ExportSpec
    columns: list[Column]
    batches: Iterator[list[list[Any]]]


@implementer(IExportService)
class ExportService(_Exchange):
    """Exports the records of an object that the actor may read, as CSV or XLSX
    (see the module docstring)."""

    def prepare(self, object: str, spec: ExportSpec) -> Export:
        """Checks the verb, the columns and the query (its first page is fetched
        here, so a bad filter is a 400 before a byte is written) and returns the
        export, whose rows come a batch at a time."""
        obj = self._object(object)
        self.policy.require(object, "export")
        columns = self.all_columns(object) if spec.columns is None \
            else self.columns(object, self._wanted(object, spec.columns))
        first = self._page(object, spec, None)
        return Export(object, pick(obj.label, self.lang) or object, spec, columns,
                      self._batches(object, spec, columns, first))

    def _wanted(self, object: str, names: list[Any]) -> list[str]:
        allowed = {"id", *self.fields(object), *SYSTEM_COLUMNS}
        errors: dict[str, list[Message]] = {
            str(n): [UNKNOWN] for n in names
            if not isinstance(n, str) or n not in allowed}
        if errors or not names:
            raise AppError("invalid", _("Invalid export columns"),
                           errors or {"columns": [_("choose at least one column")]})
        return list(dict.fromkeys(names))

    def _page(self, object: str, spec: ExportSpec, cursor: str | None
              ) -> dict[str, Any]:
        return self.records.query(object, filters=spec.filters, sort=spec.sort,
                                  limit=BATCH, cursor=cursor, q=spec.q)

    def _batches(self, object: str, spec: ExportSpec, columns: list[Column],
                 page: dict[str, Any]) -> Iterator[list[list[Any]]]:
        while True:
            if page["records"]:
                yield self.to_rows(columns, page["records"])
            if page["next_cursor"] is None:
                return
            page = self._page(object, spec, page["next_cursor"])

    def write(self, export: Export, out: BinaryIO, fmt: str) -> int:
        """Writes the export to ``out`` in ``fmt`` (``csv`` or ``xlsx``), records
        it in the audit log, and returns the number of rows."""
        headers = [c.header(self.lang) for c in export.columns]
        writer = open_writer(fmt, out, export.label,
                             [min(max(len(h) + 4, 12), 40) for h in headers])
        writer.write([headers])
        count = 0
        for batch in export.batches:
            writer.write(batch)
            count += len(batch)
        writer.close()
        record_event(self.session.connection(), actor_id=self.policy.user_id,
                     action="records.export", target=export.object,
                     details={"format": fmt, **export.spec.audit(), "rows": count},
                     ip=self.ip)
        return count


def letter(index: int) -> str:
    """The spreadsheet letter of a column position (0: ``A``)."""
    return get_column_letter(index + 1)
