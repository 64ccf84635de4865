"""Field values as spreadsheet cells and back: what an export writes and what an
import reads (docs/api.md, "Export and import").

A cell is what a person reads and edits in Excel or WPS, and what the import turns
back into the JSON value of CONTRACT §2 for the record service, which then checks it
exactly as it checks the API. Each field's type says how (``FieldType.to_cell``,
``from_cell``, ``same_value``); the rules, by kind of field:

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

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from propolis.platform.errors import _, _c, translate
from propolis.platform.fields.registry import field_type

NAME_SUFFIX = ".name"
# System fields an export writes after the object's own fields; the import reads
# ``id`` (which record to update) and ``version`` (the optimistic lock) and skips
# the others, which no client writes.
SYSTEM_COLUMNS: dict[str, dict[str, Any]] = {
    "owner": {"api_name": "owner", "type": "user",
              "label": _("Owner")},
    "owner_department": {"api_name": "owner_department", "type": "department",
                         "label": _c("platform.exchange.cells", "Owner's department")},
    "created_by": {"api_name": "created_by", "type": "user",
                   "label": _("Created by")},
    "created_at": {"api_name": "created_at", "type": "datetime",
                   "label": _("Created at")},
    "updated_by": {"api_name": "updated_by", "type": "user",
                   "label": _("Updated by")},
    "updated_at": {"api_name": "updated_at", "type": "datetime",
                   "label": _("Updated at")},
    "version": {"api_name": "version", "type": "number", "precision": 0,
                "label": _("Version")},
}
ID_FIELD = {"api_name": "id", "type": "text", "label": _("ID")}
DEFAULT_SYSTEM = ("owner", "owner_department", "created_at", "updated_at", "version")
ID_LABEL = _("${label} ID")


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
        text = translate(self.field.get("label"), lang) or self.name
        if self.part == "value" and self.target is not None:
            text = translate(_(ID_LABEL, mapping={"label": text}), lang)
        return f"{text} ({self.key})"

    @property
    def imported(self) -> bool:
        """Whether an import reads the column (it skips computed and system
        fields, the record's ``id`` and ``version`` aside)."""
        name = self.name
        if name in ("id", "version"):
            return True
        return name not in SYSTEM_COLUMNS \
            and field_type(self.field).imported(self.field)


# -- out ------------------------------------------------------------------------------

def to_cell(field: Mapping[str, Any], value: Any, lang: str) -> Any:
    """A field's JSON value as the cell an export writes: text, an exact number,
    or None for an empty cell."""
    if value is None or value == []:
        return None
    return field_type(field).to_cell(field, value, lang)


def cell_text(value: Any) -> str:
    """A cell as text, the way an export's cell compares with an imported one."""
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value else "0"
    return str(value).strip()


# -- in -------------------------------------------------------------------------------

def from_cell(field: Mapping[str, Any], text: str, tz: str) -> Any:
    """An imported cell (text) as the field's JSON value; an empty cell is null.
    References are not read here: their name has to be looked up (see
    ``services.Names``)."""
    if text == "":
        return None
    return field_type(field).from_cell(field, text, tz)


def same_value(field: Mapping[str, Any], new: Any, old: Any) -> bool:
    """Whether an imported value is the one the record holds (numbers compared as
    numbers, so ``12.50`` does not count as a change of ``12.5``)."""
    if new is None or new == []:
        return old is None or old == []
    return field_type(field).same_value(field, new, old)
