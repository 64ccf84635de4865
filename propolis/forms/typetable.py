"""Forms' one table of field types: how the generated pages take, show and filter
a value of each type (everything else about a type is its ``FieldType``'s, in
``propolis.platform.fields``).

A row gives the editable input (None: the pages show the value read-only), the
value as text, the list page's filter, and a few facts of the layout and the
object manager. A formula is shown as a value of the type it returns. A type
without a row of its own takes the row of the built-in type it derives from, and
without one is shown read-only and generically: an extension's type works on the
pages from the start, and gets its own inputs with a row here.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from wtforms.fields import HiddenField, SelectChoice
from wtforms.widgets import (
    DateInput,
    DateTimeLocalInput,
    EmailInput,
    NumberInput,
    TelInput,
    TextArea,
    TextInput,
    TimeInput,
    URLInput,
)

from propolis.forms.fields import (
    AreaPartField,
    CheckboxField,
    ChoiceField,
    DecimalTextField,
    FilesField,
    GroupField,
    LocalDateTimeField,
    MultiChoiceField,
    SubForm,
    TableField,
    TextValueField,
)
from propolis.forms.formats import joined, local_datetime, money, plain_number
from propolis.forms.texts import (
    ADDRESS,
    CHOOSE,
    CITY,
    DISTRICT,
    LATITUDE,
    LONGITUDE,
    PROVINCE,
    files_count,
)
from propolis.forms.widgets import (
    AreaSelect,
    Checkbox,
    CheckboxGroup,
    DependentSelect,
    FilesWidget,
    GroupWidget,
    TableWidget,
)
from propolis.metadata.fieldtypes import definition, definition_of, type_names
from propolis.metadata.texts import pick
from propolis.platform.errors import Message, translate
from propolis.platform.fields.schema import field_schema, writable

Spec = Mapping[str, Any]
# (spec, lang, tz, the label/help/default/spec every field takes, the maker of a
# field, for the inputs of a table's rows) -> an unbound WTForms field
Input = Callable[[Spec, str, str, dict[str, Any], Callable[..., Any]], Any]
# (spec, JSON value (not empty), lang, tz) -> the value as text
Show = Callable[[Spec, Any, str, str], str]


@dataclass(frozen=True)
class Widgets:
    """How the pages handle one field type.

    ``input``: the editable input (references always get the lookup); ``show``:
    a value as text (None: generically); ``filter``: the list page's filter (the
    template's kinds: string, number, date, time, datetime, boolean, select,
    multiselect, reference; None: none); ``wide``: a layout row of its own;
    ``column``: the object manager's table editor offers it for columns (it needs
    no options of its own); ``thumbnails``: files shown as pictures; ``chosen``:
    its read-only value is carried on the page (a select's, for the selects
    depending on it)."""

    input: Input | None = None
    show: Show | None = None
    filter: str | None = None
    wide: bool = False
    column: bool = False
    thumbnails: bool = False
    chosen: bool = False


# -- inputs --------------------------------------------------------------------------

def _text(widget: Any, *, multiline: bool = False, richtext: bool = False) -> Input:
    def make(spec: Spec, lang: str, tz: str, common: dict[str, Any],
             field_for: Callable[..., Any]) -> Any:
        schema = field_schema(spec)
        render_kw: dict[str, Any] = {}
        if "maxLength" in schema:
            render_kw["maxlength"] = schema["maxLength"]
        if richtext:
            render_kw["data-richtext"] = True  # sanitising stays the service's
        return TextValueField(widget=widget, render_kw=render_kw,
                              multiline=multiline, **common)
    return make


def _step(precision: int) -> str:
    return format(Decimal(1).scaleb(-precision), "f")


def _number(*, percent: bool = False) -> Input:
    def make(spec: Spec, lang: str, tz: str, common: dict[str, Any],
             field_for: Callable[..., Any]) -> Any:
        # a number input steps by the precision; the page's form is ``novalidate``,
        # so what is typed reaches the service, whose messages the user then reads
        schema = field_schema(spec)
        render_kw: dict[str, Any] = {"inputmode": "decimal"}
        # the bounds the metadata sets, as the schema holds them (the storage's own
        # limits, which the schema adds when there are none, help no one here)
        for key in ("min", "max"):
            if spec[key] is not None:
                render_kw[key] = schema["minimum" if key == "min" else "maximum"]
        return DecimalTextField(widget=NumberInput(step=_step(spec["precision"])),
                                render_kw=render_kw, percent=percent, **common)
    return make


def _datetime(spec: Spec, lang: str, tz: str, common: dict[str, Any],
              field_for: Callable[..., Any]) -> Any:
    return LocalDateTimeField(widget=DateTimeLocalInput(), tz=tz, **common)


def _checkbox(spec: Spec, lang: str, tz: str, common: dict[str, Any],
              field_for: Callable[..., Any]) -> Any:
    return CheckboxField(widget=Checkbox(), **common)


def _option(option: Mapping[str, Any], lang: str) -> SelectChoice:
    parent = option.get("parent")
    return SelectChoice(option["value"], pick(option["label"], lang),
                        {"data-parent": parent} if parent else {})


def _select(spec: Spec, lang: str, tz: str, common: dict[str, Any],
            field_for: Callable[..., Any]) -> Any:
    choices = [SelectChoice("", translate(CHOOSE, lang)),
               *(_option(o, lang) for o in spec["options"])]
    return ChoiceField(choices=choices, widget=DependentSelect(), **common)


def _multiselect(spec: Spec, lang: str, tz: str, common: dict[str, Any],
                 field_for: Callable[..., Any]) -> Any:
    return MultiChoiceField(choices=[_option(o, lang) for o in spec["options"]],
                            widget=CheckboxGroup(), **common)


def _files(*, image: bool = False) -> Input:
    def make(spec: Spec, lang: str, tz: str, common: dict[str, Any],
             field_for: Callable[..., Any]) -> Any:
        return FilesField(widget=FilesWidget(lang, image=image), **common)
    return make


def _sub_form(name: str, fields: Sequence[tuple[str, Any]],
              specs: Sequence[Spec]) -> type[SubForm]:
    return type(name, (SubForm,), {"unbound": tuple(fields), "specs": tuple(specs)})


def _part(name: str, ftype: str, label: Message) -> dict[str, Any]:
    """A sub-input of a location or area (each part on its own is optional:
    whether the whole value is complete is the service's to say)."""
    return {"api_name": name, "type": ftype, "label": label, "help": None,
            "required": False}


@functools.cache
def _location_form(lang: str) -> type[SubForm]:
    limits = field_schema({"type": "location"})["properties"]
    fields, specs = [], []
    for name, label in (("lat", LATITUDE), ("lng", LONGITUDE)):
        spec = _part(name, "number", label)
        render_kw = {"inputmode": "decimal", "data-min": limits[name]["minimum"],
                     "data-max": limits[name]["maximum"]}
        fields.append((name, DecimalTextField(translate(label, lang), spec=spec,
                                              render_kw=render_kw)))
        specs.append(spec)
    spec = _part("address", "text", ADDRESS)
    fields.append(("address", TextValueField(
        translate(ADDRESS, lang), spec=spec,
        render_kw={"maxlength": limits["address"]["maxLength"]})))
    specs.append(spec)
    return _sub_form(f"location_{lang}", fields, specs)


@functools.cache
def _area_form(lang: str) -> type[SubForm]:
    fields, specs = [], []
    for name, label in (("province", PROVINCE), ("city", CITY),
                        ("district", DISTRICT)):
        spec = _part(name, "text", label)
        fields.append((name, AreaPartField(
            translate(label, lang), spec=spec, part=name,
            choose=translate(CHOOSE, lang),
            widget=AreaSelect())))
        specs.append(spec)
    return _sub_form(f"area_{lang}", fields, specs)


def _location(spec: Spec, lang: str, tz: str, common: dict[str, Any],
              field_for: Callable[..., Any]) -> Any:
    return GroupField(_location_form(lang), needed=("lat", "lng"),
                      widget=GroupWidget(lang, locate=True), **common)


def _area(spec: Spec, lang: str, tz: str, common: dict[str, Any],
          field_for: Callable[..., Any]) -> Any:
    return GroupField(_area_form(lang), needed=("province",),
                      widget=GroupWidget(lang), **common)


def _table(spec: Spec, lang: str, tz: str, common: dict[str, Any],
           field_for: Callable[..., Any]) -> Any:
    fields: list[tuple[str, Any]] = [("id", HiddenField())]
    specs = []
    for column in spec["fields"]:
        if column["hidden"]:
            continue
        readonly = not writable(column) or column["readonly"]
        fields.append((column["api_name"],
                       field_for(column, lang=lang, tz=tz, readonly=readonly)))
        specs.append(column)
    rows = _sub_form(f"{spec['api_name']}_row_{lang}", fields, specs)
    return TableField(rows, widget=TableWidget(lang), **common)


# -- values as text ------------------------------------------------------------------

def _labels(spec: Spec, lang: str) -> dict[str, str]:
    return {o["value"]: pick(o["label"], lang) for o in spec.get("options", ())}


def _show_option(spec: Spec, value: Any, lang: str, tz: str) -> str:
    return _labels(spec, lang).get(value, str(value))


def _show_options(spec: Spec, value: Any, lang: str, tz: str) -> str:
    labels = _labels(spec, lang)
    return joined([labels.get(v, str(v)) for v in value], lang)


def _show_datetime(spec: Spec, value: Any, lang: str, tz: str) -> str:
    return local_datetime(value, tz).replace("T", " ")


def _show_money(spec: Spec, value: Any, lang: str, tz: str) -> str:
    return money(value, spec.get("precision"))


def _show_files(spec: Spec, value: Any, lang: str, tz: str) -> str:
    return files_count(len(value), lang)


def _show_area(spec: Spec, value: Any, lang: str, tz: str) -> str:
    # in the order of the divisions, whatever the order of the stored keys
    # (PostgreSQL's JSONB keeps its own)
    return " ".join(str(value[p]) for p in ("province", "city", "district")
                    if value.get(p))


def _show_location(spec: Spec, value: Any, lang: str, tz: str) -> str:
    return value.get("address") or (
        f"{plain_number(value['lat'])}, {plain_number(value['lng'])}")


# -- the table -----------------------------------------------------------------------

TYPE_WIDGETS: dict[str, Widgets] = {
    "text": Widgets(_text(TextInput()), filter="string", column=True),
    "textarea": Widgets(_text(TextArea(), multiline=True), filter="string",
                        wide=True, column=True),
    "richtext": Widgets(_text(TextArea(), multiline=True, richtext=True), wide=True),
    "number": Widgets(_number(), filter="number", column=True),
    "currency": Widgets(_number(), _show_money, filter="number", column=True),
    "percent": Widgets(_number(percent=True), filter="number", column=True),
    "date": Widgets(_text(DateInput()), filter="date", column=True),
    "time": Widgets(_text(TimeInput()), filter="time", column=True),
    "datetime": Widgets(_datetime, _show_datetime, filter="datetime", column=True),
    "boolean": Widgets(_checkbox, filter="boolean", column=True),
    "select": Widgets(_select, _show_option, filter="select", chosen=True),
    "multiselect": Widgets(_multiselect, _show_options, filter="multiselect"),
    "lookup": Widgets(filter="reference", column=True),
    "master_detail": Widgets(filter="reference"),
    "table": Widgets(_table, wide=True),
    "autonumber": Widgets(filter="string"),
    "rollup": Widgets(filter="number"),
    "quote": Widgets(),
    "phone": Widgets(_text(TelInput()), filter="string", column=True),
    "email": Widgets(_text(EmailInput()), filter="string", column=True),
    "url": Widgets(_text(URLInput()), filter="string", column=True),
    "file": Widgets(_files(), _show_files),
    "image": Widgets(_files(image=True), _show_files, thumbnails=True),
    "location": Widgets(_location, _show_location),
    "area": Widgets(_area, _show_area),
    "user": Widgets(filter="reference", column=True),
    "department": Widgets(filter="reference", column=True),
}
SHOWN_AS_IS = Widgets()


def widgets_for(spec: Spec) -> Widgets:
    """The row of a field's type (a formula's: of the type it returns)."""
    name = definition_of(spec).value_type(spec)
    found = TYPE_WIDGETS.get(name)
    if found is not None:
        return found
    for cls in type(definition(name)).__mro__:
        own = cls.__dict__.get("name")
        if own in TYPE_WIDGETS:
            return TYPE_WIDGETS[own]
    return SHOWN_AS_IS


def column_types() -> list[str]:
    """The types the object manager's table editor offers for columns."""
    return [name for name in type_names()
            if name in TYPE_WIDGETS and TYPE_WIDGETS[name].column]
