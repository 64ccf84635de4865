"""WTForms fields for metadata fields, each knowing its value both ways.

A field's ``data`` is what its inputs show: text for single values (``"12.50"``,
``"2026-11-28T09:30"``), lists of text for multiple values, a sub-form for location,
area and table rows (a read-only field, which has no input, keeps the JSON value).
``process_data`` takes a field's JSON value (a record from the record service, or a
default) into that form; ``json_value`` takes the submitted text back to the JSON
value the record service takes, parsing only what has to be parsed (numbers, local
date-times) and leaving every judgement of validity to the service's JSON Schema,
so that a form never refuses what the API accepts or the other way round.
``formdata_items`` lists what a browser submits for the field.

Parse problems are collected into ``errors`` under the value's path in the JSON
body (``budget``, ``position.lat``, ``materials[1].qty``), the notation
``propolis.forms.data.apply_errors`` reads.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Any, ClassVar

from wtforms.fields import (
    BooleanField,
    Choice,
    Field,
    Label,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
)
from wtforms.form import BaseForm
from wtforms.meta import DefaultMeta
from wtforms.utils import unset_value

from propolis.forms import areas
from propolis.forms.formats import local_datetime, plain_number
from propolis.forms.texts import ENTER_DATETIME, ENTER_NUMBER
from propolis.forms.widgets import INDEX_PLACEHOLDER, errors_id, help_id, label_id
from propolis.platform.errors import Message
from propolis.platform.fields.registry import field_type
from propolis.platform.fields.values import ValueProblem, zone

Errors = dict[str, list[Message]]

_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")
_GROUPED = re.compile(r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d*)?")


def _normalized(text: str | None) -> str:
    # NFKC turns what a Chinese input method types (１２．５, ％, ：) into ASCII
    return unicodedata.normalize("NFKC", text or "").strip()


def _add(errors: Errors, path: str, message: Message) -> None:
    errors.setdefault(path, []).append(message)


class FieldLabel(Label):
    """A label with an id (groups point at it with ``aria-labelledby``) whose
    ``for`` follows the field, or is left out when the field is a group."""

    def __init__(self, field: SpecField) -> None:
        super().__init__(field.id, field.label.text)
        self.field = field

    def __call__(self, text: str | None = None, **kwargs: Any) -> Any:
        kwargs.setdefault("id", label_id(self.field))
        if "for_" not in kwargs:
            kwargs.setdefault("for", self.field.id if self.field.labels_control
                              else False)
        return super().__call__(text, **kwargs)


class FieldMeta(DefaultMeta):
    """Binds metadata fields with a ``FieldLabel`` and renders every control with
    ``aria-describedby`` pointing at its help and errors (``aria-invalid`` when it
    has errors)."""

    def bind_field(self, form: Any, unbound_field: Any, options: Any) -> Any:
        field = super().bind_field(form, unbound_field, options)
        if isinstance(field, SpecField):
            field.label = FieldLabel(field)
        return field

    def render_field(self, field: Any, render_kw: Mapping[str, Any]) -> Any:
        extra: dict[str, Any] = {}
        described = [help_id(field)] if field.description else []
        if field.errors:
            described.append(errors_id(field))
            extra["aria-invalid"] = "true"
        if described:
            extra["aria-describedby"] = " ".join(described)
        # what the caller passes comes later, so it wins (in either spelling,
        # aria_describedby or aria-describedby, once WTForms has cleaned the keys)
        return super().render_field(field, {**extra, **render_kw})


class SubForm(BaseForm):
    """The inputs of one location, area or table row, named ``{prefix}{part}``.
    ``names`` is the record form's (see ``RecordForm``), shared."""

    unbound: ClassVar[tuple[tuple[str, Any], ...]] = ()
    # the metadata of the fields shown, in order (a table's columns)
    specs: ClassVar[tuple[Mapping[str, Any], ...]] = ()

    def __init__(self, formdata: Any, data: Mapping[str, Any] | None,
                 prefix: str, names: dict[str, str] | None = None) -> None:
        super().__init__(self.unbound, prefix=prefix, meta=FieldMeta())
        self.names = {} if names is None else names
        self.process(formdata, data=data)

    def spec_fields(self) -> list[SpecField]:
        return [f for f in self if isinstance(f, SpecField)]


class SpecField(Field):
    """A field generated from a normalized metadata field document, ``spec``.
    Combined with a WTForms field class (``class X(SpecField, StringField)``)."""

    editable: ClassVar[bool] = True
    # False: the label names a group of inputs rather than one control
    labels_control: bool = True

    def __init__(self, *args: Any, spec: Mapping[str, Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.spec = spec
        if self.editable and spec.get("required"):
            self.flags.required = True

    def json_value(self, errors: Errors, path: str) -> Any:
        """The submitted value as the field's JSON value (None when empty). Every
        concrete field class defines it."""
        raise TypeError(f"{type(self).__name__} does not define json_value")

    def formdata_items(self) -> list[tuple[str, str]]:
        """The (name, value) pairs a browser submits for the field as shown."""
        return [(self.name, self._value())]

    def is_blank(self) -> bool:
        """Nothing was entered (used to drop table rows added but left empty)."""
        return not any(_normalized(v) for v in self.raw_data or ())


class TextValueField(SpecField, StringField):
    """Text of every kind, dates, times and record ids: the JSON value is the text
    itself. Single-line text is trimmed; multi-line text keeps its spaces but not
    the CR the browser adds before every line feed."""

    def __init__(self, *args: Any, multiline: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.multiline = multiline

    def json_value(self, errors: Errors, path: str) -> Any:
        text = self.data or ""
        text = text.replace("\r\n", "\n") if self.multiline else text.strip()
        return text if text.strip() else None


class DecimalTextField(SpecField, StringField):
    """A number typed as text (``inputmode="decimal"``): a number input would submit
    nothing at all for ``12,5`` and the value would silently become empty. Sent to
    the service as an exact ``Decimal``; rounding to the precision is the
    service's. ``percent``: a trailing ``%`` may be typed."""

    def __init__(self, *args: Any, percent: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.percent = percent

    def process_data(self, value: Any) -> None:
        try:
            self.data = None if value is None else plain_number(value)
        except ValueProblem:
            self.data = str(value)

    def json_value(self, errors: Errors, path: str) -> Any:
        text = _normalized(self.data)
        if self.percent:
            text = text.removesuffix("%").rstrip()
        if not text:
            return None
        if _GROUPED.fullmatch(text):
            text = text.replace(",", "")
        if not _NUMBER.fullmatch(text):
            _add(errors, path, ENTER_NUMBER)
            return None
        return Decimal(text)


class LocalDateTimeField(SpecField, StringField):
    """A ``datetime-local`` input: wall-clock time in the enterprise's time zone,
    sent as ISO 8601 with that zone's offset."""

    def __init__(self, *args: Any, tz: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.tz = tz

    def process_data(self, value: Any) -> None:
        try:
            self.data = None if value is None else local_datetime(value, self.tz)
        except ValueProblem:
            self.data = str(value)

    def json_value(self, errors: Errors, path: str) -> Any:
        text = _normalized(self.data)
        if not text:
            return None
        try:
            if len(text) < 16 or text[10] not in "T ":
                raise ValueError(text)  # a date alone is not a moment
            moment = dt.datetime.fromisoformat(text)
        except ValueError:
            _add(errors, path, ENTER_DATETIME)
            return None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=zone(self.tz))
        return moment.isoformat()


class CheckboxField(SpecField, BooleanField):
    """A boolean: ticked is ``true``, not ticked ``false`` (a checkbox cannot say
    "no value")."""

    def json_value(self, errors: Errors, path: str) -> Any:
        return bool(self.data)

    def formdata_items(self) -> list[tuple[str, str]]:
        return [(self.name, "y")] if self.data else []


def _parent_values(field: SpecField) -> set[str] | None:
    """The values chosen in the select ``field`` depends on (None: it depends on
    none on this form, or nothing is chosen there, and every option is offered)."""
    parent = field.spec.get("depends_on")
    if not parent or parent not in field._form:
        return None
    chosen = field._form[parent].data
    values = {str(v) for v in (chosen if isinstance(chosen, list) else [chosen]) if v}
    return values or None


def _offered(field: SpecField, choices: list[Any]) -> list[Any]:
    """The options of a dependent select that belong to the parent's value."""
    parents = _parent_values(field)
    if parents is None:
        return choices
    return [c for c in choices
            if not (c.render_kw or {}).get("data-parent")
            or c.render_kw["data-parent"] in parents]


class ChoiceField(SpecField, SelectField):
    """A select whose first option is the empty choice. A value that is no longer an
    option (options may be removed while records keep their values) is offered too,
    so that saving the form does not silently clear it. A select that depends on
    another offers the options of the parent's value (all when it has none)."""

    def iter_choices(self) -> list[Choice]:
        current = self.data or ""
        choices = _offered(self, list(self.choices))
        if current not in {c.value for c in choices}:
            choices.append(SelectChoice(current))
        return [Choice(c.value, c.label, c.value == current, c.render_kw)
                for c in choices]

    def json_value(self, errors: Errors, path: str) -> Any:
        return self.data or None

    def formdata_items(self) -> list[tuple[str, str]]:
        return [(self.name, self.data or "")]


class MultiChoiceField(SpecField, SelectMultipleField):
    """A multiple choice (a group of checkboxes); like ``ChoiceField``, it keeps
    values no longer offered."""

    labels_control = False

    def iter_choices(self) -> list[Choice]:
        current = list(self.data or ())
        choices = _offered(self, list(self.choices))
        known = {c.value for c in choices}
        choices.extend(SelectChoice(v) for v in current if v not in known)
        return [Choice(c.value, c.label, c.value in current, c.render_kw)
                for c in choices]

    def json_value(self, errors: Errors, path: str) -> Any:
        return list(dict.fromkeys(v for v in self.data or () if v))

    def formdata_items(self) -> list[tuple[str, str]]:
        return [(self.name, v) for v in self.data or ()]


class AreaPartField(SpecField, SelectField):
    """The province, city or district of an area: a select of the divisions of the
    part above (``propolis.forms.areas``). A stored name the dataset does not have
    is offered too, so that saving the form keeps it."""

    def __init__(self, *args: Any, part: str, choose: str, **kwargs: Any) -> None:
        super().__init__(*args, choices=[], **kwargs)
        self.part = part
        self.choose = choose

    def _sibling(self, part: str) -> str | None:
        return self._form[part].data if part in self._form else None

    def iter_choices(self) -> list[Choice]:
        current = self.data or ""
        offered = areas.names(self.part, self._sibling("province"),
                              self._sibling("city"))
        if current and current not in offered:
            offered.append(current)
        return [Choice("", self.choose, not current, {}),
                *(Choice(v, v, v == current, {}) for v in offered)]

    def pre_validate(self, form: Any) -> None:
        """Whether the name is right is the record service's to say."""

    def json_value(self, errors: Errors, path: str) -> Any:
        text = (self.data or "").strip()
        return text or None

    def formdata_items(self) -> list[tuple[str, str]]:
        return [(self.name, self.data or "")]


class FilesField(SpecField, Field):
    """File and image fields: the ids of files uploaded beforehand, one hidden input
    each (see ``FilesWidget``)."""

    def process_data(self, value: Any) -> None:
        self.data = [str(v) for v in value or ()]

    def process_formdata(self, valuelist: list[str]) -> None:
        self.data = list(valuelist)

    def json_value(self, errors: Errors, path: str) -> Any:
        return list(dict.fromkeys(v.strip() for v in self.data or () if v.strip()))

    def formdata_items(self) -> list[tuple[str, str]]:
        return [(self.name, v) for v in self.data or ()]


class ReadOnlyField(SpecField, Field):
    """Shows a value that the form never submits: computed fields, fields the user
    may only read, system fields. It ignores submissions; its value comes from the
    record (``data``)."""

    editable = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.labels_control = not field_type(self.spec).has_rows

    def process_formdata(self, valuelist: list[str]) -> None:
        """Whatever was posted under this name is not the user's to set."""

    def formdata_items(self) -> list[tuple[str, str]]:
        return []

    def is_blank(self) -> bool:
        return True


class _SubFormField(Field):
    """A field made of a sub-form, whose inputs are named ``{name}-{part}``."""

    def __init__(self, form_class: type[SubForm], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.form_class = form_class

    def process(self, formdata: Any, data: Any = unset_value,
                extra_filters: Any = None) -> None:
        if data is unset_value:
            data = None
        self.object_data = data
        self.form = self.form_class(
            formdata, data if isinstance(data, Mapping) else None, f"{self.name}-",
            getattr(self._form, "names", None))

    def __iter__(self) -> Iterator[Any]:
        return iter(self.form)

    def __getitem__(self, name: str) -> Any:
        return self.form[name]

    @property
    def data(self) -> dict[str, Any]:
        return self.form.data


class GroupField(SpecField, _SubFormField):
    """Location and area. Empty altogether, the value is null; otherwise the parts
    in ``needed`` are left out when empty, so that the service names the missing
    part, and the other parts are null."""

    labels_control = False

    def __init__(self, *args: Any, needed: tuple[str, ...], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.needed = needed

    def json_value(self, errors: Errors, path: str) -> Any:
        parts = {f.short_name: f.json_value(errors, f"{path}.{f.short_name}")
                 for f in self.form.spec_fields()}
        if all(v is None for v in parts.values()):
            return None
        return {k: v for k, v in parts.items() if v is not None or k not in self.needed}

    def formdata_items(self) -> list[tuple[str, str]]:
        return [item for f in self.form.spec_fields() for item in f.formdata_items()]

    def is_blank(self) -> bool:
        return all(f.is_blank() for f in self.form.spec_fields())


class RowField(_SubFormField):
    """One row of a table field: a hidden ``id`` (empty for a new row) and a cell per
    column. ``index`` is the number in its input names, kept as submitted."""

    index: int | str = 0

    def cells(self) -> list[SpecField]:
        return self.form.spec_fields()

    def row_id(self) -> str:
        return (self.form["id"].data or "").strip()

    def is_blank(self) -> bool:
        return not self.row_id() and all(c.is_blank() for c in self.cells())

    def json_value(self, errors: Errors, path: str) -> dict[str, Any]:
        row: dict[str, Any] = {"id": self.row_id()} if self.row_id() else {}
        for cell in self.cells():
            if cell.editable:
                row[cell.short_name] = cell.json_value(
                    errors, f"{path}.{cell.short_name}")
        return row

    def formdata_items(self) -> list[tuple[str, str]]:
        items = [(self.form["id"].name, self.row_id())]
        return items + [i for c in self.cells() for i in c.formdata_items()]


class TableField(SpecField, Field):
    """A table field's rows. Rows are read from the submitted input names
    ``{name}-{index}-{column}`` in index order, so a script adds a row by giving its
    inputs an unused index and removes one by removing its inputs. Each row keeps
    its stored ``id`` in a hidden input; the stored row with that id supplies what
    the form does not submit (computed columns)."""

    labels_control = False

    def __init__(self, row_form: type[SubForm], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.row_form = row_form
        self.columns = row_form.specs
        self.entries: list[RowField] = []

    def process(self, formdata: Any, data: Any = unset_value,
                extra_filters: Any = None) -> None:
        rows = list(data) if isinstance(data, list | tuple) else []
        self.object_data = rows
        if formdata is None:
            self.entries = [self._row(None, row, i) for i, row in enumerate(rows)]
            return
        stored = {row["id"]: row for row in rows if row.get("id")}
        self.entries = []
        for index in self._indices(formdata):
            row_id = next(iter(formdata.getlist(f"{self.name}-{index}-id")), "")
            self.entries.append(self._row(formdata, stored.get(row_id), index))

    def _indices(self, formdata: Any) -> list[int]:
        prefix = f"{self.name}-"
        found = set()
        for key in formdata:
            if key.startswith(prefix):
                head = key[len(prefix):].split("-", 1)[0]
                # digits only, no leading zeros, and short: int() of thousands of
                # digits raises, and no table holds that many rows anyway
                if (head.isascii() and head.isdigit() and len(head) <= 6
                        and head == str(int(head))):
                    found.add(int(head))
        return sorted(found)

    def _row(self, formdata: Any, data: Mapping[str, Any] | None,
             index: int | str) -> RowField:
        row = self.meta.bind_field(self._form, RowField(self.row_form), {
            "name": f"{self.name}-{index}", "translations": self._translations})
        row.index = index
        row.process(formdata, data)
        return row

    def template_row(self) -> RowField:
        """An empty row named with the ``__index__`` placeholder, for the
        ``<template>`` that new rows are copied from."""
        return self._row(None, None, INDEX_PLACEHOLDER)

    def next_index(self) -> int:
        return max((int(r.index) for r in self.entries), default=-1) + 1

    def __iter__(self) -> Iterator[RowField]:
        return iter(self.entries)

    def __len__(self) -> int:
        return len(self.entries)

    @property
    def data(self) -> list[dict[str, Any]]:
        return [row.data for row in self.entries]

    def json_value(self, errors: Errors, path: str) -> Any:
        # rows added but left empty are dropped from the form too, so that the row
        # numbers in the service's messages match the rows shown again
        self.entries = [row for row in self.entries if not row.is_blank()]
        return [row.json_value(errors, f"{path}[{i}]")
                for i, row in enumerate(self.entries)]

    def formdata_items(self) -> list[tuple[str, str]]:
        return [item for row in self.entries for item in row.formdata_items()]

