"""Reading a package: manifest, contents, data, hooks; a folder or a zip."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import pytest

from propolis.metadata.packages.errors import PackageError
from propolis.metadata.packages.files import Limits, read_files
from propolis.metadata.packages.package import glob_match, read_package

from .conftest import FILES, MANIFEST, Writer, write_folder, write_zip

OA = Path(__file__).parents[3] / "propolis" / "extensions" / "oa"


def codes(exc: pytest.ExceptionInfo[PackageError]) -> list[str]:
    return exc.value.codes


def test_a_folder_package_is_read_with_its_documents_and_data(
    package_dir: Writer,
) -> None:
    package = read_package(package_dir())
    manifest = package.manifest
    assert (manifest.api_name, manifest.version_text) == ("decoration", "1.2.0")
    assert manifest.label == {"zh": "装修公司", "en": "Decoration company"}
    assert manifest.requires_propolis == ">=1.0"
    # objects first (in the order of contents), then roles, then approvals
    assert [(d["kind"], d["api_name"]) for d in package.documents] == [
        ("object", "site"),
        ("object", "site_stage"),
        ("role", "project_manager"),
        ("role", "supervisor"),
        ("approval", "site"),
    ]
    roles = {d["api_name"]: d for d in package.documents if d["kind"] == "role"}
    assert roles["supervisor"]["grants"] == {
        "site": {"verbs": ["read"], "scope": "own", "fields": {}}
    }
    stages, samples = package.data
    assert (stages.spec.mode, stages.spec.key) == ("reference", "code")
    assert [r["code"] for r in stages.records] == ["start", "done"]
    # data files are data even where a contents glob matches them
    assert samples.spec.mode == "seed"
    assert samples.records == ({"name": "样板间", "budget": 120000,
                                "opened": "2026-03-01"},)
    assert set(package.objects()) == {"site", "site_stage"}


@pytest.mark.parametrize("prefix", ["", "decoration/"])
def test_a_zip_reads_like_the_folder(tmp_path: Path, prefix: str) -> None:
    path = write_zip(tmp_path / "decoration.zip", FILES, prefix)
    package = read_package(path)
    assert package.files.is_zip and package.files.root == prefix
    assert sorted(package.files.files) == sorted(FILES)
    assert len(package.documents) == 5


def test_macos_archiver_files_are_skipped(tmp_path: Path) -> None:
    files = {**FILES, ".DS_Store": b"\0\0"}
    path = write_zip(tmp_path / "p.zip", files, "decoration/")
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr("__MACOSX/decoration/._site.yaml", b"junk")
    assert sorted(read_files(path).files) == sorted(FILES)


def test_the_builtin_oa_manifest_stays_valid() -> None:
    package = read_package(OA)
    assert package.manifest.api_name == "oa"
    assert package.manifest.data == () and package.manifest.hooks == {}
    assert {d["kind"] for d in package.documents} == {"object", "approval"}


@pytest.mark.parametrize(
    ("entry", "code"),
    [
        ("../evil.yaml", "unsafe_path"),
        ("/etc/evil.yaml", "unsafe_path"),
        ("objects\\..\\..\\evil.yaml", "unsafe_path"),
        ("C:/evil.yaml", "unsafe_path"),
    ],
)
def test_zip_entries_outside_the_package_are_refused(
    tmp_path: Path, entry: str, code: str
) -> None:
    path = write_zip(tmp_path / "p.zip", FILES)
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr(zipfile.ZipInfo(entry), b"kind: object")
    with pytest.raises(PackageError) as exc:
        read_files(path)
    assert codes(exc) == [code]
    assert exc.value.problems[0].path == entry
    assert "outside the package" in str(exc.value)
    assert "扩展包之外" in exc.value.problems[0].as_text()["zh"]


def test_zip_symlinks_are_refused(tmp_path: Path) -> None:
    path = write_zip(tmp_path / "p.zip", FILES)
    link = zipfile.ZipInfo("objects/link.yaml")
    link.external_attr = (0o120777 << 16)
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr(link, "/etc/passwd")
    with pytest.raises(PackageError) as exc:
        read_files(path)
    assert codes(exc) == ["symlink"]
    assert "symbolic link" in str(exc.value)


def test_folder_symlinks_are_refused(package_dir: Writer, tmp_path: Path) -> None:
    root = package_dir()
    outside = tmp_path / "secret.yaml"
    outside.write_text("kind: object")
    os.symlink(outside, root / "objects" / "linked.yaml")
    with pytest.raises(PackageError) as exc:
        read_package(root)
    assert codes(exc) == ["symlink"]
    assert exc.value.problems[0].path == "objects/linked.yaml"
    os.unlink(root / "objects" / "linked.yaml")
    os.symlink(tmp_path, root / "more")
    with pytest.raises(PackageError) as exc:
        read_package(root)
    assert codes(exc) == ["symlink"]


@pytest.mark.parametrize(
    ("limits", "code", "words"),
    [
        (Limits(max_files=3), "too_many_files", "more than 3 files"),
        (Limits(max_file_bytes=200), "file_too_large", "larger than"),
        (Limits(max_total_bytes=500), "package_too_large", "add up to more than"),
    ],
)
def test_size_limits(
    package_dir: Writer, tmp_path: Path, limits: Limits, code: str, words: str
) -> None:
    for source in (package_dir(), write_zip(tmp_path / "p.zip", FILES)):
        with pytest.raises(PackageError) as exc:
            read_package(source, limits=limits)
        assert codes(exc) == [code]
        assert words in str(exc.value)


def test_a_zip_that_lies_about_its_sizes_is_still_bounded(tmp_path: Path) -> None:
    path = write_zip(tmp_path / "p.zip", {**FILES, "big.bin": b"0" * 5000})
    with zipfile.ZipFile(path) as archive:
        declared = archive.getinfo("big.bin").file_size
    assert declared == 5000
    with pytest.raises(PackageError) as exc:
        read_files(path, Limits(max_file_bytes=1000))
    assert codes(exc) == ["file_too_large"]


def test_encrypted_entries_are_refused(tmp_path: Path) -> None:
    path = write_zip(tmp_path / "p.zip", FILES)
    data = bytearray(path.read_bytes())
    # set the "encrypted" flag of the first entry in the central directory
    central = data.find(b"PK\x01\x02")
    data[central + 8] |= 0x1
    path.write_bytes(bytes(data))
    with pytest.raises(PackageError) as exc:
        read_files(path)
    assert codes(exc) == ["encrypted_entry"]


def test_what_is_not_a_package(tmp_path: Path) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    for source, code in [
        (tmp_path / "missing", "no_such_package"),
        (text, "not_a_package"),
        (write_folder(tmp_path / "empty", {"readme.md": "x"}), "no_manifest"),
        (write_zip(tmp_path / "two.zip", {"a/extension.yaml": MANIFEST,
                                          "b/x.yaml": "x: 1"}), "no_manifest"),
    ]:
        with pytest.raises(PackageError) as exc:
            read_package(source)
        assert codes(exc) == [code], source


def test_hooks_need_a_trusted_package(package_dir: Writer) -> None:
    hooks = "hooks: {install: 'hooks:install', upgrade: 'hooks:upgrade'}\n"
    manifest = MANIFEST + hooks
    root = package_dir({"extension.yaml": manifest, "hooks.py": "def install(): ..."})
    with pytest.raises(PackageError) as exc:
        read_package(root)
    assert codes(exc) == ["hooks_not_allowed"]
    assert "trusted key" in str(exc.value)
    assert "受信任" in exc.value.problems[0].as_text()["zh"]
    package = read_package(root, allow_hooks=True)
    assert package.manifest.hooks == {"install": "hooks:install",
                                      "upgrade": "hooks:upgrade"}


def test_manifest_problems_name_the_file_and_path(package_dir: Writer) -> None:
    bad = MANIFEST.replace("version: 1.2.0", "version: 1.2").replace(
        "mode: reference, key: code", "mode: reference")
    with pytest.raises(PackageError) as exc:
        read_package(package_dir({"extension.yaml": bad}))
    paths = {(p.path, p.source.endswith("decoration/extension.yaml"))
             for p in exc.value.problems}
    assert paths == {("version", True), ("data[0]", True)}


def test_manifest_versions_and_ranges_must_be_comparable(package_dir: Writer) -> None:
    bad = MANIFEST.replace("version: 1.2.0", "version: 1.2.0-alpha.beta")
    with pytest.raises(PackageError) as exc:
        read_package(package_dir({"extension.yaml": bad}))
    assert codes(exc) == ["bad_version"]
    bad = MANIFEST.replace('{propolis: ">=1.0"}', '{propolis: "1.0"}')
    with pytest.raises(PackageError) as exc:
        read_package(package_dir({"extension.yaml": bad}))
    assert codes(exc) == ["bad_range"]
    assert exc.value.problems[0].path == "requires.propolis"


def test_contents_must_match_files_and_hold_no_manifest(package_dir: Writer) -> None:
    manifest = MANIFEST.replace("roles.yaml,", "roles.yaml, reports/*.yaml, more.yaml,")
    with pytest.raises(PackageError) as exc:
        read_package(package_dir({"extension.yaml": manifest,
                                  "more.yaml": MANIFEST}))
    assert sorted(codes(exc)) == ["contents_unmatched", "unknown_kind"]
    unmatched = next(p for p in exc.value.problems if p.code == "contents_unmatched")
    assert unmatched.path == "contents[2]" and "'reports/*.yaml'" in unmatched.message


def test_document_problems_come_from_validation(package_dir: Writer) -> None:
    site = FILES["objects/site.yaml"].replace("to: site_stage", "to: customer")
    with pytest.raises(PackageError) as exc:
        read_package(package_dir({"objects/site.yaml": site}))
    assert codes(exc) == ["unknown_object"]
    # the objects of an extension it builds on are given as existing
    customer = read_package(package_dir()).objects()["site_stage"] | {
        "api_name": "customer"}
    read_package(package_dir({"objects/site.yaml": site}),
                 existing={"customer": customer})


def test_role_grants_name_real_objects_and_fields(package_dir: Writer) -> None:
    roles = FILES["roles.yaml"].replace("budget: read", "cost: read").replace(
        "  site: {verbs: [read]}", "  villa: {verbs: [read]}")
    with pytest.raises(PackageError) as exc:
        read_package(package_dir({"roles.yaml": roles}))
    found = {(p.code, p.path) for p in exc.value.problems}
    assert found == {("unknown_field", "grants.site.fields.cost"),
                     ("unknown_object", "grants.villa")}
    assert all(p.line for p in exc.value.problems)


def test_role_schema_refuses_unknown_verbs(package_dir: Writer) -> None:
    roles = FILES["roles.yaml"].replace("verbs: [read]", "verbs: [fly]")
    with pytest.raises(PackageError) as exc:
        read_package(package_dir({"roles.yaml": roles}))
    assert exc.value.problems[0].path == "grants.site.verbs[0]"


def test_reference_records_need_unique_keys(package_dir: Writer) -> None:
    stages = "- {code: start, name: 开工}\n- {name: 水电}\n- {code: start}\n"
    with pytest.raises(PackageError) as exc:
        read_package(package_dir({"data/stages.yaml": stages}))
    assert [(p.code, p.path) for p in exc.value.problems] == [
        ("missing_key", "[1].code"), ("duplicate_key", "[2].code")]
    assert "第 2 条记录缺少键字段" in exc.value.problems[0].as_text()["zh"]


def test_data_sets_are_checked(package_dir: Writer) -> None:
    manifest = MANIFEST.replace("object: site, file: data/sites.yaml",
                                "object: villa, file: data/none.yaml") + (
        "  - {api_name: stages, object: site_stage, file: data/stages.yaml}\n")
    with pytest.raises(PackageError) as exc:
        read_package(package_dir({"extension.yaml": manifest,
                                  "data/sites.yaml": None}))
    assert sorted((p.code, p.path) for p in exc.value.problems) == [
        ("duplicate_name", "data[2].api_name"),
        ("unknown_object", "data[1].object"),
    ]
    with pytest.raises(PackageError) as exc:
        read_package(package_dir({"data/sites.yaml": "name: not a list\n"}))
    assert codes(exc) == ["not_a_record_list"]
    with pytest.raises(PackageError) as exc:
        read_package(package_dir({"data/sites.yaml": None}))
    assert codes(exc) == ["missing_file"]


def test_data_files_are_read_within_the_metadata_bounds(package_dir: Writer) -> None:
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{n}: &{n} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n"
        for p, n in zip("abcdefg", "bcdefgh", strict=True))
    with pytest.raises(PackageError) as exc:
        read_package(package_dir({"data/sites.yaml": bomb}))
    assert codes(exc) == ["too_many_values"]
    assert exc.value.problems[0].source.endswith("decoration/data/sites.yaml")


def test_files_must_be_utf8(package_dir: Writer) -> None:
    root = package_dir()
    (root / "objects" / "site.yaml").write_bytes("label: 工地".encode("gbk"))
    with pytest.raises(PackageError) as exc:
        read_package(root)
    assert codes(exc) == ["unreadable"]


@pytest.mark.parametrize(
    ("pattern", "path", "matches"),
    [
        ("objects/*.yaml", "objects/site.yaml", True),
        ("objects/*.yaml", "objects/more/site.yaml", False),
        ("objects/**/*.yaml", "objects/site.yaml", True),
        ("objects/**/*.yaml", "objects/a/b/site.yaml", True),
        ("**/*.json", "x.json", True),
        ("roles.yaml", "roles.yaml", True),
        ("roles.yaml", "x/roles.yaml", False),
        ("data/?.yaml", "data/a.yaml", True),
    ],
)
def test_glob_match(pattern: str, path: str, matches: bool) -> None:
    assert glob_match(pattern, path) is matches
