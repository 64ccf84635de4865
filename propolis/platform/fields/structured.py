"""Types whose value is a JSON list or mapping, stored in a JSON column (JSONB on
PostgreSQL): multiselect, files and images, area, location. An empty value is
SQL NULL, so that ``IS NULL`` finds it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import null

from propolis.platform.fields.base import ColumnSpec, Field, FieldType
from propolis.platform.fields.cells import json_text


class JsonStored(FieldType):
    filter_ops = frozenset({"isnull"})

    def column(self, field: Field) -> ColumnSpec | None:
        return ColumnSpec("json")

    def to_column(self, field: Field, value: Any) -> Any:
        return null() if value is None else value  # not the JSON text 'null'

    def to_cell(self, field: Field, value: Any, lang: str) -> Any:
        return json_text(value)


class JsonList(JsonStored):
    """A list; empty is null inside, ``[]`` in JSON."""

    list_value = True

    def parse(self, field: Field, value: Any) -> Any:
        return list(value) or None
