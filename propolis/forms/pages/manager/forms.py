"""The object manager's WTForms: an object's and a field's, the field document a
field form makes, and a document's problems put back on the inputs they concern."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from pyramid.i18n import TranslationStringFactory
from pyramid.request import Request
from wtforms import BooleanField, SelectField, StringField, TextAreaField

from propolis.forms.pages.manager.documents import (
    APPS,
    FUNCTIONS,
    KEY_INPUTS,
    SHARING,
    Doc,
    Refusal,
    formula_results,
    inputs_of,
    label_of,
    plain,
    type_descriptions,
)
from propolis.metadata import fieldtypes
from propolis.platform.accounts.forms import PageForm
from propolis.platform.fields.choices import single_choice
from propolis.platform.fields.references import RecordReference
from propolis.platform.fields.registry import field_type

_ = TranslationStringFactory("propolis")

class ObjectForm(PageForm):
    """A new object (api_name, labels, section, sharing …) or an object's settings."""

    api_name = StringField(_("API name"))
    label_zh = StringField(_("Name (Chinese)"))
    label_en = StringField(_("Name (English)"))
    app = SelectField(_("Navigation section"))
    sharing = SelectField(_("Sharing"))
    deletable = BooleanField(_("Records can be deleted"), default=True)
    name_field = StringField(_("API name of the name field"), default="name")
    name_zh = StringField(_("Name field label (Chinese)"), default="名称")
    name_en = StringField(_("Name field label (English)"), default="Name")

    def __init__(self, request: Request, formdata: Any = None, **kwargs: Any) -> None:
        super().__init__(request, formdata, **kwargs)
        self.app.choices = [(k, request.translate(v)) for k, v in APPS.items()]
        self.sharing.choices = [(k, request.translate(v)) for k, v in SHARING.items()]


class FieldForm(PageForm):
    api_name = StringField(_("API name"))
    type = SelectField(_("Type"))
    label_zh = StringField(_("Label (Chinese)"))
    label_en = StringField(_("Label (English)"))
    help_zh = StringField(_("Help text (Chinese)"))
    help_en = StringField(_("Help text (English)"))
    required = BooleanField(_("Required"))
    unique = BooleanField(_("Unique (no two records share a value)"))
    searchable = BooleanField(_("Searchable by keyword"))
    hidden = BooleanField(_("Hidden from forms and lists"))
    max_length = StringField(_("Maximum length (characters)"))
    precision = StringField(_("Decimal places"))
    min = StringField(_("Minimum"))
    max = StringField(_("Maximum"))
    depends_on = SelectField(_("Depends on the select"))
    to = SelectField(_("Records of the object"))
    returns = SelectField(_("Result type"))
    expression = TextAreaField(_("Expression (CEL)"))
    rollup_from = SelectField(_("Summarise the records of"))
    rollup_via = StringField(
        _("Their field that points here (lookup or master-detail)"))
    rollup_function = SelectField(_("Function"))
    rollup_field = StringField(_("Field to summarise (empty for count)"))
    quote_via = SelectField(_("Through the lookup field"))
    quote_field = StringField(_("Field of the looked-up record"))
    format = StringField(_("Number format"))
    max_size_mb = StringField(_("Maximum size of a file (MB)"))
    accept = StringField(_("Accepted file types (comma separated)"))
    max_count = StringField(_("Maximum number of files"))

    def __init__(self, request: Request, obj: Mapping[str, Any], current: str | None,
                 formdata: Any = None, **kwargs: Any) -> None:
        super().__init__(request, formdata, **kwargs)
        translate = request.translate
        self.type.choices = [(k, f"{k} — {translate(v)}")
                             for k, v in type_descriptions().items()]
        objects = sorted((n, f"{translate(o.label)} ({n})")
                         for n, o in request.effective.objects.items())
        self.to.choices = objects
        self.rollup_from.choices = objects
        self.returns.choices = [(r, r) for r in formula_results()]
        self.rollup_function.choices = [(k, translate(v)) for k, v in FUNCTIONS.items()]
        others = [f for f in obj.get("fields", []) if f["api_name"] != current]
        self.depends_on.choices = [("", "—")] + [
            (f["api_name"], f"{translate(f['label'])} ({f['api_name']})")
            for f in others if single_choice(f)]
        self.quote_via.choices = [
            (f["api_name"], f"{translate(f['label'])} ({f['api_name']})")
            for f in others if isinstance(field_type(f), RecordReference)]


def _number(form: PageForm, name: str, whole: bool) -> int | float | None:
    """An optional numeric input; a wrong one gets its message on the input."""
    raw = (getattr(form, name).data or "").strip()
    if not raw:
        return None
    try:
        value = Decimal(raw)
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite() or (whole and value != int(value)):
        getattr(form, name).errors = [form.request.translate(
            _("Enter a whole number") if whole
            else _("Enter a number"))]
        return None
    return int(value) if value == int(value) else float(value)


def posted_rows(request: Request, prefix: str, keys: Iterable[str]
                ) -> list[dict[str, str]]:
    """Repeated inputs (``option_value``, ``option_zh`` …) read back as rows, in the
    order the page (or its drag and drop) put them."""
    columns = {k: request.POST.getall(f"{prefix}_{k}") for k in keys}
    count = max((len(v) for v in columns.values()), default=0)
    return [{k: (v[i].strip() if i < len(v) else "") for k, v in columns.items()}
            for i in range(count)]


def field_from_form(request: Request, form: FieldForm, old: Mapping[str, Any] | None
                    ) -> Doc | None:
    """The field document the form describes, on top of ``old`` (the field being
    edited: keys the form does not show are kept). None when an input is wrong."""
    ftype = form.type.data
    inputs = set(inputs_of(ftype))
    if old is not None and old["type"] == ftype:
        out = plain(old)
    else:
        out = {}
    for key in ("max_length", "precision", "min", "max", "to", "depends_on",
                "returns", "expression", "from", "via", "function", "field", "format",
                "max_size_mb", "accept", "max_count", "options", "fields", "help",
                "readonly"):
        out.pop(key, None)
    out.update(api_name=(form.api_name.data or "").strip(), type=ftype,
               required=bool(form.required.data), unique=bool(form.unique.data),
               searchable=bool(form.searchable.data), hidden=bool(form.hidden.data))
    label = label_of(form.label_zh.data, form.label_en.data)
    out.pop("label", None)
    if label:
        out["label"] = label
    help_text = label_of(form.help_zh.data, form.help_en.data)
    if help_text:
        out["help"] = help_text
    numbers = {"max_length": True, "precision": True, "min": False, "max": False,
               "max_size_mb": False, "max_count": True}
    returns = form.returns.data
    numeric_result = (returns in fieldtypes.type_names()
                      and fieldtypes.definition(returns).numeric)
    for name, whole in numbers.items():
        # a formula keeps a precision only when it returns a number
        if name == "precision" and "returns" in inputs and not numeric_result:
            continue
        if name in inputs:
            value = _number(form, name, whole)
            if value is not None:
                out[name] = value
    if "options" in inputs:
        options = []
        # the page does not edit attributes: an option keeps its own
        attributes = {o["value"]: o.get("attributes")
                      for o in (old or {}).get("options", ())}
        for row in posted_rows(request, "option", ("value", "zh", "en", "parent")):
            if row["value"]:
                option: Doc = {"value": row["value"]}
                if attributes.get(row["value"]):
                    option["attributes"] = attributes[row["value"]]
                if label_of(row["zh"], row["en"]):
                    option["label"] = label_of(row["zh"], row["en"])
                if row["parent"]:
                    option["parent"] = row["parent"]
                options.append(option)
        out["options"] = options
        if form.depends_on.data:
            out["depends_on"] = form.depends_on.data
    if "to" in inputs:
        out["to"] = form.to.data
    if "columns" in inputs:
        before = {c["api_name"]: c for c in (old or {}).get("fields", [])}
        columns = []
        for row in posted_rows(request, "column", ("name", "type", "zh", "en", "to")):
            if not row["name"]:
                continue
            kept = before.get(row["name"])
            column: Doc = (plain(kept) if kept and kept["type"] == row["type"]
                           else {})
            column.update(api_name=row["name"], type=row["type"] or "text")
            column.pop("label", None)
            if label_of(row["zh"], row["en"]):
                column["label"] = label_of(row["zh"], row["en"])
            if "to" in inputs_of(column["type"]):
                column["to"] = row["to"] or out["api_name"]
            columns.append(column)
        out["fields"] = columns
    if "returns" in inputs:
        out.update(returns=form.returns.data, expression=form.expression.data or "")
    if "rollup_from" in inputs:
        out.update({"from": form.rollup_from.data,
                    "via": (form.rollup_via.data or "").strip(),
                    "function": form.rollup_function.data})
        if form.rollup_function.data != "count":
            out["field"] = (form.rollup_field.data or "").strip()
    if "quote_via" in inputs:
        out.update(via=form.quote_via.data or "",
                   field=(form.quote_field.data or "").strip())
    if "format" in inputs:
        out["format"] = (form.format.data or "").strip()
    if "accept" in inputs:
        accept = [a.strip() for a in (form.accept.data or "").split(",") if a.strip()]
        out["accept"] = accept
    if any(f.errors for f in form):
        return None
    return out


def fill_field_form(form: FieldForm, f: Mapping[str, Any]) -> None:
    """Puts a field's document into the form (the edit page)."""
    form.api_name.data = f["api_name"]
    form.type.data = f["type"]
    form.label_zh.data, form.label_en.data = f["label"]["zh"], f["label"]["en"]
    if f.get("help"):
        form.help_zh.data, form.help_en.data = f["help"]["zh"], f["help"]["en"]
    for flag in ("required", "unique", "searchable", "hidden"):
        getattr(form, flag).data = bool(f.get(flag))
    for key in ("max_length", "precision", "min", "max", "max_size_mb", "max_count"):
        if f.get(key) is not None:
            getattr(form, key).data = str(f[key])
    simple = {"to": "to", "depends_on": "depends_on", "returns": "returns",
              "expression": "expression", "format": "format"}
    for key, name in simple.items():
        if f.get(key):
            getattr(form, name).data = f[key]
    inputs = inputs_of(f["type"])
    if "rollup_from" in inputs:
        form.rollup_from.data, form.rollup_via.data = f["from"], f["via"]
        form.rollup_function.data, form.rollup_field.data = f["function"], f.get(
            "field") or ""
    if "quote_via" in inputs:
        form.quote_via.data, form.quote_field.data = f["via"], f["field"]
    if "accept" in inputs:
        form.accept.data = ", ".join(f.get("accept") or [])


def put_errors(form: PageForm, refusal: Refusal, prefix: str,
               inputs: Mapping[str, str] | None = None
               ) -> tuple[list[str], dict[str, list[str]]]:
    """Puts the messages at ``prefix.key`` on the form's input for ``key``. Returns
    those about the whole change (shown above the form) and those of the parts that
    are no single input (``options``, ``columns``: shown above their rows)."""
    left = list(refusal.general)
    blocks: dict[str, list[str]] = {}
    for path, messages in refusal.paths.items():
        if prefix and path != prefix and not path.startswith(prefix + "."):
            left += messages
            continue
        rest = path[len(prefix):].lstrip(".")
        key = re.split(r"[.\[]", rest)[0] if rest else ""
        name = (inputs or {}).get(key) or KEY_INPUTS.get(key, key)
        target = getattr(form, name, None) if name else None
        if name in ("options", "columns"):
            blocks.setdefault(name, []).extend(messages)
        elif target is None or name == "csrf_token":
            left += messages
        else:
            target.errors = list(target.errors) + messages
    return left, blocks


# --- the pages --------------------------------------------------------------------
