"""Whether an extension may be installed, upgraded or uninstalled, given the
extensions an enterprise has and the platform version.

Each check collects every reason at once and raises one ``PackageError``; each
message names the packages, the versions and the ranges involved, and the way out.
The checks take manifests (``Manifest``): the platform keeps the manifest document
of every installed extension and rebuilds them with ``Manifest.from_document``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from packaging.version import Version

from propolis.metadata.errors import Problem, Text
from propolis.metadata.packages.errors import PackageError, package_problem
from propolis.metadata.packages.manifest import (
    PLATFORM_VERSION,
    Manifest,
    in_range,
)

Installed = Mapping[str, Manifest]


@dataclass(frozen=True)
class VersionChange:
    """What an upgrade does: ``previous`` → ``manifest.version`` (equal: the same
    version applied again, e.g. after a failed upgrade)."""

    manifest: Manifest
    previous: Version

    @property
    def is_reapply(self) -> bool:
        return self.previous == self.manifest.version


def check_install(
    manifest: Manifest, installed: Installed, platform: str = PLATFORM_VERSION
) -> None:
    """A first install: not installed yet, the platform in range, every required
    extension installed in range."""
    problems: list[Problem] = []
    if manifest.api_name in installed:
        current = installed[manifest.api_name].version_text
        problems.append(_problem(
            "already_installed", manifest,
            Text(f"{manifest.api_name} {current} is already installed",
                 f"{manifest.api_name} {current} 已经安装"),
            Text(f"upgrade it to {manifest.version_text} instead",
                 f"请改为升级到 {manifest.version_text}"),
        ))
    problems += _requirement_problems(manifest, installed, platform)
    if problems:
        raise PackageError(problems)


def check_upgrade(
    manifest: Manifest, installed: Installed, platform: str = PLATFORM_VERSION
) -> VersionChange:
    """An upgrade: installed, not to an older version, requirements met, and every
    installed extension that requires this one still accepting the new version."""
    name = manifest.api_name
    current = installed.get(name)
    if current is None:
        raise PackageError([_problem(
            "not_installed", manifest,
            Text(f"{name} is not installed", f"{name} 尚未安装"),
            Text(f"install {name} {manifest.version_text} instead",
                 f"请改为安装 {name} {manifest.version_text}"),
        )])
    problems: list[Problem] = []
    if manifest.version < current.version:
        problems.append(_problem(
            "downgrade", manifest,
            Text(f"{name} {current.version_text} is installed; "
                 f"{manifest.version_text} is older, and a downgrade is refused",
                 f"已安装 {name} {current.version_text}；{manifest.version_text} "
                 "是更早的版本，不能降级"),
            Text(f"upgrade to {current.version_text} or later",
                 f"请升级到 {current.version_text} 或更新的版本"),
            "version",
        ))
    problems += _requirement_problems(manifest, installed, platform)
    for other in _dependents(name, installed):
        spec = other.requires[name]
        if not in_range(manifest.version, other.ranges()[name]):
            problems.append(_problem(
                "breaks_dependent", manifest,
                Text(f"{other.api_name} {other.version_text} needs {name} {spec}; "
                     f"{name} {manifest.version_text} would break it",
                     f"{other.api_name} {other.version_text} 需要 {name} {spec}，"
                     f"升级到 {name} {manifest.version_text} 会使它无法使用"),
                Text(f"first upgrade {other.api_name} to a version that accepts "
                     f"{name} {manifest.version_text}",
                     f"请先把 {other.api_name} 升级到支持 {name} "
                     f"{manifest.version_text} 的版本"),
                f"requires.extensions.{name}",
            ))
    if problems:
        raise PackageError(problems)
    return VersionChange(manifest, current.version)


def check_uninstall(name: str, installed: Installed) -> None:
    """An uninstall: installed, and no other installed extension requires it."""
    if name not in installed:
        raise PackageError([package_problem(
            "not_installed", name,
            Text(f"{name} is not installed", f"{name} 尚未安装"),
            Text("see which extensions are installed with 'propolis extension list'",
                 "可用 'propolis extension list' 查看已安装的扩展"),
        )])
    problems = [
        package_problem(
            "required_by", name,
            Text(f"{other.api_name} {other.version_text} requires {name} "
                 f"({other.requires[name]})",
                 f"{other.api_name} {other.version_text} 依赖 {name}"
                 f"（{other.requires[name]}）"),
            Text(f"uninstall {other.api_name} first", f"请先卸载 {other.api_name}"),
        )
        for other in _dependents(name, installed)
    ]
    if problems:
        raise PackageError(problems)


def install_order(
    manifests: Iterable[Manifest], installed: Installed
) -> list[Manifest]:
    """The manifests ordered so that each comes after the ones it requires (the
    order of the input kept where it is free), each checked with
    ``check_install`` against what is installed by then. A cycle is refused."""
    pending = {m.api_name: m for m in manifests}
    ordered: list[Manifest] = []
    done: dict[str, Manifest] = dict(installed)
    while pending:
        ready = [
            m for m in pending.values()
            if not any(dep in pending for dep in m.requires if dep != m.api_name)
        ]
        if not ready:
            names = ", ".join(sorted(pending))
            raise PackageError([package_problem(
                "dependency_cycle", names,
                Text(f"these extensions require each other in a circle: {names}",
                     f"以下扩展相互依赖，形成循环：{names}"),
                Text("remove one of the requirements", "请删除其中一个依赖"),
            )])
        for manifest in ready:
            check_install(manifest, done)
            done[manifest.api_name] = manifest
            ordered.append(manifest)
            del pending[manifest.api_name]
    return ordered


def _requirement_problems(
    manifest: Manifest, installed: Installed, platform: str
) -> list[Problem]:
    problems: list[Problem] = []
    name = manifest.api_name
    spec = manifest.platform_range()
    if spec is not None and not in_range(Version(platform), spec):
        problems.append(_problem(
            "platform_version", manifest,
            Text(f"{name} {manifest.version_text} needs Propolis "
                 f"{manifest.requires_propolis}; this is Propolis {platform}",
                 f"{name} {manifest.version_text} 需要 Propolis "
                 f"{manifest.requires_propolis}，当前是 Propolis {platform}"),
            Text(f"use a version of {name} made for Propolis {platform}",
                 f"请使用适用于 Propolis {platform} 的 {name} 版本"),
            "requires.propolis",
        ))
    for dep, dep_spec in manifest.ranges().items():
        text = manifest.requires[dep]
        have = installed.get(dep)
        if have is None:
            problems.append(_problem(
                "missing_dependency", manifest,
                Text(f"{name} needs the extension {dep} ({text}), which is not "
                     "installed",
                     f"{name} 需要扩展 {dep}（{text}），但它尚未安装"),
                Text(f"install {dep} {text} first", f"请先安装 {dep}（{text}）"),
                f"requires.extensions.{dep}",
            ))
        elif not in_range(have.version, dep_spec):
            problems.append(_problem(
                "dependency_version", manifest,
                Text(f"{name} needs {dep} {text}, but {dep} {have.version_text} is "
                     "installed",
                     f"{name} 需要 {dep} {text}，但已安装的是 {dep} "
                     f"{have.version_text}"),
                Text(f"upgrade {dep} to a version in {text}, or use a version of "
                     f"{name} that accepts {dep} {have.version_text}",
                     f"请把 {dep} 升级到 {text} 范围内的版本，或使用支持 {dep} "
                     f"{have.version_text} 的 {name} 版本"),
                f"requires.extensions.{dep}",
            ))
    return problems


def _dependents(name: str, installed: Installed) -> list[Manifest]:
    return sorted(
        (m for m in installed.values() if name in m.requires and m.api_name != name),
        key=lambda m: m.api_name,
    )


def _problem(
    code: str, manifest: Manifest, message: Text, fix: Text, path: str = ""
) -> Problem:
    return package_problem(code, manifest.api_name, message, fix, path)
