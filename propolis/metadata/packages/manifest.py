"""An extension's manifest (``extension.yaml``, ``kind: extension``) as values.

Versions are semantic versions (``MAJOR.MINOR.PATCH``, optionally ``-alpha.N``,
``-beta.N`` or ``-rc.N``) and requirements are ranges such as ``>=1.0,<2``; both
are read with ``packaging`` (``Version``, ``SpecifierSet``), so they compare the way
Python packages do. A ``Manifest`` is rebuilt from its ``document`` (the manifest
as written, plain JSON), which is what the platform stores per enterprise for each
installed extension.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from propolis.metadata.errors import MetadataError, Problem, Text
from propolis.metadata.loader import Document
from propolis.metadata.packages.errors import PackageError, fail
from propolis.metadata.validation import validate_documents

# What ``requires: {propolis: …}`` is compared with: the version of the metadata
# language and API that extensions are written against (CONTRACT §2 is version 1,
# §6 the additive version 2), not the Python distribution's own version number.
PLATFORM_VERSION = "2.0.0"

HOOKS = ("install", "upgrade", "uninstall")


def parse_version(text: str, source: str, path: str = "version") -> Version:
    """A package version; ``PackageError`` naming ``source`` and ``path`` when it
    cannot be compared (semver pre-releases other than alpha, beta, rc)."""
    try:
        return Version(text)
    except InvalidVersion:
        raise fail(
            "bad_version",
            source,
            Text(f"{text!r} is not a version that can be compared",
                 f"{text!r} 不是可比较的版本号"),
            Text("write MAJOR.MINOR.PATCH, e.g. 1.2.0, or a pre-release such as "
                 "1.2.0-beta.1 or 1.2.0-rc.1",
                 "请写成 主版本.次版本.修订号，例如 1.2.0；预发布版本写成 "
                 "1.2.0-beta.1 或 1.2.0-rc.1"),
            path,
        ) from None


def parse_range(text: str, source: str, path: str) -> SpecifierSet:
    """A version range such as ``>=1.0,<2``."""
    try:
        return SpecifierSet(text)
    except InvalidSpecifier:
        raise fail(
            "bad_range",
            source,
            Text(f"{text!r} is not a version range", f"{text!r} 不是版本范围"),
            Text("write comparisons separated by commas, e.g. >=1.0,<2",
                 "请写成以逗号分隔的比较，例如 >=1.0,<2"),
            path,
        ) from None


def in_range(version: Version, spec: SpecifierSet) -> bool:
    """Whether ``version`` satisfies ``spec``; an installed pre-release counts (it
    is what the enterprise runs)."""
    return spec.contains(version, prereleases=True)


@dataclass(frozen=True)
class DataSpec:
    """One entry of the manifest's ``data``: records of ``object`` in ``file``.

    ``seed`` records are written once, when the extension is installed (sample
    data the enterprise then owns). ``reference`` records are written on install
    and brought up to date on every upgrade, matched across versions by the value
    of their ``key`` field (stage lists, defect categories …)."""

    api_name: str
    object: str
    file: str
    mode: Literal["seed", "reference"]
    key: str | None


@dataclass(frozen=True)
class Manifest:
    """What ``extension.yaml`` declares. ``requires`` keeps each range as written
    (for messages); ``ranges`` parses them."""

    api_name: str
    version: Version
    version_text: str
    label: dict[str, str]
    description: dict[str, str] | None
    requires_propolis: str | None
    requires: dict[str, str]
    contents: tuple[str, ...]
    data: tuple[DataSpec, ...]
    hooks: dict[str, str]
    document: dict[str, Any]

    @classmethod
    def from_document(
        cls, doc: Mapping[str, Any] | Document, source: str = "extension.yaml"
    ) -> Manifest:
        """The manifest of one ``kind: extension`` document (raw or normalized);
        ``MetadataError`` / ``PackageError`` with every problem otherwise."""
        document = doc if isinstance(doc, Document) else Document(dict(doc), source)
        if document.kind != "extension":
            raise fail(
                "not_a_manifest",
                source,
                Text("the manifest must be a kind: extension document",
                     "清单必须是 kind: extension 文档"),
                Text("start extension.yaml with 'kind: extension'",
                     "请以 'kind: extension' 开头编写 extension.yaml"),
                "kind",
            )
        try:
            (normal,) = validate_documents([document])
        except MetadataError as exc:
            raise manifest_error(exc) from None
        name = normal["api_name"]
        version = parse_version(normal["version"], source)
        requires = normal["requires"]
        problems: list[Problem] = []
        for key, text in [
            ("requires.propolis", requires["propolis"]),
            *((f"requires.extensions.{n}", r)
              for n, r in requires["extensions"].items()),
        ]:
            if text is None:
                continue
            try:
                parse_range(text, source, key)
            except PackageError as exc:
                problems += exc.problems
        if problems:
            raise PackageError(problems)
        data = tuple(
            DataSpec(d["api_name"], d["object"], d["file"], d["mode"], d["key"])
            for d in normal["data"]
        )
        return cls(
            api_name=name,
            version=version,
            version_text=normal["version"],
            label=normal["label"],
            description=normal["description"],
            requires_propolis=requires["propolis"],
            requires=dict(requires["extensions"]),
            contents=tuple(normal["contents"]),
            data=data,
            hooks=dict(normal["hooks"]),
            document=copy.deepcopy(document.data),
        )

    def ranges(self) -> dict[str, SpecifierSet]:
        """The required extensions' ranges, parsed."""
        return {
            name: parse_range(text, self.api_name, f"requires.extensions.{name}")
            for name, text in self.requires.items()
        }

    def platform_range(self) -> SpecifierSet | None:
        """The required platform range, parsed (None: any)."""
        if self.requires_propolis is None:
            return None
        return parse_range(self.requires_propolis, self.api_name, "requires.propolis")


def manifest_error(exc: MetadataError) -> PackageError:
    """A ``MetadataError`` of the manifest or the documents, as a ``PackageError``
    (one kind of error for callers of this package)."""
    return exc if isinstance(exc, PackageError) else PackageError(exc.problems)
