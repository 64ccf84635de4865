"""The object manager of the admin console: objects, their fields, layouts, list
views, select dependencies, metadata versions and backfill jobs, without code.

Every change is one object document applied the way ``PUT /api/v1/metadata/objects/
{o}`` applies it: the page builds the new document from the object's current
effective one plus the change, shows the storage plan of a dry run (what
``propolis metadata plan`` prints) and applies that same document when the admin
confirms. Problems of the document (validation, the planner's refusals) come back to
the input they concern. Nothing here writes DDL or metadata rows itself.
"""

from __future__ import annotations

import copy
import difflib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.i18n import TranslationStringFactory
from pyramid.request import Request
from pyramid.response import Response
from pyramid.view import view_config
from sqlalchemy import select
from wtforms import BooleanField, SelectField, StringField, TextAreaField

from propolis.metadata import Document
from propolis.metadata.errors import MetadataError
from propolis.metadata.validation import SYSTEM_OBJECTS, kind_schema
from propolis.platform.accounts.forms import PageForm
from propolis.platform.errors import AppError, t
from propolis.platform.meta import services as meta
from propolis.platform.storage.platform_tables import jobs
from propolis.platform.tenancy import services as tenancy
from propolis.platform.tenancy.jobs import after_apply
from propolis.platform.web.pages import PageUser, console_user, error_page, render_page

_ = TranslationStringFactory("propolis")
TEMPLATES = "propolis.forms:templates/manager/"
Doc = dict[str, Any]

# --- what the admin reads about types and choices --------------------------------

TYPES: dict[str, dict[str, str]] = {
    "text": t("单行文本：名称、编号等短文字",
              "Text: a short line, e.g. a name or code"),
    "textarea": t("多行文本：备注、说明", "Long text: notes, descriptions"),
    "richtext": t("富文本：带格式的文字", "Rich text: formatted text"),
    "number": t("数字：数量、面积等", "Number: quantities, areas …"),
    "currency": t("金额：精确到分的钱数", "Currency: exact amounts of money"),
    "percent": t("百分比：12.5 表示 12.5%", "Percent: 12.5 means 12.5 %"),
    "date": t("日期", "Date"),
    "time": t("时间（时:分）", "Time of day"),
    "datetime": t("日期和时间", "Date and time"),
    "boolean": t("是/否", "Yes / no"),
    "select": t("单选：从选项中选一个", "Select: one of a list of options"),
    "multiselect": t("多选：从选项中选多个", "Multi-select: several options"),
    "lookup": t("查找关联：指向另一个对象的一条记录",
                "Lookup: a record of another object"),
    "master_detail": t("主从关联：记录属于一条主记录，可在主记录上汇总",
                       "Master-detail: the record belongs to a master record, "
                       "which can sum it up"),
    "table": t("子表：记录里的多行明细，如订单明细", "Table: rows inside the record, "
               "e.g. order lines"),
    "autonumber": t("自动编号：保存时按格式生成，如 KH-202611-00001",
                    "Auto number: made on save from a format, e.g. KH-202611-00001"),
    "formula": t("公式：由其他字段计算（CEL 表达式）",
                 "Formula: computed from other fields (a CEL expression)"),
    "rollup": t("汇总：统计子记录（计数、求和、最小、最大、平均）",
                "Rollup: count, sum, min, max or average of child records"),
    "quote": t("引用：显示所关联记录的一个字段", "Quote: shows a field of the "
               "looked-up record"),
    "phone": t("电话号码", "Phone number"),
    "email": t("电子邮箱", "Email address"),
    "url": t("网址", "Web address (URL)"),
    "file": t("附件：上传文件", "File: uploaded files"),
    "image": t("图片：上传图片", "Image: uploaded pictures"),
    "location": t("定位：经纬度和地址", "Location: latitude, longitude, address"),
    "area": t("省市区", "Area: province, city, district"),
    "user": t("人员：本企业的一名员工", "User: an employee"),
    "department": t("部门", "Department"),
}
SHARING = {
    "private": t("私有：只有负责人和上级可见",
                 "Private: the owner and their superiors"),
    "hierarchy": t("按汇报关系：上级可见下属的记录",
                   "Hierarchy: superiors see their reports' records"),
    "public_read": t("公开只读：所有人可见", "Public read: everyone sees them"),
    "public_write": t("公开读写：所有人可见可改",
                      "Public write: everyone sees and edits"),
}
APPS = {"crm": t("CRM", "CRM"), "work": t("工作", "Work"), "apps": t("应用", "Apps")}
FUNCTIONS = {"count": t("计数", "count"), "sum": t("求和", "sum"),
             "min": t("最小值", "minimum"), "max": t("最大值", "maximum"),
             "avg": t("平均值", "average")}
RETURNS = ("number", "currency", "percent", "text", "date", "boolean")
# Column types offered for table fields: those that need no options of their own.
COLUMN_TYPES = ("text", "textarea", "number", "currency", "percent", "date", "time",
                "datetime", "boolean", "phone", "email", "url", "user", "department",
                "lookup")
NO_FIELD = t("没有这个字段", "There is no such field")
LIST_SYSTEM_COLUMNS = ("owner", "created_at", "updated_at")
API_NAME = re.compile(kind_schema("object")["$defs"]["api_name"]["pattern"])

# Which inputs of the field form belong to which types (the rest are common).
TYPE_INPUTS: dict[str, tuple[str, ...]] = {
    "max_length": ("text",),
    "precision": ("number", "currency", "percent", "formula"),
    "min": ("number", "currency", "percent"),
    "max": ("number", "currency", "percent"),
    "options": ("select", "multiselect"),
    "depends_on": ("select", "multiselect"),
    "to": ("lookup", "master_detail"),
    "columns": ("table",),
    "returns": ("formula",),
    "expression": ("formula",),
    "rollup_from": ("rollup",),
    "rollup_via": ("rollup",),
    "rollup_function": ("rollup",),
    "rollup_field": ("rollup",),
    "quote_via": ("quote",),
    "quote_field": ("quote",),
    "format": ("autonumber",),
    "max_size_mb": ("file", "image"),
    "accept": ("file", "image"),
    "max_count": ("file", "image"),
}
# document key of a field → the input showing its problems
KEY_INPUTS = {"label": "label_zh", "help": "help_zh", "from": "rollup_from",
              "function": "rollup_function", "fields": "columns"}


def _text(request: Request, value: Mapping[str, str] | None) -> str:
    return request.translate(value) if value else ""


# --- documents --------------------------------------------------------------------


def _strip_archive(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip_archive(v) for k, v in value.items()
                if k != "archived_fields"}
    if isinstance(value, list):
        return [_strip_archive(v) for v in value]
    return value


def plain(value: Mapping[str, Any]) -> Doc:
    """A normalized document (or field) as a person would write it."""
    out = meta.exportable(_strip_archive(copy.deepcopy(dict(value))))
    assert isinstance(out, dict)
    return out


def editable_document(doc: Mapping[str, Any]) -> Doc:
    """An effective (normalized) object as the document that would define it: what
    the pages change and apply. The archive stays with the stored version; a field
    comes back from it by being in the document again."""
    return plain(doc)


def _label(zh: str | None, en: str | None) -> dict[str, str] | None:
    parts = {k: v.strip() for k, v in (("zh", zh), ("en", en)) if v and v.strip()}
    return parts or None


@dataclass
class Refusal:
    """Why a change cannot be applied: messages by document path (``fields[2].to``)
    and those about the whole change, in the page's language."""

    general: list[str] = field(default_factory=list)
    paths: dict[str, list[str]] = field(default_factory=dict)

    def at(self, path: str, message: str) -> None:
        self.paths.setdefault(path, []).append(message)


def _refusal(request: Request, exc: Exception, doc: Mapping[str, Any]) -> Refusal:
    refusal = Refusal()
    if isinstance(exc, MetadataError):
        for problem in exc.problems:
            text = request.translate(problem.as_text())
            if problem.path:
                refusal.at(problem.path, text)
            else:
                refusal.general.append(text)
        return refusal
    assert isinstance(exc, AppError)
    names = [f["api_name"] for f in doc.get("fields", [])]
    for where, messages in exc.fields.items():
        # the planner names ``object.field[.column]``; the pages, document paths
        _, _dot, rest = where.partition(".")
        top = rest.split(".")[0]
        for message in messages:
            if top in names:
                refusal.at(f"fields[{names.index(top)}]", request.translate(message))
            else:
                refusal.general.append(request.translate(message))
    if not exc.fields:
        refusal.general.append(request.translate(exc.message))
    return refusal


@dataclass
class Planned:
    version: int
    steps: list[str]
    backfills: int
    effective: Doc


def plan_document(request: Request, doc: Doc) -> Planned | Refusal:
    """The dry run of applying ``doc``: the same validation and storage plan as
    ``PUT /api/v1/metadata/objects/{o}?dry_run=1`` and ``propolis metadata plan``."""
    try:
        applied = tenancy.apply_metadata(
            request.registry.database, request.identity.account,
            [Document(copy.deepcopy(doc), f"{doc['api_name']}.json")],
            session=request.db, sysdb=request.sysdb,
            user_id=request.actor.user_id, dry_run=True)
    except (MetadataError, AppError) as exc:
        return _refusal(request, exc, doc)
    return Planned(applied.version, applied.plan.describe(request.lang),
                   len(applied.plan.backfills),
                   applied.plan.effective[doc["api_name"]])


# --- a readable difference between two versions of an object ----------------------

_OBJECT_KEYS = {"label": t("名称", "label"), "app": t("导航分区", "navigation section"),
                "sharing": t("共享方式", "sharing"),
                "deletable": t("可删除", "deletable"),
                "name_field": t("名称字段", "name field"),
                "description": t("说明", "description"),
                "permissions": t("权限", "permissions"),
                "validations": t("校验规则", "validation rules")}


def _short(value: Any) -> str:
    if isinstance(value, dict) and set(value) <= {"zh", "en"}:
        return " / ".join(dict.fromkeys(str(v) for v in value.values()))
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 80 else text[:77] + "…"


def describe_changes(old: Mapping[str, Any] | None, new: Mapping[str, Any] | None
                     ) -> list[dict[str, str]]:
    """What differs from ``old`` to ``new`` (normalized object documents, either may
    be absent), one ``{"zh","en"}`` sentence per change: per field, per object key,
    per layout and list view."""
    if old is None and new is None:
        return []
    if old is None or new is None:
        doc = new or old
        assert doc is not None
        count = len(doc["fields"])
        return [t(f"新建对象，{count} 个字段", f"New object with {count} field(s)")
                if old is None else
                t("此对象在该版本中不存在",
                  "The object does not exist in that version")]
    changes = []
    for key, name in _OBJECT_KEYS.items():
        if old.get(key) != new.get(key):
            changes.append(t(f"{name['zh']}：{_short(old.get(key))} → "
                             f"{_short(new.get(key))}",
                             f"{name['en']}: {_short(old.get(key))} → "
                             f"{_short(new.get(key))}"))
    before = {f["api_name"]: f for f in old["fields"]}
    after = {f["api_name"]: f for f in new["fields"]}
    for fname, f in after.items():
        label = _short(f["label"])
        if fname not in before:
            changes.append(t(f"新增字段 {label}（{fname}，{f['type']}）",
                             f"Field {label} ({fname}, {f['type']}) added"))
            continue
        keys = sorted(k for k in set(f) | set(before[fname])
                      if f.get(k) != before[fname].get(k) and k != "archived_fields")
        for key in keys:
            was, now = _short(before[fname].get(key)), _short(f.get(key))
            changes.append(t(f"字段 {label}（{fname}）的 {key}：{was} → {now}",
                             f"Field {label} ({fname}) {key}: {was} → {now}"))
    for fname, f in before.items():
        if fname not in after:
            changes.append(t(f"字段 {_short(f['label'])}（{fname}）已移除"
                             "（数据保留在归档中）",
                             f"Field {_short(f['label'])} ({fname}) removed "
                             "(its data kept in the archive)"))
    kept = [n for n in before if n in after]
    if kept != [n for n in after if n in before]:
        changes.append(t("字段顺序已调整", "Field order changed"))
    for key, what in (("layouts", t("布局", "Layout")),
                      ("list_views", t("列表视图", "List view"))):
        olds = {v["api_name"]: v for v in old.get(key, [])}
        for view in new.get(key, []):
            if view.get("generated"):
                continue
            if olds.get(view["api_name"]) != view:
                changes.append(t(f"{what['zh']} {_short(view['label'])} 已修改",
                                 f"{what['en']} {_short(view['label'])} changed"))
    return changes


def text_diff(old: Mapping[str, Any] | None, new: Mapping[str, Any] | None) -> str:
    """A unified diff of the two documents as sorted JSON, for the curious."""
    def lines(doc: Mapping[str, Any] | None) -> list[str]:
        if doc is None:
            return []
        return json.dumps(doc, ensure_ascii=False, indent=1, sort_keys=True,
                          default=str).splitlines()

    return "\n".join(difflib.unified_diff(lines(old), lines(new), "version",
                                          "current", lineterm=""))


# --- forms ------------------------------------------------------------------------


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
        self.type.choices = [(k, f"{k} — {translate(v)}") for k, v in TYPES.items()]
        objects = sorted((n, f"{translate(o.label)} ({n})")
                         for n, o in request.effective.objects.items())
        self.to.choices = objects
        self.rollup_from.choices = objects
        self.returns.choices = [(r, r) for r in RETURNS]
        self.rollup_function.choices = [(k, translate(v)) for k, v in FUNCTIONS.items()]
        others = [f for f in obj.get("fields", []) if f["api_name"] != current]
        self.depends_on.choices = [("", "—")] + [
            (f["api_name"], f"{translate(f['label'])} ({f['api_name']})")
            for f in others if f["type"] == "select"]
        self.quote_via.choices = [
            (f["api_name"], f"{translate(f['label'])} ({f['api_name']})")
            for f in others if f["type"] in ("lookup", "master_detail")]


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
            t("请输入整数", "Enter a whole number") if whole
            else t("请输入数字", "Enter a number"))]
        return None
    return int(value) if value == int(value) else float(value)


def _rows(request: Request, prefix: str, keys: Iterable[str]) -> list[dict[str, str]]:
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
    label = _label(form.label_zh.data, form.label_en.data)
    out.pop("label", None)
    if label:
        out["label"] = label
    help_text = _label(form.help_zh.data, form.help_en.data)
    if help_text:
        out["help"] = help_text
    numbers = {"max_length": True, "precision": True, "min": False, "max": False,
               "max_size_mb": False, "max_count": True}
    numeric_formula = form.returns.data in ("number", "currency", "percent")
    for name, whole in numbers.items():
        if name == "precision" and ftype == "formula" and not numeric_formula:
            continue
        if ftype in TYPE_INPUTS[name]:
            value = _number(form, name, whole)
            if value is not None:
                out[name] = value
    if ftype in ("select", "multiselect"):
        options = []
        for row in _rows(request, "option", ("value", "zh", "en", "parent")):
            if row["value"]:
                option: Doc = {"value": row["value"]}
                if _label(row["zh"], row["en"]):
                    option["label"] = _label(row["zh"], row["en"])
                if row["parent"]:
                    option["parent"] = row["parent"]
                options.append(option)
        out["options"] = options
        if form.depends_on.data:
            out["depends_on"] = form.depends_on.data
    elif ftype in ("lookup", "master_detail"):
        out["to"] = form.to.data
    elif ftype == "table":
        before = {c["api_name"]: c for c in (old or {}).get("fields", [])}
        columns = []
        for row in _rows(request, "column", ("name", "type", "zh", "en", "to")):
            if not row["name"]:
                continue
            kept = before.get(row["name"])
            column: Doc = (plain(kept) if kept and kept["type"] == row["type"]
                           else {})
            column.update(api_name=row["name"], type=row["type"] or "text")
            column.pop("label", None)
            if _label(row["zh"], row["en"]):
                column["label"] = _label(row["zh"], row["en"])
            if column["type"] in ("lookup", "master_detail"):
                column["to"] = row["to"] or out["api_name"]
            columns.append(column)
        out["fields"] = columns
    elif ftype == "formula":
        out.update(returns=form.returns.data, expression=form.expression.data or "")
    elif ftype == "rollup":
        out.update({"from": form.rollup_from.data,
                    "via": (form.rollup_via.data or "").strip(),
                    "function": form.rollup_function.data})
        if form.rollup_function.data != "count":
            out["field"] = (form.rollup_field.data or "").strip()
    elif ftype == "quote":
        out.update(via=form.quote_via.data or "",
                   field=(form.quote_field.data or "").strip())
    elif ftype == "autonumber":
        out["format"] = (form.format.data or "").strip()
    elif ftype in ("file", "image"):
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
    if f["type"] == "rollup":
        form.rollup_from.data, form.rollup_via.data = f["from"], f["via"]
        form.rollup_function.data, form.rollup_field.data = f["function"], f.get(
            "field") or ""
    elif f["type"] == "quote":
        form.quote_via.data, form.quote_field.data = f["via"], f["field"]
    elif f["type"] in ("file", "image"):
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


def _admin(request: Request) -> PageUser | Response:
    return console_user(request)


def _admin_object(request: Request) -> Doc | Response:
    """The object of the address, for an admin past the step-up; else the page to
    answer with."""
    user = _admin(request)
    return user if isinstance(user, Response) else _object(request)


def _object(request: Request) -> Doc | Response:
    """The object named in the address (normalized effective document), or the
    404 page; the organisation's system objects are shown, never changed."""
    obj = request.effective.object(request.matchdict["object"])
    if obj is None:
        return error_page(request, _("Not found"), _("There is no such object."), 404)
    return dict(obj.doc)


def _page(request: Request, template: str, values: dict[str, Any],
          status: int = 200) -> Response:
    response = render_page(request, TEMPLATES + template, {
        "flashes": request.session.pop_flash(), "types": TYPES, **values}, status)
    response.headers["Cache-Control"] = "no-store"
    return response


def _system(name: str) -> bool:
    return name in SYSTEM_OBJECTS


def _refused_system(request: Request) -> Response:
    return error_page(request, _("Not allowed"), _(
        "The organisation's system objects are maintained by the platform."), 403)


@view_config(route_name="manager.objects", request_method=("GET", "POST"))
def objects_page(request: Request) -> Response:
    user = _admin(request)
    if isinstance(user, Response):
        return user
    posted = request.method == "POST"
    form = ObjectForm(request, request.POST if posted else None)
    error: list[str] = []
    status = 200
    if posted:
        name = (form.api_name.data or "").strip()
        if not API_NAME.match(name):
            form.api_name.errors = [request.translate(t(
                "api_name 须以小写字母开头，由 2–63 个小写字母、数字或下划线组成",
                "The api_name must start with a lower-case letter and have 2–63 "
                "lower-case letters, digits or underscores"))]
        elif request.effective.object(name) is not None:
            form.api_name.errors = [request.translate(t(
                f"已有对象 {name}，请换一个 api_name",
                f"There is an object {name!r} already; choose another api_name"))]
        else:
            doc = _new_object_document(form, name)
            result = plan_document(request, doc)
            if isinstance(result, Planned):
                return _preview(request, name, None, doc, result,
                                request.route_path("manager.objects"))
            error, _blocks = put_errors(form, result, "", {"fields": "name_field"})
        status = 400
    objects = []
    for name, obj in request.effective.objects.items():
        objects.append({"api_name": name, "label": request.translate(obj.label),
                        "fields": len(obj.doc["fields"]), "system": _system(name),
                        "app": request.translate(APPS.get(obj.doc.get("app", "apps"),
                                                          APPS["apps"]))})
    objects.sort(key=lambda o: (o["system"], o["label"]))
    return _page(request, "objects.html", {"objects": objects, "form": form,
                                           "error": error}, status)


def _new_object_document(form: ObjectForm, name: str) -> Doc:
    name_field = (form.name_field.data or "name").strip()
    doc: Doc = {"kind": "object", "api_name": name, "app": form.app.data,
                "sharing": form.sharing.data, "deletable": bool(form.deletable.data),
                "name_field": name_field,
                "fields": [{"api_name": name_field, "type": "text", "required": True,
                            "searchable": True}]}
    label = _label(form.label_zh.data, form.label_en.data)
    if label:
        doc["label"] = label
    field_label = _label(form.name_zh.data, form.name_en.data)
    if field_label:
        doc["fields"][0]["label"] = field_label
    return doc


def _preview(request: Request, name: str, old: Mapping[str, Any] | None, doc: Doc,
             planned: Planned, back: str, rollback_to: int | None = None
             ) -> Response:
    """The storage plan of a change, with "apply" (the same document, posted again)
    and "cancel" (back where the change was made)."""
    return _page(request, "preview.html", {
        "name": name, "label": _text(request, planned.effective["label"]),
        "changes": [request.translate(c) for c in
                    describe_changes(old, planned.effective)],
        "steps": planned.steps, "backfills": planned.backfills,
        "document": json.dumps(doc, ensure_ascii=False), "rollback_to": rollback_to,
        "base_version": request.identity.metadata_version, "back": back})


def _field_rows(request: Request, doc: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [{"api_name": f["api_name"], "type": f["type"],
             "label": request.translate(f["label"]),
             "flags": [k for k in ("required", "unique", "searchable", "hidden")
                       if f.get(k)]} for f in doc["fields"]]


@view_config(route_name="manager.object", request_method="GET")
def object_page(request: Request) -> Response:
    doc = _admin_object(request)
    if isinstance(doc, Response):
        return doc
    settings = ObjectForm(request, None, api_name=doc["api_name"],
                          label_zh=doc["label"]["zh"], label_en=doc["label"]["en"],
                          app=doc.get("app", "apps"), sharing=doc["sharing"],
                          deletable=doc["deletable"], name_field=doc["name_field"])
    return _object_page(request, doc, settings)


def _object_page(request: Request, doc: Doc, settings: ObjectForm,
                 error: list[str] | None = None, status: int = 200) -> Response:
    return _page(request, "object.html", {
        "obj": doc, "label": request.translate(doc["label"]),
        "system": _system(doc["api_name"]), "fields": _field_rows(request, doc),
        "archived": [{"api_name": f["api_name"], "type": f["type"],
                      "label": request.translate(f["label"])}
                     for f in doc.get("archived_fields", []) if f["type"] != "quote"],
        "dependents": [f["api_name"] for f in doc["fields"] if f.get("depends_on")],
        "settings": settings, "error": error or []}, status)


@view_config(route_name="manager.field", request_method=("GET", "POST"))
def field_page(request: Request) -> Response:
    """A field's editor; ``/fields/_new`` adds one (``?type=`` chosen first)."""
    doc = _admin_object(request)
    if isinstance(doc, Response):
        return doc
    if _system(doc["api_name"]):
        return _refused_system(request)
    fname = request.matchdict["field"]
    adding = fname == "_new"
    old = None if adding else next(
        (f for f in doc["fields"] if f["api_name"] == fname), None)
    if not adding and old is None:
        return error_page(request, _("Not found"), _("There is no such field."), 404)
    ftype = request.params.get("type") or (old or {}).get("type")
    if adding and ftype not in TYPES:
        return _page(request, "choose_type.html", {"obj": doc,
                     "label": request.translate(doc["label"]),
                     "choices": [(k, request.translate(v)) for k, v in TYPES.items()]})
    posted = request.method == "POST"
    form = FieldForm(request, doc, None if adding else fname,
                     request.POST if posted else None)
    if not posted:
        if old is not None:
            fill_field_form(form, old)
        else:
            form.type.data = ftype
    error: list[str] = []
    blocks: dict[str, list[str]] = {}
    options = (old or {}).get("options", [])
    columns = (old or {}).get("fields", [])
    if posted:
        options = _rows(request, "option", ("value", "zh", "en", "parent"))
        options = [{"value": o["value"], "label": {"zh": o["zh"], "en": o["en"]},
                    "parent": o["parent"]} for o in options if o["value"]]
        columns = [{"api_name": c["name"], "type": c["type"],
                    "label": {"zh": c["zh"], "en": c["en"]}, "to": c["to"]}
                   for c in _rows(request, "column", ("name", "type", "zh", "en", "to"))
                   if c["name"]]
        if not adding:
            form.api_name.data = fname
        new_field = field_from_form(request, form, old)
        if new_field is not None:
            new_doc = editable_document(doc)
            if adding:
                new_doc["fields"].append(new_field)
                index = len(new_doc["fields"]) - 1
            else:
                index = [f["api_name"] for f in new_doc["fields"]].index(fname)
                new_doc["fields"][index] = new_field
            result = plan_document(request, new_doc)
            if isinstance(result, Planned):
                return _preview(request, doc["api_name"], doc, new_doc, result,
                                request.path_qs)
            inputs = {"via": "rollup_via" if form.type.data == "rollup" else
                      "quote_via", "field": "rollup_field" if form.type.data ==
                      "rollup" else "quote_field"}
            if old is not None and old["type"] != form.type.data:
                inputs[""] = "type"
            error, blocks = put_errors(form, result, f"fields[{index}]", inputs)
    return _page(request, "field.html", {
        "obj": doc, "label": request.translate(doc["label"]), "form": form,
        "adding": adding, "old": old, "error": error,
        "block_errors": blocks,
        "options": options, "columns": columns, "type_inputs": TYPE_INPUTS,
        "column_types": COLUMN_TYPES,
        "objects": sorted(request.effective.objects)}, 400 if posted else 200)


def _changed_document(request: Request, doc: Doc, action: str
                      ) -> Doc | Refusal | Response:
    """The object's document after one of the object page's buttons."""
    new_doc = editable_document(doc)
    names = [f["api_name"] for f in new_doc["fields"]]
    post = request.POST
    if action == "archive":
        target = post.get("field", "")
        if target not in names:
            return Refusal([request.translate(NO_FIELD)])
        new_doc["fields"] = [f for f in new_doc["fields"] if f["api_name"] != target]
        if new_doc.get("name_field") == target:
            return Refusal([request.translate(t(
                "名称字段不能移除，请先在对象设置中换一个名称字段",
                "The name field cannot be removed; choose another name field in the "
                "object's settings first"))])
    elif action == "restore":
        target = post.get("field", "")
        archived = {f["api_name"]: f for f in doc.get("archived_fields", [])}
        if target not in archived:
            return Refusal([request.translate(t("归档中没有这个字段",
                                                "The archive has no such field"))])
        new_doc["fields"].append(plain(archived[target]))
    elif action == "reorder":
        order = post.getall("order")
        move = post.get("move", "")
        if move:
            direction, _colon, target = move.partition(":")
            order = list(names)
            if target in order:
                i = order.index(target)
                j = i - 1 if direction == "up" else i + 1
                if 0 <= j < len(order):
                    order[i], order[j] = order[j], order[i]
        if sorted(order) != sorted(names):
            return Refusal([request.translate(t(
                "字段顺序不完整，请重新加载页面",
                "The field order is incomplete; reload the page"))])
        by_name = {f["api_name"]: f for f in new_doc["fields"]}
        new_doc["fields"] = [by_name[n] for n in order]
    elif action == "settings":
        form = ObjectForm(request, post)
        label = _label(form.label_zh.data, form.label_en.data)
        if label:
            new_doc["label"] = label
        new_doc.update(app=form.app.data, sharing=form.sharing.data,
                       deletable=bool(form.deletable.data),
                       name_field=(form.name_field.data or "").strip())
    elif action == "layouts":
        new_doc["layouts"] = [_layout_from_post(request, doc)]
    elif action == "list-views":
        new_doc["list_views"] = [_list_view_from_post(request, doc)]
    elif action == "dependencies":
        target = post.get("field", "")
        if target not in names:
            return Refusal([request.translate(NO_FIELD)])
        for option in new_doc["fields"][names.index(target)]["options"]:
            parent = post.get(f"parent__{option['value']}", "")
            option.pop("parent", None)
            if parent:
                option["parent"] = parent
    else:
        return error_page(request, _("Not found"), _("There is no such page."), 404)
    return new_doc


@view_config(route_name="manager.action", request_method="POST")
def object_action(request: Request) -> Response:
    """The object page's changes (archive, restore, reorder, settings), the editors'
    saves (layouts, list views, dependencies), and ``apply`` / ``rollback``."""
    user = _admin(request)
    if isinstance(user, Response):
        return user
    action = request.matchdict["action"]
    if action == "apply":
        return _apply(request)
    doc = _object(request)
    if isinstance(doc, Response):
        return doc
    if _system(doc["api_name"]):
        return _refused_system(request)
    if action == "rollback":
        return _rollback_preview(request, doc)
    new_doc = _changed_document(request, doc, action)
    if isinstance(new_doc, Response):
        return new_doc
    back = request.route_path("manager.object", object=doc["api_name"])
    if action in ("layouts", "list-views", "dependencies"):
        back = request.route_path("manager.action", object=doc["api_name"],
                                  action=action)
    result = new_doc if isinstance(new_doc, Refusal) else plan_document(request,
                                                                        new_doc)
    if isinstance(result, Planned):
        assert isinstance(new_doc, dict)
        return _preview(request, doc["api_name"], doc, new_doc, result, back)
    messages = result.general + [m for ms in result.paths.values() for m in ms]
    if action in ("layouts", "list-views", "dependencies"):
        return _editor(request, doc, action, messages, 400)
    settings = ObjectForm(request, request.POST if action == "settings" else None,
                          api_name=doc["api_name"], label_zh=doc["label"]["zh"],
                          label_en=doc["label"]["en"], app=doc.get("app", "apps"),
                          sharing=doc["sharing"], deletable=doc["deletable"],
                          name_field=doc["name_field"])
    return _object_page(request, doc, settings, messages, 400)


def _apply(request: Request) -> Response:
    """Applies the document (or rollback) the preview showed, as the API does."""
    name = request.matchdict["object"]
    if _system(name):
        return _refused_system(request)
    base = request.POST.get("base_version", "")
    if base != str(request.identity.metadata_version):
        return error_page(request, _("The metadata changed meanwhile"), _(
            "Someone applied another change since this preview. Go back, reload "
            "and make the change again."), 409)
    rollback_to = request.POST.get("rollback_to", "")
    try:
        if rollback_to:
            applied = tenancy.rollback_metadata(
                request.registry.database, request.identity.account, name,
                int(rollback_to), session=request.db, sysdb=request.sysdb,
                user_id=request.actor.user_id)
            action = "metadata.rollback"
        else:
            doc = json.loads(request.POST.get("document", ""))
            if not isinstance(doc, dict) or doc.get("api_name") != name:
                raise AppError("invalid", t("提交的文档无效", "The posted document is "
                                            "not valid"))
            applied = tenancy.apply_metadata(
                request.registry.database, request.identity.account,
                [Document(doc, f"{name}.json")], session=request.db,
                sysdb=request.sysdb, user_id=request.actor.user_id)
            action = "metadata.apply"
    except (MetadataError, AppError, ValueError) as exc:
        # nothing of a refused change may be committed (a plan can fail halfway)
        request.tm.doom()
        message = (request.translate(exc.message) if isinstance(exc, AppError)
                   else str(exc))
        return error_page(request, _("The change was not applied"), message,
                          getattr(exc, "status", 400))
    result = after_apply(request, applied, False, action)
    request.session.flash(request.translate(t(
        f"已应用，元数据版本 {applied.version}",
        f"Applied: metadata version {applied.version}")))
    if result["jobs"]:
        return HTTPSeeOther(request.route_path("manager.job", object=name,
                                               job=result["jobs"][0]))
    return HTTPSeeOther(request.route_path("manager.object", object=name))


# --- layouts, list views, dependencies --------------------------------------------


def _layout_from_post(request: Request, doc: Mapping[str, Any]) -> Doc:
    """Sections in page order; each field goes to the section its ``sec__`` input
    names, in the order of its ``pos__`` number (drag and drop sets both)."""
    rows = _rows(request, "section", ("zh", "en", "columns"))
    placed: dict[int, list[tuple[float, str]]] = {}
    for f in doc["fields"]:
        name = f["api_name"]
        section = request.POST.get(f"sec__{name}", "0")
        position = request.POST.get(f"pos__{name}", "0")
        try:
            index, order = int(section), float(position)
        except ValueError:
            continue
        if 1 <= index <= len(rows):
            placed.setdefault(index, []).append((order, name))
    sections = []
    for i, row in enumerate(rows, start=1):
        if not placed.get(i):
            continue
        section: Doc = {"columns": 1 if row["columns"] == "1" else 2,
                        "fields": [n for _o, n in sorted(placed[i])]}
        if _label(row["zh"], row["en"]):
            section["label"] = _label(row["zh"], row["en"])
        sections.append(section)
    layout = doc["layouts"][0]
    return {"api_name": layout["api_name"], "label": layout["label"],
            "sections": sections}


def _list_view_from_post(request: Request, doc: Mapping[str, Any]) -> Doc:
    chosen = set(request.POST.getall("col"))
    columns = []
    for name in [f["api_name"] for f in doc["fields"]] + list(LIST_SYSTEM_COLUMNS):
        if name in chosen:
            try:
                position = float(request.POST.get(f"pos__{name}", "0"))
            except ValueError:
                position = 0.0
            columns.append((position, name))
    view = doc["list_views"][0]
    out: Doc = {"api_name": view["api_name"],
                "label": _label(request.POST.get("label_zh"),
                                request.POST.get("label_en")) or view["label"],
                "columns": [n for _p, n in sorted(columns)]}
    sort_field = request.POST.get("sort_field", "")
    if sort_field:
        descending = request.POST.get("sort_dir") == "desc"
        out["sort"] = [("-" if descending else "") + sort_field]
    return out


def _editor(request: Request, doc: Doc, action: str, error: list[str] | None = None,
            status: int = 200) -> Response:
    label = request.translate(doc["label"])
    names = {f["api_name"]: request.translate(f["label"]) for f in doc["fields"]}
    if action == "layouts":
        layout = doc["layouts"][0]
        placed = {n for s in layout["sections"] for n in s["fields"]}
        sections = [{"zh": (s.get("label") or {}).get("zh", ""),
                     "en": (s.get("label") or {}).get("en", ""),
                     "columns": s.get("columns", 2),
                     "fields": [(n, names.get(n, n)) for n in s["fields"]]}
                    for s in layout["sections"]]
        sections.append({"zh": "", "en": "", "columns": 2, "fields": []})
        unplaced = [(n, names[n]) for n in names if n not in placed]
        return _page(request, "layouts.html", {
            "obj": doc, "label": label, "sections": sections, "unplaced": unplaced,
            "error": error or []}, status)
    if action == "list-views":
        view = doc["list_views"][0]
        system = {"owner": t("负责人", "Owner"), "created_at": t("创建时间", "Created"),
                  "updated_at": t("修改时间", "Updated")}
        names.update({k: request.translate(v) for k, v in system.items()})
        chosen = [(n, names.get(n, n), True) for n in view["columns"]]
        others = [(n, lbl, False) for n, lbl in names.items()
                  if n not in view["columns"]]
        sort = (view.get("sort") or ["-updated_at"])[0]
        return _page(request, "list_views.html", {
            "obj": doc, "label": label, "view": view, "columns": chosen + others,
            "names": names, "sort_field": sort.lstrip("-"),
            "sort_desc": sort.startswith("-"), "error": error or []}, status)
    if action == "dependencies":
        by_name = {f["api_name"]: f for f in doc["fields"]}
        selects = [{"api_name": f["api_name"], "label": request.translate(f["label"]),
                    "parent": by_name[f["depends_on"]],
                    "parent_label": request.translate(by_name[f["depends_on"]][
                        "label"])}
                   for f in doc["fields"]
                   if f.get("depends_on") and f["depends_on"] in by_name]
        for item in selects:
            item["options"] = by_name[item["api_name"]]["options"]
        return _page(request, "dependencies.html", {
            "obj": doc, "label": label, "selects": selects, "error": error or []},
            status)
    return _versions_page(request, doc)


@view_config(route_name="manager.action", request_method="GET")
def object_editor(request: Request) -> Response:
    doc = _admin_object(request)
    if isinstance(doc, Response):
        return doc
    action = request.matchdict["action"]
    if action not in ("layouts", "list-views", "dependencies", "versions"):
        return error_page(request, _("Not found"), _("There is no such page."), 404)
    if action != "versions" and _system(doc["api_name"]):
        return _refused_system(request)
    return _editor(request, doc, action)


# --- versions and rollback --------------------------------------------------------


def _versions_page(request: Request, doc: Doc) -> Response:
    listed = meta.versions(request.db)
    return _page(request, "versions.html", {
        "obj": doc, "label": request.translate(doc["label"]), "versions": listed,
        "current": request.identity.metadata_version,
        "system": _system(doc["api_name"])})


def _doc_at(request: Request, name: str, version: int) -> Doc | None:
    effective = tenancy.effective_for(request.registry.database,
                                      request.identity.account, version)
    found = effective.object(name)
    return dict(found.doc) if found else None


@view_config(route_name="manager.version", request_method="GET")
def version_page(request: Request) -> Response:
    """What differs between the object at one version and now."""
    doc = _admin_object(request)
    if isinstance(doc, Response):
        return doc
    raw = request.matchdict["version"]
    known = {v.version for v in meta.versions(request.db)}
    if not raw.isdigit() or int(raw) not in known:
        return error_page(request, _("Not found"), _("There is no such version."), 404)
    version = int(raw)
    old = _doc_at(request, doc["api_name"], version)
    return _page(request, "version.html", {
        "obj": doc, "label": request.translate(doc["label"]), "version": version,
        "current": request.identity.metadata_version,
        "changes": [request.translate(c) for c in describe_changes(old, doc)],
        "diff": text_diff(old and editable_document(old), editable_document(doc)),
        "system": _system(doc["api_name"])})


def _rollback_preview(request: Request, doc: Doc) -> Response:
    raw = request.POST.get("version", "")
    name = doc["api_name"]
    back = request.route_path("manager.action", object=name, action="versions")
    try:
        version = int(raw)
        applied = tenancy.rollback_metadata(
            request.registry.database, request.identity.account, name, version,
            session=request.db, sysdb=request.sysdb, user_id=request.actor.user_id,
            dry_run=True)
    except (ValueError, MetadataError, AppError) as exc:
        message = (request.translate(exc.message) if isinstance(exc, AppError)
                   else request.translate(t("请选择一个版本", "Choose a version")))
        return error_page(request, _("The rollback cannot be made"), message,
                          getattr(exc, "status", 400))
    planned = Planned(applied.version, applied.plan.describe(request.lang),
                      len(applied.plan.backfills), applied.plan.effective[name])
    return _preview(request, name, doc, editable_document(planned.effective),
                    planned, back, rollback_to=version)


# --- backfill jobs ----------------------------------------------------------------


@view_config(route_name="manager.job", request_method="GET")
def job_page(request: Request) -> Response:
    """A backfill's progress; htmx polls the ``_job.html`` part every second until
    the job has finished."""
    doc = _admin_object(request)
    if isinstance(doc, Response):
        return doc
    row = request.db.execute(select(jobs).where(
        jobs.c.id == request.matchdict["job"])).first()
    if row is None or (row.payload or {}).get("object") != doc["api_name"]:
        return error_page(request, _("Not found"), _("There is no such job."), 404)
    job = {"id": row.id, "status": row.status, "total": row.total, "done": row.done,
           "fields": ", ".join((row.payload or {}).get("fields", [])),
           "error": row.error, "finished": row.status in ("done", "failed")}
    values = {"obj": doc, "label": request.translate(doc["label"]), "job": job}
    if request.headers.get("HX-Request") == "true":
        return _page(request, "_job.html", values)
    return _page(request, "job.html", values)
