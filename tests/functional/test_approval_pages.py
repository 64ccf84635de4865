"""The approval pages through the real application, as logged-in browsers use
them: the boxes per user, starting an expense claim from its generated form (line
items, inline errors), approving, rejecting and withdrawing on the approval's
page, and what nobody else may see."""

from __future__ import annotations

import dataclasses

import pytest
from webtest import TestApp, TestResponse

from propolis.platform.db import Database
from tests.common.accounts import browser, form_of, web_login
from tests.common.api import PASSWORD
from tests.common.approvals import PEOPLE, School, act, expense, make_school, submit

PHONES = {key: phone for key, _name, phone, _position in PEOPLE}


@pytest.fixture
def school(app: TestApp, database: Database) -> School:
    found = make_school(app, database)
    # the people who use the pages log in with a password
    for key in ("teacher", "head", "outsider"):
        found.admin.patch(f"/objects/user/records/{found.ids[key]}",
                          {"password": PASSWORD}, status=200)
    return found


def logged_in(school: School, key: str) -> TestApp:
    client = browser(school.app)
    tenant = dataclasses.replace(school.tenant, phone=PHONES[key])
    assert web_login(client, tenant).status_int == 303
    return client


def start_form(client: TestApp) -> TestResponse:
    return client.get("/approvals/start/expense")


def post_expense(client: TestApp, fields: dict[str, str], status: int = 303
                 ) -> TestResponse:
    page = start_form(client)
    return client.post("/approvals/start/expense", {
        "csrf_token": form_of(page, "/approvals/start/expense")["csrf_token"].value,
        **fields}, status=status)


def act_on(client: TestApp, instance_id: str, action: str, status: int = 303,
           **fields: str) -> TestResponse:
    page = client.get(f"/approvals/{instance_id}")
    token = page.html.find("input", attrs={"name": "csrf_token"})["value"]
    return client.post(f"/approvals/{instance_id}/act",
                       {"csrf_token": token, "action": action, **fields},
                       status=status)


def test_boxes_show_each_user_their_approvals(school: School):
    instance = submit(school.teacher, "expense", expense([300]))
    teacher, head = logged_in(school, "teacher"), logged_in(school, "head")
    todo = head.get("/approvals")
    assert "教研活动报销" in todo.text
    assert todo.html.select_one('nav.tabs a[aria-current="page"] .badge').text == "1"
    assert "教研活动报销" not in teacher.get("/approvals?box=todo").text
    mine = teacher.get("/approvals?box=submitted")
    assert f"/approvals/{instance['id']}" in mine.text
    assert "审批中" in mine.text or "待审批" in mine.text
    assert "教研活动报销" not in head.get("/approvals?box=done").text
    # the work section of the workbench shows the approvals with the count
    work = head.get("/app/work")
    link = work.html.select_one('main a[href="/approvals"]')
    assert link is not None and "1" in link.text
    # the start page lists the oa forms
    listed = teacher.get("/approvals/start")
    assert listed.html.find("a", href="/approvals/start/expense").text == "报销单" \
        or "/approvals/start/expense" in listed.text


def test_box_load_more_continues_the_box(school: School):
    for n in range(22):
        submit(school.teacher, "expense", {**expense([10]), "title": f"报销{n:02d}"})
    teacher = logged_in(school, "teacher")
    first = teacher.get("/approvals?box=submitted")
    more = first.html.select_one("li.more a")["href"]
    rest = teacher.get(more, headers={"HX-Request": "true"})
    assert "报销00" in rest.text and "报销21" in first.text
    assert "<html" not in rest.text


def test_start_an_expense_claim_with_line_items(school: School):
    teacher = logged_in(school, "teacher")
    page = start_form(teacher)
    assert page.html.find("label", string="报销事由") is not None
    assert "添加一行" in page.text  # the line items table of the record form
    done = post_expense(teacher, {
        "title": "购买教具", "items-0-id": "", "items-0-category": "office",
        "items-0-amount": "120.50", "items-1-id": "", "items-1-category": "meals",
        "items-1-amount": "79.50", "comment": "请审批"})
    instance_page = done.follow()
    assert "已提交审批" in instance_page.text
    assert "购买教具" in instance_page.text and "200" in instance_page.text
    assert "请审批" in instance_page.text  # the timeline
    items = school.teacher.get("/approvals?box=submitted").json["items"]
    assert [i["title"] for i in items] == ["购买教具"]


def test_bad_input_is_shown_next_to_the_field_and_kept(school: School):
    teacher = logged_in(school, "teacher")
    page = post_expense(teacher, {"title": "", "items-0-id": "",
                                  "items-0-category": "office",
                                  "items-0-amount": "-5", "comment": "保留我"},
                        status=400)
    assert page.html.select(".cell.invalid")
    assert "保留我" in page.text
    assert page.html.find("input", attrs={"name": "items-0-amount"})["value"] == "-5"
    assert school.teacher.get("/approvals?box=submitted").json["items"] == []


def test_approve_reject_and_withdraw_through_the_page(school: School):
    first = submit(school.teacher, "expense", expense([100]))
    head = logged_in(school, "head")
    page = head.get(f"/approvals/{first['id']}")
    assert page.html.find("button", attrs={"value": "approve"}) is not None
    done = act_on(head, first["id"], "approve", comment="同意报销").follow()
    assert "同意报销" in done.text
    assert school.head.get(f"/approvals/{first['id']}").json["current_step"] == 2
    # no decision buttons once it is not their turn
    assert done.html.find("button", attrs={"value": "approve"}) is None
    # someone else acted meanwhile: the reason, not a 500
    stale = act_on(head, first["id"], "approve", status=409)
    assert stale.html.select_one("#action-alert")

    second = submit(school.teacher, "expense", expense([200]))
    act_on(head, second["id"], "reject", comment="发票不全")
    rejected = school.teacher.get(f"/approvals/{second['id']}").json
    assert rejected["status"] == "rejected"
    assert rejected["timeline"][1]["comment"] == "发票不全"

    third = submit(school.teacher, "expense", expense([300]))
    teacher = logged_in(school, "teacher")
    assert act_on(teacher, third["id"], "withdraw").follow().status_int == 200
    assert school.teacher.get(f"/approvals/{third['id']}").json["status"] == "withdrawn"
    # a refused action (the teacher cannot approve) is the page with its reason
    fourth = submit(school.teacher, "expense", expense([400]))
    refused = act_on(teacher, fourth["id"], "approve", status=403)
    assert "当前不是由你审批" in refused.text


def test_bad_action_input_is_shown_on_the_page(school: School):
    instance = submit(school.teacher, "expense", expense([100]))
    teacher = logged_in(school, "teacher")
    page = act_on(teacher, instance["id"], "transfer", status=400, to="nobody")
    assert page.html.select_one("#transfer-to-errors")
    assert page.html.select_one("details[open]")


def test_only_participants_and_the_enterprise_see_an_approval(
        school: School, app: TestApp, database: Database):
    instance = submit(school.teacher, "expense", expense([100]))
    outsider = logged_in(school, "outsider")
    assert outsider.get(f"/approvals/{instance['id']}", status=404)
    act_on_refused = outsider.post(f"/approvals/{instance['id']}/act", {
        "csrf_token": outsider.get("/approvals").html.find(
            "input", attrs={"name": "csrf_token"})["value"],
        "action": "approve"}, status=404)
    assert act_on_refused.status_int == 404
    other = make_school(app, database)
    theirs = submit(other.teacher, "expense", expense([100]))
    teacher = logged_in(school, "teacher")
    assert teacher.get(f"/approvals/{theirs['id']}", status=404)
    admin = browser(app)
    web_login(admin, school.tenant)
    assert admin.get(f"/approvals/{theirs['id']}", status=404)


def test_posts_need_the_csrf_token_and_pages_a_login(school: School):
    instance = submit(school.teacher, "expense", expense([100]))
    head = logged_in(school, "head")
    head.post(f"/approvals/{instance['id']}/act", {"action": "approve"}, status=400)
    head.post("/approvals/start/expense", {"title": "x"}, status=400)
    assert school.head.get(f"/approvals/{instance['id']}").json["status"] == "pending"
    anonymous = browser(school.app)
    for path in ("/approvals", "/approvals/start", "/approvals/start/expense",
                 f"/approvals/{instance['id']}", "/approvals/notifications"):
        response = anonymous.get(path, status=303)
        assert "/login?next=" in response.location


def test_notifications_inbox_marks_read(school: School):
    submit(school.teacher, "expense", expense([100]))
    head = logged_in(school, "head")
    inbox = head.get("/approvals/notifications")
    assert "等待你审批" in inbox.text
    form = form_of(inbox, "/approvals/notifications/read")
    form.submit(status=303)
    assert school.head.get("/notifications?unread=1").json["unread"] == 0


def test_pages_in_english(school: School):
    instance = submit(school.teacher, "expense", expense([100]))
    head = logged_in(school, "head")
    head.get("/lang/en?next=/approvals")
    page = head.get(f"/approvals/{instance['id']}")
    assert "Approve" in page.text and "Timeline" in page.text
    assert "Waiting for me" in head.get("/approvals").text


def test_a_free_flow_starts_with_the_picked_approver(school: School):
    teacher = logged_in(school, "teacher")
    page = teacher.get("/approvals/start/general_request")
    assert page.html.find("label", string="下一审批人") is not None
    csrf = form_of(page, "/approvals/start/general_request")["csrf_token"].value
    missing = teacher.post("/approvals/start/general_request", {
        "csrf_token": csrf, "title": "换课", "content": "下周三"}, status=400)
    assert missing.html.select_one("#pick-next_approver-errors")
    done = teacher.post("/approvals/start/general_request", {
        "csrf_token": csrf, "title": "换课", "content": "下周三",
        "next_approver": school.ids["head"]}, status=303)
    instance_id = done.location.rsplit("/", 1)[1]
    head = logged_in(school, "head")
    page = head.get(f"/approvals/{instance_id}")
    assert page.html.find(id="approve-next") is not None
    act_on(head, instance_id, "approve")
    assert school.teacher.get(f"/approvals/{instance_id}").json["status"] == "approved"
    assert act(school.teacher, instance_id, "comment", comment="谢谢")["status"] \
        == "approved"


MARGIN = "987654.321"


def test_participants_see_only_the_fields_their_roles_see(school: School):
    """Issue 10.1: the approval read the record as an admin for every viewer."""
    school.admin.define("deal", {
        "label": {"zh": "商机", "en": "Deal"},
        "fields": [{"api_name": "name", "type": "text", "required": True},
                   {"api_name": "margin", "type": "text"}],
        "permissions": {"employee": {"verbs": ["create", "read", "edit"],
                                     "scope": "own",
                                     "fields": {"margin": "hidden"}}}})
    school.admin.put("/metadata/approvals/deal_review", {
        "label": {"zh": "商机评审", "en": "Deal review"}, "form": "deal",
        "steps": [{"approver": {"relation": "department_head"}}],
        "cc": [{"users": [school.ids["colleague"]]}]}, status=200)
    deal = school.admin.create("deal", {"name": "大单", "margin": MARGIN})
    school.admin.post(f"/objects/deal/records/{deal['id']}/transfer",
                      {"owner": school.ids["teacher"]}, status=200)
    instance = school.teacher.post("/approvals", {
        "definition": "deal_review", "record": deal["id"]}, status=201).json
    path = f"/approvals/{instance['id']}"
    for key in ("teacher", "head", "colleague"):
        record = school.client(key).get(path).json["record"]
        assert record["name"] == "大单"
        assert "margin" not in record, key
    assert school.admin.get(path).json["record"]["margin"] == MARGIN
    for key in ("teacher", "head"):
        page = logged_in(school, key).get(path)
        assert "大单" in page.text
        assert MARGIN not in page.text, key
