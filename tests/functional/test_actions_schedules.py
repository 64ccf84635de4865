"""Issue 9's must-show for actions and schedules, through the real application on
each database: an object declared in metadata with an action and a schedule; the
action listed and run through the API (and refused: 409 when its ``when`` is
false, 403 without its role, 404 for what does not exist), its button on the
record page; a Python action an include registers with
``config.add_record_action``; the schedule run by ``propolis schedule run --at``
and by beat's pass, once per period."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import lxml.html
import pytest
from pyramid.config import Configurator
from pyramid.request import Request
from webob.multidict import MultiDict
from webtest import TestApp

from propolis import main
from propolis.metadata import load_paths, validate_documents
from propolis.platform.actions.schedules import period_of
from propolis.platform.actions.tasks import run_due
from propolis.platform.cli import main as cli
from propolis.platform.db import Database
from propolis.platform.records.interfaces import IRecordService
from tests.common.accounts import browser, web_login
from tests.common.api import PASSWORD, ApiClient, Tenant, error, login, login_admin
from tests.common.app import app_settings, write_ini

SHANGHAI = ZoneInfo("Asia/Shanghai")

TASK = {
    "kind": "object", "api_name": "task", "label": {"zh": "任务", "en": "Task"},
    "fields": [
        {"api_name": "title", "type": "text"},
        {"api_name": "status", "type": "select", "default": "open", "options": [
            {"value": "open", "attributes": {"closed": False}},
            {"value": "done", "attributes": {"closed": True}},
            {"value": "overdue", "attributes": {"closed": False}}]},
        {"api_name": "due_date", "type": "date"},
        {"api_name": "points", "type": "number", "precision": 0},
    ],
    "permissions": {"employee": {"verbs": ["create", "read", "edit"],
                                 "scope": "all"}},
    "actions": [{
        "api_name": "finish", "label": {"zh": "完成", "en": "Finish"},
        "when": "!option(status, 'closed')",
        "set": {"status": "'done'", "points": "points + 1"},
        "roles": ["lead"],
        "confirm": {"zh": "确定完成？", "en": "Finish it?"},
    }],
    "schedules": [{
        "api_name": "overdue", "every": "day", "at": "08:00",
        "where": "status == 'open' && due_date < today()",
        "set": {"status": "'overdue'"},
    }, {
        "api_name": "close_stale", "every": "month",
        "where": "status == 'overdue' && due_date < today() - 30",
        "action": "finish",
    }],
}


def nudge(request: Request, record: dict[str, Any], params: dict[str, Any]
          ) -> dict[str, Any]:
    """A Python action: appends the body's ``mark`` to the title."""
    records = request.find_service(IRecordService)
    return records.update("task", record["id"],
                          {"title": record["title"] + params.get("mark", "!")})


def reopen(request: Request, record: dict[str, Any], params: dict[str, Any]
           ) -> dict[str, Any]:
    return request.find_service(IRecordService).update(
        "task", record["id"], {"status": "open"})


def includeme(config: Configurator) -> None:
    """The test include (named like an extension in the settings)."""
    config.add_record_action("task", "nudge", nudge,
                             label={"zh": "催办", "en": "Nudge"}, roles=["lead"])
    config.add_record_action("task", "reopen", reopen, label="Reopen",
                             available=lambda request, r: r["status"] == "done")


@pytest.fixture(scope="module")
def app(database: Database, tmp_path_factory: pytest.TempPathFactory
        ) -> Iterator[TestApp]:
    settings = app_settings(database, str(tmp_path_factory.mktemp("files")))
    settings["propolis.extensions"] = __name__
    router = main({}, **settings)
    yield TestApp(router)
    router.registry.database.dispose()


@dataclass
class Team:
    tenant: Tenant
    admin: ApiClient
    lead: ApiClient
    member: ApiClient
    lead_phone: str


@pytest.fixture
def team(app: TestApp, enterprise: Callable[..., Tenant]) -> Team:
    tenant = enterprise()
    admin = login_admin(app, tenant)
    admin.define("task", TASK)
    admin.put("/roles/lead", {"label": {"zh": "组长", "en": "Lead"},
                              "grants": {}}, status=200)
    clients = []
    for phone, roles in (("13900000001", ["employee", "lead"]),
                         ("13900000002", ["employee"])):
        admin.create("user", {"name": phone, "phone": phone, "password": PASSWORD,
                              "main_department": tenant.department_id,
                              "roles": roles})
        clients.append(login(app, tenant.account, phone, PASSWORD, lang="en"))
    return Team(tenant, admin, clients[0], clients[1], "13900000001")


def actions_path(record: dict[str, Any], name: str | None = None) -> str:
    path = f"/objects/task/records/{record['id']}/actions"
    return path if name is None else f"{path}/{name}"


def offered(client: ApiClient, record: dict[str, Any]) -> list[str]:
    body = client.get(actions_path(record), status=200).json
    return [a["api_name"] for a in body["actions"]]


def test_a_declared_action_is_listed_run_and_refused(team: Team) -> None:
    task = team.member.create("task", {"title": "write", "points": 2})
    listed = team.lead.get(actions_path(task), status=200).json["actions"]
    assert listed[0] == {"api_name": "finish",
                         "label": {"zh": "完成", "en": "Finish"},
                         "confirm": {"zh": "确定完成？", "en": "Finish it?"}}
    assert offered(team.member, task) == []  # without the role: nothing

    refused = team.member.post(actions_path(task, "finish"), status=403)
    assert error(refused)["code"] == "forbidden"
    assert team.member.read("task", task["id"])["status"] == "open"

    done = team.lead.post(actions_path(task, "finish"), status=200).json
    assert (done["status"], done["points"], done["version"]) == ("done", 3, 2)
    (created, changed) = team.lead.get(
        f"/objects/task/records/{task['id']}/history", status=200).json["history"]
    assert changed["action"] == "update"
    assert changed["changes"] == {"status": ["open", "done"], "points": [2, 3]}

    # done: `when` is false now
    again = team.lead.post(actions_path(task, "finish"), status=409)
    assert error(again)["code"] == "action_unavailable"
    assert "finish" not in offered(team.lead, task)
    assert team.lead.read("task", task["id"])["version"] == 2


def test_what_does_not_exist_is_404_and_parameters_are_named(team: Team) -> None:
    task = team.member.create("task", {"title": "read"})
    assert error(team.lead.post(actions_path(task, "fly"), status=404))[
        "code"] == "no_such_action"
    missing = {"id": "0" * 26}
    assert error(team.lead.get(actions_path(missing), status=404))[
        "code"] == "not_found"
    assert error(team.lead.post(actions_path(missing, "finish"), status=404))[
        "code"] == "not_found"
    assert team.lead.get("/objects/nope/records/x/actions", status=404)
    bad = error(team.lead.post(actions_path(task, "finish"), {"at": 1}, status=400))
    assert list(bad["fields"]) == ["at"]


def test_a_registered_python_action_runs_in_the_same_list(team: Team) -> None:
    task = team.member.create("task", {"title": "call"})
    assert offered(team.lead, task) == ["finish", "nudge"]
    nudged = team.lead.post(actions_path(task, "nudge"), {"mark": "?"},
                            status=200).json
    assert (nudged["title"], nudged["version"]) == ("call?", 2)
    assert error(team.member.post(actions_path(task, "nudge"), status=403))[
        "code"] == "forbidden"
    # offered while its `available` says so, to anyone who may edit the record
    assert error(team.member.post(actions_path(task, "reopen"), status=409))[
        "code"] == "action_unavailable"
    team.lead.post(actions_path(task, "finish"), status=200)
    assert offered(team.member, task) == ["reopen"]
    reopened = team.member.post(actions_path(task, "reopen"), status=200).json
    assert reopened["status"] == "open"


def test_the_record_page_has_a_button_per_action(app: TestApp, team: Team) -> None:
    task = team.member.create("task", {"title": "page", "points": 1})
    client = browser(app)
    lead = Tenant(team.tenant.account, 0, "", "", phone=team.lead_phone)
    web_login(client, lead)
    page = lxml.html.fromstring(client.get(f"/o/task/r/{task['id']}").text)
    forms = page.xpath('//form[contains(@class, "record-action")]')
    assert [f.xpath("string(.//button)") for f in forms] == ["完成", "催办"]
    assert forms[0].get("data-confirm") == "确定完成？"
    token = page.xpath('//input[@name="csrf_token"]/@value')[0]
    answer = client.post(forms[0].get("action"), MultiDict(csrf_token=token),
                         status=303)
    shown = client.get(answer.location, status=200).text
    assert "已执行“完成”" in shown
    assert team.lead.read("task", task["id"])["status"] == "done"
    # no longer available: the page says so instead of failing
    again = client.post(forms[0].get("action"), MultiDict(csrf_token=token),
                        status=303)
    assert "未能执行“完成”" in client.get(again.location, status=200).text
    client.post(forms[0].get("action"), status=400)  # no CSRF token


@pytest.fixture
def ini(tmp_path: Path, database: Database) -> str:
    return write_ini(tmp_path / "test.ini", database)


def due_tasks(team: Team) -> dict[str, dict[str, Any]]:
    make = team.admin.create
    return {
        "late": make("task", {"title": "late", "due_date": "2026-11-30"}),
        "today": make("task", {"title": "today", "due_date": "2026-12-01"}),
        "closed": make("task", {"title": "closed", "due_date": "2026-11-01",
                                "status": "done"}),
        "undated": make("task", {"title": "undated"}),
    }


def statuses(team: Team, tasks: dict[str, dict[str, Any]]) -> dict[str, str]:
    return {key: team.admin.read("task", task["id"])["status"]
            for key, task in tasks.items()}


def test_schedule_run_changes_exactly_the_matching_records(
        team: Team, ini: str, capsys: pytest.CaptureFixture[str]) -> None:
    tasks = due_tasks(team)
    account = team.tenant.account
    assert cli(["-c", ini, "schedule", "run", "--tenant", account,
                "--at", "2026-12-01T09:00:00"]) == 0
    out = capsys.readouterr().out
    assert "schedule task.overdue (2026-12-01) changed 1 record(s)" in out
    assert statuses(team, tasks) == {"late": "overdue", "today": "open",
                                     "closed": "done", "undated": "open"}
    history = team.admin.get(f"/objects/task/records/{tasks['late']['id']}/history",
                             status=200).json["history"]
    assert history[-1]["changes"] == {"status": ["open", "overdue"]}
    # a day later the next one matches; the changed one no longer does
    assert cli(["-c", ini, "schedule", "run", "--tenant", account,
                "--at", "2026-12-02T09:00:00+08:00", "--schedule",
                "task.overdue"]) == 0
    assert "changed 1 record(s)" in capsys.readouterr().out
    assert statuses(team, tasks)["today"] == "overdue"
    # a schedule that runs an action (as the system: the role is not needed)
    team.admin.patch(f"/objects/task/records/{tasks['undated']['id']}",
                     {"status": "overdue", "due_date": "2026-10-01"})
    team.admin.patch(f"/objects/task/records/{tasks['closed']['id']}",
                     {"due_date": "2026-10-01"})
    assert cli(["-c", ini, "schedule", "run", "--tenant", account,
                "--at", "2026-12-20T09:00:00", "--schedule", "close_stale"]) == 0
    assert "task.close_stale (2026-12) changed 1 record(s)" in (
        capsys.readouterr().out)
    assert statuses(team, tasks) == {"late": "overdue", "today": "overdue",
                                     "closed": "done", "undated": "done"}
    assert cli(["-c", ini, "schedule", "run", "--tenant", account,
                "--schedule", "nope"]) == 1
    assert "There is no schedule 'nope'" in capsys.readouterr().err
    assert cli(["-c", ini, "schedule", "run", "--tenant", account,
                "--at", "tomorrow"]) == 1


def test_a_schedule_naming_a_missing_action_is_reported(
        team: Team, ini: str, capsys: pytest.CaptureFixture[str]) -> None:
    team.admin.define("chore", {
        "kind": "object", "api_name": "chore",
        "fields": [{"api_name": "title", "type": "text"}],
        "schedules": [{"api_name": "ghosted", "every": "day", "where": "true",
                       "action": "ghost"}]})
    assert cli(["-c", ini, "schedule", "run", "--tenant", team.tenant.account]) == 1
    captured = capsys.readouterr()
    assert ("schedule chore.ghosted not run: There is no action 'ghost'"
            in captured.err)
    assert "schedule task.overdue" in captured.out  # the others ran


def test_beat_runs_a_due_schedule_once_per_period(app: TestApp, team: Team) -> None:
    tasks = due_tasks(team)
    registry = app.app.registry

    def ran(moment: dt.datetime) -> list[tuple[str, int]]:
        return [(r["period"], r["changed"]) for r in run_due(registry, moment)
                if r["account"] == team.tenant.account
                and r["schedule"] == "overdue"]

    # 07:00 in Shanghai: before the schedule's `at`
    assert ran(dt.datetime(2026, 12, 1, 7, tzinfo=SHANGHAI)) == []
    assert statuses(team, tasks)["late"] == "open"
    assert ran(dt.datetime(2026, 12, 1, 8, 30, tzinfo=SHANGHAI)) == [
        ("2026-12-01", 1)]
    # the same day again: already run, even with a record matching now
    team.admin.create("task", {"title": "later", "due_date": "2026-11-29"})
    assert ran(dt.datetime(2026, 12, 1, 23, tzinfo=SHANGHAI)) == []
    assert ran(dt.datetime(2026, 12, 2, 8, tzinfo=SHANGHAI)) == [("2026-12-02", 2)]


@pytest.mark.parametrize(("every", "at", "moment", "key", "start"), [
    ("hour", None, "2026-12-01T09:42", "2026-12-01T09", "2026-12-01T09:00"),
    ("day", "08:30", "2026-12-01T09:42", "2026-12-01", "2026-12-01T08:30"),
    ("week", None, "2026-12-03T09:42", "2026-W49", "2026-11-30T00:00"),
    ("month", "09:00", "2026-12-31T23:59", "2026-12", "2026-12-01T09:00"),
])
def test_periods(every: str, at: str | None, moment: str, key: str,
                 start: str) -> None:
    local = dt.datetime.fromisoformat(moment).replace(tzinfo=SHANGHAI)
    assert period_of(every, at, local) == (
        key, dt.datetime.fromisoformat(start).replace(tzinfo=SHANGHAI))


def test_openapi_and_export_know_them(team: Team, ini: str, tmp_path: Path) -> None:
    paths = team.admin.get("/openapi.json", status=200).json["paths"]
    listed = paths["/objects/task/records/{id}/actions"]["get"]
    assert listed["operationId"] == "task.actions"
    run = paths["/objects/task/records/{id}/actions/{name}"]
    assert set(run["post"]["responses"]) >= {"200", "403", "404", "409"}
    assert "finish" in run["parameters"][1]["description"]
    exported = tmp_path / "exported"
    assert cli(["-c", ini, "metadata", "export", "--tenant", team.tenant.account,
                str(exported)]) == 0
    (task,) = [d.data for d in load_paths([str(exported / "task.yaml")])]
    assert task["actions"][0]["roles"] == ["lead"]
    assert task["schedules"][0]["at"] == "08:00"
    assert "action" not in task["schedules"][0]  # empty values are left out
    validate_documents(load_paths([str(exported)]))
