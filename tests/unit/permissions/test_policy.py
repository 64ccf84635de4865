"""The access policy as the record service applies it: data scopes, sharing, the
team, hidden and read-only fields, keyword search, lookups, quotes, verbs, and
pages that stay exact whatever way the visibility condition is shaped."""

from __future__ import annotations

from typing import Any

import pytest

from propolis.platform.errors import AppError
from propolis.platform.permissions import policy
from propolis.platform.permissions.actor import Actor
from propolis.platform.permissions.team import put_member
from propolis.platform.records.services import RecordService
from tests.common.texts import field_texts
from tests.unit.permissions.conftest import Org, Services


def refused(fn: Any, *args: Any, **kw: Any) -> AppError:
    with pytest.raises(AppError) as info:
        fn(*args, **kw)
    return info.value


def names(svc: RecordService, object: str = "lead", **kw: Any) -> set[str]:
    page = svc.query(object, limit=200, **kw)
    return {r.get("name") or r.get("title") for r in page["records"]}


def leads(org: Org, as_user: Services) -> dict[str, dict[str, Any]]:
    """One lead per user, created by them (so in their main department)."""
    return {key: as_user(org.actor(key)).create("lead", {
        "name": f"lead of {key}", "stage": "won",
        "items": [{"note": f"螺丝 {key}"}]}) for key in org.users}


def test_department_scope_reaches_sub_and_secondary_departments(
        org: Org, as_user: Services) -> None:
    leads(org, as_user)
    seen = {key: names(as_user(org.actor(key))) for key in org.users}
    assert seen == {
        "boss": {"lead of boss", "lead of mid", "lead of low", "lead of stray"},
        "mid": {"lead of mid", "lead of low"},
        # east, and other: a department of theirs besides the main one
        "low": {"lead of low", "lead of stray"},
        "stray": {"lead of stray"},
    }


def test_a_record_out_of_reach_is_missing_and_a_verb_not_granted_forbidden(
        org: Org, as_user: Services) -> None:
    made = leads(org, as_user)
    stray, low = as_user(org.actor("stray")), as_user(org.actor("low"))
    missing = refused(stray.get, "lead", "01XXXXXXXXXXXXXXXXXXXXXXXX")
    for call in (lambda: stray.get("lead", made["low"]["id"]),
                 lambda: stray.history("lead", made["low"]["id"]),
                 lambda: stray.update("lead", made["low"]["id"], {"name": "x"}),
                 lambda: stray.delete("lead", made["low"]["id"]),
                 lambda: stray.transfer("lead", made["low"]["id"],
                                        org.users["stray"])):
        error = refused(call)
        assert (error.status, error.code, error.message) == (
            404, missing.code, missing.message)
    for call in (lambda: low.delete("lead", made["low"]["id"]),
                 lambda: low.transfer("lead", made["low"]["id"], org.users["mid"])):
        error = refused(call)
        assert (error.status, error.code, error.fields) == (403, "forbidden", {})


def test_hidden_fields_are_nowhere_and_read_only_ones_not_written(
        org: Org, as_user: Services) -> None:
    made = as_user(org.actor("low", "closer")).create("lead", {
        "name": "mixed", "secret": "zz-hidden"})
    low = as_user(org.actor("low"))
    shown = low.get("lead", made["id"])
    assert "secret" not in shown and shown["name"] == "mixed"
    assert all("secret" not in r for r in low.query("lead")["records"])
    assert [e["changes"] for e in low.history("lead", made["id"])] == [
        {"name": [None, "mixed"]}]
    for body in ({"filters": [{"field": "secret", "op": "eq", "value": "x"}]},
                 {"sort": ["secret"]}):
        assert field_texts(refused(low.query, "lead", **body).fields) == {
            "secret": [{"zh": "没有这个字段", "en": "unknown field"}]}
    assert list(refused(low.create, "lead", {"secret": "x"}).fields) == ["secret"]
    error = refused(low.update, "lead", made["id"], {"budget": 1})
    assert field_texts(error.fields) == {"budget": [
        {"zh": "没有修改该字段的权限", "en": "you may not change this field"}]}
    # the closer role leaves every field open: the most open access wins
    assert as_user(org.actor("low", "closer")).get("lead", made["id"])["secret"]


@pytest.mark.parametrize(("q", "found"), [
    ("赢单", True),      # an option by its label
    ("won", True),      # … and by its value
    ("42", True),       # a number by its whole value
    ("螺丝", True),      # a table row
    ("mixed", True),
    ("zz-hidden", False),  # a hidden field never makes a record match
])
def test_keyword_search_sees_only_the_visible_fields(
        org: Org, as_user: Services, q: str, found: bool) -> None:
    as_user(org.actor("low", "closer")).create("lead", {
        "name": "mixed", "secret": "zz-hidden", "stage": "won", "budget": 42,
        "items": [{"note": "螺丝"}]})
    assert (names(as_user(org.actor("low")), q=q) == {"mixed"}) is found
    assert names(as_user(org.actor("low", "closer")), q=q) == {"mixed"}


def test_lookups_and_quotes_reach_only_readable_records(
        org: Org, as_user: Services) -> None:
    made = leads(org, as_user)
    as_user(Actor(None)).update("lead", made["low"]["id"], {"secret": "s-low"})
    stray = as_user(org.actor("stray"))
    nowhere = refused(stray.create, "memo", {"lead": "01XXXXXXXXXXXXXXXXXXXXXXXX"})
    hidden = refused(stray.create, "memo", {"lead": made["low"]["id"]})
    assert (hidden.fields, hidden.message) == (nowhere.fields, nowhere.message)
    low = as_user(org.actor("low"))
    memo = low.create("memo", {"title": "mine", "lead": made["low"]["id"]})
    assert memo["lead_name"] == "lead of low"
    assert memo["lead_secret"] is None  # hidden from low on the lead
    boss = as_user(org.actor("boss", "closer"))
    assert boss.get("memo", memo["id"])["lead_secret"] == "s-low"
    other = low.create("memo", {"title": "other", "lead": made["stray"]["id"]})
    # mid sees low's memo (hierarchy) but not the lead in another department
    seen = as_user(org.actor("mid")).get("memo", other["id"])
    assert seen["lead"] == made["stray"]["id"] and seen["lead_name"] is None


def test_delete_restore_and_transfer_need_their_verbs(
        org: Org, as_user: Services) -> None:
    made = leads(org, as_user)
    mid = as_user(org.actor("mid", "closer"))
    target = made["low"]["id"]
    mid.delete("lead", target)
    assert target not in {r["id"] for r in as_user(org.actor("stray")).list_deleted(
        "lead")["records"]}
    assert target in {r["id"] for r in mid.list_deleted("lead")["records"]}
    assert refused(as_user(org.actor("low")).restore, "lead", target).status == 403
    mid.restore("lead", target)
    moved = mid.transfer("lead", target, org.users["stray"])
    assert moved["owner"] == org.users["stray"]
    assert moved["owner_department"] == org.departments["other"]
    last = as_user(org.actor("stray")).history("lead", target)[-1]
    assert last["action"] == "transfer"
    assert last["changes"]["owner"] == [org.users["low"], org.users["stray"]]
    # the new owner's department is stray's: mid no longer reaches it
    assert refused(mid.get, "lead", target).status == 404


def test_team_members_see_and_edit_what_they_follow(
        org: Org, as_user: Services) -> None:
    made = leads(org, as_user)
    stray = as_user(org.actor("stray"))
    conn = stray.session.connection()
    put_member(conn, "lead", made["boss"]["id"], org.users["stray"], "read", None)
    assert names(stray) == {"lead of stray", "lead of boss"}
    assert refused(stray.update, "lead", made["boss"]["id"],
                   {"name": "x"}).status == 403
    put_member(conn, "lead", made["boss"]["id"], org.users["stray"], "edit", None)
    assert stray.update("lead", made["boss"]["id"], {"name": "x"})["name"] == "x"


@pytest.mark.parametrize("walk", [False, True])
def test_pages_are_exact_whatever_the_shape_of_the_condition(
        org: Org, as_user: Services, monkeypatch: pytest.MonkeyPatch,
        walk: bool) -> None:
    """Several branches (department scope, the chain through the closer role, the
    team) paged three at a time with keyset cursors give every visible record once,
    in order, as one big page does; walking the chain (SQLite's shape for users
    with many people below them) gives the same."""
    if walk:
        monkeypatch.setattr(policy, "WALK_BELOW", 1)
    creators = [as_user(org.actor(key)) for key in org.users]
    ids = [creators[i % 4].create("lead", {"name": f"n{i:02d}",
                                           "stage": ("won", "lost", None)[i % 3]})
           for i in range(24)]
    mid = as_user(org.actor("mid", "closer"))
    put_member(mid.session.connection(), "lead", ids[3]["id"], org.users["mid"],
               "read", None)
    for sort in (["-stage", "name"], ["name"], ["-updated_at"]):
        whole = mid.query("lead", sort=sort, limit=200)["records"]
        paged: list[dict[str, Any]] = []
        cursor = None
        while True:
            page = mid.query("lead", sort=sort, limit=3, cursor=cursor)
            paged += page["records"]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert [r["id"] for r in paged] == [r["id"] for r in whole]
        assert ids[3]["id"] in {r["id"] for r in whole}  # followed: stray's
        # mid's 6 and low's 6 (department and chain), and the one followed
        assert len(whole) == len({r["id"] for r in whole}) == 13
