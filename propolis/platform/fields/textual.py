"""Types whose value is text: a short line in a column of bounded length
(``ShortText``: text, phone, email, url, autonumber) or long text (``LongText``:
textarea, rich text)."""

from __future__ import annotations

from typing import Any, ClassVar

from sqlalchemy import ColumnElement

from propolis.metadata.expressions.typecheck import STRING, CelType
from propolis.platform.db import Dialect
from propolis.platform.fields.base import ORDERED, ColumnSpec, Field, FieldType, Schema

STRING_DEFAULT: dict[str, Any] = {"default": {"type": "string"}}


class Textual(FieldType):
    """Text, matched by keyword anywhere in it and read from a cell as it is."""

    value_kind = "string"
    keys = STRING_DEFAULT
    filter_ops = ORDERED | {"contains", "startswith"}
    sortable = True

    def cel_type(self, field: Field) -> CelType:
        return STRING

    def keyword_match(self, column: Any, field: Field, term: str, dialect: Dialect
                      ) -> ColumnElement[bool] | None:
        return dialect.contains_text(column, term)

    def from_cell(self, field: Field, text: str, tz: str) -> Any:
        return text


class ShortText(Textual):
    """A line of at most ``length`` characters, matching ``pattern`` and of the
    JSON Schema format ``text_format`` when set. It may become any type that
    ``takes_text`` (its values fit)."""

    length: ClassVar[int]
    pattern: ClassVar[str | None] = None
    text_format: ClassVar[str | None] = None

    def width(self, field: Field) -> int:
        return self.length

    def column(self, field: Field) -> ColumnSpec | None:
        return ColumnSpec("string", self.width(field))

    def value_schema(self, field: Field) -> Schema:
        schema: Schema = {"type": "string", "maxLength": self.width(field)}
        if self.pattern is not None:
            schema["pattern"] = self.pattern
        if self.text_format is not None:
            schema["format"] = self.text_format
        return schema

    def converts_to(self, field: Field, new: FieldType, new_field: Field) -> bool:
        return new is self or new.takes_text


class LongText(Textual):
    """Text of any length, up to ``limit`` characters from a client."""

    limit: ClassVar[int]

    def column(self, field: Field) -> ColumnSpec | None:
        return ColumnSpec("text")

    def value_schema(self, field: Field) -> Schema:
        return {"type": "string", "maxLength": self.limit}
