"""What lists, lookups, summaries and searches ask: pages of records."""

from __future__ import annotations

from typing import Any

from zope.interface import Interface


class IQueryService(Interface):
    """Pages of the records of one enterprise that one actor may read (CONTRACT
    §4's query: filters, sort, keyset cursor, keyword). Only readable records are
    found, only visible fields filter, sort and come back; errors are
    ``AppError``s naming the filter or key at fault. The record service is the
    implementation (``RecordService``): ask for whichever of the two interfaces
    says what the caller needs."""

    def query(
        object: str,
        *,
        filters: list[dict[str, Any]] | None,
        sort: list[str] | None,
        limit: int,
        cursor: str | None,
        q: str | None,
    ):
        """``{"records": [...], "next_cursor": str | None}``: the live records
        matching every filter and every keyword of ``q``, in ``sort`` order."""

    def count_by(
        object: str,
        field: str,
        *,
        filters: list[dict[str, Any]] | None,
        q: str | None,
    ):
        """``[(value, count), ...]``, largest first: how many of the records
        ``query`` would find hold each value of a select or boolean field."""
