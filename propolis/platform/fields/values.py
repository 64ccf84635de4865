"""Field values in their three forms: JSON (API, import, history), Python (services,
expressions) and column (what the generated table stores).

JSON numbers: every number is a ``Decimal`` inside; going out, an integral value
becomes a JSON integer and any other value a float whose ``repr`` is the shortest
text that reads back as the same double, so ``Decimal("0.1")`` is written ``0.1`` and
values of up to 15 significant digits are exact (larger non-integral values carry
what a JSON number / IEEE double can carry). Going in, floats are read through their
``repr`` (``0.1`` is ``Decimal("0.1")``, not the binary expansion).
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

import nh3
from sqlalchemy import null

from propolis.platform.errors import Text, t

# The kind of Python value a field holds, by field type.
KINDS: dict[str, str] = {
    "text": "string", "textarea": "string", "phone": "string", "email": "string",
    "url": "string", "autonumber": "string", "richtext": "richtext",
    "number": "number", "currency": "number", "percent": "number", "rollup": "number",
    "date": "date", "time": "time", "datetime": "datetime", "boolean": "boolean",
    "select": "select", "multiselect": "multiselect",
    "lookup": "reference", "master_detail": "reference", "user": "reference",
    "department": "reference", "file": "files", "image": "files",
    "location": "location", "area": "area", "table": "table", "quote": "quote",
}
FORMULA_KINDS = {"number": "number", "currency": "number", "percent": "number",
                 "text": "string", "date": "date", "boolean": "boolean"}
COMPUTED_TYPES = frozenset({"formula", "rollup", "quote", "autonumber"})
# Stored as JSON: their empty value is stored as SQL NULL so ``IS NULL`` finds it.
JSON_KINDS = frozenset({"multiselect", "files", "location", "area"})
LIST_KINDS = frozenset({"multiselect", "files", "table"})
AREA_KEYS = ("province", "city", "district")
# The system fields as pseudo field documents, so that output, filters and sorting
# treat them like any other field.
SYSTEM_FIELDS: dict[str, dict[str, Any]] = {
    "id": {"api_name": "id", "type": "lookup", "required": True},
    "owner": {"api_name": "owner", "type": "user"},
    "owner_department": {"api_name": "owner_department", "type": "department"},
    "created_by": {"api_name": "created_by", "type": "user"},
    "created_at": {"api_name": "created_at", "type": "datetime"},
    "updated_by": {"api_name": "updated_by", "type": "user"},
    "updated_at": {"api_name": "updated_at", "type": "datetime"},
    "life_status": {"api_name": "life_status", "type": "select",
                    "options": [{"value": v} for v in ("normal", "in_review",
                                                       "invalid")]},
    "version": {"api_name": "version", "type": "number", "precision": 0},
    "deleted_at": {"api_name": "deleted_at", "type": "datetime"},
    "deleted_by": {"api_name": "deleted_by", "type": "user"},
}
OUTPUT_SYSTEM_FIELDS = ("owner", "owner_department", "created_by", "created_at",
                        "updated_by", "updated_at", "life_status", "version")
TIME_RE = re.compile(r"^([01][0-9]|2[0-3]):([0-5][0-9])(?::([0-5][0-9]))?$")
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class ValueProblem(ValueError):
    """A value that cannot be taken; ``message`` is ``{"zh", "en"}``."""

    def __init__(self, message: dict[str, str]) -> None:
        super().__init__(message["en"])
        self.message = message


def kind(field: Mapping[str, Any]) -> str:
    """The kind of value (``number``, ``date``, ``reference`` …) a field holds."""
    ftype = field["type"]
    if ftype == "formula":
        return FORMULA_KINDS[field["returns"]]
    return KINDS[ftype]


def precision(field: Mapping[str, Any]) -> int:
    """Decimal places a numeric field keeps (as its column does)."""
    if field["type"] == "rollup" and field.get("function") == "count":
        return 0
    return int(field.get("precision", 2))


def number_bound(field: Mapping[str, Any]) -> int:
    """The largest magnitude a numeric column holds exactly on both databases
    (SQLite keeps a 64-bit count of the smallest unit): 18 digits in all,
    ``precision`` of them after the point."""
    return 10 ** (18 - precision(field)) - 1


@functools.lru_cache(maxsize=32)
def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def to_decimal(value: Any) -> Decimal:
    """A JSON number as an exact Decimal (floats through their shortest repr)."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise ValueProblem(t("应为数字", "must be a number"))
    result = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    if not result.is_finite():
        raise ValueProblem(t("应为数字", "must be a number"))
    return result


def quantize(value: Decimal, places: int) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def parse_date(value: Any) -> dt.date:
    if isinstance(value, str) and DATE_RE.match(value):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    raise ValueProblem(t("日期应写作 2026-11-28", "a date looks like 2026-11-28"))


def parse_time(value: Any) -> dt.time:
    match = TIME_RE.match(value) if isinstance(value, str) else None
    if match is None:
        raise ValueProblem(t("时间应写作 09:30", "a time looks like 09:30"))
    return dt.time(int(match[1]), int(match[2]), int(match[3] or 0))


def parse_datetime(value: Any) -> dt.datetime:
    """ISO 8601 with an offset, as an aware UTC datetime; naive times are refused
    because the server cannot know which zone the client meant."""
    parsed = None
    if isinstance(value, str) and len(value) > 10 and value[10] in "T ":
        try:
            parsed = dt.datetime.fromisoformat(value)
        except ValueError:
            parsed = None
    if parsed is None or parsed.tzinfo is None:
        raise ValueProblem(t(
            "时间应为带时区的 ISO 8601 格式，如 2026-11-28T09:30:00+08:00",
            "a date-time is ISO 8601 with an offset, e.g. 2026-11-28T09:30:00+08:00"))
    try:
        return parsed.astimezone(dt.UTC)
    except OverflowError:  # 9999-12-31 late in the day west of UTC, and the like
        raise ValueProblem(t(
            "时间超出可表示的范围（公元 1 年至 9999 年）",
            "the date-time is out of range (years 1 to 9999)")) from None


def file_accepted(accept: Sequence[str], name: str, content_type: str) -> bool:
    """Whether a file matches a field's ``accept`` (empty: any file) as an HTML
    file input reads it: ``.pdf`` is a name ending, ``image/*`` any subtype,
    ``application/pdf`` one type. The content type is the one stored at upload
    (as the client declared it, else guessed from the name)."""
    if not accept:
        return True
    mime = content_type.split(";", 1)[0].strip().lower()
    for pattern in (p.strip().lower() for p in accept):
        if pattern.startswith("."):
            if name.lower().endswith(pattern):
                return True
        elif pattern in ("*", "*/*") or pattern == mime:
            return True
        elif pattern.endswith("/*") and mime.startswith(pattern[:-1]):
            return True
    return False


def file_problem(
    field: Mapping[str, Any], name: str, size: int, content_type: str
) -> Text | None:
    """Why an uploaded file may not be attached to ``field`` (a file or image
    field): larger than its ``max_size_mb`` or not of a type it ``accept``s."""
    limit = field.get("max_size_mb")
    if limit is not None and size > Decimal(str(limit)) * 1024 * 1024:
        shown = format(Decimal(str(limit)).normalize(), "f")
        return t(f"文件「{name}」超过 {shown} MB 的上限",
                 f"file '{name}' is larger than the {shown} MB limit")
    accept = field.get("accept") or []
    if not file_accepted(accept, name, content_type):
        listed = ", ".join(accept)
        return t(f"文件「{name}」的类型不在允许的范围内（{listed}）",
                 f"file '{name}' is not of an accepted type ({listed})")
    return None


def sanitize_html(value: str) -> str:
    """Rich text is kept as HTML without scripts, handlers or unknown tags."""
    return nh3.clean(value)


def from_json(field: Mapping[str, Any], value: Any) -> Any:
    """A JSON value (already checked by the object's JSON Schema) as the Python
    value the services and expressions work with. Empty lists become None."""
    if value is None:
        return None
    k = kind(field)
    if k == "number":
        return quantize(to_decimal(value), precision(field))
    if k == "richtext":
        return sanitize_html(value)
    if k == "date":
        return parse_date(value)
    if k == "time":
        return parse_time(value)
    if k == "datetime":
        return parse_datetime(value)
    if k in ("multiselect", "files"):
        return list(value) or None
    if k == "area":
        return {key: value.get(key) for key in AREA_KEYS}
    if k == "location":
        return {"lat": to_decimal(value["lat"]), "lng": to_decimal(value["lng"]),
                "address": value.get("address")}
    return value


def to_column(field: Mapping[str, Any], value: Any) -> Any:
    """The bind value for the field's column."""
    k = kind(field)
    if k in JSON_KINDS:
        if value is None:
            return null()  # SQL NULL, not the JSON text 'null'
        if k == "location":
            # JSON columns hold floats; coordinates need no more than a double
            return {"lat": float(value["lat"]), "lng": float(value["lng"]),
                    "address": value.get("address")}
    return value


def from_column(field: Mapping[str, Any], value: Any) -> Any:
    """A column value as the Python value."""
    if value is not None and kind(field) == "location":
        return {"lat": to_decimal(value["lat"]), "lng": to_decimal(value["lng"]),
                "address": value.get("address")}
    return value


def decimal_json(value: Decimal) -> int | float:
    """A Decimal as a JSON number: integers exactly, others as the float whose repr
    is the shortest text for it (exact up to 15 significant digits)."""
    if value == value.to_integral_value():
        return int(value)
    return float(value)


def format_time(value: dt.time) -> str:
    return value.isoformat(timespec="minutes" if value.second == 0 else "seconds")


def to_json_value(value: Any, tz: str = "Asia/Shanghai") -> Any:
    """Any Python value the services produce as a JSON-ready value: Decimals as
    numbers, dates ISO, aware datetimes ISO 8601 in ``tz`` with the offset."""
    if value is None or isinstance(value, str | bool | int):
        return value
    if isinstance(value, Decimal):
        return decimal_json(value)
    if isinstance(value, dt.datetime):
        return value.astimezone(zone(tz)).isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return format_time(value)
    if isinstance(value, Mapping):
        return {k: to_json_value(v, tz) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_json_value(v, tz) for v in value]
    if isinstance(value, float):
        return value
    raise TypeError(f"no JSON form for {type(value).__name__}")


def to_json(field: Mapping[str, Any], value: Any, tz: str) -> Any:
    """A field's Python value as its JSON value (lists are never null)."""
    if value is None:
        return [] if kind(field) in LIST_KINDS else None
    return to_json_value(value, tz)


def search_words(field: Mapping[str, Any], value: Any) -> str:
    """The text a value contributes to ``search_text`` (option labels included, so
    a search for 重要 finds the records tagged ``vip``)."""
    if value is None:
        return ""
    k = kind(field)
    if k == "richtext":
        return nh3.clean(value, tags=set())
    if k in ("select", "multiselect"):
        chosen = set(value) if k == "multiselect" else {value}
        words = []
        for option in field.get("options", ()):
            if option["value"] in chosen:
                words.append(option["value"])
                words.extend(str(v) for v in (option.get("label") or {}).values())
        return " ".join(words)
    if k == "area":
        return " ".join(v for v in value.values() if v)
    if k == "location":
        return value.get("address") or ""
    if k in ("files", "reference", "table"):
        return ""
    return str(to_json_value(value))
