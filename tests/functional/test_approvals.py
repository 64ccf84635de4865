"""Approval scenarios through the HTTP API (issue 5): the school's expense chain,
free flows, transfer, countersigning, returning, withdrawing, delegation, adding
approvers, and a business record locked while under approval."""

from __future__ import annotations

import pytest
from webtest import TestApp

from propolis.platform.db import Database
from tests.common.api import error
from tests.common.approvals import (
    School,
    act,
    current_approvers,
    expense,
    make_school,
    submit,
    todo,
)


@pytest.fixture
def school(app: TestApp, database: Database) -> School:
    return make_school(app, database)


@pytest.mark.parametrize(("amounts", "chain"), [
    ([1200, 800.5], ["head", "finance", "principal"]),
    ([3000, 2500], ["head", "finance", "principal", "chairman"]),
])
def test_school_expense_chain_has_the_chairman_only_above_5000(
        school: School, amounts: list[float], chain: list[str]):
    instance = submit(school.teacher, "expense", expense(amounts))
    assert instance["status"] == "pending"
    assert instance["record"]["life_status"] == "in_review"
    statuses = [s["status"] for s in instance["steps"]]
    assert statuses[3] == ("waiting" if "chairman" in chain else "skipped")
    for key in chain:
        assert current_approvers(instance) == [school.ids[key]]
        assert instance["id"] in todo(school.client(key))
        # nobody else has it waiting
        for other in ("head", "finance", "principal", "chairman"):
            if other != key:
                assert instance["id"] not in todo(school.client(other))
        instance = act(school.client(key), instance["id"], "approve",
                       comment=f"{key} 同意")
    assert instance["status"] == "approved"
    assert instance["record"]["life_status"] == "normal"
    assert [a["action"] for a in instance["timeline"]] == [
        "submit", *["approve"] * len(chain), "approved"]
    done = school.teacher.get("/approvals?box=submitted").json["items"]
    assert [(i["id"], i["status"]) for i in done] == [(instance["id"], "approved")]
    assert instance["id"] in [i["id"] for i in school.head.get(
        "/approvals?box=done").json["items"]]


def test_free_flow_picks_the_next_approver_or_ends(school: School):
    body = {"title": "采购投影仪", "content": "教室投影仪坏了"}
    refused = submit(school.teacher, "general_request", body, status=400)
    assert "next_approver" in refused["error"]["fields"]
    instance = submit(school.teacher, "general_request", body,
                      next_approver=school.ids["head"])
    assert current_approvers(instance) == [school.ids["head"]]
    instance = act(school.head, instance["id"], "approve",
                   next_approver=school.ids["principal"])
    assert current_approvers(instance) == [school.ids["principal"]]
    instance = act(school.principal, instance["id"], "approve")
    assert instance["status"] == "approved"
    assert [s["kind"] for s in instance["steps"]] == ["free", "free"]


def test_only_the_submitter_transfers_a_pending_free_flow(school: School):
    instance = submit(school.teacher, "general_request",
                      {"title": "换课", "content": "下周三换课"},
                      next_approver=school.ids["head"])
    for client in (school.head, school.admin):
        response = client.post(f"/approvals/{instance['id']}/actions",
                               {"action": "transfer", "to": school.ids["finance"]},
                               status=403)
        assert error(response)["code"] == "only_submitter"
    # someone who takes no part does not even see it
    school.principal.post(f"/approvals/{instance['id']}/actions",
                         {"action": "transfer", "to": school.ids["finance"]},
                         status=404)
    instance = act(school.teacher, instance["id"], "transfer",
                   to=school.ids["principal"])
    assert current_approvers(instance) == [school.ids["principal"]]
    assert instance["id"] not in todo(school.head)
    assert instance["id"] in todo(school.principal)
