"""Extension packages end to end (issue 14's must-show): a package installed from a
folder, customised by the enterprise through the API, upgraded with the 3-way
merge (a conflict refuses it with nothing changed; resolved, it goes through),
every record intact; signatures under production settings."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from webtest import TestApp

from propolis.metadata.packages.signing import generate_key, public_key_text, sign
from propolis.platform.cli import main
from propolis.platform.db import Database
from propolis.platform.tenancy.services import current_version, effective_for
from tests.common.api import ApiClient, login
from tests.common.crm import write_ini as crm_ini
from tests.conftest import unique_account

MANIFEST = """kind: extension
api_name: visits
version: {version}
label: {{zh: 拜访, en: Visits}}
requires: {{propolis: ">=2.0"}}
contents: [objects/*.yaml]
data:
  - {{api_name: kinds, object: visit_kind, file: data/kinds.yaml, mode: reference,
     key: code}}
  - {{api_name: samples, object: visit, file: data/samples.yaml}}
"""

KIND = """kind: object
api_name: visit_kind
label: {zh: 拜访类型, en: Visit kind}
fields:
  - {api_name: code, type: text, required: true, unique: true}
  - {api_name: name, type: text}
"""

V1 = """kind: object
api_name: visit
label: {zh: 拜访, en: Visit}
fields:
  - {api_name: title, type: text, label: {zh: 标题, en: Title}}
  - {api_name: level, type: select, options: [a, b]}
  - {api_name: notes, type: textarea, label: {zh: 备注, en: Notes}}
  - {api_name: old, type: text, label: {zh: 旧字段, en: Old}}
"""

# 1.1: a new label for the object, the title's label (the enterprise changed it
# too: a conflict), title required, an option added, the field old removed
V2 = """kind: object
api_name: visit
label: {zh: 拜访记录, en: Visit record}
fields:
  - {api_name: title, type: text, label: {zh: 拜访主题, en: Subject}, required: true}
  - {api_name: level, type: select, options: [a, b, c]}
  - {api_name: notes, type: textarea, label: {zh: 拜访备注, en: Notes}}
"""

KINDS_V1 = "- {code: call, name: 电话}\n- {code: meet, name: 面谈}\n"
KINDS_V2 = "- {code: call, name: 电话拜访}\n- {code: meet, name: 面谈}\n" \
    "- {code: mail, name: 邮件}\n"
SAMPLES = "- {title: 样例拜访, level: a, old: 旧值}\n"

REPORT = """kind: report
api_name: daily_visits
label: {{zh: {label}}}
period: daily
fields: [{{api_name: calls, type: number, label: {{zh: 拜访数}}}}]
assignees: {{all: true}}
"""

PASSWORD = "secret-123"


def write_package(root: Path, version: str, visit: str, kinds: str) -> Path:
    (root / "objects").mkdir(parents=True)
    (root / "data").mkdir()
    (root / "extension.yaml").write_text(MANIFEST.format(version=version),
                                         encoding="utf-8")
    (root / "objects" / "visit_kind.yaml").write_text(KIND, encoding="utf-8")
    (root / "objects" / "visit.yaml").write_text(visit, encoding="utf-8")
    (root / "objects" / "daily.yaml").write_text(
        REPORT.format(label="每日拜访" if version == "1.0.0" else "每日拜访数"),
        encoding="utf-8")
    (root / "data" / "kinds.yaml").write_text(kinds, encoding="utf-8")
    (root / "data" / "samples.yaml").write_text(SAMPLES, encoding="utf-8")
    return root


def write_ini(path: Path, database: Database, extra: str = "") -> str:
    """An ini over the test database (with the CRM), plus ``extra`` settings."""
    ini = Path(crm_ini(path, database))
    ini.write_text(ini.read_text() + extra)
    return str(ini)


def run(ini: str, *args: str) -> int:
    return main(["-c", ini, *args])


def hashes(api: ApiClient, obj: str) -> dict[str, str]:
    records = api.query(obj, limit=200)["records"]
    return {r["id"]: hashlib.sha256(json.dumps(r, sort_keys=True).encode())
            .hexdigest() for r in records}


def report_label(database: Database, account: str) -> str | None:
    effective = effective_for(database, account, current_version(database, account))
    report = effective.reports.get("daily_visits")
    return None if report is None else report["label"]["zh"]


def visit_meta(api: ApiClient) -> dict[str, Any]:
    doc = api.get("/objects/visit", status=200).json
    return {**doc, "by_name": {f["api_name"]: f for f in doc["fields"]}}


def test_install_customise_upgrade_with_a_conflict(
        app: TestApp, database: Database, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    ini = write_ini(tmp_path, database)
    v1 = write_package(tmp_path / "v1", "1.0.0", V1, KINDS_V1)
    v2 = write_package(tmp_path / "v2", "1.1.0", V2, KINDS_V2)
    account = unique_account("pk")
    assert run(ini, "tenant", "create", "--account", account, "--name", "甲",
               "--admin-phone", "13800000000", "--admin-password", PASSWORD) == 0
    # a dry run changes nothing
    assert run(ini, "extension", "install", "--tenant", account, "--dry-run",
               str(v1)) == 0
    assert "plan to install visits 1.0.0" in capsys.readouterr().out
    admin = login(app, account, "13800000000", PASSWORD)
    assert "visit" not in {o["api_name"] for o in
                           admin.get("/objects", status=200).json["objects"]}
    # an upgrade of what is not installed, a missing dependency: refused
    assert run(ini, "extension", "upgrade", "--tenant", account, str(v2)) == 1
    assert "not installed" in capsys.readouterr().err

    assert run(ini, "extension", "install", "--tenant", account, str(v1)) == 0
    assert "3 record(s) written" in capsys.readouterr().out
    assert run(ini, "extension", "install", "--tenant", account, str(v1)) == 1
    assert "already installed" in capsys.readouterr().err
    assert run(ini, "extension", "list", "--tenant", account) == 0
    assert "visits\t1.0.0" in capsys.readouterr().out
    kinds = {r["code"]: r for r in admin.query("visit_kind")["records"]}
    assert {c: r["name"] for c, r in kinds.items()} == {"call": "电话", "meet": "面谈"}
    assert report_label(database, account) == "每日拜访"

    # the enterprise customises it: a label, a new field, a hidden field, an option
    admin.put("/metadata/objects/visit", {"kind": "object", "api_name": "visit",
        "fields": [
            {"api_name": "title", "type": "text", "label": {"zh": "主题"}},
            {"api_name": "level", "type": "select", "options": [
                {"value": "a", "label": {"zh": "A 级"}}, {"value": "b"}]},
            {"api_name": "notes", "type": "textarea", "hidden": True},
            {"api_name": "wechat", "type": "text", "label": {"zh": "微信"}}]},
        status=200)
    for n in range(3):
        admin.create("visit", {"title": f"拜访 {n}", "level": "b", "old": f"旧 {n}",
                               "notes": f"备注 {n}", "wechat": f"wx{n}"})
    before = hashes(admin, "visit")
    assert len(before) == 4
    meta_before = visit_meta(admin)

    # the title's label changed on both sides: refused, nothing changed
    assert run(ini, "extension", "upgrade", "--tenant", account, "--dry-run",
               str(v2)) == 0
    out = capsys.readouterr().out
    assert "conflict visit.title.label" in out
    assert run(ini, "extension", "upgrade", "--tenant", account, str(v2)) == 1
    err = capsys.readouterr().err
    assert "visit.title.label" in err  # with its three values
    assert "Subject" in err and "主题" in err and "Title" in err
    assert visit_meta(admin) == meta_before
    assert hashes(admin, "visit") == before
    assert run(ini, "extension", "list", "--tenant", account) == 0
    assert "visits\t1.0.0" in capsys.readouterr().out

    # resolved: the enterprise keeps its label
    assert run(ini, "extension", "resolve", "--tenant", account, "visits",
               "--take", "mine", "visit.title.label") == 0
    assert run(ini, "extension", "upgrade", "--tenant", account, str(v2)) == 0
    assert "upgraded from 1.0.0" in capsys.readouterr().out
    after = visit_meta(admin)
    fields = after["by_name"]
    assert after["label"]["zh"] == "拜访记录"                  # the package's
    assert fields["title"]["label"]["zh"] == "主题"            # mine, resolved
    assert fields["title"]["required"] is True                 # the package's
    assert fields["notes"]["hidden"] is True                   # still hidden
    assert fields["notes"]["label"]["zh"] == "拜访备注"         # and relabelled
    assert "wechat" in fields                                  # the enterprise's
    assert fields["old"]["hidden"] is True                     # removed: hidden
    options = {o["value"]: o for o in fields["level"]["options"]}
    assert list(options) == ["a", "b", "c"]
    assert options["a"]["label"]["zh"] == "A 级"
    assert hashes(admin, "visit") == before                   # every record intact
    assert report_label(database, account) == "每日拜访数"
    kinds = {r["code"]: r["name"] for r in admin.query("visit_kind")["records"]}
    assert kinds == {"call": "电话拜访", "meet": "面谈", "mail": "邮件"}
    # the seed data is not written again
    assert len(admin.query("visit")["records"]) == 4
    # no downgrade
    assert run(ini, "extension", "upgrade", "--tenant", account, str(v1)) == 1
    assert "downgrade" in capsys.readouterr().err

    # uninstall: refused while an object of the enterprise refers to it
    admin.put("/metadata/objects/trip", {"kind": "object", "api_name": "trip",
        "fields": [{"api_name": "visit", "type": "lookup", "to": "visit"}]},
        status=200)
    assert run(ini, "extension", "uninstall", "--tenant", account, "visits") == 1
    assert "trip.visit" in capsys.readouterr().err
    admin.put("/metadata/objects/trip", {"kind": "object", "api_name": "trip",
        "fields": [{"api_name": "place", "type": "text"}]}, status=200)
    kinds_before = hashes(admin, "visit_kind")
    assert run(ini, "extension", "uninstall", "--tenant", account, "visits") == 0
    capsys.readouterr()
    assert {"visit", "visit_kind"}.isdisjoint(
        o["api_name"] for o in admin.get("/objects", status=200).json["objects"])
    admin.get("/objects/visit", status=404)
    assert report_label(database, account) is None
    assert run(ini, "extension", "upgrade", "--tenant", account, str(v2)) == 1
    # restored: the same records, the same values, the enterprise's changes
    assert run(ini, "extension", "install", "--tenant", account, "--restore",
               "visits") == 0
    assert visit_meta(admin) == after
    assert hashes(admin, "visit") == before
    assert hashes(admin, "visit_kind") == kinds_before
    assert report_label(database, account) == "每日拜访数"
    assert run(ini, "extension", "install", "--tenant", account, "--restore",
               "visits") == 1
    assert "no archive of visits" in capsys.readouterr().err

    # uninstalled again, and the archive purged: the records are gone for good
    assert run(ini, "extension", "uninstall", "--tenant", account, "visits") == 0
    assert run(ini, "extension", "purge", "--tenant", account, "visits") == 0
    assert "visit, visit_kind" in capsys.readouterr().out
    assert run(ini, "extension", "install", "--tenant", account, "--restore",
               "visits") == 1
    assert run(ini, "extension", "install", "--tenant", account, str(v1)) == 0
    assert len(admin.query("visit")["records"]) == 1  # the seed alone


def test_export_keygen_and_sign_from_the_command_line(
        app: TestApp, database: Database, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    ini = write_ini(tmp_path, database)
    account, other = unique_account("pk"), unique_account("pk")
    for name in (account, other):
        assert run(ini, "tenant", "create", "--account", name, "--name", "丙",
                   "--admin-phone", "13800000000", "--admin-password",
                   PASSWORD) == 0
    admin = login(app, account, "13800000000", PASSWORD)
    admin.put("/metadata/objects/site", {"kind": "object", "api_name": "site",
        "label": {"zh": "工地"}, "fields": [
            {"api_name": "name", "type": "text", "label": {"zh": "名称"}}]},
        status=200)
    out = tmp_path / "exported"
    assert run(ini, "extension", "export", "--tenant", account, "--api-name",
               "sites", "--version", "0.1.0", str(out)) == 0
    assert (out / "objects" / "site.yaml").is_file()
    key = tmp_path / "publisher.key"
    assert run(ini, "extension", "keygen", str(key)) == 0
    public = capsys.readouterr().out.rsplit(" ", 1)[-1].strip()
    assert run(ini, "extension", "keygen", str(key)) == 1
    assert run(ini, "extension", "sign", "--key", str(key), str(out)) == 0
    assert (out / "signature.json").is_file()
    (tmp_path / "production").mkdir()
    signed = write_ini(tmp_path / "production", database,
                       "propolis.extensions.require_signature = true\n"
                       f"propolis.extensions.trusted_keys = {public}\n")
    assert run(signed, "extension", "install", "--tenant", other, str(out)) == 0
    names = {o["api_name"] for o in login(app, other, "13800000000", PASSWORD)
             .get("/objects", status=200).json["objects"]}
    assert "site" in names


def test_a_zip_and_its_requirements(
        app: TestApp, database: Database, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    ini = write_ini(tmp_path, database)
    account = unique_account("pk")
    assert run(ini, "tenant", "create", "--account", account, "--name", "丁",
               "--admin-phone", "13800000000", "--admin-password", PASSWORD) == 0
    needs = write_package(tmp_path / "needs", "1.0.0", V1, KINDS_V1)
    manifest = needs / "extension.yaml"
    manifest.write_text(manifest.read_text(encoding="utf-8").replace(
        'requires: {propolis: ">=2.0"}',
        'requires: {propolis: ">=2.0", extensions: {crm: ">=1.0,<2"}}'),
        encoding="utf-8")
    archive = shutil.make_archive(str(tmp_path / "visits-1.0.0"), "zip", needs)
    assert run(ini, "extension", "install", "--tenant", account, archive) == 1
    assert "needs the extension crm (>=1.0,<2), which is not installed" in \
        capsys.readouterr().err
    assert run(ini, "extension", "install", "--tenant", account, "crm") == 0
    assert run(ini, "extension", "install", "--tenant", account, archive) == 0
    # crm is required: it stays while visits is installed
    assert run(ini, "extension", "uninstall", "--tenant", account, "crm") == 1
    assert "visits 1.0.0 requires crm" in capsys.readouterr().err
    admin = login(app, account, "13800000000", PASSWORD)
    assert len(admin.query("visit")["records"]) == 1


def test_signatures_under_production_settings(
        database: Database, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    key = generate_key()
    ini = write_ini(tmp_path, database, "propolis.extensions.require_signature = "
                    f"true\npropolis.extensions.trusted_keys = {public_key_text(key)}"
                    "\n")
    account = unique_account("pk")
    assert run(ini, "tenant", "create", "--account", account, "--name", "乙",
               "--admin-phone", "13800000000", "--admin-password", PASSWORD) == 0
    unsigned = write_package(tmp_path / "unsigned", "1.0.0", V1, KINDS_V1)
    assert run(ini, "extension", "install", "--tenant", account, str(unsigned)) == 1
    assert "not signed" in capsys.readouterr().err
    tampered = write_package(tmp_path / "tampered", "1.0.0", V1, KINDS_V1)
    sign(tampered, key)
    (tampered / "objects" / "visit.yaml").write_text(V2, encoding="utf-8")
    assert run(ini, "extension", "install", "--tenant", account, str(tampered)) == 1
    assert "changed after signing" in capsys.readouterr().err
    other = write_package(tmp_path / "other", "1.0.0", V1, KINDS_V1)
    sign(other, generate_key())
    assert run(ini, "extension", "install", "--tenant", account, str(other)) == 1
    assert "not trusted" in capsys.readouterr().err
    signed = write_package(tmp_path / "signed", "1.0.0", V1, KINDS_V1)
    sign(signed, key)
    assert run(ini, "extension", "install", "--tenant", account, str(signed)) == 0
    assert run(ini, "extension", "list", "--tenant", account) == 0
    assert "visits\t1.0.0" in capsys.readouterr().out
