"""Messages of the code (gettext) and labels of metadata ({zh, en}), rendered in a
language inside and outside requests."""

from __future__ import annotations

import pytest

from propolis.metadata.texts import pick
from propolis.platform.errors import (
    SEMICOLON,
    AppError,
    _,
    _c,
    add_message,
    both,
    joined,
    localizer_for,
    translate,
)


@pytest.mark.parametrize(("label", "lang", "shown"), [
    ({"zh": "客户", "en": "Customer"}, "zh", "客户"),
    ({"zh": "客户", "en": "Customer"}, "en", "Customer"),
    ({"zh": "客户"}, "en", "客户"),           # the other language
    ({"zh": "", "en": "Customer"}, "zh", "Customer"),
    ({}, "zh", ""),
    (None, "en", ""),
])
def test_pick_falls_back_to_the_other_language_then_nothing(
        label: dict[str, str] | None, lang: str, shown: str) -> None:
    assert pick(label, lang) == shown


def test_a_message_is_translated_from_the_catalogue() -> None:
    assert both(_("is required")) == {"zh": "必填", "en": "is required"}
    # a text no catalogue knows stays as written
    assert both(_("Not in any catalogue")) == {"zh": "Not in any catalogue",
                                               "en": "Not in any catalogue"}


def test_mapping_values_are_rendered_in_the_same_language() -> None:
    label = {"zh": "客户", "en": "Customer"}
    message = _("There is no object '${name}'", mapping={"name": label})
    assert both(message) == {"zh": "没有对象 客户",
                             "en": "There is no object 'Customer'"}
    nested = _("${message} ${fix}", mapping={
        "message": _("is required"),
        "fix": _("Add a new field and copy the values instead.")})
    assert both(nested) == {
        "zh": "必填请新增一个字段并把数据复制过去。",
        "en": "is required Add a new field and copy the values instead."}


def test_a_context_tells_apart_two_translations_of_one_english_text() -> None:
    assert translate(_("Log out"), "zh") == "退出"
    assert translate(_c("platform.api.openapi", "Log out"), "zh") == "退出登录"
    assert translate(_c("platform.api.openapi", "Log out"), "en") == "Log out"


def test_joined_messages_take_each_language_s_separator() -> None:
    message = joined([_("is required"), {"zh": "太长", "en": "too long"}], SEMICOLON)
    assert both(message) == {"zh": "必填；太长", "en": "is required; too long"}


def test_messages_with_one_msgid_and_other_mappings_are_not_duplicates() -> None:
    messages: list[object] = []
    for value in (1, 2, 1):
        add_message(messages,  # type: ignore[arg-type]
                    _("at most ${value} items", mapping={"value": value}))
    assert [both(m)["en"] for m in messages] == ["at most 1 items", "at most 2 items"]


def test_an_error_answers_in_the_language_asked() -> None:
    error = AppError("invalid", _("Invalid data"), {
        "name": [_("is required")],
        "label": [{"zh": "元数据的说明", "en": "said by the metadata"}]})
    assert error.as_json("zh") == {"error": {
        "code": "invalid", "message": "数据有误",
        "fields": {"name": ["必填"], "label": ["元数据的说明"]}}}
    assert error.as_json("en")["error"]["fields"] == {
        "name": ["is required"], "label": ["said by the metadata"]}
    assert str(error) == "Invalid data"


def test_the_localizer_of_a_language_is_made_once() -> None:
    assert localizer_for("zh") is localizer_for("zh")
    assert localizer_for("zh").locale_name == "zh"
