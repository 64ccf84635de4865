"""Parsing CEL text into a lark tree with celpy's grammar, with syntax errors that
say where and what, and the decoding of literals (numbers straight to Decimal)."""

from __future__ import annotations

import re
import threading
from decimal import Decimal
from typing import Any, cast

import celpy
from celpy.celparser import CELParseError
from lark import Token, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedToken

from propolis.metadata.expressions.values import ExpressionError

ParseTree = Tree[Any]

# Grammar rules that are a plain wrapper when they have a single child.
PASSTHROUGH = frozenset(
    {
        "expr",
        "conditionalor",
        "conditionaland",
        "relation",
        "addition",
        "multiplication",
        "unary",
        "member",
        "primary",
        "paren_expr",
    }
)
_ESCAPE = re.compile(
    r"\\(?:([abfnrtv\"'\\`?])|[xX]([0-9a-fA-F]{2})|u([0-9a-fA-F]{4})"
    r"|U([0-9a-fA-F]{8})|([0-3][0-7]{2})|(.|$))",
    re.DOTALL,
)
_SIMPLE_ESCAPES = {
    "a": "\a",
    "b": "\b",
    "f": "\f",
    "n": "\n",
    "r": "\r",
    "t": "\t",
    "v": "\v",
    '"': '"',
    "'": "'",
    "\\": "\\",
    "`": "`",
    "?": "?",
}


def unwrap(node: Any) -> Any:
    while (
        isinstance(node, Tree) and node.data in PASSTHROUGH and len(node.children) == 1
    ):
        node = node.children[0]
    return node


def _decode_escape(match: re.Match[str]) -> str:
    simple, hex2, hex4, hex8, octal, bad = match.groups()
    if simple is not None:
        return _SIMPLE_ESCAPES[simple]
    if bad is not None:
        raise ExpressionError(f"invalid escape sequence '\\{bad}' in string literal")
    code = int(octal, 8) if octal else int(hex2 or hex4 or hex8, 16)
    try:
        return chr(code)
    except (ValueError, OverflowError):
        raise ExpressionError(f"invalid code point {code:#x} in string") from None


def decode_string(text: str) -> str:
    raw = text[0] in "rR"
    if raw:
        text = text[1:]
    quote = 3 if text[:3] in ('"""', "'''") else 1
    body = text[quote:-quote]
    return body if raw else _ESCAPE.sub(_decode_escape, body)


def string_literal(node: Any) -> str | None:
    """The text of ``node`` when it is a string literal, else None."""
    node = unwrap(node)
    if isinstance(node, Tree) and node.data == "literal":
        token = cast(Token, node.children[0])
        if token.type in ("STRING_LIT", "MLSTRING_LIT"):
            return decode_string(str(token))
    return None


def literal(token: Token) -> Any:
    kind, text = token.type, str(token)
    if kind == "INT_LIT":
        return Decimal(int(text, 16) if "x" in text.lower() else int(text))
    if kind == "UINT_LIT":
        text = text[:-1]
        return Decimal(int(text, 16) if "x" in text.lower() else int(text))
    if kind == "FLOAT_LIT":
        return Decimal(text)  # exact: 1.1 is Decimal('1.1'), not a binary float
    if kind in ("STRING_LIT", "MLSTRING_LIT"):
        return decode_string(text)
    if kind == "BOOL_LIT":
        return text == "true"
    if kind == "NULL_LIT":
        return None
    raise ExpressionError("bytes literals are not supported")


_parse_lock = threading.Lock()
_environment: celpy.Environment | None = None


def parse(source: str) -> ParseTree:
    global _environment
    # celpy keeps one shared lark parser and stores the text on it while
    # parsing; serialise (parsing is rare thanks to the compile cache).
    with _parse_lock:
        if _environment is None:
            _environment = celpy.Environment()
        try:
            return _environment.compile(source)
        except CELParseError as exc:
            raise _syntax_error(source, exc) from None


def _syntax_error(source: str, exc: CELParseError) -> ExpressionError:
    cause = exc.__context__
    line, column = exc.line, exc.column
    if isinstance(cause, UnexpectedToken):
        if cause.token.type == "$END":
            what = "unexpected end of expression"
        else:
            what = f"unexpected {str(cause.token)!r}"
    elif isinstance(cause, UnexpectedCharacters):
        pos = cause.pos_in_stream or 0
        char = source[pos] if pos < len(source) else ""
        what = f"unexpected character {char!r}"
        if char in "\"'":
            what += " (unterminated string?)"
    else:
        what = "invalid syntax"
    where = f" at line {line}, column {column}" if line and column else ""
    return ExpressionError(f"syntax error{where}: {what}", line=line, column=column)
