"""HTML for the generated form fields.

Conventions a page template relies on (ids derive from the field's id):

- ``<label id="{id}-label">``; it has ``for="{id}"`` unless the field is a group
  (location, area, table), whose container carries ``role="group"`` and
  ``aria-labelledby="{id}-label"`` instead, while each input inside has its own label.
- The page renders a field's help text in an element with id ``help_id(field)`` and its
  errors in one with id ``errors_id(field)`` (``errors_html`` does the latter); the
  control points at both with ``aria-describedby`` (see ``FieldMeta.render_field``).
- Markers for the page's scripts: ``data-richtext``; ``data-lookup="<object>"`` on a
  reference's combobox (a hidden input holds the id, the text input the record's
  name, a ``role="listbox"`` the matches); ``data-depends-on="<ids of the inputs it
  depends on>"`` with ``data-options="<field>"`` (the ``records.options`` route
  renders the element again) and ``data-options-include="<input names to send>"``
  on dependent selects, checkbox groups and the parts of an area;
  ``data-upload`` on file inputs (with ``data-max-size-mb``, ``data-max-count``,
  the texts of its messages, and ``data-image`` for previews);
  ``data-geolocate`` on the location button; ``data-table`` /
  ``data-table-template`` / ``data-table-add`` / ``data-table-remove`` on tables (a
  new row is the template with ``__index__`` replaced by ``data-next-index``, which
  the script then increments).
- The record names and file names a page knows (``names`` of the record form,
  filled by the view) label references and files.
- Labels that the table header already shows visibly carry ``class="visually-hidden"``.
"""

from __future__ import annotations

from typing import Any

from markupsafe import Markup, escape
from wtforms.widgets import CheckboxInput, Select, html_params

from propolis.forms.texts import (
    ADD_ROW,
    FILE_TOO_BIG,
    FILE_TOO_MANY,
    FILE_WRONG_TYPE,
    LOOKUP_HINT,
    NO_MATCH,
    REMOVE_FILE,
    REMOVE_ROW,
    ROW_ACTIONS,
    UPLOAD_FAILED,
    UPLOADING,
    USE_MY_LOCATION,
)
from propolis.platform.errors import translate

INDEX_PLACEHOLDER = "__index__"
# where the page's script uploads files and the page shows them (CONTRACT §4)
FILES_URL = "/api/v1/files"


def known_name(field: Any, value: str) -> str | None:
    """The name the page knows for a record or file id (see ``RecordForm.names``)."""
    names = getattr(getattr(field, "_form", None), "names", None) or {}
    return names.get(value)


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


def _dependency(field: Any) -> dict[str, Any]:
    """The markers of a choice that depends on another select of the form."""
    parent = field.spec.get("depends_on")
    # a parent hidden from this user is not on the form: all options stay usable
    if not parent or parent not in field._form:
        return {}
    other = field._form[parent]
    return {"data-depends-on": other.id, "data-options": field.short_name,
            "data-options-include": f"{other.name} {field.name}"}


class DependentSelect(Select):
    """A select that names the select it depends on; it offers the options of the
    parent's value (``ChoiceField``) and the page's script asks ``records.options``
    for them again when the parent changes."""

    def __call__(self, field: Any, **kwargs: Any) -> Markup:
        for key, value in _dependency(field).items():
            kwargs.setdefault(key, value)
        return super().__call__(field, **kwargs)


class CheckboxGroup:
    """A multiselect: one checkbox per option, in a group named by the label."""

    def __call__(self, field: Any, **kwargs: Any) -> Markup:
        attrs = {"id": field.id, "role": "group", "aria-labelledby": label_id(field),
                 "class": "checks", **_dependency(field), **kwargs}
        boxes = []
        for i, choice in enumerate(field.iter_choices()):
            box_id = f"{field.id}-{i}"
            box = html_params(type="checkbox", name=field.name, value=choice.value,
                              id=box_id, checked=choice.selected)
            boxes.append(f'<span class="check"><input {box}><label for="{box_id}">'
                         f"{escape(choice.label)}</label></span>")
        return Markup(f"<div {html_params(**attrs)}>{''.join(boxes)}</div>")


class LookupWidget:
    """A reference (lookup, master_detail, user, department) as a combobox: the
    text input shows the record's name and searches as the user types
    (``records.lookup`` of the target object), a hidden input holds the id."""

    def __init__(self, lang: str) -> None:
        self.lang = lang

    def __call__(self, field: Any, **kwargs: Any) -> Markup:
        value = field.data or ""
        listbox = f"{field.id}-options"
        attrs: dict[str, Any] = {
            "type": "text", "id": field.id, "role": "combobox",
            "aria-autocomplete": "list", "aria-expanded": "false",
            "aria-controls": listbox, "autocomplete": "off",
            "placeholder": translate(LOOKUP_HINT, self.lang),
            "value": (known_name(field, value) or value) if value else "",
        }
        if field.flags.required:
            attrs["aria-required"] = "true"
        attrs.update((k, v) for k, v in kwargs.items() if k not in ("maxlength",))
        hidden = html_params(type="hidden", name=field.name, value=value,
                             data_lookup_value=True)
        box = html_params(class_="lookup", data_lookup=field.render_kw["data-lookup"],
                          data_no_match=translate(NO_MATCH, self.lang))
        return Markup(f"<div {box}><input {hidden}><input {html_params(**attrs)}>"
                      f'<ul role="listbox" id="{escape(listbox)}" hidden></ul></div>')


class AreaSelect(Select):
    """A part of an area: the city's options follow the province, the district's
    the city (``records.options`` renders it again when they change)."""

    def __call__(self, field: Any, **kwargs: Any) -> Markup:
        if field.part != "province":
            above = ("province",) if field.part == "city" else ("province", "city")
            sub = field._form
            kwargs.setdefault("data-depends-on", " ".join(sub[p].id for p in above))
            kwargs.setdefault("data-options", field.name.rsplit("-", 1)[0])
            kwargs.setdefault("data-part", field.part)
            kwargs.setdefault("data-options-include", " ".join(
                [*(sub[p].name for p in above), field.name]))
        return super().__call__(field, **kwargs)


def file_item(name: str, file_id: str, label: str, image: bool, lang: str) -> Markup:
    """One uploaded file of a file or image field: its hidden input, a link (a
    thumbnail for images) and a button to take it off."""
    url = f"{FILES_URL}/{file_id}"
    shown = (f'<img src="{escape(url)}" alt="{escape(label)}" loading="lazy">'
             if image else escape(label))
    hidden = html_params(type="hidden", name=name, value=file_id)
    return Markup(f'<li><input {hidden}><a href="{escape(url)}">{shown}</a> '
                  f'<button type="button" class="small" data-file-remove>'
                  f"{escape(translate(REMOVE_FILE, lang))} {escape(label)}"
                  "</button></li>")


class FilesWidget:
    """A file input for choosing files, plus one hidden input per file id already
    uploaded. The page's script checks a chosen file's size and type, uploads it to
    ``POST /api/v1/files`` and adds a hidden input ``name="{data-upload}"`` per
    returned id (with a thumbnail for images), so the record gets ids, never file
    contents; the record service checks them again. ``image``: the files are
    pictures, shown as thumbnails."""

    def __init__(self, lang: str, *, image: bool = False) -> None:
        self.lang = lang
        self.image = image

    def __call__(self, field: Any, **kwargs: Any) -> Markup:
        spec = field.spec
        lang = self.lang
        attrs: dict[str, Any] = {
            "id": field.id,
            "type": "file",
            "data-upload": field.name,
            "data-max-size-mb": spec["max_size_mb"],
            "data-max-count": spec["max_count"],
            "data-image": self.image,
            "data-too-big": translate(FILE_TOO_BIG, lang),
            "data-wrong-type": translate(FILE_WRONG_TYPE, lang),
            "data-too-many": translate(FILE_TOO_MANY, lang),
            "data-uploading": translate(UPLOADING, lang),
            "data-failed": translate(UPLOAD_FAILED, lang),
            "data-remove": translate(REMOVE_FILE, lang),
            "multiple": spec["max_count"] > 1,
        }
        if spec["accept"]:
            attrs["accept"] = ",".join(spec["accept"])
        if field.flags.required:
            # not ``required``: on edit the files are the hidden inputs, not a choice
            attrs["aria-required"] = "true"
        attrs.update(kwargs)
        kept = "".join(
            file_item(field.name, file_id, known_name(field, file_id) or file_id,
                      self.image, lang)
            for file_id in field.data or ()
        )
        container = html_params(class_="files", data_files=field.name)
        return Markup(f"<div {container}><input {html_params(**attrs)}>"
                      f'<p class="file-status" role="status"></p>'
                      f'<ul class="file-list">{kept}</ul></div>')


class GroupWidget:
    """Location and area: labelled sub-inputs in a group named by the field's label;
    with ``locate`` (a location), a button that fills it from the device's
    position."""

    def __init__(self, lang: str, *, locate: bool = False) -> None:
        self.lang = lang
        self.locate = locate

    def __call__(self, field: Any, **kwargs: Any) -> Markup:
        attrs = {"id": field.id, "role": "group", "aria-labelledby": label_id(field),
                 "data-group": field.spec["type"], **kwargs}
        parts = "".join(
            f'<div class="subfield">{sub.label()}{sub()}{errors_html(sub)}</div>'
            for sub in field
        )
        if self.locate:
            parts += (f'<div class="subfield"><button type="button" class="small" '
                      f'data-geolocate="{escape(field.id)}">'
                      f"{escape(translate(USE_MY_LOCATION, self.lang))}</button>"
                      '<span class="geo-status" role="status"></span></div>')
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
        actions = escape(translate(ROW_ACTIONS, self.lang))
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
            f"{escape(translate(ADD_ROW, self.lang))}</button></div>")

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
        remove = escape(translate(REMOVE_ROW, self.lang))
        cells.append(f'<td class="row-actions">{row.form["id"]()}'
                     f'<button type="button" data-table-remove>{remove}</button></td>')
        return (f'<tr data-row data-index="{escape(str(row.index))}">'
                f'{"".join(cells)}</tr>')
