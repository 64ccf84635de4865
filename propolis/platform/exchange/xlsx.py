"""XLSX workbooks of an import: the template an admin downloads, reading an
uploaded sheet, and the error report (the rows as uploaded, bad cells marked, an
error column added). The record import reads its sheets here, the employee import
(``propolis.platform.org.imports``) uses all three.

An upload is untrusted: its uncompressed size is checked before openpyxl opens it
(an XLSX is a zip archive), at most ``max_rows`` rows and ``len(columns)`` columns
are read, and openpyxl parses XML without resolving entities (lxml).
"""

from __future__ import annotations

import datetime as dt
import io
import warnings
import zipfile
from collections.abc import Generator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, BinaryIO

from openpyxl import Workbook, load_workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from propolis.platform.errors import AppError, Message, _, _c, both, translate

CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_UNCOMPRESSED = 64 * 1024 * 1024
HEADER_FILL = PatternFill(fill_type="solid", start_color="FFDDEBF7")
EXAMPLE_FONT = Font(italic=True, color="FF808080")
BAD_FILL = PatternFill(fill_type="solid", start_color="FFFFC7CE")
AUTHOR = "Propolis"


@dataclass(frozen=True)
class Column:
    """One column of the import: its key, header (a message: the workbook shows it
    in zh and en), whether a value is required, and what to put in it (the header
    cell's comment)."""

    key: str
    label: Message
    required: bool = False
    help: Message = ""
    choices: tuple[str, ...] = ()  # offered as a drop-down (data validation)
    width: int = 16

    @property
    def zh(self) -> str:
        return translate(self.label, "zh")

    @property
    def en(self) -> str:
        return translate(self.label, "en")


def bilingual(message: Message, separator: str = " ") -> str:
    """A text of the workbook, which says everything in both languages."""
    return separator.join(dict.fromkeys(both(message).values()))


def _bad_file(message: Message) -> AppError:
    return AppError("invalid_file", message, {"file": [message]})


def cell_text(value: Any) -> str:
    """A cell's value as the text the import works with: numbers typed into a
    phone cell come back as digits, dates as ISO dates."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, int | Decimal):
        return str(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() \
            else value.isoformat(sep=" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value).strip()


def _save(workbook: Workbook) -> bytes:
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _headers(sheet: Any, columns: Sequence[Column],
             extra: Sequence[Message] = ()) -> None:
    for index, col in enumerate(columns, start=1):
        zh = sheet.cell(row=1, column=index,
                        value=col.zh + ("*" if col.required else ""))
        en = sheet.cell(row=2, column=index, value=col.en)
        for cell in (zh, en):
            cell.font = Font(bold=True, color="FFC00000" if col.required else None)
            cell.fill = HEADER_FILL
        note = bilingual(col.help, "\n") if col.help else ""
        if col.required:
            note = bilingual(_("Required")) + ("\n" + note if note else "")
        if note:
            zh.comment = Comment(note, AUTHOR, width=260, height=120)
        sheet.column_dimensions[get_column_letter(index)].width = col.width
    for offset, message in enumerate(extra, start=len(columns) + 1):
        for row, lang in ((1, "zh"), (2, "en")):
            text = translate(message, lang)
            cell = sheet.cell(row=row, column=offset, value=text)
            cell.font = Font(bold=True, color="FFC00000")
            cell.fill = BAD_FILL
        sheet.column_dimensions[get_column_letter(offset)].width = 48
    sheet.freeze_panes = "A3"


def template(columns: Sequence[Column], example: Sequence[str],
             instructions: Sequence[Message], *, max_rows: int) -> bytes:
    """Headers in zh (row 1, ``*`` marks required ones, each with a comment) and
    en (row 2), an example row (3), drop-downs for the columns with choices, and
    an instructions sheet."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = bilingual(_c("platform.exchange.xlsx", "Employees"))
    _headers(sheet, columns)
    for index, value in enumerate(example, start=1):
        cell = sheet.cell(row=3, column=index, value=value)
        cell.font = EXAMPLE_FONT
        cell.number_format = "@"  # text: a phone keeps its digits
    last = max_rows + 2
    for index, col in enumerate(columns, start=1):
        letter = get_column_letter(index)
        for row in range(3, 3 + min(last, 200)):
            sheet[f"{letter}{row}"].number_format = "@"
        if col.choices:
            choices = ",".join(col.choices)
            rule = DataValidation(type="list", formula1=f'"{choices}"',
                                  allow_blank=True, showErrorMessage=True,
                                  showInputMessage=True)
            rule.error = bilingual(_("Choose from"), " / ") + \
                f": {', '.join(col.choices)}"
            rule.errorTitle = f"{col.zh} {col.en}"
            rule.prompt = ", ".join(col.choices)
            rule.promptTitle = f"{col.zh} {col.en}"
            sheet.add_data_validation(rule)
            rule.add(f"{letter}3:{letter}{last}")
    notes = workbook.create_sheet(bilingual(_("Instructions")))
    notes.column_dimensions["A"].width = 70
    notes.column_dimensions["B"].width = 90
    for row, message in enumerate(instructions, start=1):
        for column, lang in ((1, "zh"), (2, "en")):
            notes.cell(row=row, column=column, value=translate(message, lang)
                       ).alignment = Alignment(wrap_text=True)
    return _save(workbook)


def iter_rows(source: BinaryIO, *, max_cols: int
              ) -> Generator[tuple[int, list[str]], None, None]:
    """The first sheet's non-empty rows as ``(row number, texts)``, at most
    ``max_cols`` texts each, read one at a time (openpyxl's read-only mode: the
    memory stays flat whatever the number of rows). 400 naming ``file`` if it is
    no workbook or is too big uncompressed. ``source`` must be seekable."""
    try:
        with zipfile.ZipFile(source) as archive:
            size = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile:
        raise _bad_file(_("The file is not an XLSX workbook")) \
            from None
    if size > MAX_UNCOMPRESSED:
        raise _bad_file(_("The workbook is too large once unpacked"))
    source.seek(0)
    try:
        with warnings.catch_warnings():
            # openpyxl warns about parts it drops (extensions, styles); irrelevant
            warnings.simplefilter("ignore")
            workbook = load_workbook(source, read_only=True, data_only=True)
        try:
            sheet = workbook.worksheets[0]
            sheet.reset_dimensions()  # some writers store wrong dimensions
            for number, values in enumerate(
                    sheet.iter_rows(max_col=max_cols, values_only=True), start=1):
                texts = [cell_text(v) for v in values]
                texts += [""] * (max_cols - len(texts))
                if any(texts):
                    yield number, texts
        finally:
            workbook.close()
    except AppError:
        raise
    except Exception:  # noqa: BLE001 - any failure to parse an upload is bad input
        raise _bad_file(_("The workbook cannot be read")) from None


def count_rows(source: BinaryIO) -> int:
    """How many non-empty rows the first sheet has (0 when it cannot be read:
    reading it says why)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            workbook = load_workbook(source, read_only=True, data_only=True)
        try:
            sheet = workbook.worksheets[0]
            sheet.reset_dimensions()
            return sum(1 for values in sheet.iter_rows(values_only=True)
                       if any(v is not None for v in values))
        finally:
            workbook.close()
    except Exception:  # noqa: BLE001 - any failure to parse an upload is bad input
        return 0


def read_rows(data: bytes, *, max_cols: int, max_rows: int
              ) -> list[tuple[int, list[str]]]:
    """The rows of ``iter_rows`` as a list (400 naming ``file`` when there are
    more than ``max_rows``)."""
    rows: list[tuple[int, list[str]]] = []
    for row in iter_rows(io.BytesIO(data), max_cols=max_cols):
        if len(rows) >= max_rows:
            raise _bad_file(_("More than ${max_rows} rows: import in batches",
                              mapping={"max_rows": max_rows}))
        rows.append(row)
    return rows


def report(columns: Sequence[Column], rows: Sequence[tuple[int, Sequence[str]]],
           errors: Mapping[int, Sequence[tuple[str | None, str]]]) -> bytes:
    """The rows as uploaded, with the header rows of the template, each bad cell
    filled red, and an error column listing every problem of the row (its row
    number kept in the first column of the report: ``行号 Row``)."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = bilingual(_("Errors"))
    row_col = Column("row", _c("platform.exchange.xlsx", "Row"), width=8)
    _headers(sheet, [row_col, *columns], [_c("platform.exchange.xlsx", "Errors")])
    keys = [c.key for c in columns]
    error_col = len(columns) + 2
    for out_row, (number, values) in enumerate(rows, start=3):
        sheet.cell(row=out_row, column=1, value=number)
        for index, value in enumerate(values[:len(columns)], start=2):
            cell = sheet.cell(row=out_row, column=index, value=value)
            cell.number_format = "@"
        problems = errors.get(number, ())
        for key, _message in problems:
            if key in keys:
                sheet.cell(row=out_row, column=keys.index(key) + 2).fill = BAD_FILL
        if problems:
            cell = sheet.cell(row=out_row, column=error_col,
                              value="\n".join(text for _, text in problems))
            cell.alignment = Alignment(wrap_text=True, vertical="top")
            cell.font = Font(color="FFC00000")
    return _save(workbook)
