"""Problems found in metadata: where (file, line, path), what, and how to fix it.

Every message exists in English and Chinese because the HTTP API answers in the
user's language (zh by default) while the command line prints English.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

PathPart = str | int


class Text(NamedTuple):
    """A message fragment in both languages."""

    en: str
    zh: str


NO_TEXT = Text("", "")


def render_path(path: Iterable[PathPart]) -> str:
    """``("fields", 3, "type")`` → ``fields[3].type``; the document itself → ``""``."""
    rendered = ""
    for part in path:
        if isinstance(part, int):
            rendered += f"[{part}]"
        else:
            rendered += f".{part}" if rendered else part
    return rendered


def quote(value: Any) -> str:
    """A value as it appears in a message: strings in quotes, the rest as JSON."""
    text = f"'{value}'" if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= 60 else text[:57] + "…"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a document; ``path`` is rendered like ``fields[3].type``."""

    source: str
    path: str
    message: str
    fix: str = ""
    line: int | None = None
    message_zh: str = ""
    fix_zh: str = ""
    code: str = ""

    def as_text(self) -> dict[str, str]:
        """Message and fix in one sentence per language, as the API returns them."""
        en = f"{self.message} — {self.fix}" if self.fix else self.message
        message_zh, fix_zh = self.message_zh or self.message, self.fix_zh or self.fix
        zh = f"{message_zh}；{fix_zh}" if fix_zh else message_zh
        return {"en": en, "zh": zh}

    def __str__(self) -> str:
        where = f"{self.source}:{self.line}" if self.line else self.source
        if self.path:
            where += f" {self.path}"
        return f"{where}: {self.as_text()['en']}"


def suggest(word: Any, choices: Iterable[Any]) -> Text:
    """The hint " (did you mean …?)" when one of ``choices`` is close to ``word``."""
    if not isinstance(word, str):
        return NO_TEXT
    close = difflib.get_close_matches(word, [str(c) for c in choices], n=1)
    if not close:
        return NO_TEXT
    return Text(f" (did you mean '{close[0]}'?)", f"（是否想写 '{close[0]}'？）")


class MetadataError(Exception):
    """Metadata that cannot be used; ``problems`` lists everything found at once."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


# code → (message, fix); placeholders are filled by ``problem()``.
_CATALOG: dict[str, tuple[Text, Text]] = {
    "yaml_syntax": (
        Text("invalid YAML: {detail}", "YAML 语法错误：{detail}"),
        Text(
            "check the indentation, colons, quotes and duplicate keys on this line "
            "and the line above",
            "检查这一行及上一行的缩进、冒号、引号和重复的键",
        ),
    ),
    "unreadable": (
        Text("cannot read the file: {detail}", "无法读取文件：{detail}"),
        Text(
            "check the path, and that the file is UTF-8 text",
            "检查路径，并确认文件是 UTF-8 文本",
        ),
    ),
    "document_too_large": (
        Text(
            "the document is {size} bytes, over the {limit} bytes a metadata file "
            "may have",
            "文档有 {size} 字节，超过元数据文件 {limit} 字节的上限",
        ),
        Text(
            "split it into several files (one object per file)",
            "拆成几个文件（每个对象一个文件）",
        ),
    ),
    "too_many_values": (
        Text(
            "the document holds more than {limit} values (a YAML alias *name counts "
            "at every use)",
            "文档的取值超过 {limit} 个（YAML 别名 *name 每引用一次都计入）",
        ),
        Text(
            "write the values out instead of aliasing aliases (each level multiplies "
            "the size), or split the document",
            "直接写出取值，不要让别名层层引用别名（每一层都会成倍放大），或拆分文档",
        ),
    ),
    "nested_too_deeply": (
        Text(
            "the document is nested more than {limit} levels deep",
            "文档嵌套超过 {limit} 层",
        ),
        Text(
            "metadata needs a few levels only: look for unclosed brackets or "
            "runaway indentation",
            "元数据只需要几层嵌套：检查是否有未闭合的括号或错误的缩进",
        ),
    ),
    "not_a_mapping": (
        Text(
            "a metadata document must be a mapping of keys to values",
            "元数据文档必须是键值映射",
        ),
        Text(
            "start it with 'kind: object' (or approval, report, extension)",
            "以 'kind: object'（或 approval、report、extension）开头",
        ),
    ),
    "missing_kind": (
        Text("the document has no kind", "文档缺少 kind"),
        Text(
            "add 'kind:' with one of {allowed}", "添加 'kind:'，取值为 {allowed} 之一"
        ),
    ),
    "unknown_kind": (
        Text("{value} is not a document kind", "{value} 不是文档类型"),
        Text("use one of {allowed}{hint}", "可选值：{allowed}{hint}"),
    ),
    "unknown_key": (
        Text("unknown key '{key}'{where}", "未知的键 '{key}'{where}"),
        Text(
            "remove it, or check the spelling{hint}; allowed keys: {allowed}",
            "删除它或检查拼写{hint}；允许的键：{allowed}",
        ),
    ),
    "required": (
        Text("missing required key '{key}'", "缺少必填的键 '{key}'"),
        Text("add '{key}: …' here", "在这里添加 '{key}: …'"),
    ),
    "type": (
        Text(
            "expected {expected}, found {found}",
            "类型不对：应为{expected}，实际是{found}",
        ),
        Text("write {expected} here", "这里应填写{expected}"),
    ),
    "enum": (
        Text("{value} is not a valid {title}", "{value} 不是有效的{title}"),
        Text("use one of {allowed}{hint}", "可选值：{allowed}{hint}"),
    ),
    "const": (
        Text(
            "{value} is not allowed here, only {expected}",
            "这里不能是 {value}，只能是 {expected}",
        ),
        Text("set it to {expected}, or remove it", "改为 {expected}，或删除它"),
    ),
    "pattern": (
        Text("{value} is not a valid {title}", "{value} 不是有效的{title}"),
        Text("use {rule}", "应为{rule}"),
    ),
    "not_allowed": (
        Text("'{key}' is not allowed here", "这里不允许使用 '{key}'"),
        Text("remove it", "删除它"),
    ),
    "minimum": (
        Text("{value} is less than {limit}", "{value} 小于 {limit}"),
        Text("use {limit} or more", "使用不小于 {limit} 的值"),
    ),
    "exclusive_minimum": (
        Text("{value} is not greater than {limit}", "{value} 不大于 {limit}"),
        Text("use a value greater than {limit}", "使用大于 {limit} 的值"),
    ),
    "maximum": (
        Text("{value} is more than {limit}", "{value} 大于 {limit}"),
        Text("use {limit} or less", "使用不大于 {limit} 的值"),
    ),
    "min_items": (
        Text(
            "the list has {count} item(s), at least {limit} needed",
            "列表有 {count} 项，至少需要 {limit} 项",
        ),
        Text("add the missing item(s)", "补上缺少的项"),
    ),
    "min_length": (
        Text("the text is empty", "内容为空"),
        Text("write a value, or remove the key", "填写内容，或删除这个键"),
    ),
    "unique_items": (
        Text("the list contains {value} more than once", "列表中 {value} 出现了多次"),
        Text("remove the repeated value", "删除重复的值"),
    ),
    "min_properties": (
        Text("needs at least {limit} key(s)", "至少需要 {limit} 个键"),
        Text("add one of {allowed}", "添加以下之一：{allowed}"),
    ),
    "max_properties": (
        Text(
            "has {count} keys, at most {limit} allowed",
            "有 {count} 个键，最多允许 {limit} 个",
        ),
        Text("keep only one of {allowed}", "只保留以下之一：{allowed}"),
    ),
    "schema": (
        Text("{detail}", "{detail}"),
        Text(
            "see 'propolis metadata schema {kind}'",
            "参见 'propolis metadata schema {kind}'",
        ),
    ),
    "duplicate_document": (
        Text(
            "{kind} '{name}' is defined more than once in this batch",
            "{kind} '{name}' 在本批文档中重复定义",
        ),
        Text(
            "keep one definition and merge the others into it",
            "只保留一份定义，把其余内容合并进去",
        ),
    ),
    "duplicate_name": (
        Text("{what} '{name}' is defined more than once", "{what} '{name}' 重复定义"),
        Text("give each {what} its own name", "为每个{what}使用不同的名称"),
    ),
    "system_field_name": (
        Text("'{name}' is the name of a system field", "'{name}' 是系统字段名"),
        Text(
            "choose another api_name; every object already has {allowed}",
            "换一个 api_name；每个对象都已有 {allowed}",
        ),
    ),
    "reserved_word": (
        Text(
            "'{name}' is a reserved word in SQL or CEL",
            "'{name}' 是 SQL 或 CEL 的保留字",
        ),
        Text(
            "choose another api_name, e.g. '{name}_value'",
            "换一个 api_name，例如 '{name}_value'",
        ),
    ),
    "unknown_object": (
        Text("object '{name}' does not exist", "对象 '{name}' 不存在"),
        Text(
            "define it in the same batch, or use an existing object{hint}: {allowed}",
            "在同一批文档中定义它，或使用已有的对象{hint}：{allowed}",
        ),
    ),
    "unknown_field": (
        Text("'{name}' is not a field of {owner}", "'{name}' 不是{owner}的字段"),
        Text("use one of {allowed}{hint}", "可选：{allowed}{hint}"),
    ),
    "wrong_field_type": (
        Text(
            "'{name}' is a {actual} field, but {expected} is needed here",
            "'{name}' 是 {actual} 字段，这里需要{expected}",
        ),
        Text("choose {expected}", "请选择{expected}"),
    ),
    "self_dependency": (
        Text("'{name}' cannot depend on itself", "'{name}' 不能依赖自身"),
        Text("name another select field of the object", "填写本对象的另一个单选字段"),
    ),
    "formula_cycle": (
        Text("formulas depend on each other in a circle: {cycle}",
             "公式之间循环引用：{cycle}"),
        Text("make one of them use plain fields only", "让其中一个公式只引用普通字段"),
    ),
    "formula_reads_quote": (
        Text("{what} reads the quote field '{name}', which is only known when the "
             "record is read", "{what}引用了引用字段 '{name}'，它只在读取记录时才有值"),
        Text("use a lookup's own field in a rollup, or copy the value into a field",
             "请改用普通字段"),
    ),
    "not_in_table": (
        Text("'{key}' is not supported for a field inside a table",
             "子表中的字段不支持 '{key}'"),
        Text("remove it, or make the field a field of the object itself",
             "请删除它，或把该字段改为对象本身的字段"),
    ),
    "rollup_via_target": (
        Text(
            "'{origin}.{via}' points to '{target}', not to '{name}'",
            "'{origin}.{via}' 指向 '{target}'，而不是 '{name}'",
        ),
        Text(
            "choose a lookup or master_detail field of '{origin}' whose to is '{name}'",
            "选择 '{origin}' 中 to 为 '{name}' 的查找关系或主从关系字段",
        ),
    ),
    "expression_syntax": (
        Text("{what} does not compile: {detail}", "{what}无法编译：{detail}"),
        Text(
            "fix the CEL expression; fields are variables named by api_name, "
            "e.g. qty * price",
            "修正 CEL 表达式；字段按 api_name 作为变量使用，例如 qty * price",
        ),
    ),
    "expression_unknown_name": (
        Text(
            "{what} uses '{name}', which is not a field of {owner}",
            "{what}使用了 '{name}'，它不是{owner}的字段",
        ),
        Text("use one of {allowed}{hint}", "可选：{allowed}{hint}"),
    ),
    "expression_unknown_member": (
        Text(
            "{what} uses '{name}.{member}', but '{name}' has no '{member}'",
            "{what}使用了 '{name}.{member}'，但 '{name}' 没有 '{member}'",
        ),
        Text("use one of {allowed}{hint}", "可选：{allowed}{hint}"),
    ),
    "expression_no_members": (
        Text(
            "{what} uses '{name}.{member}', but a {actual} value has no members",
            "{what}使用了 '{name}.{member}'，但 {actual} 类型的值没有成员",
        ),
        Text(
            "use '{name}' itself; only table, area and location values have members",
            "直接使用 '{name}'；只有子表、地区和定位类型的值有成员",
        ),
    ),
    "expression_type": (
        Text("{what} cannot work: {detail}", "{what}无法计算：{detail}"),
        Text(
            "make both sides of each operator the same kind (numbers with numbers, "
            "text with text); convert with int(), string() or date()",
            "让每个运算符两边的类型一致（数字与数字、文本与文本）；"
            "可用 int()、string() 或 date() 转换",
        ),
    ),
    "expression_result_type": (
        Text(
            "{what} gives {found}, but must give {expected}",
            "{what}的结果是 {found}，但应为 {expected}",
        ),
        Text("change the expression, or the type the field returns",
             "修改表达式，或修改字段的结果类型"),
    ),
    "option_not_select": (
        Text(
            "{what} calls option() on '{name}', which is not a select or "
            "multiselect field",
            "{what}对 '{name}' 调用了 option()，但它不是单选或多选字段",
        ),
        Text("use one of {allowed}", "可选：{allowed}"),
    ),
    "option_unknown_attribute": (
        Text(
            "{what} reads the attribute '{attribute}' of '{name}', which none of its "
            "options declares",
            "{what}读取了 '{name}' 的属性 '{attribute}'，但它的选项都没有声明该属性",
        ),
        Text(
            "use one of {allowed}{hint}, or add attributes: {{{attribute}: …}} to "
            "its options",
            "可选：{allowed}{hint}，或在选项中添加 attributes: {{{attribute}: …}}",
        ),
    ),
    "default_not_option": (
        Text("default {value} is not one of the options", "默认值 {value} 不在选项中"),
        Text("use one of {allowed}", "可选：{allowed}"),
    ),
    "option_parent_missing": (
        Text(
            "option {value} has no parent, but the field depends on '{parent}'",
            "选项 {value} 没有 parent，但该字段依赖 '{parent}'",
        ),
        Text(
            "add 'parent:' with one of {allowed}",
            "添加 'parent:'，取值为 {allowed} 之一",
        ),
    ),
    "option_parent_unknown": (
        Text(
            "parent {value} is not an option of '{parent}'",
            "parent {value} 不是 '{parent}' 的选项",
        ),
        Text("use one of {allowed}", "可选：{allowed}"),
    ),
    "option_parent_unexpected": (
        Text(
            "option {value} has a parent, but the field has no depends_on",
            "选项 {value} 设置了 parent，但该字段没有 depends_on",
        ),
        Text(
            "add depends_on naming the parent select, or remove parent",
            "添加 depends_on 指向上级单选字段，或删除 parent",
        ),
    ),
    "set_not_writable": (
        Text(
            "{what} sets '{name}', which is {why} and cannot be written",
            "{what}给 '{name}' 赋值，但它{why}，不能写入",
        ),
        Text("set one of the writable fields {allowed}{hint}",
             "只能给可写字段赋值：{allowed}{hint}"),
    ),
    "schedule_set_or_action": (
        Text("schedule '{name}' {found}", "定时任务 '{name}' {found}"),
        Text(
            "give either set: {{field: expression}} or action: NAME (an action of the "
            "object), not both",
            "填写 set: {{字段: 表达式}} 或 action: 动作名（本对象的动作）之一，"
            "不能同时填写",
        ),
    ),
    "chart_field_unusable": (
        Text("'{name}' cannot be used for {use}: {why}",
             "'{name}' 不能用于{use}：{why}"),
        Text("choose one of {allowed}", "可选：{allowed}"),
    ),
    "measure_field": (
        Text("measure '{name}' {why}", "指标 '{name}' {why}"),
        Text("give count no field, each other function a field, or write a formula "
             "alone", "count 不填字段，其他函数填一个字段，或只写公式"),
    ),
    "unknown_measure": (
        Text("'{name}' is not a measure of {owner}", "'{name}' 不是{owner}的指标"),
        Text("use one of {allowed}{hint}", "可选：{allowed}{hint}"),
    ),
    "compare_needs_bucket": (
        Text("compare needs a date dimension with a bucket",
             "对比（compare）需要一个带日期分组（bucket）的维度"),
        Text("add a dimension such as {{field: close_date, bucket: month}}, or "
             "remove compare",
             "添加如 {{field: close_date, bucket: month}} 的维度，或删除 compare"),
    ),
    "unknown_chart": (
        Text("chart '{name}' does not exist", "图表 '{name}' 不存在"),
        Text("define it in the same batch, or use an existing chart{hint}: {allowed}",
             "在同一批文档中定义它，或使用已有的图表{hint}：{allowed}"),
    ),
    "widget_kind": (
        Text("widget {index} {why}", "第 {index} 个组件{why}"),
        Text("give each widget exactly one of chart, kpi or formula (a formula "
             "widget needs an api_name)", "每个组件只填 chart、kpi、formula 之一"
             "（formula 组件需要 api_name）"),
    ),
    "generated_object": (
        Text("object '{name}' is made from {kind} '{by}' and cannot be changed "
             "itself", "对象 '{name}' 由 {kind} '{by}' 生成，不能直接修改"),
        Text("change {kind} '{by}' instead", "请修改 {kind} '{by}'"),
    ),
    "entry_object_taken": (
        Text("report '{name}' keeps its entries in object '{object}', which exists "
             "already", "报数 '{name}' 的数据保存在对象 '{object}' 中，但该对象已存在"),
        Text("rename the report or the object", "请修改报数或该对象的 api_name"),
    ),
    "schedule_at_hourly": (
        Text("'at' does not apply to schedule '{name}', which runs every hour",
             "定时任务 '{name}' 每小时执行，不能指定 at"),
        Text("remove at, or run it every day, week or month",
             "删除 at，或改为每天、每周或每月执行"),
    ),
    "layer_change": (
        Text(
            "field '{name}' of '{object}' has {key} {old} in a lower layer; "
            "a later layer cannot change it to {new}",
            "对象 '{object}' 的字段 '{name}' 在下层的 {key} 是 {old}，"
            "上层不能改为 {new}",
        ),
        Text(
            "keep {key}: {old}, or add a new field with another api_name and hide "
            "this one with 'hidden: true'",
            "保持 {key}: {old}；或新建一个不同 api_name 的字段，"
            "并用 'hidden: true' 隐藏此字段",
        ),
    ),
}


def _fill(template: str, params: dict[str, Any], lang: str) -> str:
    def fragment(value: Any) -> str:
        if isinstance(value, Text):
            return value.zh if lang == "zh" else value.en
        if isinstance(value, list | tuple):
            return ", ".join(str(v) for v in value)
        return str(value)

    return template.format(**{k: fragment(v) for k, v in params.items()})


def problem(
    code: str,
    source: str,
    path: Sequence[PathPart] = (),
    line: int | None = None,
    **params: Any,
) -> Problem:
    """Builds the problem ``code`` of the catalog in both languages. A ``Text`` param
    is used in its language, a list is joined with commas."""
    message, fix = _CATALOG[code]
    return Problem(
        source=source,
        path=render_path(path),
        message=_fill(message.en, params, "en"),
        fix=_fill(fix.en, params, "en"),
        line=line,
        message_zh=_fill(message.zh, params, "zh"),
        fix_zh=_fill(fix.zh, params, "zh"),
        code=code,
    )
