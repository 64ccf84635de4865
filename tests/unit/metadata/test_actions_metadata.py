"""The ``actions:`` and ``schedules:`` of an object: the schema, the static checks
(names, conditions, assignments), normalization, layering and export."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import pytest

from propolis.metadata import (
    MetadataError,
    Problem,
    load_text,
    merge_layers,
    validate_documents,
)
from propolis.metadata.expressions import compile_expression
from propolis.metadata.packages.merge import merge

TASK_YAML = """\
kind: object
api_name: task
fields:
  - {api_name: title, type: text}
  - {api_name: status, type: select, options: [
      {value: open, attributes: {closed: false}},
      {value: done, attributes: {closed: true}},
      {value: overdue, attributes: {closed: false}}]}
  - {api_name: due_date, type: date}
  - {api_name: hours, type: number}
  - {api_name: double_hours, type: formula, returns: number,
     expression: "hours * 2"}
actions:
  - api_name: finish
    label: {zh: 完成, en: Finish}
    when: "!option(status, 'closed')"
    set: {status: "'done'", hours: "hours + 1"}
    roles: [employee]
    confirm: {zh: 确定完成？, en: Finish it?}
schedules:
  - {api_name: overdue, every: day, at: "08:30",
     where: "status == 'open' && due_date < today()",
     set: {status: "'overdue'"}}
  - {api_name: close_late, every: week, where: "status == 'overdue'",
     action: finish}
"""


def problems_of(text: str) -> list[Problem]:
    with pytest.raises(MetadataError) as info:
        validate_documents(load_text(text, "task.yaml"))
    return info.value.problems


def codes(problems: list[Problem]) -> list[tuple[str, str]]:
    return [(p.code, p.path) for p in problems]


def with_changes(old: str, new: str) -> str:
    assert old in TASK_YAML
    return TASK_YAML.replace(old, new)


def test_actions_and_schedules_validate_and_are_normalized() -> None:
    (task,) = validate_documents(load_text(TASK_YAML, "task.yaml"))
    (finish,) = task["actions"]
    assert finish == {
        "api_name": "finish", "label": {"zh": "完成", "en": "Finish"},
        "when": "!option(status, 'closed')",
        "set": {"status": "'done'", "hours": "hours + 1"},
        "roles": ["employee"], "confirm": {"zh": "确定完成？", "en": "Finish it?"}}
    overdue, close_late = task["schedules"]
    assert overdue["label"] == {"zh": "overdue", "en": "overdue"}
    assert (overdue["at"], overdue["action"]) == ("08:30", None)
    assert (close_late["at"], close_late["set"], close_late["action"]) == (
        None, None, "finish")


def test_an_object_without_them_has_neither_key() -> None:
    text = TASK_YAML.split("actions:")[0]
    (task,) = validate_documents(load_text(text, "task.yaml"))
    assert "actions" not in task and "schedules" not in task


@pytest.mark.parametrize(("old", "new", "expected"), [
    # the condition must be a boolean over fields that exist
    ("when: \"!option(status, 'closed')\"", "when: \"hours + 1\"",
     ("expression_result_type", "actions[0].when")),
    ("when: \"!option(status, 'closed')\"", "when: \"stauts == 'open'\"",
     ("expression_unknown_name", "actions[0].when")),
    # the value must fit the field
    ("set: {status: \"'done'\", hours: \"hours + 1\"}",
     "set: {status: \"'done'\", hours: \"'many'\"}",
     ("expression_result_type", "actions[0].set.hours")),
    # only writable fields are set
    ("set: {status: \"'done'\", hours: \"hours + 1\"}",
     "set: {double_hours: \"1\"}",
     ("set_not_writable", "actions[0].set.double_hours")),
    ("set: {status: \"'done'\", hours: \"hours + 1\"}",
     "set: {owner: \"'x'\"}",
     ("set_not_writable", "actions[0].set.owner")),
    ("set: {status: \"'overdue'\"}", "set: {statuss: \"'overdue'\"}",
     ("set_not_writable", "schedules[0].set.statuss")),
    ("set: {status: \"'done'\", hours: \"hours + 1\"}", "set: {}",
     ("min_properties", "actions[0].set")),
    # a schedule does one thing, at a time it can keep
    ("     action: finish", "     action: finish, set: {status: \"'done'\"}",
     ("schedule_set_or_action", "schedules[1]")),
    ("every: day, at: \"08:30\"", "every: hour, at: \"08:30\"",
     ("schedule_at_hourly", "schedules[0].at")),
    ("at: \"08:30\"", "at: \"8:30\"", ("pattern", "schedules[0].at")),
    ("every: week", "every: year", ("enum", "schedules[1].every")),
    ("where: \"status == 'overdue'\"", "where: \"due_date\"",
     ("expression_result_type", "schedules[1].where")),
    ("  - api_name: finish", "  - api_name: finish\n    colour: red",
     ("unknown_key", "actions[0].colour")),
])
def test_mistakes_are_named_at_their_path(old: str, new: str,
                                          expected: tuple[str, str]) -> None:
    assert expected in codes(problems_of(with_changes(old, new)))


def test_a_schedule_without_set_or_action_says_what_to_give() -> None:
    problems = problems_of(with_changes("     action: finish", "     label: x"))
    (problem,) = [p for p in problems if p.code == "schedule_set_or_action"]
    assert "has neither set nor action" in problem.message
    assert "action: NAME" in problem.fix
    assert problem.source == "task.yaml" and problem.line


def test_duplicate_action_names_are_refused() -> None:
    twice = TASK_YAML.replace("schedules:", """\
  - {api_name: finish, set: {status: "'done'"}}
schedules:""")
    assert ("duplicate_name", "actions[1]") in codes(problems_of(twice))


def layer(text: str) -> dict[str, Any]:
    (doc,) = load_text(text, "layer.yaml")
    return dict(doc.data)


def test_layers_replace_actions_and_schedules_by_name() -> None:
    lower = layer(TASK_YAML)
    upper = layer("""\
kind: object
api_name: task
actions:
  - {api_name: finish, set: {status: "'done'"}}
  - {api_name: reopen, set: {status: "'open'"}}
schedules:
  - {api_name: overdue, every: hour, where: "status == 'open'",
     set: {status: "'overdue'"}}
""")
    task = merge_layers([lower], [], [upper])["task"]
    assert [a["api_name"] for a in task["actions"]] == ["finish", "reopen"]
    assert task["actions"][0]["roles"] == []  # replaced, not merged key by key
    assert [(s["api_name"], s["every"]) for s in task["schedules"]] == [
        ("overdue", "hour"), ("close_late", "week")]


def test_now_and_today_can_be_fixed_for_a_schedule_run() -> None:
    at = dt.datetime(2026, 11, 30, 17, 30, tzinfo=dt.UTC)  # 01:30 next day there
    assert compile_expression("today()").evaluate({}, tz="Asia/Shanghai",
                                                  now=at) == dt.date(2026, 12, 1)
    assert compile_expression("now()").evaluate({}, tz="Asia/Shanghai",
                                                now=at) == at
    assert compile_expression("today()").evaluate({}, tz="UTC", now=at) == at.date()


def test_an_upgrade_merges_actions_and_schedules_by_name() -> None:
    (base,) = validate_documents(load_text(TASK_YAML, "task.yaml"))
    new = copy.deepcopy(base)
    new["actions"][0]["label"] = {"zh": "完成任务", "en": "Finish task"}
    new["schedules"][0]["every"] = "hour"
    new["schedules"][0]["at"] = None
    tenant = copy.deepcopy(base)
    tenant["actions"][0]["roles"] = ["employee", "lead"]
    tenant["schedules"][0]["every"] = "week"
    result = merge([base], [new], [tenant])
    (merged,) = result.documents
    assert merged["actions"][0]["label"]["en"] == "Finish task"
    assert merged["actions"][0]["roles"] == ["employee", "lead"]
    assert [c.path for c in result.conflicts] == ["task.schedules.overdue.every"]
