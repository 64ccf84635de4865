"""The extension catalogue: the built-in extensions and the documents they bring.

An extension is a directory holding ``extension.yaml`` (a ``kind: extension``
document: api_name, version, requirements, ``contents``) and the metadata its
``contents`` globs name, relative to the directory: objects, approvals, …
Installing one in an enterprise adds its documents as the ``extension`` layer
(``propolis.metadata.layering``: system < extensions < the enterprise's own), so an
enterprise can still extend the objects an extension brings and replace its
approval definitions. A built-in extension is a directory of the
``propolis.extensions`` package holding an ``extension.yaml``, found by path so
that reading the catalogue imports no extension code; its Python side (event
subscribers), when it has one, is a Pyramid include named in the ini's
``propolis.extensions``.
"""

from __future__ import annotations

import copy
import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from propolis.metadata.loader import Document, load_path
from propolis.metadata.validation import validate_documents

# propolis/extensions, beside this package
BUILTIN = Path(__file__).resolve().parent.parent / "extensions"
MANIFEST = "extension.yaml"
# the kinds the platform applies from an extension's contents
APPLIED_KINDS = ("object", "approval", "report", "chart", "dashboard")


@dataclass(frozen=True)
class Extension:
    """A built-in extension as its manifest describes it."""

    api_name: str
    version: str
    label: dict[str, str]
    path: Path
    contents: tuple[str, ...]


def builtin_extensions() -> dict[str, Extension]:
    """The built-in extensions by api_name."""
    return dict(_builtin())


@functools.cache
def _builtin() -> tuple[tuple[str, Extension], ...]:
    found = []
    for manifest in sorted(BUILTIN.glob(f"*/{MANIFEST}")):
        ext = _manifest(manifest)
        found.append((ext.api_name, ext))
    return tuple(found)


def _manifest(path: Path) -> Extension:
    docs = validate_documents(load_path(path))
    if len(docs) != 1 or docs[0]["kind"] != "extension":
        # a packaging mistake in a built-in extension, not a user's input
        raise ValueError(f"{path}: must hold one kind: extension document")
    doc = docs[0]
    return Extension(doc["api_name"], doc["version"], doc["label"], path.parent,
                     tuple(doc["contents"]))


def extension_documents(name: str) -> list[dict[str, Any]]:
    """The validated, normalized documents the built-in extension ``name`` brings
    (objects first, then approvals, each in the order of ``contents``); KeyError
    when there is no such extension."""
    return copy.deepcopy(list(_documents(name)))


@functools.cache
def _documents(name: str) -> tuple[dict[str, Any], ...]:
    ext = builtin_extensions()[name]
    documents: list[Document] = []
    for pattern in ext.contents:
        for path in sorted(ext.path.glob(pattern)):
            documents += load_path(path)
    normalized = validate_documents(documents)
    # objects before the approvals whose forms they are (and the charts over them)
    ordered = sorted((d for d in normalized if d["kind"] in APPLIED_KINDS),
                     key=lambda d: APPLIED_KINDS.index(d["kind"]))
    return tuple(ordered)
