"""The JSON Schema (draft 2020-12) of what a client may write to an object's records,
generated from its metadata: the single source of truth for the API, import and the
generated forms. Errors come back all at once, as ``{field: [{"zh", "en"}]}``."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError

from propolis.platform.errors import Text, t
from propolis.platform.fields.values import (
    COMPUTED_TYPES,
    TIME_RE,
    ValueProblem,
    parse_date,
    parse_datetime,
)
from propolis.platform.storage.tables import ID_LENGTH, STRING_LENGTHS

TEXT_LIMIT = 100_000
RICHTEXT_LIMIT = 1_000_000
MAX_ROWS = 1000
PHONE_PATTERN = r"^\+?[0-9()][0-9 ()\-.#*]*$"
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")

format_checker = FormatChecker(())


@format_checker.checks("date")
def _is_date(value: object) -> bool:
    if isinstance(value, str):
        try:
            parse_date(value)
        except ValueProblem:
            return False
    return True


@format_checker.checks("date-time")
def _is_datetime(value: object) -> bool:
    if isinstance(value, str):
        try:
            parse_datetime(value)
        except ValueProblem:
            return False
    return True


@format_checker.checks("email")
def _is_email(value: object) -> bool:
    return not isinstance(value, str) or bool(EMAIL_RE.match(value))


@format_checker.checks("uri")
def _is_web_url(value: object) -> bool:
    if not isinstance(value, str):
        return True
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def writable(field: Mapping[str, Any]) -> bool:
    """Whether clients write this field (computed fields are read-only)."""
    return field["type"] not in COMPUTED_TYPES


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    if "enum" in schema:
        return {**schema, "enum": [*schema["enum"], None]}
    return {**schema, "type": [schema["type"], "null"]}


def field_schema(field: Mapping[str, Any]) -> dict[str, Any]:
    """The schema of one field's JSON value (null allowed unless required)."""
    ftype = field["type"]
    schema: dict[str, Any]
    if ftype in ("text", "phone", "email", "url"):
        limit = STRING_LENGTHS[ftype]
        if ftype == "text":
            limit = int(field.get("max_length") or limit)
        schema = {"type": "string", "maxLength": limit}
        if ftype == "phone":
            schema["pattern"] = PHONE_PATTERN
        elif ftype in ("email", "url"):
            schema["format"] = "email" if ftype == "email" else "uri"
    elif ftype in ("textarea", "richtext"):
        schema = {"type": "string",
                  "maxLength": TEXT_LIMIT if ftype == "textarea" else RICHTEXT_LIMIT}
    elif ftype in ("number", "currency", "percent"):
        # what the column holds exactly on both databases (SQLite keeps a 64-bit
        # count of the smallest unit): 18 digits in all, ``precision`` of them
        # after the point
        bound = 10 ** (18 - int(field.get("precision", 2))) - 1
        low, high = field.get("min"), field.get("max")
        schema = {"type": "number",
                  "minimum": -bound if low is None else max(low, -bound),
                  "maximum": bound if high is None else min(high, bound)}
    elif ftype == "date":
        schema = {"type": "string", "format": "date"}
    elif ftype == "time":
        schema = {"type": "string", "pattern": TIME_RE.pattern}
    elif ftype == "datetime":
        schema = {"type": "string", "format": "date-time"}
    elif ftype == "boolean":
        schema = {"type": "boolean"}
    elif ftype == "select":
        schema = {"enum": [o["value"] for o in field.get("options", ())]}
    elif ftype == "multiselect":
        schema = {"type": "array", "uniqueItems": True,
                  "items": {"enum": [o["value"] for o in field.get("options", ())]}}
    elif ftype in ("lookup", "master_detail", "user", "department"):
        schema = {"type": "string", "minLength": 1, "maxLength": ID_LENGTH}
    elif ftype in ("file", "image"):
        schema = {"type": "array", "uniqueItems": True,
                  "items": {"type": "string", "minLength": 1, "maxLength": ID_LENGTH}}
        if field.get("max_count"):
            schema["maxItems"] = field["max_count"]
    elif ftype == "area":
        part = {"type": ["string", "null"], "maxLength": 100}
        schema = {"type": "object", "additionalProperties": False,
                  "required": ["province"],
                  "properties": {"province": {"type": "string", "minLength": 1,
                                              "maxLength": 100},
                                 "city": part, "district": part}}
    elif ftype == "location":
        schema = {"type": "object", "additionalProperties": False,
                  "required": ["lat", "lng"],
                  "properties": {
                      "lat": {"type": "number", "minimum": -90, "maximum": 90},
                      "lng": {"type": "number", "minimum": -180, "maximum": 180},
                      "address": {"type": ["string", "null"], "maxLength": 500}}}
    elif ftype == "table":
        schema = {"type": "array", "maxItems": MAX_ROWS,
                  "items": object_schema(field["fields"], create=True, row=True)}
    else:
        raise ValueError(f"field type {ftype!r} is not writable")
    if field.get("required"):
        if schema.get("type") == "string":
            schema["minLength"] = max(schema.get("minLength", 0), 1)
        elif schema.get("type") == "array":
            schema["minItems"] = 1
        return schema
    return _nullable(schema)


def object_schema(
    fields: Iterable[Mapping[str, Any]], *, create: bool, row: bool = False
) -> dict[str, Any]:
    """The schema of a record (or a table row) as a client writes it. ``create``:
    required fields must be present; an update only names the fields it changes."""
    properties: dict[str, Any] = {}
    required = []
    for field in fields:
        if not writable(field):
            continue
        properties[field["api_name"]] = field_schema(field)
        if create and field.get("required"):
            required.append(field["api_name"])
    if row:
        properties["id"] = {"type": ["string", "null"], "maxLength": ID_LENGTH}
    schema: dict[str, Any] = {"type": "object", "properties": properties,
                              "additionalProperties": False}
    if required:
        schema["required"] = required
    return schema


def record_schema(obj_doc: Mapping[str, Any], *, create: bool) -> dict[str, Any]:
    """The published schema of an object's writable record body."""
    return {"$schema": "https://json-schema.org/draft/2020-12/schema",
            "title": obj_doc["api_name"],
            **object_schema(obj_doc["fields"], create=create)}


Check = Callable[[Any], bool]


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


TYPE_CHECKS: dict[str, Check] = {
    "string": lambda v: isinstance(v, str), "number": _is_number,
    "boolean": lambda v: isinstance(v, bool), "array": lambda v: isinstance(v, list),
    "object": lambda v: isinstance(v, dict), "null": lambda v: v is None,
}


def _keyword_check(key: str, arg: Any, schema: Mapping[str, Any]) -> Check | None:
    """One keyword as a predicate (None: nothing to check here)."""
    if key in ("$schema", "title", "additionalProperties"):
        return None  # additionalProperties is checked with "properties"
    if key == "type":
        kinds = [TYPE_CHECKS[k] for k in (arg if isinstance(arg, list) else [arg])]
        return lambda v: any(k(v) for k in kinds)
    if key == "enum":
        allowed = frozenset(arg)  # strings and None: no 1 == True pitfalls
        return lambda v: isinstance(v, str | None) and v in allowed
    if key == "maxLength":
        return lambda v: not isinstance(v, str) or len(v) <= arg
    if key == "minLength":
        return lambda v: not isinstance(v, str) or len(v) >= arg
    if key == "maxItems":
        return lambda v: not isinstance(v, list) or len(v) <= arg
    if key == "minItems":
        return lambda v: not isinstance(v, list) or len(v) >= arg
    if key == "minimum":
        return lambda v: not _is_number(v) or v >= arg
    if key == "maximum":
        return lambda v: not _is_number(v) or v <= arg
    if key == "pattern":
        pattern = re.compile(arg)
        return lambda v: not isinstance(v, str) or pattern.search(v) is not None
    if key == "format":
        return lambda v: format_checker.conforms(v, arg)
    if key == "uniqueItems":
        return lambda v: not isinstance(v, list) or len(set(v)) == len(v)
    if key == "items":
        item = compile_check(arg)
        return lambda v: not isinstance(v, list) or all(item(x) for x in v)
    if key == "required":
        names = tuple(arg)
        return lambda v: not isinstance(v, dict) or all(n in v for n in names)
    if key == "properties":
        props = {n: compile_check(s) for n, s in arg.items()}
        closed = schema.get("additionalProperties") is False

        def properties(v: Any) -> bool:
            if not isinstance(v, dict):
                return True
            for name, value in v.items():
                check = props.get(name)
                if check is None and closed or check is not None and not check(value):
                    return False
            return True

        return properties
    raise ValueError(f"no fast check for the keyword {key!r}")


def compile_check(schema: Mapping[str, Any]) -> Check:
    """The schema as one Python predicate for the keywords the generated schemas
    use; jsonschema is only needed to explain a refusal. (A keyword it does not
    know is a ValueError: the generator and this compiler change together.)"""
    if schema.get("additionalProperties", False) is not False:
        raise ValueError("no fast check for additionalProperties schemas")
    checks = [c for key, arg in schema.items()
              if (c := _keyword_check(key, arg, schema)) is not None]
    return lambda value: all(check(value) for check in checks)


class RecordValidator:
    """A generated schema with its jsonschema validator and its compiled check:
    valid data (the common case) is confirmed by the fast check, and refusals are
    explained by jsonschema."""

    def __init__(self, schema: Mapping[str, Any]) -> None:
        Draft202012Validator.check_schema(schema)
        self.schema = schema
        self.validator = Draft202012Validator(schema, format_checker=format_checker)
        self._check = compile_check(schema)

    def is_valid(self, data: Any) -> bool:
        try:
            return self._check(data)
        except TypeError:  # unhashable items and the like: let jsonschema judge
            return self.validator.is_valid(data)

    def errors(self, data: Mapping[str, Any]) -> Errors:
        """Every error of ``data`` by top-level field name ({} when valid)."""
        if self.is_valid(data):
            return {}
        return schema_errors(self.validator, data)


def make_validator(schema: Mapping[str, Any]) -> RecordValidator:
    return RecordValidator(schema)


FORMAT_MESSAGES = {
    "date": t("日期应写作 2026-11-28", "a date looks like 2026-11-28"),
    "date-time": t("时间应为带时区的 ISO 8601 格式，如 2026-11-28T09:30:00+08:00",
                   "a date-time is ISO 8601 with an offset, "
                   "e.g. 2026-11-28T09:30:00+08:00"),
    "email": t("邮箱地址格式不正确", "is not an e-mail address"),
    "uri": t("应为 http(s) 网址", "must be an http(s) URL"),
}
TYPE_NAMES = {"string": ("文本", "text"), "number": ("数字", "a number"),
              "boolean": ("是/否", "true or false"), "array": ("列表", "a list"),
              "object": ("对象", "an object")}
REQUIRED = t("必填", "is required")


Errors = dict[str, list[Text]]


def _message(error: ValidationError) -> dict[str, str]:
    v, value = error.validator, error.validator_value
    if v == "type":
        if error.instance is None:
            return REQUIRED
        expected = value[0] if isinstance(value, list) else value
        zh, en = TYPE_NAMES.get(expected, (expected, expected))
        return t(f"应为{zh}", f"must be {en}")
    if v == "minLength" and value == 1:
        return REQUIRED
    if v == "minItems" and value == 1:
        return REQUIRED
    messages = {
        "maxLength": t(f"最多 {value} 个字符", f"at most {value} characters"),
        "minimum": t(f"不能小于 {value}", f"must be at least {value}"),
        "maximum": t(f"不能大于 {value}", f"must be at most {value}"),
        "enum": t("不是可选的值", "is not one of the options"),
        "pattern": t("格式不正确", "has the wrong format"),
        "uniqueItems": t("有重复的值", "has repeated values"),
        "maxItems": t(f"最多 {value} 项", f"at most {value} items"),
        "minItems": t(f"至少 {value} 项", f"at least {value} items"),
        "additionalProperties": t("有不认识的键", "has unknown keys"),
        "minLength": t(f"至少 {value} 个字符", f"at least {value} characters"),
    }
    if v == "format":
        return FORMAT_MESSAGES.get(value, messages["pattern"])
    return messages.get(v, t("值不正确", "is not valid"))


def _located(path: list[Any], name: str | None, msg: Text
             ) -> tuple[str, Text]:
    """The top-level field an error belongs to, and its message with the row and
    column inside a table field spelled out."""
    parts = [*path, name] if name is not None else list(path)
    top, inner = str(parts[0]), parts[1:]
    if not inner:
        return top, msg
    where_zh, where_en = [], []
    for part in inner:
        if isinstance(part, int):
            where_zh.append(f"第 {part + 1} 行")
            where_en.append(f"row {part + 1}")
        else:
            where_zh.append(str(part))
            where_en.append(str(part))
    return top, t(f"{' '.join(where_zh)}：{msg['zh']}",
                  f"{' '.join(where_en)}: {msg['en']}")


def schema_errors(validator: Draft202012Validator, data: Mapping[str, Any]) -> Errors:
    """Every schema error of ``data``, by top-level field name."""
    found: Errors = {}
    for error in validator.iter_errors(data):
        path = list(error.absolute_path)
        if error.validator == "required":
            names = [n for n in error.validator_value if n not in error.instance]
            located = [_located(path, n, REQUIRED) for n in names]
        elif error.validator == "additionalProperties" and not path:
            continue  # unknown top-level keys are reported before validation
        else:
            located = [_located(path, None, _message(error))]
        for top, message in located:
            if message not in found.setdefault(top, []):
                found[top].append(message)
    return found
