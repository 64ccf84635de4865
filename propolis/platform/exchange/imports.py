"""Importing records from a CSV or XLSX sheet (``IImportService``), at any size.

The file is read as a stream, a row at a time (``sheets.iter_sheet``), and
imported in batches of ``BATCH_ROWS``: the references named in a batch are found
with one query per object, the records its key column names with one query, its
new records created together by the record service's bulk path
(``RecordService.create_many``: the rules of a single save, the writes in bulk),
its changed records updated one by one (each in its own SAVEPOINT). A bad row is
reported with its row number, column and message and left out; the batch's
other rows land. A batch whose writing fails (a unique value taken by a
concurrent save) is taken back whole, in its SAVEPOINT, and each of its rows is
reported. A file that cannot be read as a sheet of the object (format, encoding,
headers, a stray cell) is refused, and the caller's transaction with it: nothing
is written.

What a row does depends on the options (``ImportOptions``): ``mode`` ``create``
(every row a new record), ``update`` (every row names an existing record by the
``key`` column) or ``upsert`` (the default: rows that name one update it, the
others create); ``key`` is ``id`` (the default: the column an export writes) or
a field (a number, a name, a mobile phone…); in ``create`` mode a row whose key
names an existing record (a duplicate) is an error, skipped or an update, as
``duplicates`` says (``error``, ``skip``, ``update``). Rows of the file with the
same key are one record: the first creates it, the next ones are its
duplicates.

The rows refused are written back as a sheet of the file's format — the file's
own header and cells, with an added ``错误原因`` (``Error``) column — stored as a
file whose id the report gives (``error_file``): the user fixes it and imports
it again (an import ignores that column).
"""

from __future__ import annotations

import contextlib
import io
import os
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from zope.interface import implementer

from propolis.platform.audit import record_event
from propolis.platform.errors import AppError, Message, _, both, translate
from propolis.platform.exchange import cells
from propolis.platform.exchange.cells import SYSTEM_COLUMNS, Column
from propolis.platform.exchange.interfaces import IImportService
from propolis.platform.exchange.services import HEADER_KEY, _Exchange, letter
from propolis.platform.exchange.sheets import (
    CONTENT_TYPES,
    bad_file,
    file_format,
    iter_sheet,
    open_writer,
)
from propolis.platform.fields.cells import bad
from propolis.platform.fields.values import ValueProblem
from propolis.platform.meta.effective import Effective
from propolis.platform.permissions.policy import AccessPolicy
from propolis.platform.records.interfaces import IFileService

BATCH_ROWS = 1000
MODES = ("create", "update", "upsert")
DUPLICATES = ("error", "skip", "update")
ERROR_HEADER = _("Error")
Progress = Callable[[int], None]


def _choice(params: Mapping[str, Any], name: str, allowed: Sequence[str],
            default: str) -> str:
    value = params.get(name) or default
    if value not in allowed:
        raise AppError("invalid", _("Invalid import options"),
                       {name: [_("must be one of ${allowed}",
                                 mapping={"allowed": {"zh": ' / '.join(allowed),
                                                      "en": ', '.join(allowed)}})]})
    return str(value)


@dataclass(frozen=True)
class ImportOptions:
    """What the rows of an import do (see the module docstring)."""

    mode: str = "upsert"
    key: str = "id"
    duplicates: str = "error"

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> ImportOptions:
        """The options of a request's parameters or the CLI's flags (400 naming
        a bad one; the key column is checked against the file)."""
        key = params.get("key") or "id"
        if not isinstance(key, str):
            raise AppError("invalid", _("Invalid import options"),
                           {"key": [_("must be a field name")]})
        return cls(mode=_choice(params, "mode", MODES, "upsert"), key=key,
                   duplicates=_choice(params, "duplicates", DUPLICATES, "error"))

    def as_json(self) -> dict[str, str]:
        return {"mode": self.mode, "key": self.key, "duplicates": self.duplicates}


@dataclass
class _Row:
    number: int
    texts: dict[str, str]  # column key -> text
    cells: list[str]  # the row as in the file


@dataclass
class Report:
    """The outcome of an import: counts, the problems by row, the refused rows
    as they were in the file, the batches taken back."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    rows: int = 0
    failed: dict[int, list[str]] = field(default_factory=dict)  # row -> cells
    errors: list[dict[str, Any]] = field(default_factory=list)
    rolled_back: list[list[int]] = field(default_factory=list)

    def add(self, row: _Row, field: str | None, column: str | None, message: Message
            ) -> None:
        self.errors.append({"row": row.number, "field": field, "column": column,
                            "message": both(message)})
        self.failed[row.number] = row.cells

    def reasons(self, lang: str) -> dict[int, str]:
        """Each refused row's problems as one text (the error sheet's column)."""
        found: dict[int, list[str]] = {}
        for e in self.errors:
            text = e["message"].get(lang) or e["message"]["en"]
            found.setdefault(e["row"], []).append(
                f"{e['column']}: {text}" if e["column"] else text)
        return {row: ("；" if lang == "zh" else "; ").join(texts)
                for row, texts in found.items()}

    def as_json(self, lang: str, skipped: list[str], error_file: str | None
                ) -> dict[str, Any]:
        errors = sorted(self.errors, key=lambda e: e["row"])
        return {"created": self.created, "updated": self.updated,
                "unchanged": self.unchanged, "skipped": self.skipped,
                "failed": len(self.failed),
                "errors": [{**e, "message": e["message"].get(lang)
                            or e["message"]["en"]} for e in errors],
                "skipped_columns": skipped, "rolled_back": self.rolled_back,
                "error_file": error_file}


class _Sheet:
    """The header of the file: which column holds which key, and the texts a
    row gives them."""

    def __init__(self, header: list[str], positions: dict[int, str],
                 columns: list[Column], error_at: int | None, lang: str) -> None:
        self.header = header
        self.positions = positions
        self.columns = columns
        self.error_at = error_at
        self.width = max([*positions, -1 if error_at is None else error_at]) + 1
        self.headers = {c.key: c.header(lang) for c in columns}
        # the columns each imported field is read from, and where each key is
        self.by_field: dict[str, list[Column]] = {}
        for col in columns:
            if col.imported and col.name not in ("id", "version"):
                self.by_field.setdefault(col.name, []).append(col)
        self.index = {c.key: i for i, c in enumerate(columns)}
        # the positions without a header, in rows of ``cells`` cells
        self.cells = 0
        self.unheaded: list[int] = []

    def column_of(self, field: str) -> str | None:
        return self.headers.get(field + cells.NAME_SUFFIX) or self.headers.get(field)

    def row(self, number: int, texts: list[str]) -> _Row:
        if len(texts) != self.cells:
            self.cells = len(texts)
            self.unheaded = [i for i in range(len(texts))
                             if i not in self.positions and i != self.error_at]
        stray = next((i for i in self.unheaded if texts[i]), None)
        if stray is not None:
            where = f"{letter(stray)}{number}"
            raise bad_file(_("The cell ${where} holds data but its column has no "
                             "header",
                             mapping={"where": where}))
        kept = texts[:self.width]
        if self.error_at is not None:
            kept[self.error_at] = ""
        return _Row(number, {key: texts[i] for i, key in self.positions.items()},
                    kept)


@implementer(IImportService)
class ImportService(_Exchange):
    """Imports a CSV or XLSX sheet of records (see the module docstring); the
    columns are those an export writes, found by the api_name in parentheses at
    the end of each header (``客户名称 (name)``), or a bare api_name or label."""

    def __init__(self, session: Session, effective: Effective, policy: AccessPolicy,
                 *, files: IFileService | None = None, **kwargs: Any) -> None:
        super().__init__(session, effective, policy, **kwargs)
        self.files = files

    def check(self, object: str, options: ImportOptions) -> None:
        """The object exists and the actor may import into it (``import``, and
        ``create`` unless the mode only updates)."""
        self._object(object)
        self.policy.require(object, "import")
        if options.mode != "update":
            self.policy.require(object, "create")

    def run(self, object: str, data: bytes | BinaryIO, filename: str | None,
            options: ImportOptions | None = None, progress: Progress | None = None
            ) -> dict[str, Any]:
        """Imports the file (bytes, or a seekable binary file read as a stream);
        returns the report ``{created, updated, unchanged, skipped, failed,
        errors: [{row, field, column, message}], skipped_columns, rolled_back,
        error_file}`` (messages in the service's language). ``progress`` is told
        the number of rows gone through after each full batch."""
        options = options or ImportOptions()
        self.check(object, options)
        fmt = file_format(filename)
        source = io.BytesIO(data) if isinstance(data, bytes) else data
        known = self.all_columns(object)
        with contextlib.closing(iter_sheet(source, fmt,
                                           max_cols=len(known) + 2)) as rows:
            first = next(rows, None)
            if first is None:
                raise bad_file(_("The file is empty"))
            sheet = self._header(object, first[1], {c.key: c for c in known})
            self._check_key(object, sheet, options)
            report = Report()
            batch: list[_Row] = []
            for number, texts in rows:
                batch.append(sheet.row(number, texts))
                if len(batch) >= BATCH_ROWS:
                    self._batch(object, sheet, batch, options, report)
                    batch = []
                    if progress is not None:
                        progress(report.rows)
            if batch:
                self._batch(object, sheet, batch, options, report)
        if not report.rows:
            raise bad_file(_("There are no rows to import"))
        error_file = self._error_file(fmt, filename, sheet, report)
        record_event(self.session.connection(), actor_id=self.policy.user_id,
                     action="records.import", target=object,
                     details={"file": (filename or "")[:255], "format": fmt,
                              "rows": report.rows, "created": report.created,
                              "updated": report.updated, "skipped": report.skipped,
                              "failed": len(report.failed),
                              **options.as_json()}, ip=self.ip)
        skipped = [c.header(self.lang) for c in sheet.columns if not c.imported]
        return report.as_json(self.lang, skipped, error_file)

    # -- the header ----------------------------------------------------------------

    def _header(self, object: str, header: list[str], by_key: Mapping[str, Column]
                ) -> _Sheet:
        """Column position -> key; 400 naming each column that is no field of the
        object the actor may see, or that repeats another. The error column of
        an error sheet is ignored."""
        labels: dict[str, set[str]] = {}
        for col in by_key.values():
            for lang in ("zh", "en"):
                labels.setdefault(col.header(lang).rsplit(" (", 1)[0], set()).add(
                    col.key)
        positions: dict[int, str] = {}
        errors: dict[str, list[Message]] = {}
        error_at = None
        for i, text in enumerate(header):
            if not text:
                continue
            if text in both(ERROR_HEADER).values() and error_at is None:
                error_at = i
                continue
            match = HEADER_KEY.match(text)
            key = match[2] if match else text
            if key not in by_key and len(labels.get(text, ())) == 1:
                key = next(iter(labels[text]))
            where = f"{letter(i)}1"
            if key not in by_key:
                errors[text] = [_("the column at ${where} is no field of ${object} "
                                  "you may see",
                                  mapping={"where": where, "object": object})]
            elif key in positions.values():
                errors[text] = [_("the column at ${where} repeats an earlier one",
                                  mapping={"where": where})]
            else:
                positions[i] = key
        if errors:
            raise AppError("invalid_file", _("Unknown columns: use the "
                                             "headers an export writes"), errors)
        if not any(by_key[k].imported and k not in ("id", "version")
                   for k in positions.values()):
            raise bad_file(_("No column of the file can be imported"))
        return _Sheet(header, positions, [by_key[k] for k in positions.values()],
                      error_at, self.lang)

    def _check_key(self, object: str, sheet: _Sheet, options: ImportOptions
                   ) -> None:
        """The key must be a column of the file: ``id`` or a field's values (not
        a reference's, not computed). Without an ``id`` column, ``upsert`` by id
        only creates."""
        if options.key == "id" and options.mode != "update":
            return
        col = next((c for c in sheet.columns if c.key == options.key), None)
        if col is None or not col.imported or col.key == "version" \
                or (col.key != "id" and col.target is not None):
            raise AppError("invalid", _("Invalid import options"),
                           {"key": [_("the file has no column '${key}' that can be "
                                      "the key",
                                      mapping={"key": options.key})]})

    # -- a batch ---------------------------------------------------------------------

    def _batch(self, object: str, sheet: _Sheet, rows: list[_Row],
               options: ImportOptions, report: Report) -> None:
        report.rows += len(rows)
        resolved = self._resolve(sheet.columns, rows)
        creates, matched = self._match(object, sheet, rows, options, report)
        later = self._create(object, sheet, creates, resolved, options, report)
        if later:
            # rows whose key an earlier row of the batch has just created
            more, found = self._match(object, sheet, later, options, report)
            matched += found
            for row in more:  # the earlier row was refused: this one creates
                self._create(object, sheet, [row], resolved, options, report)
        for row, record_id in sorted(matched, key=lambda m: m[0].number):
            self._update(object, sheet, row, record_id, resolved, options, report)

    def _match(self, object: str, sheet: _Sheet, rows: list[_Row],
               options: ImportOptions, report: Report
               ) -> tuple[list[_Row], list[tuple[_Row, str]]]:
        """The rows that create and the rows that name a record (with its id)."""
        key = options.key
        creates: list[_Row] = []
        matched: list[tuple[_Row, str]] = []
        keyed: dict[int, Any] = {}
        if key != "id":
            doc = next(c.field for c in sheet.columns if c.key == key)
            for row in rows:
                if row.texts[key]:
                    try:
                        keyed[row.number] = cells.from_cell(doc, row.texts[key],
                                                            self.tz)
                    except ValueProblem as problem:
                        report.add(row, key, sheet.column_of(key), problem.message)
        found = self.records.ids_by(object, key, list(keyed.values())) \
            if keyed else {}
        for row in rows:
            text = row.texts.get(key, "")
            if row.number in report.failed:
                continue
            if not text:
                if options.mode == "update":
                    report.add(row, key, sheet.column_of(key),
                               _("required to find the record to update"))
                else:
                    creates.append(row)
                continue
            ids = [text] if key == "id" else found.get(keyed[row.number], [])
            if len(ids) > 1:
                report.add(row, key, sheet.column_of(key),
                           _("${ids} records have this ${key}: which one to update "
                             "is unclear",
                             mapping={"ids": len(ids), "key": key}))
            elif ids and options.mode == "create" and options.duplicates != "update":
                if options.duplicates == "skip":
                    report.skipped += 1
                else:
                    report.add(row, key, sheet.column_of(key),
                               _("a record with this value exists already (a "
                                 "duplicate)"))
            elif ids:
                matched.append((row, ids[0]))
            elif options.mode == "update":
                report.add(row, key, sheet.column_of(key),
                           _("no record to update has this value"))
            else:
                creates.append(row)
        return creates, matched

    def _create(self, object: str, sheet: _Sheet, rows: list[_Row],
                resolved: Mapping[str, Mapping[str, list[str]]],
                options: ImportOptions, report: Report) -> list[_Row]:
        """Creates the rows' records together; returns the rows left for later
        (their key repeats an earlier row's)."""
        key = options.key
        datas: list[dict[str, Any]] = []
        made: list[_Row] = []
        later: list[_Row] = []
        keys: set[str] = set()
        for row in rows:
            if key != "id" and row.texts.get(key):
                if row.texts[key] in keys:
                    later.append(row)
                    continue
                keys.add(row.texts[key])
            data = self._values(sheet, row, resolved, None, report)
            if data is not None:
                datas.append(data)
                made.append(row)
        if not datas:
            return later
        try:
            with self.session.begin_nested():
                result = self.records.create_many(object, datas)
        except (AppError, SQLAlchemyError) as error:
            message = error.message if isinstance(error, AppError) else _("the write "
                                                                          "failed")
            reason = _("this batch could not be written and was taken back: "
                       "${message}",
                       mapping={"message": message})
            for row in made:
                report.add(row, None, None, reason)
            report.rolled_back.append([made[0].number, made[-1].number])
            return later
        report.created += len(result.records)
        for index, refusal in result.errors.items():
            self._refused(made[index], sheet, refusal, report, None)
        return later

    def _update(self, object: str, sheet: _Sheet, row: _Row, record_id: str,
                resolved: Mapping[str, Mapping[str, list[str]]],
                options: ImportOptions, report: Report) -> None:
        try:
            with self.session.begin_nested():
                current = self.records.get(object, record_id)
                data = self._values(sheet, row, resolved, current, report)
                if data is None:
                    return
                if not data:
                    report.unchanged += 1
                    return
                self.records.update(object, record_id, data,
                                    version=self._version(sheet, row, report))
                report.updated += 1
        except _RowFailed:
            return
        except AppError as error:
            self._refused(row, sheet, error, report, options.key)

    @staticmethod
    def _refused(row: _Row, sheet: _Sheet, error: AppError, report: Report,
                 key: str | None) -> None:
        if not error.fields:
            report.add(row, key, sheet.column_of(key) if key else None,
                       error.message)
        for name, messages in error.fields.items():
            for message in messages:
                report.add(row, name, sheet.column_of(name), message)

    def _version(self, sheet: _Sheet, row: _Row, report: Report) -> int | None:
        text = row.texts.get("version", "")
        if not text:
            return None
        try:
            return int(cells.from_cell(SYSTEM_COLUMNS["version"], text, self.tz))
        except (ValueProblem, ValueError):
            report.add(row, "version", sheet.column_of("version"),
                       _("the version must be an integer"))
            raise _RowFailed() from None

    # -- references ------------------------------------------------------------------

    def _resolve(self, columns: Sequence[Column], rows: Sequence[_Row]
                 ) -> dict[str, dict[str, list[str]]]:
        """``{name column key: {name: [ids]}}`` for every name in the batch, one
        lookup per referenced object rather than one per row."""
        found = {}
        for col in columns:
            if col.part == "name" and col.imported and col.target is not None:
                found[col.key] = self.names.ids(
                    col.target, [r.texts[col.key] for r in rows if r.texts[col.key]])
        return found

    def _reference(self, field: str, texts: Mapping[str, str],
                   resolved: Mapping[str, Mapping[str, list[str]]], label: str
                   ) -> str | None:
        """A reference from its two columns: the name column decides when the
        file has one (an empty name clears the field); its id only tells records
        of the same name apart. Without a name column, the id column."""
        name_key = field + cells.NAME_SUFFIX
        given_id = texts.get(field, "")
        if name_key not in texts:
            return given_id or None
        name = texts[name_key]
        if not name:
            return None
        candidates = resolved[name_key].get(name, [])
        if given_id in candidates:
            return given_id
        if len(candidates) == 1:
            return candidates[0]
        if not candidates:
            raise bad(_("no ${label} named '${name}'",
                        mapping={"label": label, "name": name}))
        raise bad(_("${candidates} records are named '${name}': give the one you "
                    "mean in the id column (${field})",
                    mapping={"candidates": len(candidates),
                             "name": name,
                             "field": field,
                             "label": label}))

    # -- one row -----------------------------------------------------------------------

    def _values(self, sheet: _Sheet, row: _Row,
                resolved: Mapping[str, Mapping[str, list[str]]],
                current: Mapping[str, Any] | None, report: Report
                ) -> dict[str, Any] | None:
        """The fields to write (None when a cell is bad: the row's problems are in
        the report). For an update only the changed ones."""
        index = sheet.index
        now = self.to_rows(sheet.columns, [current])[0] \
            if current is not None else None
        data: dict[str, Any] = {}
        failed = False
        for name, cols in sheet.by_field.items():
            if now is not None and all(
                    row.texts[c.key] == cells.cell_text(now[index[c.key]])
                    for c in cols):
                continue  # as exported: unchanged
            doc = cols[0].field
            try:
                if cols[0].target is not None:
                    label = self._object(cols[0].target).label.get(self.lang) \
                        or cols[0].target
                    value = self._reference(name, row.texts, resolved, label)
                else:
                    value = cells.from_cell(doc, row.texts[name], self.tz)
            except ValueProblem as problem:
                report.add(row, name, sheet.column_of(name), problem.message)
                failed = True
                continue
            if current is None:
                if value is not None:
                    data[name] = value
            elif not cells.same_value(doc, value, current.get(name)):
                data[name] = value
        return None if failed else data

    # -- the error sheet ----------------------------------------------------------

    def _error_file(self, fmt: str, filename: str | None, sheet: _Sheet,
                    report: Report) -> str | None:
        """The refused rows as a sheet of the file's format (its header, its
        cells, the 错误原因 column), stored as a file; its id."""
        if not report.failed or self.files is None:
            return None
        reasons = report.reasons(self.lang)
        header = [*sheet.header[:sheet.width], translate(ERROR_HEADER, self.lang)]
        if sheet.error_at is not None:  # an error sheet imported again
            header = [*sheet.header[:sheet.width], ""]
            header[sheet.error_at] = ""
            header[-1] = translate(ERROR_HEADER, self.lang)
        with tempfile.TemporaryFile() as out:
            writer = open_writer(fmt, out, translate(ERROR_HEADER, self.lang),
                                 [min(max(len(h) + 4, 12), 40) for h in header])
            writer.write([header])
            for number in sorted(report.failed):
                writer.write([[*report.failed[number], reasons.get(number, "")]])
            writer.close()
            out.seek(0)
            stem = os.path.splitext(os.path.basename(filename or "import"))[0]
            reason = translate(ERROR_HEADER, self.lang)
            stored = self.files.store(f"{stem}-{reason}.{fmt}", CONTENT_TYPES[fmt], out)
        return str(stored.id)


class _RowFailed(Exception):
    """A row whose problems are in the report already."""

