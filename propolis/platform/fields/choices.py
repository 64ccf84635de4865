"""Types whose value is chosen from the field's ``options`` (select, multiselect):
options normalized to ``{value, label, parent, attributes}``, a select may depend
on another (``depends_on``: each option names the parent's option it belongs
to), labels count as search words and are read back from cells."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from propolis.metadata.errors import Text, quote
from propolis.metadata.fieldtypes import Scope, definition_of
from propolis.metadata.normalize import text
from propolis.platform.errors import COMMA, _, joined
from propolis.platform.fields.base import Field, FieldType
from propolis.platform.fields.cells import bad
from propolis.platform.fields.values import ValueProblem

if TYPE_CHECKING:
    from propolis.metadata.checks import Checks
    from propolis.metadata.errors import PathPart

OPTIONS_KEYS = {
    "options": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/option"}},
    "depends_on": {"$ref": "#/$defs/api_name"},
}


def normalized_option(option: str | Mapping[str, Any]) -> dict[str, Any]:
    if isinstance(option, str):
        option = {"value": option}
    value = option["value"]
    return {
        "value": value,
        "label": text(option.get("label"), value),
        "parent": option.get("parent"),
        "attributes": dict(option.get("attributes") or {}),
    }


def matching_options(field: Field, term: str) -> list[str]:
    """The option values whose value or label contains ``term`` (lower case)."""
    return [o["value"] for o in field.get("options", ())
            if term in str(o["value"]).lower()
            or any(term in str(label).lower()
                   for label in (o.get("label") or {}).values())]


def option_cell(field: Field, text: str) -> str:
    """An option as a cell names it: its value, or a label only it has."""
    options = field.get("options", ())
    for option in options:
        if option["value"] == text:
            return str(option["value"])
    by_label = {o["value"] for o in options
                for label in (o.get("label") or {}).values() if label == text}
    if len(by_label) == 1:
        return str(by_label.pop())
    values = joined([str(o["value"]) for o in options[:20]], COMMA)
    raise bad(_("'${text}' is not one of the options (${values})",
                mapping={"text": text, "values": values}))


class Choice(FieldType):
    """A value among the options; ``multiple``: several of them."""

    has_options = True
    required_keys = ("options",)
    multiple: ClassVar[bool] = False

    def normalize(self, field: dict[str, Any]) -> None:
        field["options"] = [normalized_option(o) for o in field["options"]]
        field.setdefault("depends_on", None)

    def option_value(self, field: Field, value: Any) -> str:
        if not isinstance(value, str) or value not in {
                o["value"] for o in field.get("options", ())}:
            raise ValueProblem(_("is not one of the options"))
        return value

    def operand(self, field: Field, value: Any, column: Any) -> Any:
        return self.option_value(field, value)

    def chosen_words(self, field: Field, chosen: set[str]) -> str:
        """Option values and their labels (a search for 重要 finds ``vip``)."""
        words = []
        for option in field.get("options", ()):
            if option["value"] in chosen:
                words.append(option["value"])
                words.extend(str(v) for v in (option.get("label") or {}).values())
        return " ".join(words)

    def check(self, checks: Checks, field: Field, raw: Field,
              here: tuple[PathPart, ...], scope: Scope, owner: Text,
              object_name: str, *, in_record: bool) -> None:
        options = field["options"]
        values = [o["value"] for o in options]
        checks.check_unique(
            options, (*here, "options"), Text("option value", "选项值"), "value")
        default = field["default"]
        for value in [default] if isinstance(default, str) else default or []:
            if value not in values:
                checks.add((*here, "default"), "default_not_option",
                           value=quote(value), allowed=values)
        parent_name = field["depends_on"]
        if parent_name is None:
            for i, option in enumerate(options):
                if option["parent"] is not None:
                    checks.add((*here, "options", i, "parent"),
                               "option_parent_unexpected", value=quote(option["value"]))
            return
        parent = scope.get(parent_name)
        if parent is None:
            parents = sorted(n for n, f in scope.items() if single_choice(f))
            checks.unknown_field((*here, "depends_on"), parent_name, parents,
                                 Text("this object", "本对象"))
        elif parent_name == field["api_name"]:
            checks.add((*here, "depends_on"), "self_dependency", name=parent_name)
        elif not single_choice(parent):
            checks.wrong_type((*here, "depends_on"), parent_name, parent["type"],
                              Text("a select field", "单选字段"))
        else:
            parent_values = [o["value"] for o in parent["options"]]
            for i, option in enumerate(options):
                if option["parent"] is None:
                    checks.add((*here, "options", i), "option_parent_missing",
                               value=quote(option["value"]), parent=parent_name,
                               allowed=parent_values)
                elif option["parent"] not in parent_values:
                    checks.add((*here, "options", i, "parent"),
                               "option_parent_unknown", value=quote(option["parent"]),
                               parent=parent_name, allowed=parent_values)


def single_choice(field: Field) -> bool:
    """A field another select may depend on: one option chosen."""
    found = definition_of(field)
    return isinstance(found, Choice) and not found.multiple
