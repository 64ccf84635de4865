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


CUSTOMER = {"label": {"zh": "客户", "en": "Customer"},
            "fields": [{"api_name": "name", "type": "text", "required": True},
                       {"api_name": "level", "type": "select",
                        "options": ["A", "B", "C"]}]}


def define(school: School, name: str, doc: dict) -> dict:
    return school.admin.put(f"/metadata/approvals/{name}", doc, status=200).json


def test_countersign_all_needs_every_approver(school: School):
    define(school, "purchase", {
        "label": {"zh": "采购", "en": "Purchase"}, "form": "general_request",
        "steps": [{"approver": {"users": [school.ids["finance"],
                                          school.ids["principal"]]}, "sign": "all"}],
        "cc": [{"position": "chairman"}]})
    instance = submit(school.teacher, "purchase", {"title": "买书", "content": "图书"})
    assert sorted(current_approvers(instance)) == sorted(
        [school.ids["finance"], school.ids["principal"]])
    instance = act(school.finance, instance["id"], "approve")
    assert instance["status"] == "pending"
    assert current_approvers(instance) == [school.ids["principal"]]
    # acting twice is refused
    response = school.finance.post(f"/approvals/{instance['id']}/actions",
                                   {"action": "approve"}, status=409)
    assert error(response)["code"] == "already_handled"
    instance = act(school.principal, instance["id"], "approve")
    assert instance["status"] == "approved"
    # the chairman got a copy, and sees it
    cc = school.chairman.get("/approvals?box=cc").json["items"]
    assert [i["id"] for i in cc] == [instance["id"]]
    school.chairman.get(f"/approvals/{instance['id']}", status=200)


def test_return_to_step_one_then_reject(school: School):
    instance = submit(school.teacher, "expense", expense([100]))
    instance = act(school.head, instance["id"], "approve")
    instance = act(school.finance, instance["id"], "approve")
    assert current_approvers(instance) == [school.ids["principal"]]
    bad = school.principal.post(f"/approvals/{instance['id']}/actions",
                                {"action": "return", "step": 3}, status=400)
    assert "step" in error(bad)["fields"]
    instance = act(school.principal, instance["id"], "return", step=1,
                   comment="发票不全")
    assert instance["current_step"] == 1
    assert current_approvers(instance) == [school.ids["head"]]
    assert [s["status"] for s in instance["steps"][:3]] == [
        "active", "waiting", "waiting"]
    instance = act(school.head, instance["id"], "reject", comment="不合规")
    assert instance["status"] == "rejected"
    assert instance["record"]["life_status"] == "normal"
    # an ended approval takes no more decisions, but comments still
    response = school.finance.post(f"/approvals/{instance['id']}/actions",
                                   {"action": "approve"}, status=409)
    assert error(response)["code"] == "not_pending"
    act(school.teacher, instance["id"], "comment", comment="已补充发票")


def test_withdraw_is_the_submitters(school: School):
    instance = submit(school.teacher, "leave", {
        "leave_type": "annual", "start_date": "2026-03-02",
        "end_date": "2026-03-03", "reason": "回家"})
    # two days: only the superior
    assert [s["status"] for s in instance["steps"]] == ["active", "skipped"]
    response = school.head.post(f"/approvals/{instance['id']}/actions",
                                {"action": "withdraw"}, status=403)
    assert error(response)["code"] == "only_submitter"
    instance = act(school.teacher, instance["id"], "withdraw")
    assert instance["status"] == "withdrawn"
    assert instance["record"]["life_status"] == "normal"
    assert instance["id"] not in todo(school.head)


def test_delegate_approves_on_behalf(school: School):
    bad = school.head.put("/approvals/delegation", {
        "delegate": school.ids["head"], "from": "2020-01-01T00:00:00+08:00",
        "to": "2099-01-01T00:00:00+08:00"}, status=400)
    assert "delegate" in error(bad)["fields"]
    school.head.put("/approvals/delegation", {
        "delegate": school.ids["colleague"], "from": "2020-01-01T00:00:00+08:00",
        "to": "2099-01-01T00:00:00+08:00"}, status=200)
    assert school.head.get("/approvals/delegation").json["delegation"]["active"]
    instance = submit(school.teacher, "expense", expense([50]))
    assert current_approvers(instance) == [school.ids["colleague"]]
    assert todo(school.head) == []
    instance = act(school.colleague, instance["id"], "approve")
    approval = next(a for a in instance["timeline"] if a["action"] == "approve")
    assert approval["actor"]["id"] == school.ids["colleague"]
    assert approval["on_behalf_of"]["id"] == school.ids["head"]
    # the delegator still sees what was done for them
    school.head.get(f"/approvals/{instance['id']}", status=200)
    school.head.delete("/approvals/delegation", status=204)
    assert school.head.get("/approvals/delegation").json["delegation"] is None


def test_add_approver_before_and_after(school: School):
    instance = submit(school.teacher, "expense", expense([50]))
    instance = act(school.head, instance["id"], "add_approver", position="after",
                   to=school.ids["colleague"])
    instance = act(school.head, instance["id"], "approve")
    assert current_approvers(instance) == [school.ids["colleague"]]
    assert instance["steps"][1]["kind"] == "added"
    instance = act(school.colleague, instance["id"], "approve")
    assert current_approvers(instance) == [school.ids["finance"]]
    # before: the finance director asks the outsider first, then decides
    instance = act(school.finance, instance["id"], "add_approver", position="before",
                   to=school.ids["outsider"])
    assert current_approvers(instance) == [school.ids["outsider"]]
    instance = act(school.outsider, instance["id"], "approve")
    assert current_approvers(instance) == [school.ids["finance"]]
    for key in ("finance", "principal"):
        instance = act(school.client(key), instance["id"], "approve")
    assert instance["status"] == "approved"
    assert [s["kind"] for s in instance["steps"]] == [
        "defined", "added", "added", "defined", "defined", "defined"]


def test_a_business_record_is_locked_while_under_approval(school: School):
    school.admin.define("customer", CUSTOMER)
    define(school, "customer_registration", {
        "label": {"zh": "客户报备", "en": "Customer registration"},
        "form": "customer",
        "steps": [{"approver": {"relation": "department_head"}}]})
    customer = school.teacher.create("customer", {"name": "华为", "level": "A"})
    # someone who cannot edit the record cannot submit it
    school.colleague.post("/approvals", {"definition": "customer_registration",
                                         "record": customer["id"]}, status=404)
    instance = school.teacher.post("/approvals", {
        "definition": "customer_registration", "record": customer["id"]},
        status=201).json
    path = f"/objects/customer/records/{customer['id']}"
    assert school.teacher.get(path).json["life_status"] == "in_review"
    refused = school.teacher.patch(path, {"level": "B"}, status=409)
    assert error(refused)["code"] == "locked"
    again = school.teacher.post("/approvals", {
        "definition": "customer_registration", "record": customer["id"]}, status=409)
    assert error(again)["code"] == "record_not_normal"
    act(school.head, instance["id"], "approve")
    assert school.teacher.get(path).json["life_status"] == "normal"
    school.teacher.patch(path, {"level": "B"}, status=200)
    history = school.teacher.get(f"{path}/history").json
    assert any("life_status" in h["changes"] for h in history["history"])


def test_rejection_may_void_the_record(school: School):
    school.admin.define("customer", CUSTOMER)
    define(school, "customer_registration", {
        "form": "customer", "rejected_status": "invalid",
        "steps": [{"approver": {"relation": "direct_superior"}}]})
    instance = school.teacher.post("/approvals", {
        "definition": "customer_registration", "data": {"name": "腾讯"}},
        status=201).json
    instance = act(school.head, instance["id"], "reject")
    assert instance["record"]["life_status"] == "invalid"


def test_bad_submissions_change_nothing(school: School):
    cases = [
        ({"definition": "nope", "data": {}}, "definition"),
        ({"definition": "expense"}, "data"),
        ({"definition": "expense", "data": {}, "record": "x"}, "data"),
        ({"definition": "expense", "data": {"title": "x"}, "extra": 1}, "extra"),
        ({"definition": "expense", "data": "x"}, "data"),
        ({"definition": "general_request", "data": {"title": "a", "content": "b"},
          "next_approver": "nobody"}, "next_approver"),
    ]
    for body, field in cases:
        for lang, client in (("zh", school.teacher),
                             ("en", school.teacher.in_language("en"))):
            response = client.post("/approvals", body, status=400)
            assert field in error(response)["fields"], (body, lang)
    # the chain's finance director leaves: no approver for step 2
    school.admin.patch(f"/objects/user/records/{school.ids['finance']}",
                       {"status": "disabled"}, status=200)
    response = school.teacher.post("/approvals", {"definition": "expense",
                                                  "data": expense([10])}, status=400)
    assert error(response)["code"] == "no_approver"
    assert list(error(response)["fields"]) == ["steps.2"]
    assert school.teacher.query("expense")["records"] == []
    assert school.teacher.get("/approvals?box=submitted").json["items"] == []
    for body in ({"action": "fly"}, {"action": "approve", "extra": 1},
                 {"action": "comment", "comment": 5}):
        school.teacher.post(f"/approvals/{'0' * 26}/actions", body,
                            status=[400, 404])
    school.teacher.get("/approvals?box=nope", status=400)
    school.teacher.get("/approvals?limit=1000", status=400)


def test_notifications_and_urging(school: School):
    instance = submit(school.teacher, "expense", expense([10]))
    act(school.teacher, instance["id"], "urge")
    inbox = school.head.get("/notifications").json
    assert inbox["unread"] == 2
    assert [n["kind"] for n in inbox["items"]] == ["urge", "task"]
    assert "报销" in inbox["items"][1]["message"]
    english = school.head.in_language("en").get("/notifications").json
    assert "awaits your approval" in english["items"][1]["message"]
    school.head.post("/notifications/read", {"ids": [inbox["items"][0]["id"]]})
    assert school.head.get("/notifications?unread=1").json["unread"] == 1
    school.head.post("/notifications/read", {})
    assert school.head.get("/notifications").json["unread"] == 0
    # only the submitter urges
    response = school.head.post(f"/approvals/{instance['id']}/actions",
                                {"action": "urge"}, status=403)
    assert error(response)["code"] == "only_submitter"


def test_statistics_and_their_workbook(school: School):
    for amounts in ([10], [20]):
        instance = submit(school.teacher, "expense", expense(amounts))
    act(school.head, instance["id"], "reject")
    school.teacher.get("/approvals/stats", status=403)
    by_type = school.admin.get("/approvals/stats?by=type").json["rows"]
    assert [(r["key"], r["submitted"], r["rejected"], r["pending"], r["pass_rate"])
            for r in by_type] == [("expense", 2, 1, 1, 0.0)]
    by_person = school.admin.get("/approvals/stats?by=person").json["rows"]
    head = next(r for r in by_person if r["key"] == school.ids["head"])
    assert (head["handled"], head["rejected"], head["pending"]) == (1, 1, 1)
    assert head["label"] == "王主任"
    by_department = school.admin.get(
        "/approvals/stats?by=department&from=2000-01-01&to=2099-12-31").json["rows"]
    assert [(r["label"], r["submitted"]) for r in by_department] == [("教务处", 2)]
    assert school.admin.get("/approvals/stats?from=2099-01-01").json["rows"] == []
    school.admin.get("/approvals/stats?by=weather", status=400)
    school.admin.get("/approvals/stats?from=yesterday", status=400)
    response = school.admin.get("/approvals/stats?by=type&format=xlsx", status=200)
    assert response.content_type.endswith("spreadsheetml.sheet")
    from io import BytesIO

    from openpyxl import load_workbook

    sheet = load_workbook(BytesIO(response.body)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:2] == ("名称", "提交数")
    assert rows[1][:2] == ("报销", 2)


def test_another_enterprise_never_sees_an_approval(app: TestApp, database: Database,
                                                   school: School):
    instance = submit(school.teacher, "expense", expense([10]))
    other = make_school(app, database)
    for client in (other.admin, other.head):
        client.get(f"/approvals/{instance['id']}", status=404)
        client.post(f"/approvals/{instance['id']}/actions", {"action": "approve"},
                    status=404)
        client.post(f"/approvals/{instance['id']}/actions",
                    {"action": "comment", "comment": "x"}, status=404)
        assert client.get("/approvals?box=todo").json["items"] == []
    assert other.admin.get("/approvals/stats").json["rows"] == []
    assert other.head.get("/notifications").json["items"] == []
    # an approval submitted there with the same ids goes to its own people
    mine = submit(other.teacher, "expense", expense([10]))
    assert mine["id"] != instance["id"]
    assert todo(other.head) == [mine["id"]]
    assert todo(school.head) == [instance["id"]]


def test_metadata_apply_of_approvals_is_validated(school: School):
    bad = school.admin.put("/metadata/approvals/x1", {
        "form": "nothing", "steps": [{"approver": {"relation": "nth_superior"}}]},
        status=400)
    assert error(bad)["fields"]
    school.teacher.put("/metadata/approvals/x1", {"form": "expense", "mode": "free"},
                       status=403)
    listed = school.teacher.get("/approvals/definitions").json["definitions"]
    assert "expense" in [d["api_name"] for d in listed]
    # a running approval keeps the definition it started with
    instance = submit(school.teacher, "expense", expense([10]))
    define(school, "expense", {"form": "expense", "steps": [
        {"approver": {"position": "chairman"}}]})
    assert current_approvers(school.teacher.get(
        f"/approvals/{instance['id']}").json) == [school.ids["head"]]
    fresh = submit(school.teacher, "expense", expense([10]))
    assert current_approvers(fresh) == [school.ids["chairman"]]
    assert fresh["definition"]["version"] > instance["definition"]["version"]
