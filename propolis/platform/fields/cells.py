"""What the field types' spreadsheet cells share: exact numbers, JSON text, yes and
no in both languages, lists split on ``;``, and dates as Excel and WPS write them
(``propolis.platform.exchange`` reads and writes the sheets)."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

from propolis.platform.errors import Message, _
from propolis.platform.fields.values import ValueProblem, parse_date

BOOLEAN_CELLS = {"zh": ("是", "否"), "en": ("yes", "no")}
SPLIT_VALUES = re.compile(r"\s*[;；\n]\s*")
DATE_LIKE = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$")


def bad(message: Message) -> ValueProblem:
    return ValueProblem(message)


def number_cell(value: Any) -> Decimal | int | None:
    """A JSON number as an exact cell value (floats through their shortest repr)."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)


def json_text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def plain_cell(value: Any, lang: str) -> Any:
    """A JSON value of unknown type (a quote shows another object's field) as a
    cell."""
    if value is None or value == []:
        return None
    if isinstance(value, bool):
        return BOOLEAN_CELLS[lang][0 if value else 1]
    if isinstance(value, int | float):
        return number_cell(value)
    if isinstance(value, list | dict):
        return json_text(value)
    return str(value)


def json_cell(text: str, shape: type, message: Message) -> Any:
    """A cell holding JSON of the given shape (list, dict)."""
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        value = None
    if not isinstance(value, shape):
        raise bad(message)
    return value


def date_cell(text: str) -> str:
    """A date as Excel and WPS write it (``2026/11/28``, ``2026年11月28日``, with
    a midnight time) as ISO ``2026-11-28``."""
    head, _sep, rest = text.replace("T", " ").partition(" ")
    match = DATE_LIKE.match(head)
    if match is None:
        raise bad(_("a date looks like 2026-11-28"))
    iso = f"{match[1]}-{int(match[2]):02d}-{int(match[3]):02d}"
    if rest.strip() and not rest.strip().startswith("00:00"):
        raise bad(_("a date has no time of day"))
    return parse_date(iso).isoformat()
