"""A record list's state in the query string, and the query spec it makes.

Query string keys (field api_names after the dot):

* ``view`` a list view of the metadata; ``col`` (repeated) the columns shown;
  ``sort`` one field, ``-`` for descending; ``q`` keywords; ``cursor`` the next
  page; ``saved`` the saved view being shown;
* ``f.<field>`` the value (text), or the values (repeated: select, multiselect,
  lookup/user/department), ``true``/``false`` for a boolean; ``op.<field>`` for
  text: ``contains`` (default), ``eq`` or ``startswith``;
* ``min.<field>`` / ``max.<field>`` a range of a number, date, time or datetime
  (inclusive: ``gte``/``lte``, ``between`` with both);
* ``empty.<field>`` = 1: only records where the field is empty.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlencode

from propolis.forms.generate import SYSTEM_SPECS
from propolis.forms.typetable import widgets_for
from propolis.platform.fields.registry import field_type
from propolis.platform.fields.values import zone
from propolis.platform.permissions.policy import AccessPolicy

TEXT_OPS = ("contains", "eq", "startswith")
# the list filters (``typetable``) that take a range
RANGES = frozenset({"number", "date", "time", "datetime"})
# the system fields a list may show and filter on, besides the object's own
SYSTEM_COLUMNS = ("owner", "owner_department", "created_by", "created_at",
                  "updated_by", "updated_at", "life_status")
# the ones the filter panel offers
SYSTEM_FILTERS = ("owner", "created_at", "updated_at")
# keys of the query string that are a list's state (everything else is dropped
# when the page builds its links)
STATE_KEYS = ("view", "col", "sort", "q")
FIELD_PREFIXES = ("f.", "op.", "min.", "max.", "empty.")


def param_pairs(params: Any) -> list[tuple[str, str]]:
    items = params.items() if hasattr(params, "items") else params
    return [(str(k), str(v)) for k, v in items]


def all_of(pairs: Iterable[tuple[str, str]], key: str) -> list[str]:
    return [v.strip() for k, v in pairs if k == key and v.strip()]


def first_of(pairs: Iterable[tuple[str, str]], key: str) -> str:
    found = all_of(pairs, key)
    return found[0] if found else ""


def field_spec(obj_doc: Mapping[str, Any], name: str) -> dict[str, Any] | None:
    """A field of the object, or one of the system fields a list shows (with its
    label); None for anything else."""
    for f in obj_doc["fields"]:
        if f["api_name"] == name:
            return dict(f)
    if name in SYSTEM_COLUMNS:
        return dict(SYSTEM_SPECS[name])
    return None


def filterable_fields(obj_doc: Mapping[str, Any], access: AccessPolicy
                      ) -> dict[str, dict[str, Any]]:
    """The fields the user may filter the list on, in order: the visible stored
    fields whose values a filter can compare, then the system fields."""
    hidden = access.hidden(obj_doc["api_name"])
    found: dict[str, dict[str, Any]] = {}
    for name in [f["api_name"] for f in obj_doc["fields"]] + list(SYSTEM_FILTERS):
        spec = field_spec(obj_doc, name)
        if spec is None or name in hidden or not field_type(spec).stored(spec):
            continue
        if widgets_for(spec).filter is not None:
            found[name] = spec
    return found


def _number(text: str) -> Any:
    """A number typed into a filter as a JSON number; anything else as typed, so
    the query service names the field and says what it needs."""
    try:
        value = Decimal(text)
    except InvalidOperation:
        return text
    return value if value.is_finite() else text


def _moment(text: str, tz: str) -> str:
    """A ``datetime-local`` value (wall-clock time in ``tz``, the enterprise's) as
    ISO 8601 with its offset; anything else as typed."""
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        return text
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone(tz))
    return moment.isoformat()


def _bound(k: str | None, text: str, tz: str) -> Any:
    if k == "number":
        return _number(text)
    if k == "datetime":
        return _moment(text, tz)
    return text


def _field_filters(name: str, spec: Mapping[str, Any],
                   pairs: list[tuple[str, str]], tz: str) -> list[dict[str, Any]]:
    k = widgets_for(spec).filter
    if first_of(pairs, f"empty.{name}"):
        return [{"field": name, "op": "isnull", "value": True}]
    values = all_of(pairs, f"f.{name}")
    if k == "string":
        op = first_of(pairs, f"op.{name}")
        return [{"field": name, "op": op if op in TEXT_OPS else "contains",
                 "value": values[0]}] if values else []
    if k in RANGES:
        low, high = (first_of(pairs, f"{end}.{name}") for end in ("min", "max"))
        if low and high:
            return [{"field": name, "op": "between",
                     "value": [_bound(k, low, tz), _bound(k, high, tz)]}]
        if low:
            return [{"field": name, "op": "gte", "value": _bound(k, low, tz)}]
        if high:
            return [{"field": name, "op": "lte", "value": _bound(k, high, tz)}]
        return []
    if not values:
        return []
    if k == "boolean":
        value: Any = {"true": True, "false": False}.get(values[0], values[0])
        return [{"field": name, "op": "eq", "value": value}]
    if k == "multiselect":  # records having every value ticked
        return [{"field": name, "op": "contains", "value": v} for v in values]
    if len(values) == 1:
        return [{"field": name, "op": "eq", "value": values[0]}]
    return [{"field": name, "op": "in", "value": values}]


def list_view_of(obj_doc: Mapping[str, Any], name: str | None) -> dict[str, Any]:
    """The metadata list view ``name`` (the first one when absent or unknown)."""
    views = obj_doc["list_views"]
    return next((v for v in views if v["api_name"] == name), views[0])


def query_spec_from_params(params: Any, obj_doc: Mapping[str, Any],
                           access: AccessPolicy, tz: str) -> dict[str, Any]:
    """The list page's query string (a MultiDict or ``(key, value)`` pairs) as
    what the record service's ``query`` takes — ``filters``, ``sort``, ``q`` —
    plus the list ``view`` (api_name) and the ``columns`` to show.

    Fields hidden from the user are never filtered, sorted or shown: their keys are
    ignored. Values are passed on as typed when they cannot be read, so that the
    query service refuses them with an error naming the field. Times without an
    offset are wall-clock times in ``tz`` (the enterprise's)."""
    pairs = param_pairs(params)
    hidden = access.hidden(obj_doc["api_name"])
    view = list_view_of(obj_doc, first_of(pairs, "view") or None)
    filters = [dict(f) for f in view.get("filters", ()) if f["field"] not in hidden]
    for name, spec in filterable_fields(obj_doc, access).items():
        filters.extend(_field_filters(name, spec, pairs, tz))
    sort_key = first_of(pairs, "sort")
    sort = ([sort_key] if sort_key and sort_key.lstrip("-") not in hidden
            else list(view.get("sort", ())))
    shown = [c for c in all_of(pairs, "col")
             if c not in hidden and field_spec(obj_doc, c) is not None]
    columns = list(dict.fromkeys(shown)) or [
        c for c in view["columns"] if c not in hidden
        and field_spec(obj_doc, c) is not None]
    return {"view": view["api_name"], "filters": filters, "sort": sort,
            "q": first_of(pairs, "q") or None, "columns": columns}


def state_pairs(params: Any) -> list[tuple[str, str]]:
    """The pairs of a query string that make a list's state (what a link to the
    same list, a saved view or an export keeps)."""
    return [(k, v) for k, v in param_pairs(params)
            if v.strip() and (k in STATE_KEYS or k.startswith(FIELD_PREFIXES))]


def query_string(pairs: Iterable[tuple[str, str]]) -> str:
    return urlencode(list(pairs))


# -- the page ----------------------------------------------------------------------

@dataclass
class Column:
    name: str
    label: str
    spec: dict[str, Any]
    sortable: bool
    sort: str | None  # "ascending" | "descending" | None
    sort_url: str = ""
    rows_url: str = ""


@dataclass
class Filter:
    name: str
    label: str
    kind: str
    values: list[str]
    op: str = "contains"
    low: str = ""
    high: str = ""
    empty: bool = False
    options: list[tuple[str, str]] = field(default_factory=list)
    more: bool = False  # more choices than offered
    input_type: str = "text"
    errors: list[str] = field(default_factory=list)
