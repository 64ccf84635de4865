"""The files of a package, read safely from a directory or a ``.zip`` of one.

A package comes from an implementer's upload as often as from our own tree, so
reading it trusts nothing: no entry may leave the package (absolute paths, ``..``,
drive letters, backslashes), no symbolic link or device is followed or created,
and the number and size of files are bounded while reading (a zip's declared sizes
are not believed). Every refusal names the entry and the limit.

Everything is read into memory once (``PackageFiles``): the signature is checked on
the very bytes that are then loaded, so nothing can change in between.
A zip may hold the package at its root or inside one top folder (what zipping a
folder gives); macOS's ``__MACOSX/`` and ``.DS_Store`` entries are skipped.
"""

from __future__ import annotations

import os
import stat
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from propolis.metadata.errors import Problem, Text
from propolis.metadata.packages.errors import PackageError, fail, package_problem

MANIFEST = "extension.yaml"
# the publisher's signature over every other file (see ``signing``)
SIGNATURE = "signature.json"
# files an archiver adds on its own; they are no part of the package
JUNK_DIRS = frozenset({"__MACOSX"})
JUNK_FILES = frozenset({".DS_Store"})
MIB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """How big a package may be (enough for an industry pack with sample data)."""

    max_files: int = 1000
    max_file_bytes: int = 10 * MIB
    max_total_bytes: int = 50 * MIB


DEFAULT_LIMITS = Limits()


@dataclass(frozen=True)
class PackageFiles:
    """Every file of a package by its path inside it (``/``-separated, relative to
    the folder holding ``extension.yaml``), with where it was read from.

    ``root`` is the folder of the package inside a zip (``""`` at the zip's root,
    else the top folder's name and a ``/``); for a directory it is ``""``."""

    source: str
    files: Mapping[str, bytes]
    is_zip: bool
    root: str = ""

    def read(self, path: str) -> bytes:
        """The bytes of one file; ``PackageError`` naming it when it is absent."""
        try:
            return self.files[path]
        except KeyError:
            raise fail(
                "missing_file",
                self.source,
                Text(f"the package has no file {path}", f"扩展包中没有文件 {path}"),
                Text("add it, or correct the name that refers to it",
                     "请添加该文件，或更正引用它的名称"),
                path,
            ) from None


def read_files(
    source: str | os.PathLike[str], limits: Limits = DEFAULT_LIMITS
) -> PackageFiles:
    """The files of the package at ``source``, a directory or a ``.zip`` file."""
    path = Path(source)
    name = os.fspath(source)
    if path.is_symlink():
        raise _symlink(name, path.name)
    if path.is_dir():
        files = _read_directory(path, name, limits)
        result = PackageFiles(name, files, is_zip=False)
    elif path.is_file() and zipfile.is_zipfile(path):
        result = _read_zip(path, name, limits)
    elif path.exists():
        raise fail(
            "not_a_package",
            name,
            Text("not a directory or a .zip file", "不是文件夹，也不是 .zip 文件"),
            Text("give the folder that holds extension.yaml, or a .zip of it",
                 "请指定包含 extension.yaml 的文件夹，或它的 .zip 压缩包"),
        )
    else:
        raise fail(
            "no_such_package",
            name,
            Text("no such file or directory", "文件或文件夹不存在"),
            Text("check the path", "请检查路径"),
        )
    if MANIFEST not in result.files:
        raise fail(
            "no_manifest",
            name,
            Text(f"the package has no {MANIFEST}", f"扩展包中没有 {MANIFEST}"),
            Text(f"put {MANIFEST} (kind: extension) at the top of the package",
                 f"请在扩展包的最上层放置 {MANIFEST}（kind: extension）"),
        )
    return result


def _read_directory(root: Path, source: str, limits: Limits) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    budget = _Budget(source, limits)
    for folder, dirs, names in os.walk(root, followlinks=False):
        here = Path(folder)
        for name in sorted(dirs):
            if (here / name).is_symlink():
                raise _symlink(source, _relative(here / name, root))
        dirs[:] = sorted(d for d in dirs if d not in JUNK_DIRS)
        for name in sorted(names):
            if name in JUNK_FILES:
                continue
            file = here / name
            relative = _relative(file, root)
            mode = file.lstat().st_mode
            if stat.S_ISLNK(mode):
                raise _symlink(source, relative)
            if not stat.S_ISREG(mode):
                raise fail(
                    "special_file",
                    source,
                    Text(f"{relative} is not a regular file",
                         f"{relative} 不是普通文件"),
                    Text("remove it from the package", "请把它从扩展包中删除"),
                    relative,
                )
            budget.count(relative)
            with file.open("rb") as handle:
                files[relative] = budget.read(relative, handle.read)
    return files


def _relative(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix()


def _read_zip(path: Path, source: str, limits: Limits) -> PackageFiles:
    budget = _Budget(source, limits)
    raw: dict[str, bytes] = {}
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise _bad_zip(source, str(exc)) from None
    with archive:
        problems: list[Problem] = []
        entries: list[zipfile.ZipInfo] = []
        for info in archive.infolist():
            name = info.filename
            parts = PurePosixPath(name).parts
            if parts and (parts[0] in JUNK_DIRS or parts[-1] in JUNK_FILES):
                continue
            problem = _entry_problem(source, info)
            if problem is not None:
                problems.append(problem)
            elif not info.is_dir():
                entries.append(info)
        if problems:
            raise PackageError(problems)
        for info in entries:
            name = PurePosixPath(info.filename).as_posix()
            if name in raw:
                raise fail(
                    "duplicate_entry",
                    source,
                    Text(f"the zip holds {name} twice", f"压缩包中 {name} 出现了两次"),
                    Text("zip the folder again", "请重新压缩该文件夹"),
                    name,
                )
            budget.count(name)
            try:
                with archive.open(info) as handle:
                    raw[name] = budget.read(name, handle.read)
            except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError) as exc:
                raise _bad_zip(source, f"{name}: {exc}") from None
    root = _zip_root(raw)
    files = {name[len(root):]: data for name, data in raw.items()}
    return PackageFiles(source, files, is_zip=True, root=root)


def _zip_root(names: Mapping[str, bytes]) -> str:
    """``""`` when extension.yaml is at the zip's root, else the one top folder
    holding every entry (and extension.yaml)."""
    if MANIFEST in names:
        return ""
    tops = {name.split("/", 1)[0] for name in names}
    if len(tops) == 1:
        top = tops.pop() + "/"
        if all(name.startswith(top) for name in names) and top + MANIFEST in names:
            return top
    return ""


def _entry_problem(source: str, info: zipfile.ZipInfo) -> Problem | None:
    name = info.filename
    unix_mode = info.external_attr >> 16
    fix = Text("zip the package folder again, without links or outside paths",
               "请重新压缩扩展包文件夹，不要包含链接或外部路径")
    if (
        name.startswith("/")
        or "\\" in name
        or (len(name) > 1 and name[1] == ":")
        or ".." in PurePosixPath(name).parts
        or "\x00" in name
    ):
        return package_problem(
            "unsafe_path",
            source,
            Text(f"the entry {name!r} points outside the package",
                 f"条目 {name!r} 指向扩展包之外"),
            fix,
            name,
        )
    if stat.S_ISLNK(unix_mode):
        return package_problem(
            "symlink",
            source,
            Text(f"the entry {name} is a symbolic link", f"条目 {name} 是符号链接"),
            fix,
            name,
        )
    # archivers that record no file type (only permission bits) make plain files
    file_type = stat.S_IFMT(unix_mode)
    if file_type and file_type not in (stat.S_IFREG, stat.S_IFDIR):
        return package_problem(
            "special_file",
            source,
            Text(f"the entry {name} is not a regular file",
                 f"条目 {name} 不是普通文件"),
            fix,
            name,
        )
    if info.flag_bits & 0x1:
        return package_problem(
            "encrypted_entry",
            source,
            Text(f"the entry {name} is encrypted", f"条目 {name} 已加密"),
            Text("zip the package without a password", "请不加密码重新压缩扩展包"),
            name,
        )
    return None


class _Budget:
    """Counts files and bytes while reading, refusing past the limits."""

    def __init__(self, source: str, limits: Limits) -> None:
        self.source = source
        self.limits = limits
        self.files = 0
        self.total = 0

    def count(self, name: str) -> None:
        self.files += 1
        if self.files > self.limits.max_files:
            raise fail(
                "too_many_files",
                self.source,
                Text(f"the package has more than {self.limits.max_files} files",
                     f"扩展包中的文件超过 {self.limits.max_files} 个"),
                Text("leave out what the package does not need",
                     "请删去扩展包不需要的文件"),
                name,
            )

    def read(self, name: str, read: Callable[[int], bytes]) -> bytes:
        # one byte more than allowed tells "too big" without reading all of it
        data = read(self.limits.max_file_bytes + 1)
        if len(data) > self.limits.max_file_bytes:
            limit = self.limits.max_file_bytes // MIB
            raise fail(
                "file_too_large",
                self.source,
                Text(f"{name} is larger than {limit} MiB",
                     f"{name} 超过 {limit} MiB"),
                Text("make it smaller, or leave it out", "请缩小该文件，或把它删去"),
                name,
            )
        self.total += len(data)
        if self.total > self.limits.max_total_bytes:
            limit = self.limits.max_total_bytes // MIB
            raise fail(
                "package_too_large",
                self.source,
                Text(f"the package's files add up to more than {limit} MiB",
                     f"扩展包的文件总大小超过 {limit} MiB"),
                Text("leave out large files such as sample images",
                     "请删去示例图片等大文件"),
                name,
            )
        return data


def _symlink(source: str, name: str) -> PackageError:
    return fail(
        "symlink",
        source,
        Text(f"{name} is a symbolic link", f"{name} 是符号链接"),
        Text("replace the link by the file itself", "请用文件本身替换该链接"),
        name,
    )


def _bad_zip(source: str, detail: str) -> PackageError:
    return fail(
        "bad_zip",
        source,
        Text(f"the zip file cannot be read: {detail}", f"无法读取该压缩包：{detail}"),
        Text("zip the package folder again", "请重新压缩扩展包文件夹"),
    )
