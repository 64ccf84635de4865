"""Reading and writing the two file formats of import and export: CSV (UTF-8 with
a BOM, so that Excel shows Chinese) and XLSX (openpyxl, write-only, so a sheet of
any size is written row by row to disk rather than held in memory).

Reading an XLSX goes through the employee import's reader
(``propolis.platform.exchange.xlsx.read_rows``: the zip-bomb check, bounded rows and
columns, no entity resolution); CSV is read here with the same bounds. Both give
``(row number, texts)`` for the non-empty rows, the numbers a person sees in Excel.
"""

from __future__ import annotations

import csv
import io
import os
import re
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any, BinaryIO, Protocol

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from propolis.platform.errors import AppError, Message, _, translate
from propolis.platform.exchange import xlsx

FORMATS = ("csv", "xlsx")
CONTENT_TYPES = {"csv": "text/csv; charset=utf-8", "xlsx": xlsx.CONTENT_TYPE}
BOM = "\ufeff"
# A text cell starting with one of these is a formula to Excel when it opens a CSV
# ("CSV injection"): the export puts an apostrophe in front, the import takes it off.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Excel keeps 15 significant digits of a number: longer ones are written as text.
EXCEL_DIGITS = 15
SHEET_TITLE = re.compile(r"[\[\]:*?/\\]")

Rows = list[tuple[int, list[str]]]


def bad_file(message: Message, field: str = "file") -> AppError:
    return AppError("invalid_file", message, {field: [message]})


def file_format(filename: str | None) -> str:
    """``csv`` or ``xlsx`` from a file's extension (400 for anything else)."""
    ext = os.path.splitext((filename or "").lower())[1].lstrip(".")
    if ext not in FORMATS:
        raise bad_file(_("Only .csv and .xlsx files are supported"))
    return ext


# -- writing ------------------------------------------------------------------------

class SheetWriter(Protocol):
    def write(self, rows: Iterable[Sequence[Any]]) -> None: ...

    def close(self) -> None: ...


class CsvWriter:
    """Rows as CSV into ``out`` (binary), flushed a batch at a time."""

    def __init__(self, out: BinaryIO) -> None:
        self.out = out
        self.buffer = io.StringIO()
        self.writer = csv.writer(self.buffer, lineterminator="\r\n")
        self.out.write(BOM.encode())

    @staticmethod
    def _text(value: Any) -> str:
        if value is None:
            return ""
        if isinstance(value, Decimal):
            return format(value, "f")
        if isinstance(value, str):
            return "'" + value if value.startswith(FORMULA_START) else value
        return str(value)

    def write(self, rows: Iterable[Sequence[Any]]) -> None:
        self.writer.writerows([self._text(v) for v in row] for row in rows)
        self.out.write(self.buffer.getvalue().encode("utf-8"))
        self.buffer.seek(0)
        self.buffer.truncate()

    def close(self) -> None:
        self.out.flush()


class XlsxWriter:
    """Rows as one worksheet of a write-only workbook; the header row bold and
    frozen. Text is always text (never a formula), numbers are numbers unless
    Excel would round them."""

    def __init__(self, out: BinaryIO, title: str, widths: Sequence[int]) -> None:
        self.out = out
        self.workbook = Workbook(write_only=True)
        self.sheet = self.workbook.create_sheet(SHEET_TITLE.sub(" ", title)[:31]
                                                or "Sheet1")
        self.sheet.freeze_panes = "A2"
        for index, width in enumerate(widths, start=1):
            self.sheet.column_dimensions[get_column_letter(index)].width = width
        self.header = True

    def _cell(self, value: Any) -> Any:
        if isinstance(value, Decimal) and len(value.as_tuple().digits) > EXCEL_DIGITS:
            value = format(value, "f")
        if not isinstance(value, str):
            return value
        cell = WriteOnlyCell(self.sheet, value=ILLEGAL_CHARACTERS_RE.sub("", value))
        cell.data_type = "s"
        if self.header:
            cell.font = Font(bold=True)
        return cell

    def write(self, rows: Iterable[Sequence[Any]]) -> None:
        for row in rows:
            self.sheet.append([self._cell(v) for v in row])
            self.header = False

    def close(self) -> None:
        self.workbook.save(self.out)


def open_writer(fmt: str, out: BinaryIO, title: str, widths: Sequence[int]
                ) -> SheetWriter:
    if fmt == "xlsx":
        return XlsxWriter(out, title, widths)
    return CsvWriter(out)


# -- reading ------------------------------------------------------------------------

def _decode(data: bytes) -> str:
    """UTF-8 (with or without BOM), else GB18030: what Excel on a Chinese Windows
    writes when a sheet is saved as plain "CSV"."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise bad_file(_("Unknown text encoding: save the file as UTF-8 CSV"))


def _unquote(text: str) -> str:
    if text.startswith("'") and text[1:].startswith(FORMULA_START):
        return text[1:]
    return text


def read_csv(data: bytes, *, max_cols: int, max_rows: int) -> Rows:
    text = _decode(data)
    if "\x00" in text:
        raise bad_file(_("The file contains NUL characters: it is not a text file"))
    rows: Rows = []
    reader = csv.reader(io.StringIO(text, newline=""))
    number = 0
    try:
        for number, values in enumerate(reader, start=1):
            texts = [_unquote(v.strip()) for v in values]
            if not any(texts):
                continue
            if len(texts) > max_cols:
                raise bad_file(_("Row ${number} has ${texts} columns, more than "
                                 "${max_cols}",
                                 mapping={"number": number,
                                          "texts": len(texts),
                                          "max_cols": max_cols}))
            if len(rows) >= max_rows:
                raise _too_many(max_rows - 1)
            rows.append((number, texts + [""] * (max_cols - len(texts))))
    except csv.Error as exc:
        raise bad_file(_("Row ${row} is not valid CSV: ${exc}",
                         mapping={"row": number + 1, "exc": exc})) from None
    return rows


def _too_many(limit: int) -> AppError:
    return bad_file(_("More than ${limit} rows: import in batches",
                      mapping={"limit": limit}))


def read_sheet(data: bytes, fmt: str, *, max_cols: int, max_rows: int) -> Rows:
    """The non-empty rows of the file (the header row included, at most
    ``max_rows`` data rows), each padded to ``max_cols`` texts."""
    if fmt == "csv":
        return read_csv(data, max_cols=max_cols, max_rows=max_rows + 1)
    try:
        return xlsx.read_rows(data, max_cols=max_cols, max_rows=max_rows + 1)
    except AppError as error:
        # its "too many rows" counts the header row: say it as the import does
        if translate(error.message, "en").startswith("More than"):
            raise _too_many(max_rows) from None
        raise
