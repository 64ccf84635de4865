"""Properties of the 3-way merge over random documents (Hypothesis).

A random base B is edited twice, independently, into the package's new version N
and the enterprise's version T (attributes changed, keys added and removed,
fields, options and documents added, removed and reordered, approval steps
changed). The documents are then seen flat: one entry per leaf (an attribute's
value) and per element (a document, field, option or step: present or not), keyed
by the merge's own path syntax, so that each rule can be stated leaf by leaf and
checked against the recursive merge. N* is N as the merge applies it: a field N
removed is still there, hidden.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from propolis.metadata.packages.merge import ABSENT, MINE, THEIRS, merge, resolve

Doc = dict[str, Any]
Flat = dict[str, Any]
PRESENT = "<present>"
FIELD_NAMES = ["f_a", "f_b", "f_c", "f_d", "f_e"]
OPTION_VALUES = ["v1", "v2", "v3", "v4"]
DOC_NAMES = ["visit", "site", "school"]
TEXTS = st.sampled_from([{"zh": "甲"}, {"zh": "乙"}, {"zh": "丙", "en": "C"}])
SHARING = st.sampled_from(["private", "hierarchy", "public_read"])
APPROVERS = st.sampled_from([{"position": "principal"}, {"position": "chairman"},
                             {"relation": "department_head"}])
WHENS = st.sampled_from([None, "amount > 100", "amount > 5000"])
PROPERTY_SETTINGS = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,
)


def options() -> st.SearchStrategy[list[Doc]]:
    return st.lists(st.sampled_from(OPTION_VALUES), unique=True, max_size=3).flatmap(
        lambda values: st.tuples(*(st.fixed_dictionaries(
            {"value": st.just(v), "label": TEXTS}) for v in values)).map(list))


def field(name: str) -> st.SearchStrategy[Doc]:
    return st.fixed_dictionaries(
        {"api_name": st.just(name), "type": st.just("select"), "label": TEXTS,
         "required": st.booleans(), "hidden": st.booleans(), "options": options()},
        optional={"help": TEXTS},
    )


def fields() -> st.SearchStrategy[list[Doc]]:
    return st.lists(st.sampled_from(FIELD_NAMES), unique=True, max_size=4).flatmap(
        lambda names: st.tuples(*(field(n) for n in names)).map(list))


def step() -> st.SearchStrategy[Doc]:
    return st.fixed_dictionaries({"approver": APPROVERS, "when": WHENS})


def document(name: str) -> st.SearchStrategy[Doc]:
    return st.fixed_dictionaries(
        {"kind": st.just("object"), "api_name": st.just(name), "label": TEXTS,
         "sharing": SHARING, "fields": fields(),
         "steps": st.lists(step(), max_size=3),
         "columns": st.lists(st.sampled_from(FIELD_NAMES), max_size=2)},
        optional={"deletable": st.booleans()},
    )


def documents() -> st.SearchStrategy[list[Doc]]:
    return st.lists(st.sampled_from(DOC_NAMES[:2]), unique=True, min_size=1).flatmap(
        lambda names: st.tuples(*(document(n) for n in names)).map(list))


def edited(data: st.DataObject, docs: list[Doc]) -> list[Doc]:
    """``docs`` after a few random edits."""
    out = copy.deepcopy(docs)
    for _ in range(data.draw(st.integers(0, 5))):
        data.draw(st.sampled_from(EDITS))(data, out)
    return out


def _pick(data: st.DataObject, items: list[Any]) -> Any:
    return data.draw(st.sampled_from(items)) if items else None


def edit_document(data: st.DataObject, docs: list[Doc]) -> None:
    doc = _pick(data, docs)
    if doc is None:
        return
    key = data.draw(st.sampled_from(["label", "sharing", "deletable", "columns"]))
    if key == "deletable" and "deletable" in doc and data.draw(st.booleans()):
        del doc["deletable"]
        return
    value = {"label": TEXTS, "sharing": SHARING, "deletable": st.booleans(),
             "columns": st.lists(st.sampled_from(FIELD_NAMES), max_size=2)}[key]
    doc[key] = data.draw(value)


def edit_field(data: st.DataObject, docs: list[Doc]) -> None:
    doc = _pick(data, [d for d in docs if d["fields"]])
    if doc is None:
        return
    target = _pick(data, doc["fields"])
    key = data.draw(st.sampled_from(["label", "required", "hidden", "help"]))
    if key == "help" and "help" in target and data.draw(st.booleans()):
        del target["help"]
        return
    target[key] = data.draw(TEXTS if key in ("label", "help") else st.booleans())


def add_field(data: st.DataObject, docs: list[Doc]) -> None:
    doc = _pick(data, docs)
    if doc is None:
        return
    taken = {f["api_name"] for f in doc["fields"]}
    name = _pick(data, [n for n in FIELD_NAMES if n not in taken])
    if name is not None:
        at = data.draw(st.integers(0, len(doc["fields"])))
        doc["fields"].insert(at, data.draw(field(name)))


def remove_field(data: st.DataObject, docs: list[Doc]) -> None:
    doc = _pick(data, [d for d in docs if d["fields"]])
    if doc is not None:
        doc["fields"].remove(_pick(data, doc["fields"]))


def reorder_fields(data: st.DataObject, docs: list[Doc]) -> None:
    doc = _pick(data, docs)
    if doc is not None:
        doc["fields"] = data.draw(st.permutations(doc["fields"]))


def edit_option(data: st.DataObject, docs: list[Doc]) -> None:
    doc = _pick(data, [d for d in docs if d["fields"]])
    if doc is None:
        return
    target = _pick(data, doc["fields"])["options"]
    action = data.draw(st.sampled_from(["add", "remove", "relabel"]))
    if action == "add":
        taken = {o["value"] for o in target}
        value = _pick(data, [v for v in OPTION_VALUES if v not in taken])
        if value is not None:
            target.append({"value": value, "label": data.draw(TEXTS)})
    elif target and action == "remove":
        target.remove(_pick(data, target))
    elif target:
        _pick(data, target)["label"] = data.draw(TEXTS)


def edit_step(data: st.DataObject, docs: list[Doc]) -> None:
    doc = _pick(data, docs)
    if doc is None:
        return
    steps = doc["steps"]
    action = data.draw(st.sampled_from(["add", "remove", "change"]))
    if action == "add":
        steps.append(data.draw(step()))
    elif steps and action == "remove":
        steps.pop()
    elif steps:
        target = _pick(data, steps)
        key = data.draw(st.sampled_from(["approver", "when"]))
        target[key] = data.draw(APPROVERS if key == "approver" else WHENS)


def add_or_remove_document(data: st.DataObject, docs: list[Doc]) -> None:
    taken = {d["api_name"] for d in docs}
    name = _pick(data, [n for n in DOC_NAMES if n not in taken])
    if name is not None and data.draw(st.booleans()):
        docs.append(data.draw(document(name)))
    elif docs:
        docs.remove(_pick(data, docs))


EDITS: list[Callable[[st.DataObject, list[Doc]], None]] = [
    edit_document, edit_field, edit_field, add_field, remove_field, reorder_fields,
    edit_option, edit_step, add_or_remove_document,
]


def hide_removed(base: list[Doc], new: list[Doc]) -> Flat:
    """N* flat: N, with each field N removed from a document it kept back as B
    has it, hidden."""
    flat = flatten(new)
    lower = {d["api_name"]: d for d in base}
    for doc in new:
        if doc["api_name"] not in lower:
            continue
        kept = {f["api_name"] for f in doc["fields"]}
        for removed in lower[doc["api_name"]]["fields"]:
            if removed["api_name"] not in kept:
                leaves = _field_leaves(doc["api_name"], removed)
                leaves[f"{doc['api_name']}.{removed['api_name']}.hidden"] = True
                flat.update(leaves)
    return flat


def flatten(docs: list[Doc]) -> Flat:
    flat: Flat = {}
    for doc in docs:
        path = doc["api_name"]
        flat[path] = PRESENT
        for key, value in doc.items():
            if key not in ("fields", "steps"):
                flat[f"{path}.{key}"] = value
        for item in doc["fields"]:
            flat.update(_field_leaves(path, item))
        for index, item in enumerate(doc["steps"]):
            flat[f"{path}.steps.{index}"] = PRESENT
            flat.update({f"{path}.steps.{index}.{k}": v for k, v in item.items()})
    return flat


def _field_leaves(path: str, item: Doc) -> Flat:
    here = f"{path}.{item['api_name']}"
    flat: Flat = {here: PRESENT}
    flat.update({f"{here}.{k}": v for k, v in item.items() if k != "options"})
    for option in item["options"]:
        at = f"{here}.options.{option['value']}"
        flat[at] = PRESENT
        flat.update({f"{at}.{k}": v for k, v in option.items()})
    return flat


def field_order(docs: list[Doc]) -> dict[str, list[str]]:
    return {d["api_name"]: [f["api_name"] for f in d["fields"]] for d in docs}


def elements(flat: Flat) -> set[str]:
    """Paths of the id-matched elements (documents, fields, options): the ones an
    enterprise's deletion keeps deleted."""
    return {p for p, v in flat.items() if v == PRESENT and ".steps." not in p}


def under(path: str, prefixes: set[str]) -> bool:
    return any(path == p or path.startswith(p + ".") for p in prefixes)


def subtree(flat: Flat, path: str) -> Flat:
    return {p: v for p, v in flat.items() if p == path or p.startswith(path + ".")}


@PROPERTY_SETTINGS
@given(st.data())
def test_merge_rules_leaf_by_leaf(data: st.DataObject) -> None:
    base = data.draw(documents())
    new, tenant = edited(data, base), edited(data, base)
    result = merge(base, new, tenant)
    b, n, t, r = flatten(base), hide_removed(base, new), flatten(tenant), flatten(
        result.documents)
    conflicts = {c.path for c in result.conflicts if c.kind != "order"}
    deleted = {p for p in elements(b) if p not in t}

    for path in sorted(set(b) | set(n) | set(t) | set(r)):
        vb, vn, vt, vr = (f.get(path, ABSENT) for f in (b, n, t, r))
        covered = under(path, conflicts)
        if covered:
            continue
        # no tenant change lost unless it conflicted
        if vt != vb:
            assert vr == vt, path
        # every package change applied unless it conflicted, or the enterprise
        # deleted the element it is in
        if vn != vb and not under(path, deleted):
            assert vr == vn, path
        # what nobody changed stays
        if vn == vb == vt:
            assert vr == vb, path
        # both changed differently: always a conflict
        assert not (vt != vb and vn != vb and vt != vn
                    and not under(path, deleted)), path

    # a conflict only where both changed differently
    for path in conflicts:
        assert not under(path, deleted - {path}), path
        sb, sn, st_ = (subtree(f, path) for f in (b, n, t))
        assert sb != sn and sb != st_ and sn != st_, path


@PROPERTY_SETTINGS
@given(st.data())
def test_orders_follow_whoever_reordered(data: st.DataObject) -> None:
    base = data.draw(documents())
    new, tenant = edited(data, base), edited(data, base)
    result = merge(base, new, tenant)
    order_conflicts = {c.path for c in result.conflicts if c.kind == "order"}
    ob, on, ot, orr = (field_order(d) for d in (base, new, tenant, result.documents))
    for name, merged in orr.items():
        if name not in ob or name not in on or name not in ot:
            continue
        common = [f for f in ob[name] if f in on[name] and f in ot[name]
                  and f in merged]
        sb, sn, st_, sr = ([f for f in order if f in common]
                           for order in (ob[name], on[name], ot[name], merged))
        if f"{name}.fields" in order_conflicts:
            assert st_ != sb
            continue
        if st_ == sb:
            assert sr == sn
        else:
            assert sr == st_


@PROPERTY_SETTINGS
@given(st.data())
def test_one_side_unchanged(data: st.DataObject) -> None:
    base = data.draw(documents())
    changed = edited(data, base)
    # merge(B, B, T) == T
    result = merge(base, base, changed)
    assert result.conflicts == () and result.documents == changed
    # merge(B, N, N) == N
    result = merge(base, changed, changed)
    assert result.conflicts == () and result.documents == changed
    # merge(B, N, B) == N*, with the fields N removed kept, hidden
    result = merge(base, changed, base)
    assert result.conflicts == ()
    assert flatten(result.documents) == hide_removed(base, changed)
    kept = field_order(changed)
    for name, order in field_order(result.documents).items():
        assert [f for f in order if f in kept[name]] == kept[name]


@PROPERTY_SETTINGS
@given(st.data())
def test_resolving_settles_every_conflict(data: st.DataObject) -> None:
    base = data.draw(documents())
    new, tenant = edited(data, base), edited(data, base)
    result = merge(base, new, tenant)
    assert resolve(result, {c.path: MINE for c in result.conflicts}) == (
        result.documents)
    theirs = flatten(resolve(result, {c.path: THEIRS for c in result.conflicts}))
    n = hide_removed(base, new)
    for conflict in result.conflicts:
        if conflict.kind == "value":
            assert theirs.get(conflict.path, ABSENT) == n.get(conflict.path, ABSENT)
        elif conflict.kind == "element":
            assert (conflict.path in theirs) == (conflict.path in n)
    # deterministic
    assert merge(base, new, tenant).documents == result.documents
