"""Install, upgrade and uninstall checks against what is installed."""

from __future__ import annotations

from typing import Any

import pytest

from propolis.metadata.packages.errors import PackageError
from propolis.metadata.packages.manifest import Manifest
from propolis.metadata.packages.versions import (
    check_install,
    check_uninstall,
    check_upgrade,
    install_order,
)


def manifest(name: str, version: str, propolis: str | None = None,
             **extensions: str) -> Manifest:
    requires: dict[str, Any] = {"extensions": extensions}
    if propolis is not None:
        requires["propolis"] = propolis
    return Manifest.from_document({"kind": "extension", "api_name": name,
                                   "version": version, "requires": requires})


CRM = manifest("crm", "1.4.0")
SCHOOL = manifest("school", "1.0.0", ">=1.0", crm=">=1.0,<2")


def refusal(call: Any, *args: Any) -> PackageError:
    with pytest.raises(PackageError) as exc:
        call(*args)
    return exc.value


def test_install_with_requirements_met() -> None:
    check_install(SCHOOL, {"crm": CRM})
    check_install(CRM, {})


def test_install_refuses_a_platform_out_of_range() -> None:
    error = refusal(check_install, manifest("pack", "1.0.0", ">=3.0"), {})
    assert error.codes == ["platform_version"]
    problem = error.problems[0]
    assert problem.path == "requires.propolis"
    assert "pack 1.0.0 needs Propolis >=3.0; this is Propolis 2.0.0" in problem.message
    assert "需要 Propolis >=3.0" in problem.as_text()["zh"]
    check_install(manifest("pack", "1.0.0", ">=3.0"), {}, platform="3.1.0")


def test_install_refuses_missing_and_out_of_range_dependencies() -> None:
    error = refusal(check_install, SCHOOL, {})
    assert error.codes == ["missing_dependency"]
    assert "school needs the extension crm (>=1.0,<2)" in str(error)
    assert "install crm >=1.0,<2 first" in str(error)
    error = refusal(check_install, SCHOOL, {"crm": manifest("crm", "2.1.0")})
    assert error.codes == ["dependency_version"]
    assert "school needs crm >=1.0,<2, but crm 2.1.0 is installed" in str(error)
    assert "但已安装的是 crm 2.1.0" in error.problems[0].as_text()["zh"]


def test_an_installed_prerelease_counts() -> None:
    check_install(SCHOOL, {"crm": manifest("crm", "1.5.0-rc.1")})


def test_install_twice_is_refused() -> None:
    error = refusal(check_install, CRM, {"crm": CRM})
    assert error.codes == ["already_installed"]
    assert "upgrade it to 1.4.0 instead" in str(error)


def test_upgrade_to_a_newer_or_the_same_version() -> None:
    change = check_upgrade(manifest("crm", "1.5.0"), {"crm": CRM, "school": SCHOOL})
    assert (str(change.previous), change.is_reapply) == ("1.4.0", False)
    assert check_upgrade(CRM, {"crm": CRM}).is_reapply


def test_downgrades_are_refused() -> None:
    error = refusal(check_upgrade, manifest("crm", "1.3.9"), {"crm": CRM})
    assert error.codes == ["downgrade"]
    assert "crm 1.4.0 is installed; 1.3.9 is older" in str(error)
    assert "不能降级" in error.problems[0].as_text()["zh"]


def test_upgrade_of_something_not_installed_is_refused() -> None:
    assert refusal(check_upgrade, CRM, {}).codes == ["not_installed"]


def test_an_upgrade_that_breaks_a_dependent_is_refused() -> None:
    error = refusal(check_upgrade, manifest("crm", "2.0.0"),
                    {"crm": CRM, "school": SCHOOL})
    assert error.codes == ["breaks_dependent"]
    assert "school 1.0.0 needs crm >=1.0,<2; crm 2.0.0 would break it" in str(error)
    assert "first upgrade school" in str(error)


def test_an_upgrade_checks_its_own_new_requirements() -> None:
    newer = manifest("school", "2.0.0", crm=">=2.0")
    error = refusal(check_upgrade, newer, {"crm": CRM, "school": SCHOOL})
    assert error.codes == ["dependency_version"]


def test_uninstall_refused_while_something_depends_on_it() -> None:
    error = refusal(check_uninstall, "crm", {"crm": CRM, "school": SCHOOL})
    assert error.codes == ["required_by"]
    assert "school 1.0.0 requires crm (>=1.0,<2)" in str(error)
    assert "uninstall school first" in str(error)
    check_uninstall("school", {"crm": CRM, "school": SCHOOL})
    assert refusal(check_uninstall, "oa", {"crm": CRM}).codes == ["not_installed"]


def test_install_order_puts_requirements_first() -> None:
    decoration = manifest("decoration", "1.0.0", crm=">=1.0")
    order = install_order([SCHOOL, decoration, CRM], {})
    assert [m.api_name for m in order] == ["crm", "school", "decoration"]
    # what is installed already counts
    assert [m.api_name for m in install_order([SCHOOL], {"crm": CRM})] == ["school"]


def test_install_order_refuses_cycles_and_missing_requirements() -> None:
    a, b = manifest("aaa", "1.0.0", bbb=">=1"), manifest("bbb", "1.0.0", aaa=">=1")
    error = refusal(install_order, [a, b], {})
    assert error.codes == ["dependency_cycle"]
    assert "aaa, bbb" in str(error)
    assert refusal(install_order, [SCHOOL], {}).codes == ["missing_dependency"]


def test_a_manifest_round_trips_through_its_document() -> None:
    again = Manifest.from_document(SCHOOL.document)
    assert again == SCHOOL
    assert SCHOOL.ranges()["crm"].contains("1.9")
