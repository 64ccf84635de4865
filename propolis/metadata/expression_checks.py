"""The checks of the expressions in metadata (formulas, validation rules, approval
conditions), so that an expression that can only fail is refused when it is
written, naming the field, rather than failing every save: it compiles (regular
expressions included), reads only fields that exist and members they have, calls
``option()`` on select fields with attributes their options declare, is well typed
and gives the type its field returns; formulas do not use each other in a circle.

Each problem comes back as a catalog code with its parameters; the caller places
it at the expression's path.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from propolis.metadata.errors import Text, suggest
from propolis.metadata.expressions import ExpressionError, compile_expression
from propolis.metadata.expressions.activation import attribute_types, variable_types
from propolis.metadata.expressions.typecheck import CelType, check_types
from propolis.metadata.fieldtypes import definition_of
from propolis.metadata.names import SYSTEM_FIELDS

# code and parameters of one problem
Found = tuple[str, dict[str, Any]]

_KIND_NAMES = {
    "number": Text("a number", "数字"),
    "string": Text("text", "文本"),
    "bool": Text("true or false", "布尔值"),
    "date": Text("a date", "日期"),
    "datetime": Text("a date and time", "日期时间"),
    "time": Text("a time", "时间"),
    "list": Text("a list", "列表"),
    "map": Text("a mapping", "映射"),
}


def expression_problems(
    source: str,
    what: Text,
    scope: Mapping[str, Mapping[str, Any]] | None,
    owner: Text,
    *,
    system: bool,
    gives: CelType | None = None,
) -> list[Found]:
    """What is wrong with ``source``: every variable it reads must be in ``scope``
    (or a system field when ``system``) and the expression must be well typed over
    them, giving a value of the kind of ``gives`` (None: any). ``scope`` None: the
    syntax alone is checked."""
    try:
        compiled = compile_expression(source)
    except ExpressionError as exc:
        return [("expression_syntax", {"what": what, "detail": str(exc)})]
    if scope is None:
        return []
    found = _name_problems(compiled.references, compiled.member_references, what,
                           scope, owner, system)
    found += _option_problems(compiled.option_references, what, scope)
    if found:
        return found  # types over unknown names would only repeat them
    system_types = SYSTEM_FIELDS if system else None
    try:
        result = check_types(compiled, variable_types(scope.values(), system_types),
                             attribute_types(scope.values()))
    except ExpressionError as exc:
        return [("expression_type", {"what": what, "detail": str(exc)})]
    if gives is not None and result.kind not in ("dyn", "null", gives.kind):
        return [("expression_result_type", {
            "what": what, "found": _KIND_NAMES.get(result.kind, result.kind),
            "expected": _KIND_NAMES[gives.kind]})]
    return []


def _name_problems(
    references: frozenset[str],
    member_references: Mapping[str, frozenset[str]],
    what: Text,
    scope: Mapping[str, Mapping[str, Any]],
    owner: Text,
    system: bool,
) -> list[Found]:
    found: list[Found] = []
    known = sorted(scope.keys() | (SYSTEM_FIELDS.keys() if system else set()))
    for name in sorted(references):
        if name not in known:
            found.append(("expression_unknown_name", {
                "what": what, "name": name, "owner": owner, "allowed": known,
                "hint": suggest(name, known)}))
            continue
        members = sorted(member_references.get(name, ()))
        field = scope.get(name)
        if field is not None and not definition_of(field).holds_value:
            found.append(("formula_reads_quote", {"what": what, "name": name}))
            continue
        if not members:
            continue
        known_members = _members(field)
        if field is None or known_members is None:
            actual = field["type"] if field else SYSTEM_FIELDS[name]
            found.append(("expression_no_members", {
                "what": what, "name": name, "member": members[0], "actual": actual}))
            continue
        allowed = sorted(known_members)
        found += [("expression_unknown_member", {
            "what": what, "name": name, "member": member, "allowed": allowed,
            "hint": suggest(member, allowed)})
            for member in members if member not in allowed]
    return found


def _members(field: Mapping[str, Any] | None) -> frozenset[str] | None:
    """The members an expression may read of a field's value (a mapping's keys;
    for a list of mappings, such as a table's rows, theirs); None: it has none."""
    if field is None:
        return None
    cel = definition_of(field).cel_type(field)
    if cel.kind == "list" and cel.element is not None:
        cel = cel.element
    if cel.kind == "map" and cel.members:
        return frozenset(cel.members)
    return None


def _option_problems(
    references: frozenset[tuple[str, str]],
    what: Text,
    scope: Mapping[str, Mapping[str, Any]],
) -> list[Found]:
    found: list[Found] = []
    declared = attribute_types(scope.values())
    for name, attribute in sorted(references):
        field = scope.get(name)
        if field is None:
            continue  # reported as an unknown name
        if not definition_of(field).has_options:
            selects = sorted(n for n, f in scope.items()
                             if definition_of(f).has_options)
            found.append(("option_not_select", {
                "what": what, "name": name,
                "allowed": selects or Text("(no select field)", "（没有单选字段）")}))
        elif attribute not in declared[name]:
            names = sorted(declared[name])
            found.append(("option_unknown_attribute", {
                "what": what, "name": name, "attribute": attribute,
                "allowed": names or Text("(none declared)", "（尚未声明）"),
                "hint": suggest(attribute, names)}))
    return found


def formula_cycles(fields: Mapping[str, Mapping[str, Any]]) -> list[list[str]]:
    """The circles in which formulas use each other (each once, starting and
    ending with the same name): formulas are computed in dependency order, so they
    may not."""
    sources = {name: source for name, field in fields.items()
               if (source := definition_of(field).expression(field)) is not None}
    uses: dict[str, set[str]] = {}
    for name, source in sources.items():
        try:
            refs = compile_expression(source).references
        except ExpressionError:
            continue  # reported as a syntax error
        uses[name] = {r for r in refs if r in sources}
    done: set[str] = set()
    cycles: list[list[str]] = []

    def visit(name: str, trail: list[str]) -> None:
        if name in trail:
            cycle = trail[trail.index(name):] + [name]
            cycles.append(cycle)
            done.update(cycle)  # one report per circle
            return
        if name in done:
            return
        for used in sorted(uses.get(name, ())):
            visit(used, [*trail, name])
        done.add(name)

    for name in sorted(uses):
        visit(name, [])
    return cycles
