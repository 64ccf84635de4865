"""Compiles a CEL parse tree into a tree of small Python closures, cheap to run on
every record save, collecting on the way which variables and members the
expression reads (validation checks them against the object's fields)."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Mapping
from decimal import Decimal
from types import MappingProxyType
from typing import Any, cast

from lark import Token, Tree

from propolis.metadata.expressions.functions import (
    FUNCTIONS,
    GLOBAL_FUNCTIONS,
    MACROS,
    METHODS,
    call,
    regex,
)
from propolis.metadata.expressions.macros import UNSET, macro_closure
from propolis.metadata.expressions.parsing import (
    ParseTree,
    literal,
    parse,
    string_literal,
    unwrap,
)
from propolis.metadata.expressions.values import (
    DEFAULT_TZ,
    Eval,
    ExpressionError,
    Frame,
    OptionTable,
    TimeZone,
    add,
    div,
    equals,
    in_,
    index,
    kind_of,
    mod,
    mul,
    neg,
    norm,
    ordering,
    select,
    sub,
    truth,
)

_BINARY = {
    "relation_lt": ordering("<", lambda a, b: a < b),
    "relation_le": ordering("<=", lambda a, b: a <= b),
    "relation_gt": ordering(">", lambda a, b: a > b),
    "relation_ge": ordering(">=", lambda a, b: a >= b),
    "relation_eq": equals,
    "relation_ne": lambda a, b: not equals(a, b),
    "relation_in": in_,
    "addition_add": add,
    "addition_sub": sub,
    "multiplication_mul": mul,
    "multiplication_div": div,
    "multiplication_mod": mod,
}

_NO_OPTIONS: OptionTable = MappingProxyType({})


class _Compiler:
    """Turns a celpy parse tree into closures, collecting references on the way.

    ``scope`` maps each macro loop variable in scope to the top-level variable
    whose elements it iterates (or None), so that ``i.qty`` inside
    ``items.map(i, ...)`` is reported as a member reference of ``items``.
    """

    def __init__(self) -> None:
        self.scope: dict[str, str | None] = {}
        self.references: set[str] = set()
        self.members: dict[str, set[str]] = {}
        self.options: set[tuple[str, str]] = set()

    # -- static analysis helpers ------------------------------------------

    def _ident_name(self, node: Any) -> str | None:
        node = unwrap(node)
        if isinstance(node, Tree) and node.data == "ident":
            return str(node.children[0])
        return None

    def _value_origin(self, node: Any) -> str | None:
        """Top-level variable that a field selection on ``node`` reads from."""
        node = unwrap(node)
        if not isinstance(node, Tree):
            return None
        if node.data == "ident":
            name = str(node.children[0])
            return self.scope[name] if name in self.scope else name
        if node.data == "dot_ident":
            return str(node.children[0])
        key = node.children[1] if node.data == "member_index" else None
        if key is not None and string_literal(key) is None:
            # items[0].qty reads qty of an element of items.
            base = unwrap(node.children[0])
            if isinstance(base, Tree) and base.data == "ident":
                name = str(base.children[0])
                if name not in self.scope:
                    return name
        return None

    def _element_origin(self, node: Any) -> str | None:
        """Top-level variable whose elements a macro over ``node`` iterates."""
        node = unwrap(node)
        if not isinstance(node, Tree):
            return None
        if node.data in ("ident", "dot_ident"):
            name = str(node.children[0])
            if node.data == "dot_ident" or name not in self.scope:
                return name
            return None
        if node.data == "member_dot_arg" and str(node.children[1]) == "filter":
            # filter() keeps the original elements.
            return self._element_origin(node.children[0])
        return None

    def _member_read(self, base: Any, field: str) -> None:
        origin = self._value_origin(base)
        if origin is not None:
            self.members.setdefault(origin, set()).add(field)

    @staticmethod
    def _args(node: ParseTree, index: int) -> list[Any]:
        # maybe_placeholders=False: an empty argument list has no exprlist.
        if len(node.children) > index:
            return list(node.children[index].children)
        return []

    # -- compilation --------------------------------------------------------

    def compile(self, node: Any) -> Eval:
        node = unwrap(node)
        handler: Callable[[ParseTree], Eval] | None = getattr(
            self, "_c_" + node.data, None
        )
        if handler is None:
            raise ExpressionError(f"unsupported syntax: {node.data}")
        return handler(node)

    def _c_expr(self, node: ParseTree) -> Eval:
        cond, when_true, when_false = (self.compile(c) for c in node.children)

        def ternary(frame: Frame) -> Any:
            branch = when_true if truth(cond(frame), "?:") else when_false
            return branch(frame)

        return ternary

    def _c_conditionalor(self, node: ParseTree) -> Eval:
        left, right = (self.compile(c) for c in node.children)

        def or_(frame: Frame) -> bool:
            try:
                if truth(left(frame), "||"):
                    return True
            except ExpressionError:
                # CEL: an error on one side is absorbed if the other is true.
                if truth(right(frame), "||"):
                    return True
                raise
            return truth(right(frame), "||")

        return or_

    def _c_conditionaland(self, node: ParseTree) -> Eval:
        left, right = (self.compile(c) for c in node.children)

        def and_(frame: Frame) -> bool:
            try:
                if not truth(left(frame), "&&"):
                    return False
            except ExpressionError:
                if not truth(right(frame), "&&"):
                    return False
                raise
            return truth(right(frame), "&&")

        return and_

    def _binary(self, node: ParseTree) -> Eval:
        op_node, right_node = node.children
        op = _BINARY[op_node.data]
        left = self.compile(op_node.children[0])
        right = self.compile(right_node)

        def binary(frame: Frame) -> Any:
            return op(left(frame), right(frame))

        return binary

    _c_relation = _c_addition = _c_multiplication = _binary

    def _c_unary(self, node: ParseTree) -> Eval:
        op_node, operand_node = node.children
        operand = self.compile(operand_node)
        if op_node.data == "unary_not":

            def not_(frame: Frame) -> bool:
                return not truth(operand(frame), "!")

            return not_

        def negate(frame: Frame) -> Any:
            return neg(operand(frame))

        return negate

    def _c_member_dot(self, node: ParseTree) -> Eval:
        base_node, name_token = node.children
        name = str(name_token)
        self._member_read(base_node, name)
        base = self.compile(base_node)

        def select_member(frame: Frame) -> Any:
            return select(base(frame), name)

        return select_member

    def _c_member_index(self, node: ParseTree) -> Eval:
        base_node, key_node = node.children
        key_name = string_literal(key_node)
        if key_name is not None:
            self._member_read(base_node, key_name)
        base = self.compile(base_node)
        key = self.compile(key_node)

        def index_member(frame: Frame) -> Any:
            return index(base(frame), key(frame))

        return index_member

    def _c_member_object(self, node: ParseTree) -> Eval:
        raise ExpressionError(
            "message construction (Type{field: ...}) is not supported"
        )

    def _c_member_dot_arg(self, node: ParseTree) -> Eval:
        receiver_node, name = node.children[0], str(node.children[1])
        args = self._args(node, 2)
        if name in MACROS:
            return self._macro(name, receiver_node, args)
        if name not in METHODS:
            raise ExpressionError(f"unknown method '{name}'")
        return self._function(name, [receiver_node, *args], method=True)

    def _c_ident_arg(self, node: ParseTree) -> Eval:
        name = str(node.children[0])
        args = self._args(node, 1)
        if name == "has":
            return self._has(args)
        if name == "option":
            return self._option(args)
        if name not in GLOBAL_FUNCTIONS:
            hint = f" (use it as a method: x.{name}(...))" if name in METHODS else ""
            if name in MACROS:
                hint = f" (use it as a method: list.{name}(x, ...))"
            raise ExpressionError(f"unknown function '{name}'{hint}")
        return self._function(name, args, method=False)

    _c_dot_ident_arg = _c_ident_arg

    def _function(self, name: str, arg_nodes: list[Any], *, method: bool) -> Eval:
        impl, arity = FUNCTIONS[name]
        if len(arg_nodes) != arity:
            given = len(arg_nodes) - 1 if method else len(arg_nodes)
            expected = arity - 1 if method else arity
            raise ExpressionError(
                f"{name}() takes {expected} argument(s), {given} given"
            )
        if name == "matches":
            pattern = string_literal(arg_nodes[1])
            if pattern is not None:
                regex(pattern)  # a literal pattern RE2 refuses is a compile error
        return call(impl, [self.compile(n) for n in arg_nodes])

    def _has(self, arg_nodes: list[Any]) -> Eval:
        target = unwrap(arg_nodes[0]) if len(arg_nodes) == 1 else None
        if not (isinstance(target, Tree) and target.data == "member_dot"):
            raise ExpressionError("has() expects a field selection such as has(a.b)")
        base_node, name = target.children[0], str(target.children[1])
        self._member_read(base_node, name)
        base = self.compile(base_node)

        def has(frame: Frame) -> bool:
            obj = base(frame)
            if obj is None:
                return False
            if isinstance(obj, Mapping):
                return obj.get(name) is not None
            raise ExpressionError(f"has() cannot test a field of a {kind_of(obj)}")

        return has

    def _option(self, arg_nodes: list[Any]) -> Eval:
        field = self._ident_name(arg_nodes[0]) if len(arg_nodes) == 2 else None
        attribute = string_literal(arg_nodes[1]) if field else None
        if field is None or field in self.scope or attribute is None:
            raise ExpressionError(
                "option() takes a select field and an attribute name in quotes, "
                "e.g. option(stage, 'probability')"
            )
        self.references.add(field)
        self.options.add((field, attribute))

        def option(frame: Frame) -> Any:
            value = frame.vars.get(field)
            table = frame.options.get(field)
            if value is None or table is None:
                return None
            if isinstance(value, list | tuple):  # a multiselect: one per value
                return [norm(table.get(v, {}).get(attribute)) for v in value]
            return norm(table.get(value, {}).get(attribute))

        return option

    def _macro(self, name: str, receiver_node: Any, arg_nodes: list[Any]) -> Eval:
        allowed = (2, 3) if name == "map" else (2,)
        if len(arg_nodes) not in allowed:
            raise ExpressionError(
                f"{name}() takes {' or '.join(map(str, allowed))} arguments, "
                f"{len(arg_nodes)} given"
            )
        var = self._ident_name(arg_nodes[0])
        if var is None:
            raise ExpressionError(
                f"the first argument of {name}() must be a variable name"
            )
        receiver = self.compile(receiver_node)
        origin = self._element_origin(receiver_node)
        saved = self.scope.get(var, UNSET)
        self.scope[var] = origin
        try:
            bodies = [self.compile(n) for n in arg_nodes[1:]]
        finally:
            if saved is UNSET:
                del self.scope[var]
            else:
                self.scope[var] = saved  # type: ignore[assignment]
        return macro_closure(name, var, receiver, bodies)

    def _c_ident(self, node: ParseTree) -> Eval:
        name = str(node.children[0])
        if name in self.scope:

            def local(frame: Frame) -> Any:
                return frame.locals[name]

            return local
        return self._global(name)

    def _c_dot_ident(self, node: ParseTree) -> Eval:
        # A leading dot explicitly names the root scope, skipping loop vars.
        return self._global(str(node.children[0]))

    def _global(self, name: str) -> Eval:
        self.references.add(name)

        def variable(frame: Frame) -> Any:
            return norm(frame.vars.get(name))  # unknown variable -> null

        return variable

    def _c_literal(self, node: ParseTree) -> Eval:
        token = cast(Token, node.children[0])
        value = literal(token)

        def constant(frame: Frame) -> Any:
            return value

        return constant

    def _c_list_lit(self, node: ParseTree) -> Eval:
        items = [self.compile(n) for n in self._args(node, 0)]

        def list_(frame: Frame) -> list[Any]:
            return [item(frame) for item in items]

        return list_

    def _c_map_lit(self, node: ParseTree) -> Eval:
        flat = [self.compile(n) for n in self._args(node, 0)]
        pairs = list(zip(flat[::2], flat[1::2], strict=True))

        def map_(frame: Frame) -> dict[Any, Any]:
            result: dict[Any, Any] = {}
            for key_fn, value_fn in pairs:
                key = key_fn(frame)
                if type(key) not in (str, Decimal, bool):
                    raise ExpressionError(
                        f"map keys must be strings, numbers or booleans, "
                        f"got {kind_of(key)}"
                    )
                if key in result:
                    raise ExpressionError(f"duplicate map key {key!r}")
                result[key] = value_fn(frame)
            return result

        return map_


class CompiledExpression:
    """A parsed, ready-to-run expression.  Immutable and safe to share.

    Attributes:
        source: the original expression text.
        tree: its parse tree, for static checks (``typecheck``); never mutated.
        references: top-level variable names the expression reads (not macro
            loop variables, not function names).
        member_references: for each top-level variable, the member names read
            from it directly (``area.city``) or through a macro loop variable
            (``items.map(i, i.qty)``).  Only variables with members appear.
        option_references: the ``(field, attribute)`` pairs ``option()`` reads.
    """

    __slots__ = (
        "source",
        "tree",
        "references",
        "member_references",
        "option_references",
        "_root",
    )

    source: str
    tree: ParseTree
    references: frozenset[str]
    member_references: Mapping[str, frozenset[str]]
    option_references: frozenset[tuple[str, str]]

    def __init__(self, source: str, tree: ParseTree, root: Eval, compiler: _Compiler
                 ) -> None:
        self.source = source
        self.tree = tree
        self.references = frozenset(compiler.references)
        self.member_references = MappingProxyType(
            {name: frozenset(fields) for name, fields in compiler.members.items()}
        )
        self.option_references = frozenset(compiler.options)
        self._root = root

    def __repr__(self) -> str:
        return f"CompiledExpression({self.source!r})"

    def evaluate(
        self,
        variables: Mapping[str, Any],
        *,
        tz: TimeZone = DEFAULT_TZ,
        options: OptionTable = _NO_OPTIONS,
        now: dt.datetime | None = None,
    ) -> Any:
        """Evaluate against a record's fields (by api_name).

        ``tz`` (an IANA name or a tzinfo) is used by ``today()``, ``now()`` and
        to take the calendar date of aware datetimes.  ``options`` holds the
        attributes of the select fields' options that ``option()`` reads (see
        ``activation.option_attributes``).  ``now`` (an aware datetime) fixes
        the moment ``now()`` and ``today()`` see (default: the clock).
        Returns None for a null result; numbers come back as Decimal.  Raises
        ExpressionError on runtime type errors.
        """
        frame = Frame(variables, tz, options, now)
        try:
            return self._root(frame)
        except ExpressionError:
            raise
        except RecursionError as exc:
            raise ExpressionError("expression is nested too deeply") from exc
        except (ArithmeticError, TypeError, ValueError, LookupError) as exc:
            # Safety net for failures not anticipated above (e.g. decimal
            # overflow, a date shifted past year 9999).
            raise ExpressionError(f"cannot evaluate expression: {exc}") from exc


@functools.lru_cache(maxsize=4096)
def _compile_cached(source: str) -> CompiledExpression:
    if not source.strip():
        raise ExpressionError("expression is empty")
    tree = parse(source)
    compiler = _Compiler()
    try:
        root = compiler.compile(tree)
    except RecursionError:
        raise ExpressionError("expression is nested too deeply") from None
    return CompiledExpression(source, tree, root, compiler)


def compile_expression(source: str) -> CompiledExpression:
    """Parse and compile a CEL expression; results are cached by source text.

    Raises ExpressionError (with ``line``/``column`` when known) for syntax
    errors, unknown functions, wrong argument counts and unsupported syntax.
    """
    if not isinstance(source, str):
        raise TypeError(f"expression source must be str, not {type(source).__name__}")
    return _compile_cached(source)


def evaluate_rule(
    compiled: CompiledExpression,
    variables: Mapping[str, Any],
    *,
    tz: TimeZone = DEFAULT_TZ,
    options: OptionTable = _NO_OPTIONS,
) -> bool:
    """Evaluate a validation rule: True (passes) if the result is true or null.

    Null passes because a rule over empty inputs has nothing to check; making
    a field mandatory is the job of the "required" flag, not of a rule.
    Raises ExpressionError if the result is neither boolean nor null.
    """
    result = compiled.evaluate(variables, tz=tz, options=options)
    if result is None or result is True:
        return True
    if result is False:
        return False
    raise ExpressionError(
        f"validation rule must return a boolean, got {kind_of(result)}"
    )


