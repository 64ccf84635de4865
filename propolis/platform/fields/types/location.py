"""``location``: a point on the map with its address, ``{lat, lng, address}``;
coordinates are Decimals inside and need no more than a double in the column."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, null

from propolis.metadata.expressions.typecheck import NUMBER, STRING, CelType, map_of
from propolis.platform.db import Dialect
from propolis.platform.errors import _
from propolis.platform.fields.base import Field, Schema
from propolis.platform.fields.cells import json_cell, json_text
from propolis.platform.fields.structured import JsonStored
from propolis.platform.fields.values import to_decimal

LOCATION_KEYS = ("lat", "lng", "address")


class Location(JsonStored):
    name = "location"
    description = _("Location: latitude, longitude, address")
    value_kind = "location"

    def cel_type(self, field: Field) -> CelType:
        return map_of({"lat": NUMBER, "lng": NUMBER, "address": STRING})

    def value_schema(self, field: Field) -> Schema:
        return {"type": "object", "additionalProperties": False,
                "required": ["lat", "lng"],
                "properties": {
                    "lat": {"type": "number", "minimum": -90, "maximum": 90},
                    "lng": {"type": "number", "minimum": -180, "maximum": 180},
                    "address": {"type": ["string", "null"], "maxLength": 500}}}

    def parse(self, field: Field, value: Any) -> Any:
        return {"lat": to_decimal(value["lat"]), "lng": to_decimal(value["lng"]),
                "address": value.get("address")}

    def to_column(self, field: Field, value: Any) -> Any:
        if value is None:
            return null()
        return {"lat": float(value["lat"]), "lng": float(value["lng"]),
                "address": value.get("address")}

    def from_column(self, field: Field, value: Any) -> Any:
        return None if value is None else self.parse(field, value)

    def words(self, field: Field, value: Any) -> str:
        return value.get("address") or ""

    def keyword_match(self, column: Any, field: Field, term: str, dialect: Dialect
                      ) -> ColumnElement[bool] | None:
        return dialect.contains_text(column["address"].as_string(), term)

    def to_cell(self, field: Field, value: Any, lang: str) -> Any:
        if isinstance(value, dict):
            value = {key: value.get(key) for key in LOCATION_KEYS}
        return json_text(value)

    def from_cell(self, field: Field, text: str, tz: str) -> Any:
        return json_cell(
            text, dict, _("must be a JSON object such as {\"lat\": 31.2, \"lng\": "
                          "121.5}"))
