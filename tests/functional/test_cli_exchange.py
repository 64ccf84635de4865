"""``propolis import`` and ``propolis export`` end to end, as the enterprise."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from tests.conftest import unique_account
from tests.functional.test_cli import ini, run

__all__ = ["ini"]  # the fixture, shared with the other command tests

CUSTOMER = """kind: object
api_name: customer
label: {zh: 客户, en: Customer}
fields:
  - {api_name: name, type: text, label: {zh: 客户名称, en: Name}, required: true}
  - {api_name: level, type: select, options: [A, B, C]}
  - {api_name: amount, type: currency, precision: 2, label: {zh: 金额, en: Amount}}
"""


@pytest.fixture
def account(ini: str, tmp_path: Path) -> str:
    name = unique_account("x")
    assert run(ini, "initdb") == 0
    assert run(ini, "tenant", "create", "--account", name, "--name", "导入企业",
               "--admin-phone", "13900000000", "--admin-password", "secret-123") == 0
    doc = tmp_path / "customer.yaml"
    doc.write_text(CUSTOMER, encoding="utf-8")
    assert run(ini, "metadata", "apply", "--tenant", name, str(doc)) == 0
    return name


def report(capsys: pytest.CaptureFixture[str]) -> dict:
    out = capsys.readouterr().out
    return json.loads(out[out.index("{"):])


def test_import_then_export_and_back(ini: str, account: str, tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "客户.csv"
    source.write_text("客户名称 (name),level,金额\n华为,A,1200.5\n腾讯,B,30\n",
                      encoding="utf-8-sig")
    capsys.readouterr()
    assert run(ini, "import", "--tenant", account, "--object", "customer",
               str(source)) == 0
    assert report(capsys) == {"created": 2, "updated": 0, "unchanged": 0,
                              "skipped": 0, "failed": 0, "errors": [],
                              "skipped_columns": [], "rolled_back": [],
                              "error_file": None}
    sheet = tmp_path / "a.xlsx"
    assert run(ini, "export", "--tenant", account, "--object", "customer",
               "--filter", '[{"field": "level", "op": "eq", "value": "A"}]',
               "--lang", "en", str(sheet)) == 0
    assert "exported 1 record(s)" in capsys.readouterr().out
    rows = [list(r) for r in load_workbook(sheet).worksheets[0].iter_rows(
        values_only=True)]
    assert rows[0][:4] == ["ID (id)", "Name (name)", "level (level)",
                           "Amount (amount)"]
    assert rows[1][1:4] == ["华为", "A", 1200.5]
    rows[1][3] = 99
    book = Workbook()
    for row in rows:
        book.active.append(row)
    edited = tmp_path / "edited.xlsx"
    book.save(edited)
    assert run(ini, "import", "--tenant", account, "--object", "customer",
               str(edited)) == 0
    assert report(capsys)["updated"] == 1
    everything = tmp_path / "all.csv"
    assert run(ini, "export", "--tenant", account, "--object", "customer",
               "--filter", '{"sort": ["-amount"], "columns": ["name", "amount"]}',
               str(everything)) == 0
    assert everything.read_text(encoding="utf-8-sig").splitlines() == [
        "客户名称 (name),金额 (amount)", "华为,99", "腾讯,30"]


def test_failures_exit_non_zero(ini: str, account: str, tmp_path: Path,
                                capsys: pytest.CaptureFixture[str]) -> None:
    bad_rows = tmp_path / "rows.csv"
    bad_rows.write_text("name,amount\n好,1\n坏,many\n", encoding="utf-8")
    capsys.readouterr()
    assert run(ini, "import", "--tenant", account, "--object", "customer",
               "--lang", "en", str(bad_rows)) == 1
    captured = capsys.readouterr()
    assert json.loads(captured.out)["errors"] == [
        {"row": 3, "field": "amount", "column": "Amount (amount)",
         "message": "'many' is not a number"}]
    assert captured.err == ("propolis: 1 row(s) not imported (see the report); "
                            "1 created, 0 updated\n")
    unknown = tmp_path / "unknown.csv"
    unknown.write_text("name,colour\n红,red\n", encoding="utf-8")
    failures = [
        ("import", str(unknown), "Unknown columns: use the headers an export writes"),
        ("import", str(tmp_path / "missing.csv"), "not found"),
        ("export", str(tmp_path / "out.pdf"), "Only .csv and .xlsx"),
    ]
    for command, path, reason in failures:
        assert run(ini, command, "--tenant", account, "--object", "customer",
                   path) == 1
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and reason in err, err
    assert run(ini, "export", "--tenant", account, "--object", "nope",
               str(tmp_path / "x.csv")) == 1
    assert "no object 'nope'" in capsys.readouterr().err
    assert not (tmp_path / "x.csv").exists()
    assert run(ini, "export", "--tenant", account, "--object", "customer",
               "--filter", "{bad", str(tmp_path / "x.csv")) == 1
    assert "--filter is not valid JSON" in capsys.readouterr().err
    # only the good row of the first file is there
    out = tmp_path / "check.csv"
    assert run(ini, "export", "--tenant", account, "--object", "customer",
               "--filter", '{"columns": ["name"]}', str(out)) == 0
    assert io.StringIO(out.read_text(encoding="utf-8-sig")).read().split() == [
        "客户名称", "(name)", "好"]


def test_a_big_import_prints_its_progress_and_takes_the_mode_flags(
        ini: str, account: str, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    big = tmp_path / "big.csv"
    big.write_text("name,amount\n" + "".join(f"客户{i},{i}\n" for i in range(2500)),
                   encoding="utf-8")
    capsys.readouterr()
    assert run(ini, "import", "--tenant", account, "--object", "customer",
               str(big)) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out[captured.out.index("{"):])["created"] == 2500
    assert captured.err.splitlines() == [
        "propolis: 1,000 row(s) gone through…", "propolis: 2,000 row(s) gone through…"]
    again = tmp_path / "again.csv"
    again.write_text("name,amount\n客户1,7\n新客户,8\n", encoding="utf-8")
    assert run(ini, "import", "--tenant", account, "--object", "customer",
               "--mode", "update", "--key", "name", str(again)) == 1
    report = json.loads(capsys.readouterr().out)
    assert (report["updated"], report["failed"]) == (1, 1)
    assert run(ini, "import", "--tenant", account, "--object", "customer",
               "--mode", "create", "--key", "name", "--duplicates", "skip",
               str(again)) == 0
    report = json.loads(capsys.readouterr().out)
    assert (report["created"], report["skipped"]) == (1, 1)
