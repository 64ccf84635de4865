"""``area``: a place in China's administrative divisions, ``{province, city,
district}`` (``省/市/区`` in a sheet)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, or_

from propolis.metadata.expressions.typecheck import STRING, CelType, map_of
from propolis.platform.db import Dialect
from propolis.platform.errors import _
from propolis.platform.fields.base import Field, Schema
from propolis.platform.fields.cells import bad, json_cell, json_text
from propolis.platform.fields.structured import JsonStored

AREA_KEYS = ("province", "city", "district")


class Area(JsonStored):
    name = "area"
    description = _("Area: province, city, district")
    value_kind = "area"

    def cel_type(self, field: Field) -> CelType:
        return map_of(dict.fromkeys(AREA_KEYS, STRING))

    def value_schema(self, field: Field) -> Schema:
        part = {"type": ["string", "null"], "maxLength": 100}
        return {"type": "object", "additionalProperties": False,
                "required": ["province"],
                "properties": {"province": {"type": "string", "minLength": 1,
                                            "maxLength": 100},
                               "city": part, "district": part}}

    def parse(self, field: Field, value: Any) -> Any:
        return {key: value.get(key) for key in AREA_KEYS}

    def words(self, field: Field, value: Any) -> str:
        return " ".join(v for v in value.values() if v)

    def keyword_match(self, column: Any, field: Field, term: str, dialect: Dialect
                      ) -> ColumnElement[bool] | None:
        return or_(*[dialect.contains_text(column[key].as_string(), term)
                     for key in AREA_KEYS])

    def to_cell(self, field: Field, value: Any, lang: str) -> Any:
        if isinstance(value, dict):
            # keys in the API's order (PostgreSQL's JSONB keeps its own)
            value = {key: value.get(key) for key in AREA_KEYS}
        return json_text(value)

    def from_cell(self, field: Field, text: str, tz: str) -> Any:
        if text.startswith("{"):
            return json_cell(text, dict, _("must be a JSON object or "
                                           "province/city/district"))
        parts = [p.strip() for p in text.split("/")]
        if len(parts) > len(AREA_KEYS) or not all(parts):
            raise bad(_("an area looks like province/city/district"))
        return {key: parts[i] if i < len(parts) else None
                for i, key in enumerate(AREA_KEYS)}
