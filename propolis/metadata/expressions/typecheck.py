"""Static types of an expression, checked when metadata is validated.

The evaluator checks kinds at run time, so an ill-typed expression such as
``done * 1.5`` (a boolean times a number) would compile and then fail every save.
This pass walks the same parse tree with the types of the record's fields and
refuses, before anything is stored, what can only fail: arithmetic on non-numbers,
ordering of different kinds, a function given the wrong kind, a condition that is
not a boolean, a member of a scalar. A type it cannot know (``dyn``: a quote, an
element of a literal list of mixed kinds) passes, and so does ``null``, which the
evaluator propagates: the check never refuses an expression that could run.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, cast

from lark import Token

from propolis.metadata.expressions.compiler import CompiledExpression
from propolis.metadata.expressions.parsing import ParseTree, string_literal, unwrap
from propolis.metadata.expressions.values import ExpressionError


@dataclass(frozen=True)
class CelType:
    """A static type: ``kind`` is one of number string bool date datetime time list
    map null dyn; a list knows its ``element``, a map the ``members`` it has (none
    known: any member is dyn)."""

    kind: str
    element: CelType | None = None
    members: Mapping[str, CelType] | None = field(default=None, compare=False)

    def __str__(self) -> str:
        return self.kind


DYN = CelType("dyn")
NULL = CelType("null")
NUMBER = CelType("number")
STRING = CelType("string")
BOOL = CelType("bool")
DATE = CelType("date")
DATETIME = CelType("datetime")
TIME = CelType("time")
MAP = CelType("map")


def list_of(element: CelType) -> CelType:
    return CelType("list", element=element)


def map_of(members: Mapping[str, CelType]) -> CelType:
    return CelType("map", members=dict(members))


_LOOSE = frozenset({"dyn", "null"})  # may be anything at run time, or null
_ORDERED = frozenset({"number", "string", "bool", "date", "datetime", "time"})
_DATES = frozenset({"date", "datetime"})
_SCALARS = frozenset({"number", "string", "bool", "date", "datetime", "time"})

# function → (the kinds each argument may have, the result); a method's receiver is
# its first argument
_Signature = tuple[tuple[frozenset[str], ...], CelType]
_TEXT = frozenset({"string"})
_SIGNATURES: dict[str, _Signature] = {
    "size": ((frozenset({"string", "list", "map"}),), NUMBER),
    "contains": ((_TEXT, _TEXT), BOOL),
    "startsWith": ((_TEXT, _TEXT), BOOL),
    "endsWith": ((_TEXT, _TEXT), BOOL),
    "matches": ((_TEXT, _TEXT), BOOL),
    "int": ((frozenset({"number", "string"}),), NUMBER),
    "double": ((frozenset({"number", "string"}),), NUMBER),
    "string": ((_SCALARS,), STRING),
    "sum": ((frozenset({"list"}),), NUMBER),
    "today": ((), DATE),
    "now": ((), DATETIME),
    "date": ((frozenset({"date", "datetime", "string"}),), DATE),
    "days_between": ((frozenset({"date", "datetime", "string"}),) * 2, NUMBER),
}


def _fits(actual: CelType, allowed: frozenset[str]) -> bool:
    return actual.kind in _LOOSE or actual.kind in allowed


def join(a: CelType, b: CelType) -> CelType:
    """The type of a value that is either ``a`` or ``b``."""
    if a.kind == "null":
        return b
    if b.kind == "null" or a == b:
        return a
    if a.kind == b.kind == "list" and a.element and b.element:
        return list_of(join(a.element, b.element))
    if a.kind == b.kind:
        return CelType(a.kind)
    return DYN


def check_types(
    compiled: CompiledExpression,
    variables: Mapping[str, CelType],
    attributes: Mapping[str, Mapping[str, CelType]] | None = None,
) -> CelType:
    """The type of ``compiled`` where each variable has the type in ``variables``
    (a variable not there is dyn) and ``option(f, 'a')`` the type in
    ``attributes[f][a]``. Raises ExpressionError naming the first operation that
    can only fail."""
    return _Checker(variables, attributes or {}).type(compiled.tree)


class _Checker:
    def __init__(
        self,
        variables: Mapping[str, CelType],
        attributes: Mapping[str, Mapping[str, CelType]],
    ) -> None:
        self.variables = variables
        self.attributes = attributes
        self.scope: dict[str, CelType] = {}

    def type(self, node: Any) -> CelType:
        node = unwrap(node)
        handler: Callable[[ParseTree], CelType] | None = getattr(
            self, "_t_" + node.data, None
        )
        return handler(node) if handler else DYN

    def _condition(self, node: Any, op: str) -> None:
        found = self.type(node)
        if not _fits(found, frozenset({"bool"})):
            raise ExpressionError(f"'{op}' expects a boolean, got {found}")

    def _t_expr(self, node: ParseTree) -> CelType:
        cond, when_true, when_false = node.children
        self._condition(cond, "?:")
        return join(self.type(when_true), self.type(when_false))

    def _t_conditionalor(self, node: ParseTree) -> CelType:
        for child in node.children:
            self._condition(child, "||")
        return BOOL

    def _t_conditionaland(self, node: ParseTree) -> CelType:
        for child in node.children:
            self._condition(child, "&&")
        return BOOL

    def _t_relation(self, node: ParseTree) -> CelType:
        op_node, right_node = node.children
        op = op_node.data
        left, right = self.type(op_node.children[0]), self.type(right_node)
        if op in ("relation_eq", "relation_ne"):
            return BOOL
        if op == "relation_in":
            if not _fits(right, frozenset({"list", "map"})):
                raise _operands("in", left, right)
            return BOOL
        symbol = {"relation_lt": "<", "relation_le": "<=", "relation_gt": ">",
                  "relation_ge": ">="}[op]
        if left.kind in _LOOSE or right.kind in _LOOSE:
            return BOOL
        if left.kind != right.kind or left.kind not in _ORDERED:
            hint = ("; convert with date(...)"
                    if {left.kind, right.kind} == _DATES else "")
            raise ExpressionError(
                f"operator '{symbol}' cannot compare {left} with {right}{hint}"
            )
        return BOOL

    def _t_addition(self, node: ParseTree) -> CelType:
        op_node, right_node = node.children
        left, right = self.type(op_node.children[0]), self.type(right_node)
        adding = op_node.data == "addition_add"
        if left.kind in _LOOSE or right.kind in _LOOSE:
            return _arithmetic_result(left, right)
        kinds = (left.kind, right.kind)
        if kinds == ("number", "number"):
            return NUMBER
        if left.kind in _DATES and right.kind == "number":
            return left
        if adding:
            if kinds == ("number", "date") or kinds == ("number", "datetime"):
                return right
            if left.kind == right.kind and left.kind in ("string", "list"):
                return join(left, right)
        elif left.kind in _DATES and right.kind in _DATES:
            raise ExpressionError(
                "operator '-' cannot subtract dates; use days_between(a, b)"
            )
        raise _operands("+" if adding else "-", left, right)

    def _t_multiplication(self, node: ParseTree) -> CelType:
        op_node, right_node = node.children
        left, right = self.type(op_node.children[0]), self.type(right_node)
        symbol = {"multiplication_mul": "*", "multiplication_div": "/",
                  "multiplication_mod": "%"}[op_node.data]
        for operand in (left, right):
            if not _fits(operand, frozenset({"number"})):
                raise _operands(symbol, left, right)
        return NUMBER

    def _t_unary(self, node: ParseTree) -> CelType:
        op_node, operand_node = node.children
        if op_node.data == "unary_not":
            self._condition(operand_node, "!")
            return BOOL
        operand = self.type(operand_node)
        if not _fits(operand, frozenset({"number"})):
            raise ExpressionError(f"operator '-' cannot be applied to {operand}")
        return NUMBER if operand.kind != "null" else NULL

    def _t_member_dot(self, node: ParseTree) -> CelType:
        base_node, name = node.children
        return _member(self.type(base_node), str(name))

    def _t_member_index(self, node: ParseTree) -> CelType:
        base_node, key_node = node.children
        base, key = self.type(base_node), self.type(key_node)
        if base.kind == "list":
            if not _fits(key, frozenset({"number"})):
                raise ExpressionError(f"list index must be a whole number, got {key}")
            return base.element or DYN
        key_text = string_literal(key_node)
        if key_text is not None:
            return _member(base, key_text)
        if base.kind in _SCALARS:
            raise ExpressionError(f"cannot index a {base}")
        return DYN

    def _t_member_dot_arg(self, node: ParseTree) -> CelType:
        receiver_node, name = node.children[0], str(node.children[1])
        args = list(node.children[2].children) if len(node.children) > 2 else []
        if name in ("map", "filter", "all", "exists", "exists_one"):
            return self._macro(name, receiver_node, args)
        return self._call(name, [receiver_node, *args])

    def _t_ident_arg(self, node: ParseTree) -> CelType:
        name = str(node.children[0])
        args = list(node.children[1].children) if len(node.children) > 1 else []
        if name == "has":
            return BOOL
        if name == "option":
            return self._option(args)
        return self._call(name, args)

    _t_dot_ident_arg = _t_ident_arg

    def _call(self, name: str, arg_nodes: list[Any]) -> CelType:
        allowed, result = _SIGNATURES.get(name, ((), DYN))
        args = [self.type(n) for n in arg_nodes]
        for arg, kinds in zip(args, allowed, strict=False):
            if not _fits(arg, kinds):
                raise ExpressionError(
                    f"{name}() cannot take a {arg}; it takes "
                    + " or ".join(sorted(kinds))
                )
        if name == "sum" and args and args[0].element is not None:
            element = args[0].element
            if not _fits(element, frozenset({"number"})):
                raise ExpressionError(f"sum() expects numbers, got a list of {element}")
        return result

    def _option(self, arg_nodes: list[Any]) -> CelType:
        name = str(unwrap(arg_nodes[0]).children[0])
        attribute = string_literal(arg_nodes[1]) or ""
        found = self.attributes.get(name, {}).get(attribute, DYN)
        if self.variables.get(name, DYN).kind == "list":  # a multiselect
            return list_of(found)
        return found

    def _macro(self, name: str, receiver_node: Any, arg_nodes: list[Any]) -> CelType:
        receiver = self.type(receiver_node)
        if receiver.kind in _SCALARS:
            raise ExpressionError(f"{name}() expects a list or map, got {receiver}")
        element = receiver.element if receiver.kind == "list" else None
        var_node = unwrap(arg_nodes[0])
        var = str(var_node.children[0])
        saved = self.scope.get(var)
        self.scope[var] = element or (STRING if receiver.kind == "map" else DYN)
        try:
            *predicates, last = arg_nodes[1:]
            for predicate in predicates if name == "map" else [last]:
                self._condition(predicate, name)
            if name == "map":
                return list_of(self.type(last))
            if name == "filter":
                return receiver if receiver.kind == "list" else list_of(DYN)
            return BOOL
        finally:
            if saved is None:
                del self.scope[var]
            else:
                self.scope[var] = saved

    def _t_ident(self, node: ParseTree) -> CelType:
        name = str(node.children[0])
        if name in self.scope:
            return self.scope[name]
        return self.variables.get(name, DYN)

    def _t_dot_ident(self, node: ParseTree) -> CelType:
        return self.variables.get(str(node.children[0]), DYN)

    def _t_literal(self, node: ParseTree) -> CelType:
        kind = cast(Token, node.children[0]).type
        return {"INT_LIT": NUMBER, "UINT_LIT": NUMBER, "FLOAT_LIT": NUMBER,
                "STRING_LIT": STRING, "MLSTRING_LIT": STRING, "BOOL_LIT": BOOL,
                "NULL_LIT": NULL}.get(kind, DYN)

    def _t_list_lit(self, node: ParseTree) -> CelType:
        items = list(node.children[0].children) if node.children else []
        element = NULL
        for item in items:
            element = join(element, self.type(item))
        return list_of(element if items else DYN)

    def _t_map_lit(self, node: ParseTree) -> CelType:
        for item in node.children[0].children if node.children else []:
            self.type(item)
        return MAP


def _arithmetic_result(left: CelType, right: CelType) -> CelType:
    # one side unknown or null: the other side says what the result can be
    known = right if left.kind in _LOOSE else left
    if known.kind in _LOOSE:
        return DYN if "dyn" in (left.kind, right.kind) else NULL
    return known if known.kind in ("number", "string", "list", *_DATES) else DYN


def _member(base: CelType, name: str) -> CelType:
    if base.kind == "map":
        return (base.members or {}).get(name, DYN)
    if base.kind in _SCALARS or base.kind == "list":
        raise ExpressionError(f"cannot read field '{name}' of a {base}")
    return DYN


def _operands(op: str, left: CelType, right: CelType) -> ExpressionError:
    return ExpressionError(f"operator '{op}' cannot be applied to {left} and {right}")
