"""Read-only fields: their JSON values as text in the user's language, and the widget
that shows them. A read-only field is rendered as ``<output>`` (a table as a
``<table>``), which no form submits."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from markupsafe import Markup, escape
from wtforms.widgets import html_params

from propolis.forms.texts import NO, YES, files_count, pick
from propolis.forms.widgets import FILES_URL, known_name, label_id
from propolis.platform.fields.values import (
    ValueProblem,
    parse_datetime,
    to_decimal,
    zone,
)
from propolis.platform.records.plan import reference_target

# the organisation's own objects have no record pages of their own
ORGANISATION = frozenset({"user", "department"})


def _shown_type(spec: Mapping[str, Any]) -> str:
    """The type whose format the value has (a formula's ``returns``)."""
    ftype = str(spec["type"])
    if ftype == "formula":
        return str(spec["returns"])
    if ftype == "rollup":
        return "number"
    return ftype


def plain_number(value: Any) -> str:
    """A JSON number as plain decimal text, exactly (``0.1`` stays ``0.1``)."""
    return format(to_decimal(value), "f")


def local_datetime(value: str, tz: str) -> str:
    """An ISO 8601 moment as the wall-clock time in ``tz``, ``YYYY-MM-DDTHH:MM``
    (with seconds only when they are not zero): what ``datetime-local`` shows."""
    moment = parse_datetime(value).astimezone(zone(tz))
    return moment.replace(tzinfo=None).isoformat(
        timespec="seconds" if moment.second else "minutes")


def _joined(items: list[str], lang: str) -> str:
    return ("、" if lang == "zh" else ", ").join(items)


def _generic(value: Any, lang: str) -> str:
    if isinstance(value, bool):
        return pick(YES if value else NO, lang)
    if isinstance(value, int | float | Decimal):
        return plain_number(value)
    if isinstance(value, list):
        return _joined([_generic(v, lang) for v in value], lang)
    if isinstance(value, Mapping):
        parts = [v for v in value.values() if v not in (None, "")]
        return " ".join(_generic(v, lang) for v in parts)
    return str(value)


def display_text(spec: Mapping[str, Any], value: Any, lang: str, tz: str) -> str:
    """A field's JSON value as text (empty for no value). Quotes, whose target type
    is not known here, and values of an unexpected shape are shown generically."""
    if value is None or value == []:
        return ""
    shown = _shown_type(spec)
    labels = {o["value"]: pick(o["label"], lang) for o in spec.get("options", ())}
    try:
        if shown == "select":
            return labels.get(value, str(value))
        if shown == "multiselect":
            return _joined([labels.get(v, str(v)) for v in value], lang)
        if shown == "datetime":
            return local_datetime(value, tz).replace("T", " ")
        if shown in ("file", "image"):
            return files_count(len(value), lang)
        if shown == "area":
            # in the order of the divisions, whatever the order of the stored keys
            # (PostgreSQL's JSONB keeps its own)
            return " ".join(str(value[p]) for p in ("province", "city", "district")
                            if value.get(p))
        if shown == "location":
            return value.get("address") or (
                f"{plain_number(value['lat'])}, {plain_number(value['lng'])}")
    except (ValueProblem, TypeError, AttributeError, KeyError):
        return _generic(value, lang)  # not the shape the type promises: show it as is
    return _generic(value, lang)


def record_path(target: str, record_id: str) -> str:
    """The detail page of a record (route ``records.detail``)."""
    return f"/o/{quote(target)}/r/{quote(record_id)}"


class ReadOnlyWidget:
    """Shows a read-only field's value; references carry their target and id and
    show the record's name when the page knows it (``RecordForm.names``: records
    the user may read), with a link to it; files are links (images thumbnails)."""

    def __init__(self, lang: str, tz: str) -> None:
        self.lang = lang
        self.tz = tz

    def __call__(self, field: Any, **kwargs: Any) -> Markup:
        spec = field.spec
        if spec["type"] == "table":
            return self._table(field, kwargs)
        attrs: dict[str, Any] = {"id": field.id, "data-readonly": True, **kwargs}
        target = reference_target(spec)
        shown: Markup | str = display_text(spec, field.data, self.lang, self.tz)
        if target is not None and field.data:
            attrs.update({"data-lookup": target, "data-value": field.data})
            name = known_name(field, field.data)
            if name is not None:
                shown = name if target in ORGANISATION else Markup(
                    f'<a href="{escape(record_path(target, field.data))}">'
                    f"{escape(name)}</a>")
        elif spec["type"] == "select" and field.data:
            # a select depending on this one filters its options by the value
            attrs["data-value"] = field.data
        elif spec["type"] in ("file", "image") and field.data:
            shown = Markup('<ul class="file-list">{}</ul>').format(Markup("").join(
                self._file(field, file_id, spec["type"] == "image")
                for file_id in field.data))
        return Markup(f"<output {html_params(**attrs)}>{escape(shown)}</output>")

    @staticmethod
    def _file(field: Any, file_id: str, image: bool) -> Markup:
        label = known_name(field, file_id) or file_id
        url = f"{FILES_URL}/{file_id}"
        shown = Markup('<img src="{}" alt="{}" loading="lazy">').format(url, label) \
            if image else label
        return Markup('<li><a href="{}">{}</a></li>').format(url, shown)

    def _text(self, field: Any, spec: Mapping[str, Any], row: Mapping[str, Any]
              ) -> str:
        value = row.get(spec["api_name"])
        if reference_target(spec) is not None and value:
            return known_name(field, value) or value
        return display_text(spec, value, self.lang, self.tz)

    def _table(self, field: Any, kwargs: dict[str, Any]) -> Markup:
        columns = [c for c in field.spec["fields"] if not c["hidden"]]
        head = "".join(f'<th scope="col">{escape(pick(c["label"], self.lang))}</th>'
                       for c in columns)
        rows = "".join(
            "<tr>" + "".join(f"<td>{escape(self._text(field, c, row))}</td>"
                             for c in columns)
            + "</tr>" for row in field.data or ())
        attrs = {"id": field.id, "aria-labelledby": label_id(field),
                 "data-readonly": True, **kwargs}
        return Markup(f"<table {html_params(**attrs)}><thead><tr>{head}</tr></thead>"
                      f"<tbody>{rows}</tbody></table>")
