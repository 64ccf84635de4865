"""The 3-way merge of an upgrade, rule by rule (the properties over random
documents are in test_merge_properties.py)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from propolis.metadata import normalize_document, validate_documents
from propolis.metadata.packages.errors import PackageError
from propolis.metadata.packages.merge import (
    ABSENT,
    MINE,
    THEIRS,
    Edited,
    merge,
    resolve,
)

Doc = dict[str, Any]


def visit(**changes: Any) -> Doc:
    doc: Doc = {
        "kind": "object",
        "api_name": "visit",
        "label": {"zh": "拜访", "en": "Visit"},
        "sharing": "hierarchy",
        "fields": [
            {"api_name": "title", "type": "text", "label": {"zh": "标题"},
             "required": False, "hidden": False},
            {"api_name": "level", "type": "select", "hidden": False,
             "options": [{"value": "a", "label": {"zh": "A"}},
                         {"value": "b", "label": {"zh": "B"}}]},
            {"api_name": "notes", "type": "textarea", "hidden": False},
        ],
        "list_views": [{"api_name": "mine", "columns": ["title", "level"]}],
    }
    doc.update(changes)
    return doc


def field(doc: Doc, name: str) -> Doc:
    return next(f for f in doc["fields"] if f["api_name"] == name)


def names(doc: Doc) -> list[str]:
    return [f["api_name"] for f in doc["fields"]]


def edit(doc: Doc, name: str, **changes: Any) -> Doc:
    out = copy.deepcopy(doc)
    field(out, name).update(changes)
    return out


def test_each_side_keeps_its_own_changes() -> None:
    base = visit()
    new = edit(visit(label={"zh": "拜访记录", "en": "Visit"}), "title", required=True)
    tenant = edit(visit(sharing="private"), "title", label={"zh": "主题"})
    result = merge([base], [new], [tenant])
    assert result.conflicts == ()
    (doc,) = result.documents
    assert doc["label"] == {"zh": "拜访记录", "en": "Visit"}
    assert doc["sharing"] == "private"
    assert field(doc, "title") == {**field(base, "title"), "required": True,
                                   "label": {"zh": "主题"}}


def test_the_same_change_on_both_sides_is_no_conflict() -> None:
    new = tenant = edit(visit(), "title", label={"zh": "主题"})
    result = merge([visit()], [new], [tenant])
    assert result.conflicts == () and result.documents == [tenant]


def test_different_changes_to_one_attribute_conflict() -> None:
    new = edit(visit(), "title", label={"zh": "拜访主题"})
    tenant = edit(visit(), "title", label={"zh": "主题"})
    result = merge([visit()], [new], [tenant])
    (conflict,) = result.conflicts
    assert conflict.path == "visit.title.label"
    assert (conflict.base, conflict.new, conflict.tenant) == (
        {"zh": "标题"}, {"zh": "拜访主题"}, {"zh": "主题"})
    # a text is one value: both languages together
    assert conflict.message().zh == (
        "扩展包改为 '拜访主题'，本企业已改为 '主题'（原为 '标题'）")
    # until resolved, the enterprise's value stands
    assert field(result.documents[0], "title")["label"] == {"zh": "主题"}
    with pytest.raises(PackageError) as exc:
        result.check("decoration")
    assert exc.value.codes == ["merge_conflict"]
    assert exc.value.problems[0].path == "visit.title.label"
    assert "visit.title.label: the package changes it to '拜访主题'" in str(exc.value)


@pytest.mark.parametrize(
    ("choice", "label"),
    [(MINE, {"zh": "主题"}), (THEIRS, {"zh": "拜访主题"}),
     (Edited({"zh": "访问主题", "en": "Topic"}), {"zh": "访问主题", "en": "Topic"})],
)
def test_resolve_each_way(choice: Any, label: Doc) -> None:
    new = edit(visit(), "title", label={"zh": "拜访主题"}, required=True)
    tenant = edit(visit(), "title", label={"zh": "主题"})
    result = merge([visit()], [new], [tenant])
    (doc,) = resolve(result, {"visit.title.label": choice})
    assert field(doc, "title")["label"] == label
    assert field(doc, "title")["required"] is True


def test_resolve_refuses_missing_unknown_and_bad_choices() -> None:
    new = edit(edit(visit(), "title", label={"zh": "甲"}), "notes", hidden=True)
    tenant = edit(edit(visit(), "title", label={"zh": "乙"}), "notes", hidden=None)
    result = merge([visit()], [new], [tenant])
    assert [c.path for c in result.conflicts] == ["visit.title.label",
                                                 "visit.notes.hidden"]
    with pytest.raises(PackageError) as exc:
        resolve(result, {"visit.title.label": "yours", "visit.nope": MINE})
    assert sorted(exc.value.codes) == ["bad_choice", "unknown_conflict",
                                       "unresolved_conflict"]
    assert "visit.notes.hidden still needs a choice" in str(exc.value)


def test_new_fields_and_options_of_both_sides_arrive_in_order() -> None:
    new = visit()
    new["fields"].insert(1, {"api_name": "place", "type": "text", "hidden": False})
    field(new, "level")["options"].append({"value": "c", "label": {"zh": "C"}})
    tenant = visit()
    tenant["fields"].append({"api_name": "wechat", "type": "text", "hidden": False})
    field(tenant, "level")["options"].insert(0, {"value": "z", "label": {"zh": "Z"}})
    (doc,) = merge([visit()], [new], [tenant]).documents
    assert names(doc) == ["title", "place", "level", "notes", "wechat"]
    assert [o["value"] for o in field(doc, "level")["options"]] == ["z", "a", "b", "c"]


def test_a_field_the_package_removes_stays_hidden_with_the_tenants_changes() -> None:
    new = visit()
    new["fields"] = [f for f in new["fields"] if f["api_name"] != "level"]
    tenant = edit(visit(), "level", label={"zh": "级别"})
    result = merge([visit()], [new], [tenant])
    assert result.conflicts == ()
    (doc,) = result.documents
    assert names(doc) == ["title", "level", "notes"]
    assert field(doc, "level")["hidden"] is True
    assert field(doc, "level")["label"] == {"zh": "级别"}
    # untouched by the enterprise: hidden all the same (its data stays)
    (doc,) = merge([visit()], [new], [visit()]).documents
    assert field(doc, "level")["hidden"] is True


def test_a_table_column_the_package_removes_stays_hidden() -> None:
    items = {"api_name": "items", "type": "table", "hidden": False, "fields": [
        {"api_name": "qty", "type": "number", "hidden": False},
        {"api_name": "price", "type": "currency", "hidden": False}]}
    base = visit(fields=[items])
    new = copy.deepcopy(base)
    new["fields"][0]["fields"].pop()
    (doc,) = merge([base], [new], [base]).documents
    assert doc["fields"][0]["fields"][1] == {**items["fields"][1], "hidden": True}


def test_what_the_enterprise_deleted_or_hid_is_not_brought_back() -> None:
    new = edit(visit(), "notes", label={"zh": "备注"})
    field(new, "level")["options"][1]["label"] = {"zh": "B级"}
    field(new, "title")["label"] = {"zh": "主题"}
    tenant = visit()
    tenant["fields"].pop()  # notes deleted
    field(tenant, "level")["options"].pop()  # option b deleted
    field(tenant, "title")["hidden"] = True
    result = merge([visit()], [new], [tenant])
    assert result.conflicts == ()
    (doc,) = result.documents
    assert names(doc) == ["title", "level"]
    assert [o["value"] for o in field(doc, "level")["options"]] == ["a"]
    assert field(doc, "title") == {**field(tenant, "title"), "label": {"zh": "主题"}}


def test_removing_what_the_enterprise_changed_is_an_element_conflict() -> None:
    new = visit()
    field(new, "level")["options"].pop()
    tenant = visit()
    field(tenant, "level")["options"][1]["label"] = {"zh": "重要"}
    result = merge([visit()], [new], [tenant])
    (conflict,) = result.conflicts
    assert (conflict.path, conflict.kind, conflict.new) == (
        "visit.level.options.b", "element", ABSENT)
    assert conflict.as_json()["absent"] == ["new"]
    assert conflict.message().en.startswith("the package changes it to (none)")
    (doc,) = resolve(result, {"visit.level.options.b": THEIRS})
    assert [o["value"] for o in field(doc, "level")["options"]] == ["a"]
    (doc,) = resolve(result, {"visit.level.options.b": MINE})
    assert field(doc, "level")["options"][1]["label"] == {"zh": "重要"}


def test_an_edited_element_must_keep_its_id() -> None:
    new = visit()
    field(new, "level")["options"].pop()
    tenant = visit()
    field(tenant, "level")["options"][1]["label"] = {"zh": "重要"}
    result = merge([visit()], [new], [tenant])
    with pytest.raises(PackageError) as exc:
        resolve(result, {"visit.level.options.b": Edited({"value": "x"})})
    assert exc.value.codes == ["bad_choice"]
    assert "must keep its id (b)" in str(exc.value)


def test_reordering_follows_whoever_reordered() -> None:
    reordered = visit()
    reordered["fields"].reverse()
    (doc,) = merge([visit()], [reordered], [visit()]).documents
    assert names(doc) == ["notes", "level", "title"]
    added = visit()
    added["fields"].append({"api_name": "place", "type": "text", "hidden": False})
    (doc,) = merge([visit()], [added], [reordered]).documents
    # a new element follows the one before it on its side
    assert names(doc) == ["notes", "place", "level", "title"]


def test_both_reordering_differently_is_an_order_conflict() -> None:
    new, tenant = visit(), visit()
    new["fields"] = [new["fields"][i] for i in (1, 0, 2)]
    tenant["fields"] = [tenant["fields"][i] for i in (2, 0, 1)]
    result = merge([visit()], [new], [tenant])
    (conflict,) = result.conflicts
    assert (conflict.path, conflict.kind) == ("visit.fields", "order")
    assert conflict.new == ["level", "title", "notes"]
    assert "both changed the order" in conflict.message().en
    (doc,) = resolve(result, {"visit.fields": THEIRS})
    assert names(doc) == ["level", "title", "notes"]
    (doc,) = resolve(result, {"visit.fields": Edited(["title", "notes", "level"])})
    assert names(doc) == ["title", "notes", "level"]
    with pytest.raises(PackageError) as exc:
        resolve(result, {"visit.fields": Edited(["title", "title"])})
    assert "must list each element once" in str(exc.value)


def test_lists_of_scalars_and_atomic_keys_are_one_value() -> None:
    new = visit(list_views=[{"api_name": "mine", "columns": ["title", "notes"]}])
    tenant = visit(list_views=[{"api_name": "mine", "columns": ["level"]}])
    (conflict,) = merge([visit()], [new], [tenant]).conflicts
    assert conflict.path == "visit.list_views.mine.columns"
    assert conflict.new == ["title", "notes"]


def approval(approver: Doc, **step: Any) -> Doc:
    return {"kind": "approval", "api_name": "visit", "form": "visit",
            "steps": [{"approver": {"relation": "direct_superior"}},
                      {"approver": approver, **step}]}


def test_other_kinds_are_named_by_kind_and_steps_by_position() -> None:
    base = approval({"position": "finance_director"})
    new = approval({"role": "crm_admin"})
    tenant = approval({"relation": "department_head"}, when="amount > 100")
    result = merge([visit(), base], [visit(), new], [visit(), tenant])
    (conflict,) = result.conflicts
    # an approver is one value: never a mixture of two ways to find a person
    assert conflict.path == "approval:visit.steps.1.approver"
    assert (conflict.new, conflict.tenant) == ({"role": "crm_admin"},
                                               {"relation": "department_head"})
    assert result.documents[1]["steps"][1]["when"] == "amount > 100"


def test_a_step_added_at_the_same_place_by_both_conflicts_whole() -> None:
    base = approval({"position": "principal"})
    new = approval({"position": "principal"})
    new["steps"].append({"approver": {"position": "chairman"}})
    tenant = approval({"position": "principal"})
    tenant["steps"].append({"approver": {"position": "hr"}})
    (conflict,) = merge([base], [new], [tenant]).conflicts
    assert (conflict.path, conflict.kind, conflict.base) == (
        "approval:visit.steps.2", "element", ABSENT)


def test_documents_added_removed_and_kept() -> None:
    report = {"kind": "report", "api_name": "daily", "period": "daily"}
    role = {"kind": "role", "api_name": "pm", "grants": {}}
    own = {"kind": "object", "api_name": "mine", "fields": []}
    result = merge([visit(), report], [visit(), role], [visit(), report, own])
    assert [(d["kind"], d["api_name"]) for d in result.documents] == [
        ("object", "visit"), ("object", "mine"), ("role", "pm")]
    changed = {**report, "period": "weekly"}
    result = merge([report], [], [changed])
    (conflict,) = result.conflicts
    assert (conflict.path, conflict.kind) == ("report:daily", "element")
    assert resolve(result, {"report:daily": THEIRS}) == []
    with pytest.raises(PackageError) as exc:
        resolve(result, {"report:daily": Edited({**report, "api_name": "other"})})
    assert "must keep its id (report, daily)" in str(exc.value)


def test_generated_views_are_left_to_normalization() -> None:
    (base,) = validate_documents([{
        "kind": "object", "api_name": "visit",
        "fields": [{"api_name": "title", "type": "text"}]}])
    new = copy.deepcopy(base)
    new["fields"].append(normalize_document(
        {"kind": "object", "api_name": "x",
         "fields": [{"api_name": "place", "type": "text"}]})["fields"][0])
    tenant = copy.deepcopy(base)
    tenant["fields"].append({**new["fields"][1], "api_name": "wechat"})
    result = merge([base], [new], [tenant])
    assert result.conflicts == ()
    merged = normalize_document(result.documents[0])
    assert merged["list_views"][0]["generated"] is True
    assert merged["list_views"][0]["columns"] == ["title", "wechat", "place"]


def test_paths_of_awkward_ids() -> None:
    base = visit(validations=[{"rule": "a > 1", "message": "m"}])
    new = visit(validations=[{"rule": "a > 1", "message": "n"}])
    tenant = visit(validations=[{"rule": "a > 1", "message": "o"}])
    (conflict,) = merge([base], [new], [tenant]).conflicts
    assert conflict.path == 'visit.validations["a > 1"].message'
    # a field named like an attribute of its object is written fields.<name>
    base = visit(fields=[{"api_name": "label", "type": "text", "help": "x"}])
    new = visit(fields=[{"api_name": "label", "type": "text", "help": "y"}])
    tenant = visit(fields=[{"api_name": "label", "type": "text", "help": "z"}])
    (conflict,) = merge([base], [new], [tenant]).conflicts
    assert conflict.path == "visit.fields.label.help"


def test_true_is_not_one() -> None:
    base = edit(visit(), "title", required=1)
    (doc,) = merge([base], [edit(visit(), "title", required=True)], [base]).documents
    assert field(doc, "title")["required"] is True


def test_inputs_are_not_changed_and_output_is_deterministic() -> None:
    base, new, tenant = visit(), edit(visit(), "title", hidden=True), visit()
    field(tenant, "level")["options"].reverse()
    before = copy.deepcopy((base, new, tenant))
    first = merge([base], [new], [tenant]).documents
    assert (base, new, tenant) == before
    assert merge([base], [new], [tenant]).documents == first
    assert list(first[0]) == list(new)
