"""Read-only fields: their JSON values as text in the user's language, and the widget
that shows them. A read-only field is rendered as ``<output>`` (a table as a
``<table>``), which no form submits."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from markupsafe import Markup, escape
from wtforms.widgets import html_params

from propolis.forms.formats import generic_text
from propolis.forms.typetable import widgets_for
from propolis.forms.widgets import FILES_URL, known_name, label_id
from propolis.metadata.texts import pick
from propolis.platform.fields.registry import field_type
from propolis.platform.fields.values import ValueProblem
from propolis.platform.records.plan import reference_target

# the organisation's own objects have no record pages of their own
ORGANISATION = frozenset({"user", "department"})


def display_text(spec: Mapping[str, Any], value: Any, lang: str, tz: str) -> str:
    """A field's JSON value as text (empty for no value), as its type shows it
    (``typetable``). Quotes, whose target type is not known here, and values of an
    unexpected shape are shown generically."""
    if value is None or value == []:
        return ""
    show = widgets_for(spec).show
    if show is not None:
        try:
            return show(spec, value, lang, tz)
        except (ValueProblem, TypeError, AttributeError, KeyError):
            pass  # not the shape the type promises: show it as is
    return generic_text(value, lang)


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
        ftype = field_type(spec)
        if ftype.has_rows:
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
        elif widgets_for(spec).chosen and field.data:
            # a select depending on this one filters its options by the value
            attrs["data-value"] = field.data
        elif ftype.holds_files and field.data:
            image = widgets_for(spec).thumbnails
            shown = Markup('<ul class="file-list">{}</ul>').format(Markup("").join(
                self._file(field, file_id, image) for file_id in field.data))
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
