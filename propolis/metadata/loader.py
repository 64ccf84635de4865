"""Reads metadata documents, YAML or JSON, keeping where every value was written.

JSON is parsed by the same YAML loader (JSON is YAML), so problems in JSON files get
line numbers too.

Metadata comes from admins and from uploaded extension packages, so reading it is
bounded: a file's size, how deep it nests, and how many values it holds once YAML
aliases are expanded (ten levels of aliases ten wide, the "billion laughs", turn a
few lines into 10^10 values). The same bounds hold for documents built from API
bodies (``check_limits``).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedBase, CommentedMap
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.scalarbool import ScalarBoolean
from ruamel.yaml.scanner import RoundTripScanner

from propolis.metadata.errors import MetadataError, PathPart, Problem, Text, problem

SYSTEM_OBJECT_FILES = ("department.yaml", "user.yaml")
SUFFIXES = (".yaml", ".yml", ".json")
# A large object (hundreds of fields with options, views and layouts) is well under
# a tenth of each bound.
MAX_DOCUMENT_BYTES = 2 * 1024 * 1024
MAX_VALUES = 100_000
MAX_DEPTH = 32


class _TooDeep(Exception):
    pass


class _BoundedScanner(RoundTripScanner):
    """Stops at ``MAX_DEPTH`` open brackets: the scanner's work per token grows with
    the flow depth, so a file of 2,000 '[' would otherwise take seconds."""

    def fetch_flow_collection_start(self, TokenClass: Any, to_push: str) -> None:
        if self.flow_level >= MAX_DEPTH:
            raise _TooDeep
        super().fetch_flow_collection_start(TokenClass, to_push)


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.Scanner = _BoundedScanner
    return yaml


@dataclass
class Document:
    """One metadata document: plain Python ``data`` plus where it came from.

    ``node`` is the round-trip YAML tree that remembers positions; documents built in
    code (e.g. from an API request body) have none, and their problems no line.
    """

    data: dict[str, Any]
    source: str = "<document>"
    node: Any = field(default=None, repr=False, compare=False)

    @property
    def kind(self) -> str | None:
        kind = self.data.get("kind")
        return kind if isinstance(kind, str) else None

    @property
    def api_name(self) -> str | None:
        name = self.data.get("api_name")
        return name if isinstance(name, str) else None

    def position(self, path: Sequence[PathPart]) -> tuple[int, int] | None:
        """1-based (line, column) of the value at ``path`` — of its key inside a
        mapping — or of the nearest enclosing value when ``path`` is not written."""
        node = self.node
        if node is None:
            return None
        where = (node.lc.line, node.lc.col)
        for part in path:
            recorded = (
                node.lc.data.get(part) if isinstance(node, CommentedBase) else None
            )
            if recorded is None:
                break
            where = (recorded[0], recorded[1])
            node = node[part]
        return where[0] + 1, where[1] + 1

    def line(self, path: Sequence[PathPart]) -> int | None:
        """1-based line of the value at ``path`` (see ``position``)."""
        where = self.position(path)
        return where[0] if where else None

    def problem(self, path: Sequence[PathPart], code: str, **params: Any) -> Problem:
        """A catalog problem located at ``path`` of this document."""
        return problem(code, self.source, path, self.line(path), **params)


def load_text(text: str, source: str = "<string>") -> list[Document]:
    """Every document of a YAML (``---``-separated) or JSON text."""
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_DOCUMENT_BYTES:
        raise MetadataError([problem("document_too_large", source, size=size,
                                     limit=MAX_DOCUMENT_BYTES)])
    try:
        nodes = [n for n in _yaml().load_all(text) if n is not None]
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        detail = exc.problem or exc.context or "unreadable"
        if exc.problem and exc.context:
            detail = f"{exc.problem} ({exc.context})"
        line = mark.line + 1 if mark else None
        raise MetadataError(
            [problem("yaml_syntax", source, (), line, detail=detail)]
        ) from None
    except YAMLError as exc:
        raise MetadataError([problem("yaml_syntax", source, detail=str(exc))]) from None
    except (_TooDeep, RecursionError):  # the composer recurses once per level
        raise MetadataError(
            [problem("nested_too_deeply", source, limit=MAX_DEPTH)]
        ) from None
    found = check_limits(nodes, source)
    if found is not None:
        raise MetadataError([found])
    problems: list[Problem] = []
    documents: list[Document] = []
    for node in nodes:
        if isinstance(node, CommentedMap):
            documents.append(Document(_plain(node), source, node))
        else:
            line = node.lc.line + 1 if isinstance(node, CommentedBase) else None
            problems.append(problem("not_a_mapping", source, (), line))
    if problems:
        raise MetadataError(problems)
    return documents


def check_limits(data: Any, source: str = "<document>") -> Problem | None:
    """The problem when ``data`` nests deeper than ``MAX_DEPTH``, holds more than
    ``MAX_VALUES`` values or more than ``MAX_DOCUMENT_BYTES`` of text (UTF-8, keys
    included), counting a value each time it is reached (a YAML alias, or a shared
    Python object, counts at every use); None when it is within every bound. Stops
    at the first bound crossed, so a bomb costs no more than the bound."""
    count = size = 0
    pending: list[tuple[Any, int]] = [(data, 0)]
    while pending:
        value, depth = pending.pop()
        count += 1
        if count > MAX_VALUES:
            return problem("too_many_values", source, limit=MAX_VALUES)
        if isinstance(value, str):
            size += len(value.encode("utf-8", "surrogatepass"))
        elif isinstance(value, dict | list):
            if depth >= MAX_DEPTH:
                return problem("nested_too_deeply", source, limit=MAX_DEPTH)
            if isinstance(value, dict):
                size += sum(len(str(k).encode("utf-8", "surrogatepass"))
                            for k in value)
                pending.extend((child, depth + 1) for child in value.values())
            else:
                pending.extend((child, depth + 1) for child in value)
        if size > MAX_DOCUMENT_BYTES:
            return problem("document_too_large", source,
                           size=Text(f"at least {size}", f"至少 {size}"),
                           limit=MAX_DOCUMENT_BYTES)
    return None


def load_path(path: str | os.PathLike[str]) -> list[Document]:
    """Every document of one file; problems name the path as given."""
    source = os.fspath(path)
    try:
        size = os.stat(path).st_size
        if size > MAX_DOCUMENT_BYTES:  # refused before it is read
            raise MetadataError([problem("document_too_large", source, size=size,
                                         limit=MAX_DOCUMENT_BYTES)])
        # utf-8-sig: editors on Windows like to start files with a BOM
        text = Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        detail = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise MetadataError([problem("unreadable", source, detail=detail)]) from None
    return load_text(text, source)


def load_paths(paths: Iterable[str | os.PathLike[str]]) -> list[Document]:
    """Every document of the given files and of the metadata files (.yaml, .yml,
    .json) below the given directories; problems of all files are raised together."""
    documents: list[Document] = []
    problems: list[Problem] = []
    for path in paths:
        found = (
            sorted(p for p in Path(path).rglob("*") if p.suffix in SUFFIXES)
            if Path(path).is_dir()
            else [path]
        )
        for file in found:
            try:
                documents += load_path(file)
            except MetadataError as exc:
                problems += exc.problems
    if problems:
        raise MetadataError(problems)
    return documents


def load_system_documents() -> list[Document]:
    """The system objects (``department``, ``user``) as written in the package."""
    folder = files("propolis.metadata") / "system"
    documents: list[Document] = []
    for name in SYSTEM_OBJECT_FILES:
        documents += load_text(
            folder.joinpath(name).read_text("utf-8"), f"system/{name}"
        )
    return documents


def _plain(node: Any) -> Any:
    """ruamel's position-carrying types → plain dicts, lists and scalars."""
    if isinstance(node, dict):
        return {str(key): _plain(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_plain(value) for value in node]
    if isinstance(node, bool | ScalarBoolean):
        return bool(node)
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    if isinstance(node, str):
        return str(node)
    if isinstance(node, dt.date):
        # metadata is JSON-shaped: an unquoted YAML date stays the text it was
        return node.isoformat()
    return node
