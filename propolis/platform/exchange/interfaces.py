"""What the API, the list pages and the command line ask to move records to and
from spreadsheets."""

from __future__ import annotations

from typing import Any, BinaryIO

from zope.interface import Attribute, Interface


class IExportService(Interface):
    """Exports the records of an object that the actor may read and export, as
    CSV or XLSX: the columns are the fields they see, the rows what the query
    finds, the values as the enterprise's language and clock show them."""

    tz = Attribute("The time zone of the times written (the enterprise's).")

    def prepare(object: str, spec: Any):
        """An ``Export`` of what ``spec`` (an ``ExportSpec``: filters, sort, q,
        columns) finds; a bad query or column is an ``AppError`` before anything
        is written."""

    def write(export: Any, out: BinaryIO, fmt: str):
        """Writes ``export`` to ``out`` as ``csv`` or ``xlsx``, enters it in the
        audit log and returns the number of rows."""


class IImportService(Interface):
    """Imports a CSV or XLSX sheet of records of any size, a batch at a time,
    each row checked as an API call of the actor would be; good rows land, bad
    ones are reported and written back as an error sheet."""

    def check(object: str, options: Any):
        """Refuses (``AppError``) an import the actor may not run, before a job
        is queued for it."""

    def run(object: str, data: Any, filename: str | None, options: Any,
            progress: Any):
        """The report ``{created, updated, unchanged, skipped, failed, errors,
        skipped_columns, rolled_back, error_file}`` of importing ``data`` (bytes
        or a seekable binary file) with ``options`` (an ``ImportOptions``: mode,
        key, duplicates); ``progress``, when given, is called with the rows done
        after each batch."""
