"""Field values as spreadsheet cells and back: what an export writes and what an
import reads (docs/api.md, "Export and import").

A cell is what a person reads and edits in Excel or WPS, and what the import turns
back into the JSON value of CONTRACT §2 for the record service, which then checks it
exactly as it checks the API. The rules, by kind of field:

* text, phone, email, url, autonumber, rich text: the text (rich text as HTML);
* number, currency, percent, rollup: the number (``12.5`` for 12.5 %); the import
  also takes thousands separators, a leading ``¥``/``$`` and a trailing ``%``;
* date ``2026-11-28``, time ``09:30``, date-time ISO 8601 with its offset; the
  import also takes ``2026/11/28``, ``9:30`` and a date-time without an offset (in
  the enterprise's time zone), which is what a date typed into Excel becomes;
* boolean ``是``/``否`` (``yes``/``no`` in English); the import takes either
  language, ``true``/``false`` and ``1``/``0``;
* select: the option value; the import also takes an option's label;
  multiselect: the values joined with ``;`` (``；`` too on the way in);
* lookup, master_detail, user, department: two columns, the record's name (the
  target object's ``name_field``) and its id (see ``Column``);
* table, file, image, area, location: JSON text as the API writes it; an area is
  also read from ``省/市/区``, files from ids joined with ``;``.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from propolis.platform.errors import t
from propolis.platform.fields.values import (
    AREA_KEYS,
    ValueProblem,
    kind,
    parse_date,
    parse_datetime,
    zone,
)
from propolis.platform.records.schema import writable
from propolis.platform.storage.tables import column_type

REFERENCE_TYPES = frozenset({"lookup", "master_detail", "user", "department"})
TRUE_WORDS = frozenset({"是", "true", "yes", "y", "1", "对", "√"})
FALSE_WORDS = frozenset({"否", "false", "no", "n", "0", "错", "×"})
BOOLEAN_CELLS = {"zh": ("是", "否"), "en": ("yes", "no")}
SPLIT_VALUES = re.compile(r"\s*[;；\n]\s*")
NUMBER_NOISE = re.compile(r"[,，\s]")
DATE_LIKE = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$")
TIME_LIKE = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2}))?$")
NAME_SUFFIX = ".name"
# System fields an export writes after the object's own fields; the import reads
# ``id`` (which record to update) and ``version`` (the optimistic lock) and skips
# the others, which no client writes.
SYSTEM_COLUMNS: dict[str, dict[str, Any]] = {
    "owner": {"api_name": "owner", "type": "user",
              "label": t("负责人", "Owner")},
    "owner_department": {"api_name": "owner_department", "type": "department",
                         "label": t("负责人主属部门", "Owner's department")},
    "created_by": {"api_name": "created_by", "type": "user",
                   "label": t("创建人", "Created by")},
    "created_at": {"api_name": "created_at", "type": "datetime",
                   "label": t("创建时间", "Created at")},
    "updated_by": {"api_name": "updated_by", "type": "user",
                   "label": t("最后修改人", "Updated by")},
    "updated_at": {"api_name": "updated_at", "type": "datetime",
                   "label": t("最后修改时间", "Updated at")},
    "version": {"api_name": "version", "type": "number", "precision": 0,
                "label": t("版本", "Version")},
}
ID_FIELD = {"api_name": "id", "type": "text", "label": t("ID", "ID")}
DEFAULT_SYSTEM = ("owner", "owner_department", "created_at", "updated_at", "version")
ID_LABEL = t("{label} ID", "{label} ID")


@dataclass(frozen=True)
class Column:
    """One column of an export or import sheet.

    ``key`` is what the header names in parentheses: a field's api_name, or
    ``<field>.name`` for the name column of a reference field. A reference field
    has two columns: ``客户 (customer.name)``, the name people read and edit, and
    ``客户 ID (customer)``, the record id the API uses. ``part`` is ``value`` or
    ``name``; ``target`` the object a reference points to."""

    key: str
    field: Mapping[str, Any]
    part: str = "value"
    target: str | None = None

    @property
    def name(self) -> str:
        return str(self.field["api_name"])

    def header(self, lang: str) -> str:
        label = self.field.get("label") or {}
        text = label.get(lang) or label.get("zh") or self.name
        if self.part == "value" and self.target is not None:
            text = ID_LABEL[lang].format(label=text)
        return f"{text} ({self.key})"

    @property
    def imported(self) -> bool:
        """Whether an import reads the column (it skips computed and system
        fields, the record's ``id`` and ``version`` aside)."""
        name = self.name
        if name in ("id", "version"):
            return True
        return name not in SYSTEM_COLUMNS and writable(self.field) \
            and (column_type(self.field) is not None or self.field["type"] == "table")


def bad(zh: str, en: str) -> ValueProblem:
    return ValueProblem(t(zh, en))


# -- out ------------------------------------------------------------------------------

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


def to_cell(field: Mapping[str, Any], value: Any, lang: str) -> Any:
    """A field's JSON value as the cell an export writes: text, an exact number,
    or None for an empty cell."""
    if value is None or value == []:
        return None
    if field["type"] == "quote":
        return plain_cell(value, lang)
    k = kind(field)
    if k == "number":
        return number_cell(value)
    if k == "boolean":
        return BOOLEAN_CELLS[lang][0 if value else 1]
    if k == "multiselect":
        return ";".join(str(v) for v in value)
    if k in ("area", "location") and isinstance(value, Mapping):
        # keys in the API's order (PostgreSQL's JSONB keeps its own)
        keys = AREA_KEYS if k == "area" else ("lat", "lng", "address")
        value = {key: value.get(key) for key in keys}
    if k in ("files", "table", "area", "location"):
        return json_text(value)
    return str(value)


def cell_text(value: Any) -> str:
    """A cell as text, the way an export's cell compares with an imported one."""
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value else "0"
    return str(value).strip()


# -- in -------------------------------------------------------------------------------

def _number(text: str) -> Decimal:
    cleaned = NUMBER_NOISE.sub("", text).lstrip("¥￥$").rstrip("%％")
    try:
        number = Decimal(cleaned)
    except InvalidOperation:
        number = None
    if number is None or not number.is_finite():
        raise bad(f"「{text}」不是数字", f"{text!r} is not a number")
    return number


def _date(text: str) -> str:
    head, _, rest = text.replace("T", " ").partition(" ")
    match = DATE_LIKE.match(head)
    if match is None:
        raise bad("日期应写作 2026-11-28", "a date looks like 2026-11-28")
    iso = f"{match[1]}-{int(match[2]):02d}-{int(match[3]):02d}"
    if rest.strip() and not rest.strip().startswith("00:00"):
        raise bad("日期不应带时间", "a date has no time of day")
    return parse_date(iso).isoformat()


def _time(text: str) -> str:
    match = TIME_LIKE.match(text)
    if match is None:
        raise bad("时间应写作 09:30", "a time looks like 09:30")
    return f"{int(match[1]):02d}:{match[2]}" + (f":{match[3]}" if match[3] else "")


def _datetime(text: str, tz: str) -> str:
    """ISO 8601 with an offset; without one, the time is in the enterprise's zone
    (Excel keeps no zone with a date-time)."""
    if DATE_LIKE.match(text):
        text = _date(text) + "T00:00:00"
    text = text.replace("/", "-")
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        parsed = None
    if parsed is not None and parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=zone(tz))
    if parsed is None:
        raise bad("时间应写作 2026-11-28 09:30 或带时区的 2026-11-28T09:30:00+08:00",
                  "a date-time looks like 2026-11-28 09:30, or "
                  "2026-11-28T09:30:00+08:00 with an offset")
    iso = parsed.isoformat()
    parse_datetime(iso)  # the range check
    return iso


def _boolean(text: str) -> bool:
    word = text.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise bad(f"「{text}」应为 是 或 否", f"{text!r} should be yes or no")


def _option(field: Mapping[str, Any], text: str) -> str:
    options = field.get("options", ())
    for option in options:
        if option["value"] == text:
            return str(option["value"])
    by_label = {o["value"] for o in options
                for label in (o.get("label") or {}).values() if label == text}
    if len(by_label) == 1:
        return str(by_label.pop())
    values = "、".join(str(o["value"]) for o in options[:20])
    raise bad(f"「{text}」不是可选值（{values}）",
              f"{text!r} is not one of the options ({values.replace('、', ', ')})")


def _json(text: str, shape: type, zh: str, en: str) -> Any:
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        value = None
    if not isinstance(value, shape):
        raise bad(zh, en)
    return value


def _rows(field: Mapping[str, Any], text: str) -> list[Any]:
    rows = _json(text, list, "应为 JSON 数组，如 [{\"qty\": 1}]",
                 "must be a JSON array such as [{\"qty\": 1}]")
    keep = {s["api_name"] for s in field["fields"] if writable(s)} | {"id"}
    # computed sub-fields come out of an export; they are not written back
    return [{k: v for k, v in row.items() if k in keep}
            if isinstance(row, dict) else row for row in rows]


def _area(text: str) -> Any:
    if text.startswith("{"):
        return _json(text, dict, "应为 JSON 对象或 省/市/区",
                     "must be a JSON object or province/city/district")
    parts = [p.strip() for p in text.split("/")]
    if len(parts) > len(AREA_KEYS) or not all(parts):
        raise bad("地区应写作 省/市/区", "an area looks like province/city/district")
    return {key: parts[i] if i < len(parts) else None
            for i, key in enumerate(AREA_KEYS)}


def from_cell(field: Mapping[str, Any], text: str, tz: str) -> Any:
    """An imported cell (text) as the field's JSON value; an empty cell is null.
    References are not read here: their name has to be looked up (see
    ``services.Names``)."""
    if text == "":
        return None
    k = kind(field)
    if k in ("string", "richtext", "reference"):
        return text
    if k == "number":
        return _number(text)
    if k == "date":
        return _date(text)
    if k == "time":
        return _time(text)
    if k == "datetime":
        return _datetime(text, tz)
    if k == "boolean":
        return _boolean(text)
    if k == "select":
        return _option(field, text)
    if k == "multiselect":
        return list(dict.fromkeys(_option(field, v)
                                  for v in SPLIT_VALUES.split(text) if v))
    if k == "files":
        if text.startswith("["):
            return _json(text, list, "应为文件 id 的 JSON 数组",
                         "must be a JSON array of file ids")
        return [v for v in SPLIT_VALUES.split(text) if v]
    if k == "table":
        return _rows(field, text)
    if k == "area":
        return _area(text)
    if k == "location":
        return _json(text, dict, "应为 JSON 对象，如 {\"lat\": 31.2, \"lng\": 121.5}",
                     "must be a JSON object such as {\"lat\": 31.2, \"lng\": 121.5}")
    raise bad("该字段不能导入", "this field cannot be imported")


def same_value(field: Mapping[str, Any], new: Any, old: Any) -> bool:
    """Whether an imported value is the one the record holds (numbers compared as
    numbers, so ``12.50`` does not count as a change of ``12.5``)."""
    if new is None or new == []:
        return old is None or old == []
    k = kind(field)
    if k == "number" and old is not None and not isinstance(old, bool):
        return Decimal(new) == number_cell(old)
    if k == "table" and isinstance(old, list):
        # the rows as read back: without their computed sub-fields
        return bool(new == _rows(field, json_text(old)))
    return bool(new == old)
