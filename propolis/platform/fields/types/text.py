"""``text``: a line of text, 255 characters unless ``max_length`` says otherwise."""

from __future__ import annotations

from typing import Any

from propolis.platform.errors import _
from propolis.platform.fields.base import Field, Schema
from propolis.platform.fields.textual import ShortText

DEFAULT_MAX_LENGTH = 255


class Text(ShortText):
    name = "text"
    description = _("Text: a short line, e.g. a name or code")
    keys = {"max_length": {"type": "integer", "minimum": 1, "maximum": 10000},
            "default": {"type": "string"}}
    length = DEFAULT_MAX_LENGTH
    takes_text = True
    formula_result = True

    def normalize(self, field: dict[str, Any]) -> None:
        field.setdefault("max_length", DEFAULT_MAX_LENGTH)

    def width(self, field: Field) -> int:
        return int(field.get("max_length") or self.length)

    def plan_label(self, field: Field) -> str:
        return f"text({self.width(field)})"

    def from_expression(self, field: Field, result: Any) -> Any:
        # any result reads as text, cut to what the column holds
        return (result if isinstance(result, str) else str(result))[:self.width(field)]

    def result_schema(self) -> Schema:
        return {"type": "string"}

