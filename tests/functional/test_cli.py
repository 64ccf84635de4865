"""The ``propolis`` command end to end, on a configuration of its own."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from propolis.metadata import load_paths, validate_documents
from propolis.platform.cli import main
from tests.conftest import unique_account

CUSTOMER = """kind: object
api_name: customer
label: {zh: 客户, en: Customer}
fields:
  - {api_name: name, type: text, required: true, searchable: true}
  - {api_name: level, type: select, options: [A, B, C], default: C}
"""


@pytest.fixture
def ini(tmp_path: Path, database_url: str) -> str:
    path = tmp_path / "test.ini"
    path.write_text(f"""[app:main]
use = egg:propolis
propolis.database_url = {database_url}
propolis.tenant_dir = {tmp_path}/tenants
propolis.files_dir = {tmp_path}/files
propolis.broker_url = memory://
propolis.secret = test
""")
    return str(path)


def doc_path(tmp_path: Path) -> Path:
    doc = tmp_path / "customer.yaml"
    doc.write_text(CUSTOMER, encoding="utf-8")
    return doc


def run(ini: str, *args: str) -> int:
    return main(["-c", ini, *args])


def test_tenant_and_metadata_commands(ini: str, tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    account = unique_account("c")
    assert run(ini, "initdb") == 0
    assert run(ini, "tenant", "create", "--account", account, "--name", "测试企业",
               "--admin-phone", "13900000000", "--admin-password", "secret-123") == 0
    assert run(ini, "tenant", "list") == 0
    assert f"{account}\t测试企业" in capsys.readouterr().out

    doc = tmp_path / "customer.yaml"
    doc.write_text(CUSTOMER, encoding="utf-8")
    assert run(ini, "metadata", "validate", str(doc)) == 0
    assert run(ini, "metadata", "plan", "--tenant", account, str(doc)) == 0
    out = capsys.readouterr().out
    assert "Create table o_customer" in out
    assert run(ini, "metadata", "apply", "--tenant", account, str(doc)) == 0
    # applied: planning the same document again changes nothing
    assert run(ini, "metadata", "plan", "--tenant", account, str(doc)) == 0
    assert "0 change(s)" in capsys.readouterr().out

    export = tmp_path / "export"
    assert run(ini, "metadata", "export", "--tenant", account, str(export)) == 0
    assert sorted(os.listdir(export)) == ["customer.yaml", "department.yaml",
                                          "user.yaml"]
    exported = load_paths([export / "customer.yaml"])
    assert validate_documents(exported)[0]["fields"][1]["default"] == "C"


def test_failures_exit_non_zero_with_one_reason(
        ini: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("kind: object\napi_name: x1\nfields: [\n"
                   "  {api_name: a, type: text\n")
    assert run(ini, "metadata", "validate", str(bad)) == 1
    err = capsys.readouterr().err
    assert "bad.yaml:" in err
    typo = tmp_path / "typo.yaml"
    typo.write_text("kind: object\napi_name: thing\nfields:\n"
                    "  - {api_name: a, type: strng}\n")
    assert run(ini, "metadata", "validate", str(typo)) == 1
    err = capsys.readouterr().err
    assert "typo.yaml:4" in err and "fields[0].type" in err
    assert run(ini, "metadata", "apply", "--tenant", "nosuch",
               str(doc_path(tmp_path))) == 1
    assert capsys.readouterr().err == "propolis: There is no enterprise 'nosuch'\n"
    assert run(ini, "tenant", "create", "--account", "X!", "--name", "n",
               "--admin-phone", "1", "--admin-password", "secret-123") == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "account: The account must be" in err
    assert run(str(tmp_path / "missing.ini"), "initdb") == 1
    assert "not found" in capsys.readouterr().err


def test_schema_command(ini: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(ini, "metadata", "schema", "object") == 0
    assert '"api_name"' in capsys.readouterr().out
    assert run(ini, "metadata", "schema", "nope") == 1


REPORTING = """kind: chart
api_name: by_level
object: customer
measures: [{api_name: n, function: count}]
dimensions: [{field: level}]
---
kind: dashboard
api_name: overview
widgets: [{chart: by_level}, {kpi: by_level, api_name: customers}]
---
kind: report
api_name: daily_calls
period: daily
fields: [{api_name: calls, type: number}]
assignees: {all: true}
"""


def test_charts_dashboards_and_reports_apply_and_export(
        ini: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    account = unique_account("c")
    assert run(ini, "initdb") == 0
    assert run(ini, "tenant", "create", "--account", account, "--name", "报表",
               "--admin-phone", "13900000000", "--admin-password", "secret-123") == 0
    doc = doc_path(tmp_path)
    more = tmp_path / "reporting.yaml"
    more.write_text(REPORTING, encoding="utf-8")
    assert run(ini, "metadata", "validate", str(doc), str(more)) == 0
    assert run(ini, "metadata", "apply", "--tenant", account, str(doc), str(more)) == 0
    # the report's entries get their table
    assert "Create table o_report_daily_calls" in capsys.readouterr().out
    export = tmp_path / "export"
    assert run(ini, "metadata", "export", "--tenant", account, str(export)) == 0
    assert sorted(os.listdir(export)) == [
        "by_level.chart.yaml", "customer.yaml", "daily_calls.report.yaml",
        "department.yaml", "overview.dashboard.yaml", "user.yaml"]
    again = load_paths(sorted(export.iterdir()))
    kinds = sorted(d["kind"] for d in validate_documents(again))
    assert kinds == ["chart", "dashboard", "object", "object", "object", "report"]
    broken = tmp_path / "broken.yaml"
    broken.write_text(REPORTING.replace("{field: level}", "{field: nothing}"),
                      encoding="utf-8")
    assert run(ini, "metadata", "validate", str(doc), str(broken)) == 1
    assert "dimensions[0].field" in capsys.readouterr().err
