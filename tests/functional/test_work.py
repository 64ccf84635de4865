"""Issue 13's must-show for the work extension and the core it builds on, through
the real application on each database: who reads a post shared by audience (the
author, the users and departments named and those below, everyone, a superior
only when named, never anyone else) in the feed, search, topic pages and
exports; @mentions granting access and telling the person; replies, likes and
receipts; a log's score, an instruction's completion, rating and overdue flag;
todo, calendar and reminder delivery through ``propolis schedule run --at``."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from openapi_spec_validator import validate
from webtest import TestApp

from propolis import main
from propolis.platform.cli import main as cli
from propolis.platform.db import Database
from propolis.platform.tenancy.services import create_enterprise
from tests.common.api import PASSWORD, ApiClient, Tenant, error, login, login_admin
from tests.common.app import app_settings, write_ini
from tests.conftest import unique_account

TOPIC = quote("公司大事")
# key, name, department, superior
PEOPLE = (
    ("boss", "老板", "root", None),
    ("manager", "经理", "sales", "boss"),
    ("alice", "爱丽丝", "east", "manager"),
    ("bob", "鲍勃", "east", "manager"),
    ("dave", "大卫", "sales", "manager"),
    ("carol", "卡罗尔", "hr", "boss"),
)


@pytest.fixture(scope="module")
def app(database: Database, tmp_path_factory: pytest.TempPathFactory
        ) -> Iterator[TestApp]:
    settings = app_settings(database, str(tmp_path_factory.mktemp("files")))
    settings["propolis.extensions"] = "work"
    router = main({}, **settings)
    yield TestApp(router)
    router.registry.database.dispose()


@dataclass
class Company:
    tenant: Tenant
    admin: ApiClient
    ids: dict[str, str]
    departments: dict[str, str]
    clients: dict[str, ApiClient]

    def __getattr__(self, key: str) -> ApiClient:
        if key in self.__dict__.get("clients", {}):
            return self.clients[key]
        raise AttributeError(key)


@pytest.fixture
def company(app: TestApp, database: Database) -> Company:
    account = unique_account("w")
    created = create_enterprise(database, account=account, name="蜂巢公司",
                                admin_phone="13800000000", admin_password=PASSWORD,
                                extensions=["work"])
    tenant = Tenant(account, created.enterprise_id, created.admin_id,
                    created.department_id)
    admin = login_admin(app, tenant)
    departments = {"root": tenant.department_id}
    for key, name, parent in (("sales", "销售部", "root"), ("east", "华东组", "sales"),
                              ("hr", "人事部", "root")):
        departments[key] = admin.create("department", {
            "name": name, "parent": departments[parent]})["id"]
    ids: dict[str, str] = {}
    clients: dict[str, ApiClient] = {}
    for n, (key, name, department, superior) in enumerate(PEOPLE):
        phone = f"1390000{n:04d}"
        data: dict[str, Any] = {"name": name, "phone": phone, "password": PASSWORD,
                                "main_department": departments[department]}
        if superior:
            data["superior"] = ids[superior]
        ids[key] = admin.create("user", data)["id"]
        clients[key] = login(app, account, phone, PASSWORD, lang="en")
    return Company(tenant, admin, ids, departments, clients)


def post(client: ApiClient, content: str, **data: Any) -> dict[str, Any]:
    return client.create("share", {"content": content, **data})


def feed_ids(client: ApiClient, query: str = "") -> list[str]:
    return [i["id"] for i in client.get(f"/feed{query}", status=200).json["items"]]


def readers(company: Company, record: dict[str, Any], obj: str = "share"
            ) -> set[str]:
    return {key for key, client in company.clients.items()
            if client.get(f"/objects/{obj}/records/{record['id']}",
                          status=[200, 404]).status_int == 200}


def test_a_post_is_read_by_its_audience_and_no_one_else(company: Company) -> None:
    alice = company.alice
    ids, departments = company.ids, company.departments
    to_sales = post(alice, "销售部周报 #季度冲刺#",
                    audience={"departments": [departments["sales"]]})
    to_carol = post(alice, "给卡罗尔", audience={"users": [ids["carol"]]})
    to_all = post(alice, "全员通知", audience={"all": True})
    private = post(alice, "只有我自己")

    # a department named: its members and those of the departments below
    assert readers(company, to_sales) == {"alice", "manager", "bob", "dave"}
    # a user named; the superior (manager) is not, so does not read it
    assert readers(company, to_carol) == {"alice", "carol"}
    assert readers(company, to_all) == set(company.clients)
    assert readers(company, private) == {"alice"}

    # the same in the feed (newest first), keyword search and the topic page
    assert feed_ids(alice) == [private["id"], to_all["id"], to_carol["id"],
                               to_sales["id"]]
    assert feed_ids(company.bob) == [to_all["id"], to_sales["id"]]
    assert feed_ids(company.carol) == [to_all["id"], to_carol["id"]]
    assert feed_ids(company.manager) == [to_all["id"], to_sales["id"]]
    assert feed_ids(company.carol, f"?q={quote('周报')}") == []
    assert feed_ids(company.dave, f"?q={quote('周报')}") == [to_sales["id"]]
    assert company.bob.query("share", q="卡罗尔")["records"] == []
    sprint = f"/topics/{quote('季度冲刺')}"
    topic = company.dave.get(sprint, status=200).json
    assert [i["id"] for i in topic["items"]] == [to_sales["id"]]
    assert company.carol.get(sprint, status=200).json["items"] == []
    page = company.bob.get("/feed?limit=1", status=200).json
    assert [i["id"] for i in page["items"]] == [to_all["id"]]
    assert feed_ids(company.bob, f"?limit=1&cursor={page['next_cursor']}") == [
        to_sales["id"]]
    assert error(company.bob.get("/feed?type=nope", status=400))["fields"] == {
        "type": ["is not an object of the feed"]}


def test_exports_and_counts_hold_only_what_the_user_may_read(
        company: Company) -> None:
    company.admin.put("/roles/exporter", {
        "label": {"zh": "导出", "en": "Exporter"},
        "grants": {"share": {"verbs": ["create", "read", "edit", "export"],
                             "scope": "own"}}}, status=200)
    company.admin.patch(f"/objects/user/records/{company.ids['carol']}",
                        {"roles": ["employee", "exporter"]}, status=200)
    post(company.alice, "给全员", audience={"all": True})
    post(company.alice, "给销售", audience={"departments": [
        company.departments["sales"]]})
    response = company.carol.post("/objects/share/export",
                                  {"columns": ["content"]}, status=200)
    rows = list(csv.reader(io.StringIO(response.body.decode("utf-8-sig"))))
    assert [r[0] for r in rows[1:]] == ["给全员"]


def test_a_mention_grants_read_access_and_tells_the_person(company: Company
                                                            ) -> None:
    shared = post(company.alice, "请@卡罗尔 看一下", audience={
        "users": [company.ids["bob"]]})
    assert readers(company, shared) == {"alice", "bob", "carol"}
    explicit = post(company.alice, "see this", mentions=[company.ids["dave"]])
    assert readers(company, explicit) == {"alice", "dave"}
    told = company.carol.get("/notifications", status=200).json["items"]
    assert [(n["kind"], n["object"], n["record_id"]) for n in told] == [
        ("mention", "share", shared["id"])]

    # a reply that @mentions someone lets them read the post too
    reply = company.bob.post(f"/objects/share/records/{shared['id']}/comments",
                             {"content": "@经理 也看看"}, status=201).json
    assert reply["mentions"] == [company.ids["manager"]]
    assert "manager" in readers(company, shared)
    comments = company.manager.get(
        f"/objects/share/records/{shared['id']}/comments", status=200).json
    assert [c["content"] for c in comments["comments"]] == ["@经理 也看看"]
    kinds = {n["kind"] for n in company.alice.get(
        "/notifications", status=200).json["items"]}
    assert "comment" in kinds  # a reply to my post
    # who may not read the post may neither read nor write its replies
    company.dave.get(f"/objects/share/records/{shared['id']}/comments", status=404)
    assert error(company.bob.post(
        f"/objects/share/records/{shared['id']}/comments", {"content": " "},
        status=400))["fields"] == {"content": ["required"]}


def test_likes_toggle(company: Company) -> None:
    shared = post(company.alice, "赞", audience={"all": True})
    path = f"/objects/share/records/{shared['id']}/likes"
    assert company.bob.post(path, status=200).json == {"liked": True, "count": 1}
    assert company.dave.post(path, status=200).json == {"liked": True, "count": 2}
    assert company.bob.post(path, status=200).json == {"liked": False, "count": 1}


def test_receipts_are_confirmed_and_the_author_reminds_the_rest(
        company: Company) -> None:
    ids = company.ids
    shared = post(company.alice, "请确认", receipt=True,
                  audience={"users": [ids["bob"], ids["carol"]]})
    base = f"/objects/share/records/{shared['id']}"
    company.bob.post(f"{base}/receipt", status=200)
    assert company.alice.get(f"{base}/receipts", status=200).json == {
        "confirmed": [ids["bob"]], "pending": [ids["carol"]]}
    assert error(company.bob.get(f"{base}/receipts", status=403))["code"] == (
        "forbidden")
    assert error(company.dave.post(f"{base}/receipt", status=404))
    assert company.alice.post(f"{base}/receipts/remind", status=200).json == {
        "reminded": 1}
    kinds = [n["kind"] for n in company.carol.get(
        "/notifications", status=200).json["items"]]
    assert kinds == ["receipt", "receipt"]


def test_a_company_wide_topic_is_read_by_everyone(company: Company) -> None:
    before = post(company.alice, "#公司大事# 第一条")
    assert readers(company, before) == {"alice"}
    assert company.alice.put(f"/topics/{TOPIC}", {"company_wide": True},
                             status=403)
    company.admin.put(f"/topics/{TOPIC}", {"company_wide": True, "pinned": True},
                      status=200)
    assert readers(company, before) == set(company.clients)
    after = post(company.bob, "#公司大事# 第二条")
    assert readers(company, after) == set(company.clients)
    listed = company.carol.get("/topics", status=200).json["topics"]
    assert listed[0] == {"name": "公司大事", "pinned": True, "company_wide": True,
                         "followed": False}
    assert company.carol.post(f"/topics/{TOPIC}/follow", status=200).json[
        "followed"] is True


def test_a_log_goes_to_the_superior_who_scores_it(company: Company) -> None:
    log = company.alice.create("log", {"date": "2026-12-01", "done": "拜访客户"})
    assert readers(company, log, "log") == {"alice", "manager"}
    path = f"/objects/log/records/{log['id']}/actions/score"
    # neither a peer, who cannot read it, nor the author may score it
    company.bob.post(path, {"score": 5}, status=404)
    assert error(company.alice.post(path, {"score": 5}, status=403))["code"] == (
        "forbidden")
    assert error(company.manager.post(path, {"score": 6}, status=400))[
        "fields"] == {"score": ["must be a whole number from 1 to 5"]}
    scored = company.manager.post(path, {"score": 4, "comment": "不错"},
                                  status=200).json
    assert (scored["score"], scored["score_comment"]) == (4, "不错")
    told = company.alice.get("/notifications", status=200).json["items"]
    assert (told[0]["kind"], told[0]["record_id"]) == ("score", log["id"])
    # the author may not change the score herself
    company.alice.patch(f"/objects/log/records/{log['id']}", {"score": 5},
                        status=400)


def test_an_instruction_is_completed_rated_and_flagged_overdue(
        company: Company, ini: str) -> None:
    ids = company.ids
    issued = company.manager.create("instruction", {
        "content": "整理客户名单", "assignee": ids["bob"],
        "deadline": "2026-12-05T18:00:00+08:00"})
    assert readers(company, issued, "instruction") == {"manager", "bob"}
    told = company.bob.get("/notifications", status=200).json["items"]
    assert [n["record_id"] for n in told] == [issued["id"]]
    base = f"/objects/instruction/records/{issued['id']}/actions"
    assert error(company.manager.post(f"{base}/rate", {"rating": 5},
                                      status=409))["code"] == "action_unavailable"
    assert error(company.manager.post(f"{base}/complete", {"result": "x"},
                                      status=403))["code"] == "forbidden"
    done = company.bob.post(f"{base}/complete", {"result": "已整理"},
                            status=200).json
    assert (done["status"], done["result"]) == ("done", "已整理")
    assert error(company.bob.post(f"{base}/rate", {"rating": 5},
                                  status=403))["code"] == "forbidden"
    rated = company.manager.post(f"{base}/rate", {"rating": 5}, status=200).json
    assert (rated["status"], rated["rating"]) == ("rated", 5)

    late = company.manager.create("instruction", {
        "content": "提交报告", "assignee": ids["dave"],
        "deadline": "2026-12-05T18:00:00+08:00"})
    assert cli(["-c", ini, "schedule", "run", "--tenant", company.tenant.account,
                "--at", "2026-12-05T17:30:00+08:00",
                "--schedule", "instruction.overdue"]) == 0
    assert company.dave.read("instruction", late["id"])["status"] == "open"
    assert cli(["-c", ini, "schedule", "run", "--tenant", company.tenant.account,
                "--at", "2026-12-05T19:00:00+08:00",
                "--schedule", "instruction.overdue"]) == 0
    assert company.dave.read("instruction", late["id"])["status"] == "overdue"
    assert company.bob.read("instruction", issued["id"])["status"] == "rated"


def test_todos_events_and_reminders_are_delivered_on_time(
        company: Company, ini: str) -> None:
    ids = company.ids
    todo = company.alice.create("todo", {"title": "回电话", "assignee": ids["bob"],
                                         "remind_at": "2026-12-05T09:00:00+08:00"})
    event = company.alice.create("event", {
        "title": "周会", "attendees": [ids["bob"], ids["dave"]],
        "start": "2026-12-05T10:00:00+08:00",
        "remind_at": "2026-12-05T09:45:00+08:00"})
    reminder = company.alice.create("reminder", {
        "title": "交周报", "remind_at": "2026-12-05T11:00:00+08:00"})
    # the event shows on both attendees' calendars
    for key in ("bob", "dave"):
        found = company.clients[key].query("event")["records"]
        assert [r["id"] for r in found] == [event["id"]]

    def reminders(key: str) -> list[str]:
        return sorted(n["record_id"] for n in company.clients[key].get(
            "/notifications", status=200).json["items"] if n["kind"] == "reminder")

    def run(at: str) -> None:
        assert cli(["-c", ini, "schedule", "run", "--tenant",
                    company.tenant.account, "--at", at]) == 0

    run("2026-12-05T08:30:00+08:00")
    assert reminders("bob") == reminders("alice") == []
    run("2026-12-05T09:50:00+08:00")
    assert reminders("bob") == sorted([event["id"], todo["id"]])
    assert reminders("dave") == [event["id"]]
    assert reminders("alice") == [event["id"]]
    run("2026-12-05T11:05:00+08:00")
    assert reminders("alice") == sorted([reminder["id"], event["id"]])
    assert company.alice.read("reminder", reminder["id"])["done"] is True
    run("2026-12-05T12:05:00+08:00")  # nothing is delivered twice
    assert reminders("bob") == sorted([event["id"], todo["id"]])


@pytest.fixture
def ini(tmp_path: Path, database: Database) -> str:
    return write_ini(tmp_path / "test.ini", database, "work")


def test_the_routes_are_in_the_openapi_document(company: Company) -> None:
    document = company.alice.get("/openapi.json", status=200).json
    validate(document)
    paths = document["paths"]
    record = "/objects/share/records/{id}"
    for path in ("/feed", "/topics", "/topics/{name}", "/notifications",
                 f"{record}/comments", f"{record}/likes", f"{record}/receipt",
                 f"{record}/receipts", "/objects/log/records/{id}/comments"):
        assert path in paths, path
    assert "/objects/log/records/{id}/receipts" not in paths  # not enabled


def test_a_draft_is_its_authors_alone_until_it_is_sent(company: Company) -> None:
    drafts = "/objects/share/drafts"
    draft = company.alice.post(drafts, {"audience": {"all": True}},
                               status=201).json
    assert company.alice.get(drafts, status=200).json["drafts"] == [draft]
    assert company.bob.get(drafts, status=200).json["drafts"] == []
    company.bob.put(f"{drafts}/{draft['id']}", {"content": "x"}, status=404)
    assert feed_ids(company.bob) == []
    # incomplete: sending it is refused and it stays
    refused = company.alice.post(f"{drafts}/{draft['id']}/submit", status=400)
    assert list(error(refused)["fields"]) == ["content"]
    company.alice.put(f"{drafts}/{draft['id']}",
                      {"content": "写完了", "audience": {"all": True}}, status=200)
    sent = company.alice.post(f"{drafts}/{draft['id']}/submit", status=201).json
    assert company.alice.get(drafts, status=200).json["drafts"] == []
    assert feed_ids(company.bob) == [sent["id"]]
    assert error(company.alice.post(drafts, {"nope": 1}, status=400))[
        "fields"] == {"nope": ["There is no such field"]}
    assert error(company.alice.get("/objects/event/drafts", status=404))[
        "code"] == "not_enabled"
