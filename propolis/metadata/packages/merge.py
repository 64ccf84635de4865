"""The 3-way merge of an extension upgrade: the documents of the installed version
(base, B), of the new version (new, N) and the enterprise's own current documents
(tenant, T) give the documents after the upgrade.

Documents are matched by kind and api_name. Inside them, every attribute is merged
on its own:

* T equals B → N's value (only the package changed it);
* N equals B → T's value (only the enterprise changed it);
* T equals N → that value (both made the same change);
* otherwise, when T and N are both mappings (or both lists of mappings), they are
  merged the same way one level down; when they are not, it is a conflict.

What is "one attribute" (a leaf) and how lists are matched:

* A mapping is merged key by key, except a translatable text (``{zh, en}``) and the
  keys in ``ATOMIC_KEYS`` (an approver names exactly one way to find a person; a
  default is one value), which are one value each.
* A list of mappings is matched by the first of ``ID_KEYS`` that every item of the
  three versions has, unique within each list: fields, list views, layouts,
  actions, schedules, measures by ``api_name``; select options by ``value``;
  validations by ``rule``. Lists whose items have none of them (approval
  ``steps`` and ``cc``, layout ``sections``, view ``filters``, dashboard
  ``widgets``, chart ``dimensions``) are matched by position.
* A list of scalars (``columns``, ``sort``, a section's ``fields``, ``verbs``,
  ``timeline``) is one value.
* Items marked ``generated: true`` (the default list view and layout) are derived
  from the fields, so they are left out and normalizing the result makes them
  again.

Elements of id-matched lists (and documents) follow two more rules. An element the
enterprise deleted is not brought back, whatever the package did to it; one it
hid stays hidden (the package's other changes to it still apply).
A field the package removed (from any ``fields`` list: an object's, a table's, a
report's) stays, hidden (``hidden: true``), so its column and data stay too; any
other element the package removed is removed, unless the enterprise changed it,
which is a conflict.

The order of an id-matched list is merged like a value: the order of the elements
all three versions have is the enterprise's when only it reordered them, the
package's when only the package did, and a conflict when both did differently;
elements only one side has follow the element before them on that side.

Conflicts are collected, never raised half-way: ``merge`` returns the documents
with the enterprise's value at each conflict and the list of ``Conflict``s, each
with its path, e.g. ``visit.title.label`` (object ``visit``, field ``title``,
attribute ``label``). Paths start with the document: an object's api_name, or
``kind:api_name`` for the other kinds (an approval usually shares its form's
name). Fields are named directly under their object or table; other elements as
``list.id`` (``visit.level.options.won.label``, ``visit.list_views.mine.columns``)
or ``list.index`` when matched by position (``approval:leave.steps.1.approver``);
the order of a list is the list's own path (``visit.fields``). A field whose
api_name is also an attribute of its container is written ``fields.<name>``, and
an id that is not a plain word is written ``["…"]``.
``resolve`` takes one choice per conflict path — keep mine (``MINE``), take theirs
(``THEIRS``) or ``Edited(value)`` — and gives the merged documents.

The result is deterministic: mappings keep N's key order then T's additions;
lists as above. It is neither validated nor normalized here: give three versions
in the same shape (normalized documents, as the platform stores them), and
normalize the result (``normalize_document``, which is idempotent) before use.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from propolis.metadata.errors import Problem, Text
from propolis.metadata.packages.errors import PackageError, package_problem

ID_KEYS: Final = ("api_name", "value", "rule")
ATOMIC_KEYS: Final = frozenset({"approver", "escalate_to", "default"})
# lists whose elements the package cannot remove, only hide (their data stays)
HIDEABLE_LISTS: Final = frozenset({"fields"})
TEXT_KEYS: Final = frozenset({"zh", "en"})
POSITION: Final = "#position"
_PLAIN_SEGMENT = re.compile(r"^[A-Za-z0-9_-]+$")


class _Absent:
    """The value of an attribute or element a version does not have."""

    _instance: _Absent | None = None

    def __new__(cls) -> _Absent:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "ABSENT"

    def __deepcopy__(self, memo: dict[int, Any]) -> _Absent:
        return self


ABSENT: Final = _Absent()

MINE: Final = "mine"
THEIRS: Final = "theirs"


@dataclass(frozen=True)
class Edited:
    """A conflict resolved with a value of the admin's own (for an order
    conflict: the list of ids in the wanted order)."""

    value: Any


Choice = Literal["mine", "theirs"] | Edited


@dataclass(frozen=True)
class Conflict:
    """An attribute (``kind="value"``), an element (``"element"``: one side
    removed it, the other changed it) or a list's order (``"order"``: the values
    are the lists' ids) that the package and the enterprise changed differently.
    A value a version does not have is ``ABSENT``."""

    path: str
    base: Any
    new: Any
    tenant: Any
    kind: Literal["value", "element", "order"] = "value"

    def message(self) -> Text:
        """The conflict in one sentence per language (the path is said apart)."""
        base, new, tenant = (_shown(v) for v in (self.base, self.new, self.tenant))
        if self.kind == "order":
            return Text(
                f"the package and this enterprise both changed the order (package: "
                f"{new.en}, enterprise: {tenant.en}, was {base.en})",
                f"扩展包和本企业都调整了顺序（扩展包：{new.zh}，本企业：{tenant.zh}，"
                f"原为 {base.zh}）",
            )
        return Text(
            f"the package changes it to {new.en}, this enterprise changed it to "
            f"{tenant.en} (was {base.en})",
            f"扩展包改为 {new.zh}，本企业已改为 {tenant.zh}（原为 {base.zh}）",
        )

    def as_json(self) -> dict[str, Any]:
        """For the API and the CLI: ``ABSENT`` values are ``null`` and listed
        under ``absent``."""
        values = {"base": self.base, "new": self.new, "tenant": self.tenant}
        return {
            "path": self.path,
            "kind": self.kind,
            **{k: None if v is ABSENT else v for k, v in values.items()},
            "absent": [k for k, v in values.items() if v is ABSENT],
            "message": self.message()._asdict(),
        }


@dataclass(frozen=True)
class MergeResult:
    """The merged documents (with the enterprise's value wherever there is a
    conflict), the conflicts, and the three inputs (for ``resolve``)."""

    documents: list[dict[str, Any]]
    conflicts: tuple[Conflict, ...]
    base: tuple[dict[str, Any], ...] = field(repr=False)
    new: tuple[dict[str, Any], ...] = field(repr=False)
    tenant: tuple[dict[str, Any], ...] = field(repr=False)

    def check(self, source: str = "upgrade") -> None:
        """Raises ``PackageError`` naming every conflict (an upgrade with
        conflicts changes nothing until they are resolved)."""
        if self.conflicts:
            raise PackageError(
                package_problem(
                    "merge_conflict",
                    source,
                    c.message(),
                    Text("choose keep mine, take theirs, or edit the value",
                         "请选择保留本企业的值、采用扩展包的值，或编辑为新值"),
                    c.path,
                )
                for c in self.conflicts
            )


def merge(
    base: Iterable[Mapping[str, Any]],
    new: Iterable[Mapping[str, Any]],
    tenant: Iterable[Mapping[str, Any]],
    choices: Mapping[str, Choice] | None = None,
) -> MergeResult:
    """Merges the documents (see the module docstring). ``choices`` settles
    conflicts by path, as ``resolve`` does; an edited value that cannot be used
    raises ``PackageError``. The inputs are not changed."""
    b, n, t = (tuple(copy.deepcopy(dict(d)) for d in docs)
               for docs in (base, new, tenant))
    merger = _Merger(choices or {})
    prepared_b = _without_generated(list(b))
    prepared_n = _hide_in_list(
        prepared_b, _without_generated(list(n)), _document_id, hideable=False
    )
    merged = merger.documents(prepared_b, prepared_n, _without_generated(list(t)))
    if merger.problems:
        raise PackageError(merger.problems)
    return MergeResult(merged, tuple(merger.conflicts), b, n, t)


def resolve(result: MergeResult, choices: Mapping[str, Choice | str]) -> list[
    dict[str, Any]
]:
    """The merged documents with every conflict of ``result`` settled by
    ``choices`` (path → ``MINE``, ``THEIRS`` or ``Edited``). Refuses, with every
    reason, choices for paths that are not conflicts, conflicts left without a
    choice and choices that are none of the three."""
    paths = {c.path for c in result.conflicts}
    problems: list[Problem] = []
    parsed: dict[str, Choice] = {}
    for path, choice in choices.items():
        if path not in paths:
            problems.append(package_problem(
                "unknown_conflict", "resolve",
                Text(f"{path} is not a conflict of this upgrade",
                     f"{path} 不是本次升级的冲突"),
                Text(f"choose among: {', '.join(sorted(paths)) or '-'}",
                     f"可选：{', '.join(sorted(paths)) or '-'}"),
                path,
            ))
        elif isinstance(choice, Edited):
            parsed[path] = choice
        elif choice in (MINE, THEIRS):
            parsed[path] = MINE if choice == MINE else THEIRS
        else:
            problems.append(package_problem(
                "bad_choice", "resolve",
                Text(f"{choice!r} is not a way to settle a conflict",
                     f"{choice!r} 不是解决冲突的方式"),
                Text("use mine, theirs, or an edited value",
                     "请使用 mine（保留本企业的值）、theirs（采用扩展包的值）"
                     "或编辑后的值"),
                path,
            ))
    for conflict in result.conflicts:
        if conflict.path not in choices:
            problems.append(package_problem(
                "unresolved_conflict", "resolve",
                Text(f"{conflict.path} still needs a choice",
                     f"{conflict.path} 尚未选择处理方式"),
                Text("choose keep mine, take theirs, or edit the value",
                     "请选择保留本企业的值、采用扩展包的值，或编辑为新值"),
                conflict.path,
            ))
    if problems:
        raise PackageError(problems)
    settled = merge(result.base, result.new, result.tenant, parsed)
    settled.check("resolve")
    return settled.documents


def document_path(doc: Mapping[str, Any]) -> str:
    """Where a document's conflicts start: ``api_name`` for an object,
    ``kind:api_name`` for the other kinds."""
    kind = doc.get("kind", "object")
    name = str(doc.get("api_name"))
    return name if kind == "object" else f"{kind}:{name}"


@dataclass(frozen=True)
class _Slot:
    """Where a value sits: under key ``name`` of the mapping at ``parent``, whose
    keys (in any version) are ``container``."""

    parent: str
    name: str
    container: frozenset[str]


class _Merger:
    def __init__(self, choices: Mapping[str, Choice]) -> None:
        self.choices = choices
        self.conflicts: list[Conflict] = []
        self.problems: list[Problem] = []

    def documents(
        self, b: list[dict[str, Any]], n: list[dict[str, Any]], t: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        return self.elements(b, n, t, "", None, _document_id, frozenset(),
                             ordered=False)

    def value(
        self, b: Any, n: Any, t: Any, path: str, slot: _Slot | None = None
    ) -> Any:
        """One attribute (or element) at ``path``: the 3-way rule, then one level
        down. ``slot``: the mapping key it is the value of."""
        if _same(t, b):
            return n
        if _same(n, b) or _same(t, n):
            return t
        if slot is None or slot.name not in ATOMIC_KEYS:
            if _is_mapping(t) and _is_mapping(n) and (b is ABSENT or _is_mapping(b)):
                return self.mapping({} if b is ABSENT else b, n, t, path)
            if _is_records(t) and _is_records(n) and (b is ABSENT or _is_records(b)):
                return self.records([] if b is ABSENT else b, n, t, path, slot)
        if ABSENT in (n, t):
            return self.conflict(Conflict(path, b, n, t, "element"))
        return self.conflict(Conflict(path, b, n, t))

    def mapping(
        self, b: Mapping[str, Any], n: Mapping[str, Any], t: Mapping[str, Any],
        path: str,
    ) -> dict[str, Any]:
        out: dict[str, Any] = {}
        container = frozenset((*b, *n, *t))
        for key in dict.fromkeys((*n, *t, *b)):
            merged = self.value(
                b.get(key, ABSENT), n.get(key, ABSENT), t.get(key, ABSENT),
                _join(path, key), _Slot(path, key, container),
            )
            if merged is not ABSENT:
                out[key] = merged
        return out

    def records(
        self, b: list[Any], n: list[Any], t: list[Any], path: str, slot: _Slot | None
    ) -> list[Any]:
        key = _id_key(b, n, t)
        if key == POSITION or slot is None:
            return self.positions(b, n, t, path)
        return self.elements(b, n, t, slot.parent, slot.name,
                             lambda item: item[key], slot.container, ordered=True)

    def positions(
        self, b: list[Any], n: list[Any], t: list[Any], path: str
    ) -> list[Any]:
        out = []
        for index in range(max(len(b), len(n), len(t))):
            vb, vn, vt = (_at(v, index) for v in (b, n, t))
            here = f"{path}.{index}"
            if vb is ABSENT and ABSENT not in (vn, vt) and not _same(vn, vt):
                # both added a different item at the same place
                merged = self.conflict(Conflict(here, vb, vn, vt, "element"))
            else:
                merged = self.value(vb, vn, vt, here)
            if merged is not ABSENT:
                out.append(merged)
        return out

    def elements(
        self,
        b: Sequence[Any],
        n: Sequence[Any],
        t: Sequence[Any],
        path: str,
        name: str | None,
        ident: Callable[[Any], Hashable],
        container: frozenset[str],
        *,
        ordered: bool,
    ) -> list[Any]:
        bm, nm, tm = ({ident(item): item for item in v} for v in (b, n, t))
        merged: dict[Hashable, Any] = {}
        for key in dict.fromkeys((*nm, *tm, *bm)):
            here = _element_path(path, name, key, container)
            vb, vn, vt = bm.get(key, ABSENT), nm.get(key, ABSENT), tm.get(key, ABSENT)
            if vb is not ABSENT and vt is ABSENT:
                continue  # deleted by the enterprise: not brought back
            value = self.value(vb, vn, vt, here)
            if value is ABSENT:
                continue
            if not _keeps_id(value, ident, key):
                shown = ", ".join(map(str, key)) if isinstance(key, tuple) else key
                self.problems.append(package_problem(
                    "bad_choice", "resolve",
                    Text(f"the edited value of {here} must keep its id ({shown})",
                         f"{here} 编辑后的值必须保留其标识（{shown}）"),
                    Text("edit the other attributes only", "请只修改其他属性"),
                    here,
                ))
                continue
            merged[key] = value
        order = self.order(
            list(bm), list(nm), list(tm), set(merged), _join(path, name or ""),
            ordered,
        )
        return [merged[key] for key in order]

    def order(
        self,
        b: list[Hashable],
        n: list[Hashable],
        t: list[Hashable],
        keys: set[Hashable],
        path: str,
        ordered: bool,
    ) -> list[Hashable]:
        common = [k for k in b if k in keys and k in n and k in t]
        in_common = set(common)
        order_n = [k for k in n if k in in_common]
        order_t = [k for k in t if k in in_common]
        if not ordered:
            return _arrange(keys, n, [t]) if order_t == common else _arrange(
                keys, t, [n]
            )
        choice = self.choices.get(path)
        if isinstance(choice, Edited):
            wanted = choice.value
            if (
                not isinstance(wanted, list)
                or len(set(map(_hashable, wanted))) != len(wanted)
                or not all(_hashable(k) in keys for k in wanted)
            ):
                self.problems.append(package_problem(
                    "bad_choice", "resolve",
                    Text(f"the order of {path} must list each element once",
                         f"{path} 的顺序必须把每个元素列出一次"),
                    Text(f"use ids among: {', '.join(map(str, sorted(keys, key=str)))}",
                         f"可用：{', '.join(map(str, sorted(keys, key=str)))}"),
                    path,
                ))
                return _arrange(keys, t, [n])
            return _arrange(keys, [_hashable(k) for k in wanted], [t, n])
        if choice == THEIRS:
            return _arrange(keys, n, [t])
        if choice == MINE:
            return _arrange(keys, t, [n])
        if order_t == common:
            return _arrange(keys, n, [t])
        if order_n != common and order_t != order_n:
            self.conflicts.append(Conflict(path, list(b), list(n), list(t), "order"))
        return _arrange(keys, t, [n])

    def conflict(self, conflict: Conflict) -> Any:
        choice = self.choices.get(conflict.path)
        if choice is None:
            self.conflicts.append(conflict)
            return conflict.tenant
        if choice == MINE:
            return conflict.tenant
        if choice == THEIRS:
            return conflict.new
        assert isinstance(choice, Edited)
        return copy.deepcopy(choice.value)


def _arrange(
    keys: set[Hashable],
    spine: Sequence[Hashable],
    sources: Sequence[Sequence[Hashable]],
) -> list[Hashable]:
    """``keys`` in the order of ``spine``; a key it lacks comes right after the
    nearest key before it in the first source that has it (first of all when
    there is none)."""
    out = list(dict.fromkeys(k for k in spine if k in keys))
    placed = set(out)
    for source in sources:
        for index, key in enumerate(source):
            if key not in keys or key in placed:
                continue
            position = 0
            for before in reversed(source[:index]):
                if before in placed:
                    position = out.index(before) + 1
                    break
            out.insert(position, key)
            placed.add(key)
    return out


def _hide_removed(b: Any, n: Any, name: str | None) -> Any:
    """``n`` where every field of ``b`` that ``n`` removed is back, hidden: the
    package's removal of a field, as the merge applies it."""
    if _is_mapping(b) and _is_mapping(n):
        return {k: _hide_removed(b[k], v, k) if k in b else v for k, v in n.items()}
    if not (_is_records(b) and _is_records(n)):
        return n
    key = _id_key(b, n)
    if key == POSITION:
        return n
    return _hide_in_list(b, n, lambda item: item[key], name in HIDEABLE_LISTS)


def _hide_in_list(
    b: Sequence[Any], n: Sequence[Any], ident: Callable[[Any], Hashable],
    hideable: bool,
) -> list[Any]:
    lower = {ident(item): item for item in b}
    out = {
        ident(item): _hide_removed(lower[ident(item)], item, None)
        if ident(item) in lower else item
        for item in n
    }
    if hideable:
        out.update((k, {**item, "hidden": True})
                   for k, item in lower.items() if k not in out)
    spine = [ident(item) for item in n]
    return [out[k] for k in _arrange(set(out), spine, [list(lower)])]


def _without_generated(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_generated(v) for k, v in value.items()}
    if isinstance(value, list):
        return [
            _without_generated(v)
            for v in value
            if not (isinstance(v, dict) and v.get("generated") is True)
        ]
    return value


def _document_id(doc: Mapping[str, Any]) -> tuple[str, str]:
    return (str(doc.get("kind", "object")), str(doc.get("api_name")))


def _keeps_id(value: Any, ident: Callable[[Any], Hashable], key: Hashable) -> bool:
    try:
        return _is_mapping(value) and ident(value) == key
    except KeyError:
        return False


def _id_key(*lists: Sequence[Any]) -> str:
    for key in ID_KEYS:
        if all(_unique_ids(items, key) for items in lists):
            return key
    return POSITION


def _unique_ids(items: Sequence[Any], key: str) -> bool:
    ids = [item.get(key) for item in items]
    return all(isinstance(i, str | int) and not isinstance(i, bool) for i in ids) and (
        len(set(ids)) == len(ids)
    )


def _is_text(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and bool(value)
        and set(value) <= TEXT_KEYS
        and all(isinstance(v, str) for v in value.values())
    )


def _is_mapping(value: Any) -> bool:
    return isinstance(value, dict) and not _is_text(value)


def _is_records(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, dict) for v in value)


def _at(items: list[Any], index: int) -> Any:
    return items[index] if index < len(items) else ABSENT


def _same(a: Any, b: Any) -> bool:
    """Equality that tells ``True`` from ``1`` (Python's ``==`` does not)."""
    if a is ABSENT or b is ABSENT:
        return a is b
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(
            _same(a[k], b[k]) for k in a
        )
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(
            _same(x, y) for x, y in zip(a, b, strict=True)
        )
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    return type(a) is type(b) and bool(a == b)


def _hashable(value: Any) -> Hashable:
    return tuple(value) if isinstance(value, list) else value


def _segment(key: Hashable) -> str:
    if isinstance(key, tuple):
        return document_path({"kind": key[0], "api_name": key[1]})
    text = str(key)
    if _PLAIN_SEGMENT.match(text):
        return text
    return f"[{json.dumps(key, ensure_ascii=False)}]"


def _join(path: str, key: str) -> str:
    segment = _segment(key)
    if not path:
        return segment
    return f"{path}{segment}" if segment.startswith("[") else f"{path}.{segment}"


def _element_path(
    path: str, name: str | None, key: Hashable, container: frozenset[str]
) -> str:
    if name is None:
        return _join(path, key)  # type: ignore[arg-type]
    if name in HIDEABLE_LISTS and str(key) not in container:
        return _join(path, key)  # type: ignore[arg-type]
    return _join(_join(path, name), key)  # type: ignore[arg-type]


def _shown(value: Any) -> Text:
    """A value as a message shows it: a text in the message's language."""
    if value is ABSENT:
        return Text("(none)", "（无）")
    if _is_text(value):
        en, zh = value.get("en") or value["zh"], value.get("zh") or value["en"]
        return Text(_quoted(en), _quoted(zh))
    shown = _quoted(value)
    return Text(shown, shown)


def _quoted(value: Any) -> str:
    if isinstance(value, str):
        text = f"'{value}'"
    else:
        text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 60 else text[:57] + "…"
