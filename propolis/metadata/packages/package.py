"""Reading an extension package: its manifest, the documents its ``contents`` name,
and the records of its ``data`` sets — everything checked, nothing installed.

A package is a folder (or a ``.zip`` of one, see ``files``) holding
``extension.yaml`` and the files its ``contents`` globs name, relative to the
folder (``objects/*.yaml``, ``roles.yaml``, ``**/*.json``: ``*`` stays within a
folder, ``**`` crosses folders). Those files hold metadata documents of any kind
but ``extension``: objects, approvals, reports, roles …; they are validated as one
batch, so they may refer to each other, and to the ``existing`` objects the caller
names (those of the extensions this one requires, the enterprise's own).

A file named by a ``data`` entry is data, not documents, even when a ``contents``
glob matches it: a YAML or JSON list of records (field api_name → value as the API
takes it). Seed records are installed once; reference records are upgraded, matched
by their ``key`` field, whose value must be present and unique in the file.

Python ``hooks`` are refused unless the caller allows them (a built-in package, or
one whose signature ``signing.verify`` found from a trusted key).
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from propolis.metadata.errors import MetadataError, Problem, Text
from propolis.metadata.loader import Document, load_text, load_value
from propolis.metadata.names import KINDS, SYSTEM_FIELDS
from propolis.metadata.packages.errors import PackageError, fail, package_problem
from propolis.metadata.packages.files import (
    DEFAULT_LIMITS,
    MANIFEST,
    SIGNATURE,
    Limits,
    PackageFiles,
    read_files,
)
from propolis.metadata.packages.manifest import DataSpec, Manifest, manifest_error
from propolis.metadata.validation import load_system_objects, validate_documents

# the kinds a package's contents may hold, in the order they are applied: objects
# before the roles, approvals and reports that refer to them
DOCUMENT_KINDS = tuple(
    kind
    for kind in dict.fromkeys(("object", "role", "approval", "report", *KINDS))
    if kind != "extension"
)


@dataclass(frozen=True)
class DataSet:
    """A data set of the manifest with its records, as written in its file."""

    spec: DataSpec
    records: tuple[dict[str, Any], ...]


@dataclass(frozen=True)
class Package:
    """A package read and checked: its manifest, its documents (validated and
    normalized, objects first, then in the order of ``contents``), its data sets
    and the files it was read from (for signing, archiving, hooks)."""

    manifest: Manifest
    documents: tuple[dict[str, Any], ...]
    data: tuple[DataSet, ...]
    files: PackageFiles

    @property
    def api_name(self) -> str:
        return self.manifest.api_name

    def objects(self) -> dict[str, dict[str, Any]]:
        """The package's object documents by api_name."""
        return {d["api_name"]: d for d in self.documents if d["kind"] == "object"}


def read_manifest(files: PackageFiles) -> Manifest:
    """The manifest of a package's files."""
    source = _source(files, MANIFEST)
    docs = load_text(_text(files, MANIFEST), source)
    if len(docs) != 1:
        raise fail(
            "not_a_manifest",
            source,
            Text(f"{MANIFEST} must hold exactly one document, found {len(docs)}",
                 f"{MANIFEST} 必须只包含一个文档，实际有 {len(docs)} 个"),
            Text("keep the kind: extension document; put the others in files "
                 "that contents names",
                 "只保留 kind: extension 文档，其余文档放到 contents 所列的文件中"),
        )
    return Manifest.from_document(docs[0], source)


def read_package(
    source: str | os.PathLike[str] | PackageFiles,
    *,
    existing: Mapping[str, Mapping[str, Any]] | None = None,
    allow_hooks: bool = False,
    limits: Limits = DEFAULT_LIMITS,
) -> Package:
    """Reads and checks the package at ``source`` (a folder, a ``.zip``, or files
    already read). ``existing``: other objects its documents may refer to or extend
    (api_name → normalized object; see ``validate_documents``).
    Raises ``PackageError`` with every problem found."""
    files = source if isinstance(source, PackageFiles) else read_files(source, limits)
    try:
        manifest = read_manifest(files)
    except MetadataError as exc:
        raise manifest_error(exc) from None
    if manifest.hooks and not allow_hooks:
        raise fail(
            "hooks_not_allowed",
            _source(files, MANIFEST),
            Text(f"{manifest.api_name} has Python hooks, and only built-in packages "
                 "and packages signed by a trusted key may run code",
                 f"{manifest.api_name} 带有 Python 钩子，只有内置扩展包和由受信任"
                 "密钥签名的扩展包才能运行代码"),
            Text("ask the publisher for a signed package, add their public key to "
                 "propolis.extensions.trusted_keys, or remove hooks",
                 "请向发布者索取已签名的扩展包并把其公钥加入 "
                 "propolis.extensions.trusted_keys，或删除 hooks"),
            "hooks",
        )
    data_files = {spec.file for spec in manifest.data}
    problems: list[Problem] = []
    documents: list[Document] = []
    for path in _contents(files, manifest, data_files, problems):
        try:
            documents += load_text(_text(files, path), _source(files, path))
        except MetadataError as exc:
            problems += exc.problems
    for doc in documents:
        if doc.kind == "extension":
            problems.append(doc.problem(("kind",), "unknown_kind", value="'extension'",
                                        allowed=DOCUMENT_KINDS, hint=Text("", "")))
    if problems:
        raise PackageError(problems)
    try:
        normalized = validate_documents(documents, existing=existing or {})
    except MetadataError as exc:
        raise manifest_error(exc) from None
    objects = {
        **{o["api_name"]: o for o in load_system_objects()},
        **(existing or {}),
        **{d["api_name"]: d for d in normalized if d["kind"] == "object"},
    }
    problems += _role_problems(documents, normalized, objects)
    data = []
    for index, spec in enumerate(manifest.data):
        try:
            data.append(_data_set(files, spec, index, objects))
        except PackageError as exc:
            problems += exc.problems
    problems += _duplicate_data_sets(files, manifest)
    if problems:
        raise PackageError(problems)
    ordered = sorted(normalized, key=lambda d: DOCUMENT_KINDS.index(d["kind"]))
    return Package(manifest, tuple(ordered), tuple(data), files)


def glob_match(pattern: str, path: str) -> bool:
    """Whether the ``/``-separated ``path`` matches ``pattern``: ``*``, ``?`` and
    ``[…]`` within one folder name, ``**`` any number of folders."""
    return _match(pattern.split("/"), path.split("/"))


def _match(pattern: list[str], parts: list[str]) -> bool:
    if not pattern:
        return not parts
    head, rest = pattern[0], pattern[1:]
    if head == "**":
        return any(_match(rest, parts[i:]) for i in range(len(parts) + 1))
    return bool(parts) and fnmatch.fnmatchcase(parts[0], head) and _match(
        rest, parts[1:]
    )


def _contents(
    files: PackageFiles,
    manifest: Manifest,
    data_files: set[str],
    problems: list[Problem],
) -> list[str]:
    """The document files of the package, in the order of ``contents`` (each
    pattern's matches sorted), each once."""
    found: dict[str, None] = {}
    names = sorted(files.files)
    for index, pattern in enumerate(manifest.contents):
        matched = [n for n in names if glob_match(pattern, n)]
        if not matched:
            problems.append(package_problem(
                "contents_unmatched",
                _source(files, MANIFEST),
                Text(f"contents pattern {pattern!r} matches no file of the package",
                     f"contents 中的 {pattern!r} 没有匹配到扩展包中的任何文件"),
                Text("correct the pattern, or add the files it names",
                     "请更正该模式，或添加它所指的文件"),
                f"contents[{index}]",
            ))
        for name in matched:
            if name not in (MANIFEST, SIGNATURE) and name not in data_files:
                found.setdefault(name)
    return list(found)


def _role_problems(
    documents: Iterable[Document],
    normalized: Iterable[Mapping[str, Any]],
    objects: Mapping[str, Mapping[str, Any]],
) -> list[Problem]:
    """A role's grants must name objects there are, and their fields."""
    problems: list[Problem] = []
    for doc, role in zip(documents, normalized, strict=True):
        if role["kind"] != "role":
            continue
        for obj, grant in role["grants"].items():
            target = objects.get(obj)
            if target is None:
                problems.append(doc.problem(
                    ("grants", obj), "unknown_object", name=obj,
                    hint=Text("", ""), allowed=sorted(objects)))
                continue
            names = [f["api_name"] for f in target["fields"]] + list(SYSTEM_FIELDS)
            for field in grant["fields"]:
                if field not in names:
                    problems.append(doc.problem(
                        ("grants", obj, "fields", field), "unknown_field",
                        name=field, owner=Text(f"object '{obj}'", f"对象 '{obj}' "),
                        allowed=names, hint=Text("", "")))
    return problems


def _data_set(
    files: PackageFiles,
    spec: DataSpec,
    index: int,
    objects: Mapping[str, Mapping[str, Any]],
) -> DataSet:
    where = f"data[{index}]"
    manifest = _source(files, MANIFEST)
    if spec.object not in objects:
        raise fail(
            "unknown_object",
            manifest,
            Text(f"data set {spec.api_name} fills object {spec.object!r}, which "
                 "neither the package nor what it builds on defines",
                 f"数据集 {spec.api_name} 写入的对象 {spec.object!r} 既不在本扩展包"
                 "中，也不在它所依赖的扩展中"),
            Text("name one of the package's objects, or require the extension "
                 "that defines it",
                 "请填写本扩展包中的对象，或在 requires 中声明定义它的扩展"),
            f"{where}.object",
        )
    if spec.file not in files.files:
        raise fail(
            "missing_file",
            manifest,
            Text(f"data set {spec.api_name} names {spec.file}, which the package "
                 "does not have",
                 f"数据集 {spec.api_name} 引用的 {spec.file} 不在扩展包中"),
            Text("add the file, or correct the name", "请添加该文件，或更正文件名"),
            f"{where}.file",
        )
    source = _source(files, spec.file)
    try:
        loaded = load_value(_text(files, spec.file), source)
    except MetadataError as exc:
        raise manifest_error(exc) from None
    loaded = [] if loaded is None else loaded
    if not isinstance(loaded, list) or not all(isinstance(r, dict) for r in loaded):
        raise fail(
            "not_a_record_list",
            source,
            Text("a data file must hold a list of records (field: value mappings)",
                 "数据文件必须是记录（字段: 值 映射）的列表"),
            Text("write one '- field: value' item per record",
                 "每条记录写成一个 '- 字段: 值' 列表项"),
        )
    records = tuple(loaded)
    if spec.mode == "reference":
        _check_keys(source, spec, records)
    return DataSet(spec, records)


def _check_keys(source: str, spec: DataSpec, records: Iterable[dict[str, Any]]) -> None:
    seen: set[Any] = set()
    problems: list[Problem] = []
    key = spec.key
    for index, record in enumerate(records):
        value = record.get(key) if key else None
        if value is None or value == "" or isinstance(value, dict | list):
            problems.append(package_problem(
                "missing_key",
                source,
                Text(f"record {index + 1} has no value for the key field {key!r}",
                     f"第 {index + 1} 条记录缺少键字段 {key!r} 的值"),
                Text("give every reference record a key value that stays the same "
                     "in later versions",
                     "请为每条参考数据填写键值，且在以后的版本中保持不变"),
                f"[{index}].{key}",
            ))
        elif value in seen:
            problems.append(package_problem(
                "duplicate_key",
                source,
                Text(f"record {index + 1} repeats the key {value!r}",
                     f"第 {index + 1} 条记录的键值 {value!r} 重复"),
                Text("give each record its own key value",
                     "请为每条记录使用不同的键值"),
                f"[{index}].{key}",
            ))
        else:
            seen.add(value)
    if problems:
        raise PackageError(problems)


def _duplicate_data_sets(files: PackageFiles, manifest: Manifest) -> list[Problem]:
    seen: set[str] = set()
    problems = []
    for index, spec in enumerate(manifest.data):
        if spec.api_name in seen:
            problems.append(package_problem(
                "duplicate_name",
                _source(files, MANIFEST),
                Text(f"data set {spec.api_name!r} is declared more than once",
                     f"数据集 {spec.api_name!r} 重复声明"),
                Text("give each data set its own api_name",
                     "请为每个数据集使用不同的 api_name"),
                f"data[{index}].api_name",
            ))
        seen.add(spec.api_name)
    return problems


def _source(files: PackageFiles, path: str) -> str:
    return f"{files.source}/{path}"


def _text(files: PackageFiles, path: str) -> str:
    try:
        return files.read(path).decode("utf-8-sig")
    except UnicodeDecodeError:
        raise fail(
            "unreadable",
            _source(files, path),
            Text("the file is not UTF-8 text", "文件不是 UTF-8 文本"),
            Text("save it as UTF-8", "请以 UTF-8 编码保存"),
        ) from None
