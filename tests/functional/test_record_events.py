"""Record events through the real application: subscribers registered by an
include (``watch_records`` below, named in ``propolis.extensions`` like an
extension's) see every create, update and delete with the changed fields, inside
the request's transaction. What they write commits with the request, and rolls
back with it when the request fails after them (a subscriber refusing the change,
a later subscriber's check); Celery work they send leaves only after the commit.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from pyramid.config import Configurator
from webtest import TestApp

from propolis import main
from propolis.platform.db import Database
from propolis.platform.errors import AppError
from propolis.platform.records.events import (
    RecordCreated,
    RecordDeleted,
    RecordEvent,
    RecordUpdated,
)
from propolis.platform.records.interfaces import IRecordService
from propolis.platform.tasks import celery_app
from propolis.platform.tenancy.demo import create_demo
from tests.common.api import ApiClient, Tenant, error, login_admin, url
from tests.common.app import app_settings

PROJECT = {
    "label": {"zh": "项目", "en": "Project"},
    "fields": [
        {"api_name": "name", "type": "text", "required": True},
        {"api_name": "budget", "type": "number"},
    ],
}
NOTE = {
    "label": {"zh": "备注", "en": "Note"},
    "fields": [{"api_name": "text", "type": "text"}],
}
LIMIT = 1000  # check_budget refuses more
REFUSED = "refuse me"  # a project note_change refuses, after writing its note

# what the subscribers saw, wrote and sent (emptied before each test)
SEEN: list[RecordEvent] = []
EVERY: list[tuple[str, str]] = []
WROTE: list[str] = []
SENT: list[str] = []


@celery_app.task(name="tests.record_events.after_commit")
def after_commit(record_id: str) -> None:
    SENT.append(record_id)


def note_change(event: RecordEvent) -> None:
    """Notes every change of a project, through the request's own record service
    (the same transaction), and sends a task for it; refuses a project named
    ``REFUSED`` after that."""
    SEEN.append(event)
    records = event.request.find_service(IRecordService)
    changed = sorted(getattr(event, "changes", {}))
    note = records.create("note", {"text": f"{type(event).__name__} "
                                           f"{event.record_id} {changed}"})
    WROTE.append(note["id"])
    event.request.task(after_commit).delay(event.record_id)
    if event.record.get("name") == REFUSED:
        raise AppError("invalid",
                       {"zh": "不接受该项目", "en": "This project is refused"},
                       {"name": [{"zh": "不接受", "en": "refused"}]})


def check_budget(event: RecordUpdated) -> None:
    """A check after ``note_change`` wrote its note."""
    budget = event.changes.get("budget", (None, None))[1]
    if budget is not None and budget > LIMIT:
        raise AppError("invalid",
                       {"zh": "预算超出上限", "en": "The budget is over the limit"},
                       {"budget": [{"zh": f"不能超过 {LIMIT}",
                                    "en": f"at most {LIMIT}"}]})


def every_event(event: RecordEvent) -> None:
    EVERY.append((type(event).__name__, event.object))


def watch_records(config: Configurator) -> None:
    """The include: what an extension's ``includeme`` would do."""
    config.add_subscriber(note_change, RecordEvent, object="project")
    config.add_subscriber(check_budget, RecordUpdated, object=["project"])
    config.add_subscriber(every_event, RecordEvent)


@pytest.fixture(scope="module")
def app(database: Database, tmp_path_factory: pytest.TempPathFactory
        ) -> Iterator[TestApp]:
    """The application with ``watch_records`` included (this module's own: the
    shared one has no such subscribers)."""
    settings = app_settings(database, str(tmp_path_factory.mktemp("files")))
    settings["propolis.extensions"] = f"{__name__}.watch_records"
    router = main({}, **settings)
    yield TestApp(router)
    router.registry.database.dispose()


@pytest.fixture
def api(app: TestApp, enterprise: Callable[..., Tenant]) -> ApiClient:
    for seen in (SEEN, EVERY, WROTE, SENT):
        seen.clear()
    client = login_admin(app, enterprise())
    client.define("project", PROJECT)
    client.define("note", NOTE)
    return client


def notes(api: ApiClient) -> list[dict[str, Any]]:
    return api.query("note", limit=100)["records"]


def test_subscribers_see_changes_and_write_in_the_same_transaction(
        api: ApiClient) -> None:
    project = api.create("project", {"name": "甲", "budget": 10})
    pid = project["id"]
    api.patch(f"/objects/project/records/{pid}", {"budget": 20}, status=200)
    api.patch(f"/objects/project/records/{pid}", {"budget": 20}, status=200)  # no-op
    api.delete(f"/objects/project/records/{pid}", status=204)

    created, updated, deleted = SEEN
    assert type(created) is RecordCreated and type(updated) is RecordUpdated
    assert type(deleted) is RecordDeleted
    assert {e.object for e in SEEN} == {"project"}
    assert {e.record_id for e in SEEN} == {pid}
    assert created.record["name"] == "甲" and created.record["budget"] == 10
    assert updated.changes == {"budget": (10, 20)}
    assert updated.record["budget"] == 20 and updated.record["version"] == 2
    assert deleted.record["deleted_at"] is not None
    for event in SEEN:
        assert event.actor.user_id == project["owner"]  # the admin
        assert event.request.tenant.id == created.request.tenant.id
    # the notes, written inside the requests, are there; the predicate kept
    # note_change from its own notes, which every_event saw
    assert sorted(n["id"] for n in notes(api)) == sorted(WROTE)
    assert sorted(n["text"] for n in notes(api)) == sorted([
        f"RecordCreated {pid} []", f"RecordUpdated {pid} ['budget']",
        f"RecordDeleted {pid} []"])
    assert EVERY == [("RecordCreated", "note"), ("RecordCreated", "project"),
                     ("RecordCreated", "note"), ("RecordUpdated", "project"),
                     ("RecordCreated", "note"), ("RecordDeleted", "project")]
    assert SENT == [pid, pid, pid]  # one task per change, each after its commit


def test_a_failed_request_rolls_back_what_subscribers_wrote(api: ApiClient) -> None:
    project = api.create("project", {"name": "乙", "budget": 10})
    pid = project["id"]
    WROTE.clear()
    SENT.clear()
    before = notes(api)

    # a later subscriber refuses the update after note_change wrote its note
    refused = api.patch(f"/objects/project/records/{pid}", {"budget": LIMIT + 1},
                        status=400)
    assert error(refused)["fields"] == {"budget": [f"不能超过 {LIMIT}"]}
    assert len(WROTE) == 1  # the note was written, then rolled back
    assert api.read("project", pid)["budget"] == 10
    assert api.read("project", pid)["version"] == 1
    assert [h["action"] for h in api.get(
        f"/objects/project/records/{pid}/history").json["history"]] == ["create"]

    # the subscriber itself refuses a new project after writing its note
    refused = api.post("/objects/project/records", {"name": REFUSED}, status=400)
    assert error(refused)["fields"] == {"name": ["不接受"]}
    assert len(WROTE) == 2
    assert api.query("project", filters=[
        {"field": "name", "op": "eq", "value": REFUSED}])["records"] == []

    # neither note is stored, no task left, and the next request works
    assert notes(api) == before
    assert SENT == []
    api.patch(f"/objects/project/records/{pid}", {"budget": LIMIT}, status=200)
    assert len(notes(api)) == len(before) + 1
    assert SENT == [pid]


def test_an_import_tells_of_each_row_and_a_refused_row_leaves_nothing(
        api: ApiClient) -> None:
    sheet = f"name,budget\n丙,1\n{REFUSED},2\n丁,3\n".encode()
    report = api.app.post(url("/objects/project/import"), headers=api.headers(),
                          upload_files=[("file", "p.csv", sheet)], status=200).json
    assert (report["created"], report["failed"]) == (2, 1)
    assert report["errors"][0]["row"] == 3 and report["errors"][0]["field"] == "name"
    assert [(type(e).__name__, e.record["name"]) for e in SEEN] == [
        ("RecordCreated", "丙"), ("RecordCreated", REFUSED), ("RecordCreated", "丁")]
    # the refused row's note went with its row
    assert len(WROTE) == 3
    assert len(notes(api)) == 2
    assert sorted(SENT) == sorted(e.record_id for e in SEEN
                                  if e.record["name"] != REFUSED)


def test_the_demo_data_is_told_like_any_other(app: TestApp) -> None:
    EVERY.clear()
    assert create_demo(app.app.registry) is not None
    told = {name for kind, name in EVERY if kind == "RecordCreated"}
    assert {"department", "user", "product", "customer", "contact",
            "opportunity"} <= told
    assert ("RecordUpdated", "department") in EVERY  # its head, set afterwards
