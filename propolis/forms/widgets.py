"""HTML for the generated form fields.

Conventions a page template relies on (ids derive from the field's id):

- ``<label id="{id}-label">``; it has ``for="{id}"`` unless the field is a group
  (location, area, table), whose container carries ``role="group"`` and
  ``aria-labelledby="{id}-label"`` instead, while each input inside has its own label.
- The page renders a field's help text in an element with id ``help_id(field)`` and its
  errors in one with id ``errors_id(field)`` (``errors_html`` does the latter); the
  control points at both with ``aria-describedby`` (see ``FieldMeta.render_field``).
- Markers for the page's scripts: ``data-richtext``, ``data-lookup="<object>"``,
  ``data-depends-on="<id of the parent select>"`` with ``data-parent`` on each option,
  ``data-upload`` on file inputs, ``data-table`` / ``data-table-template`` /
  ``data-table-add`` / ``data-table-remove`` on tables (a new row is the template with
  ``__index__`` replaced by ``data-next-index``, which the script then increments).
- Labels that the table header already shows visibly carry ``class="visually-hidden"``.
"""

from __future__ import annotations

from typing import Any

from markupsafe import Markup, escape
from wtforms.widgets import CheckboxInput, Select, html_params

from propolis.forms.texts import ADD_ROW, REMOVE_ROW, ROW_ACTIONS, pick

INDEX_PLACEHOLDER = "__index__"


def help_id(field: Any) -> str:
    """The id of the element holding a field's help text."""
    return f"{field.id}-help"


def errors_id(field: Any) -> str:
    """The id of the element listing a field's errors."""
    return f"{field.id}-errors"


def label_id(field: Any) -> str:
    return f"{field.id}-label"


def errors_html(field: Any) -> Markup:
    """A field's errors as ``<ul class="errors" id=…>`` (nothing when it has none)."""
    if not field.errors:
        return Markup("")
    items = "".join(f"<li>{escape(message)}</li>" for message in field.errors)
    return Markup(f'<ul class="errors" id="{escape(errors_id(field))}">{items}</ul>')


class Checkbox(CheckboxInput):
    """A checkbox that never renders ``required``: in HTML that would mean "must be
    ticked", while the API takes ``false`` as a value of a required boolean."""

    def __call__(self, field: Any, **kwargs: Any) -> Markup:
        kwargs.setdefault("required", False)
        return super().__call__(field, **kwargs)


class DependentSelect(Select):
    """A select (or multiple select) that names the select it depends on, so that a
    script can show only the options whose ``data-parent`` matches its value."""

    def __call__(self, field: Any, **kwargs: Any) -> Markup:
        parent = field.spec.get("depends_on")
        # a parent hidden from this user is not on the form: all options stay usable
        if parent and parent in field._form:
            kwargs.setdefault("data-depends-on", field._form[parent].id)
        return super().__call__(field, **kwargs)


class FilesWidget:
    """A file input for choosing files, plus one hidden input per file id already
    uploaded. The page's script uploads chosen files to ``POST /api/v1/files`` and
    adds a hidden input ``name="{data-upload}"`` per returned id, so the record gets
    ids, never file contents."""

    def __call__(self, field: Any, **kwargs: Any) -> Markup:
        spec = field.spec
        attrs: dict[str, Any] = {
            "id": field.id,
            "type": "file",
            "data-upload": field.name,
            "data-max-size-mb": spec["max_size_mb"],
            "data-max-count": spec["max_count"],
            "multiple": spec["max_count"] > 1,
        }
        if spec["accept"]:
            attrs["accept"] = ",".join(spec["accept"])
        if field.flags.required:
            # not ``required``: on edit the files are the hidden inputs, not a choice
            attrs["aria-required"] = "true"
        attrs.update(kwargs)
        kept = "".join(
            f"<input {html_params(type='hidden', name=field.name, value=file_id)}>"
            for file_id in field.data or ()
        )
        container = html_params(class_="files", data_files=field.name)
        return Markup(f"<div {container}><input {html_params(**attrs)}>{kept}</div>")


class GroupWidget:
    """Location and area: labelled sub-inputs in a group named by the field's label."""

    def __call__(self, field: Any, **kwargs: Any) -> Markup:
        attrs = {"id": field.id, "role": "group", "aria-labelledby": label_id(field),
                 "data-group": field.spec["type"], **kwargs}
        parts = "".join(
            f'<div class="subfield">{sub.label()}{sub()}{errors_html(sub)}</div>'
            for sub in field
        )
        return Markup(f"<div {html_params(**attrs)}>{parts}</div>")


class TableWidget:
    """A table field: one row per entry, a ``<template>`` row for new ones, and
    buttons to add and remove rows in place. Every cell has its own (visually
    hidden) label; column help is in the header, referenced by each cell."""

    def __init__(self, lang: str) -> None:
        self.lang = lang

    def __call__(self, field: Any, **kwargs: Any) -> Markup:
        head = []
        for spec in field.columns:
            name = spec["api_name"]
            help_text = spec["help"][self.lang] if spec["help"] else ""
            note = (f'<small id="{escape(self._help_id(field, name))}">'
                    f"{escape(help_text)}</small>") if help_text else ""
            head.append(f'<th scope="col">{escape(spec["label"][self.lang])}'
                        f"{note}</th>")
        actions = escape(pick(ROW_ACTIONS, self.lang))
        head.append(f'<th scope="col"><span class="visually-hidden">{actions}</span>'
                    "</th>")
        body = "".join(self._row(field, row) for row in field.entries)
        template = self._row(field, field.template_row())
        attrs = {"id": field.id, "role": "group", "aria-labelledby": label_id(field),
                 "data-table": field.name, "data-next-index": field.next_index(),
                 **kwargs}
        name = escape(field.name)
        return Markup(
            f"<div {html_params(**attrs)}><table><thead><tr>{''.join(head)}</tr>"
            f"</thead><tbody data-table-rows>{body}</tbody></table>"
            f'<template data-table-template="{name}">{template}</template>'
            f'<button type="button" data-table-add="{name}">'
            f"{escape(pick(ADD_ROW, self.lang))}</button></div>")

    @staticmethod
    def _help_id(table: Any, column: str) -> str:
        return f"{table.id}-{column}-help"

    def _row(self, table: Any, row: Any) -> str:
        cells = []
        for cell in row.cells():
            spec = cell.spec
            described = [self._help_id(table, spec["api_name"])] if spec["help"] else []
            if cell.errors:
                described.append(errors_id(cell))
            kw = {"aria-describedby": " ".join(described)} if described else {}
            cells.append(f'<td data-column="{escape(spec["api_name"])}">'
                         f'{cell.label(class_="visually-hidden")}{cell(**kw)}'
                         f"{errors_html(cell)}</td>")
        remove = escape(pick(REMOVE_ROW, self.lang))
        cells.append(f'<td class="row-actions">{row.form["id"]()}'
                     f'<button type="button" data-table-remove>{remove}</button></td>')
        return (f'<tr data-row data-index="{escape(str(row.index))}">'
                f'{"".join(cells)}</tr>')
