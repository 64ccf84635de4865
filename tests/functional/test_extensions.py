"""Extensions on the command line: listing the built-in ones, creating an
enterprise with one, installing one later, and applying approval documents with
``propolis metadata apply``."""

from __future__ import annotations

from pathlib import Path

import pytest

from propolis.metadata.extensions import builtin_extensions, extension_documents
from propolis.platform.db import Database
from propolis.platform.tenancy.services import current_version, effective_for
from tests.conftest import unique_account
from tests.functional.test_cli import ini, run  # noqa: F401 - the fixture

OA_FORMS = {"leave", "expense", "travel", "loan", "payment_request", "overtime",
            "going_out", "business_trip", "seal_usage", "general_request"}


def test_the_oa_extension_brings_every_standard_form():
    assert "oa" in builtin_extensions()
    docs = extension_documents("oa")
    assert {d["api_name"] for d in docs if d["kind"] == "object"} == OA_FORMS
    approvals = {d["api_name"]: d for d in docs if d["kind"] == "approval"}
    assert set(approvals) == OA_FORMS
    chain = approvals["expense"]["steps"]
    assert [s["approver"] for s in chain] == [
        {"relation": "department_head"}, {"position": "finance_director"},
        {"position": "principal"}, {"position": "chairman"}]
    assert [s["when"] for s in chain] == [None, None, None, "total > 5000"]
    assert approvals["general_request"]["mode"] == "free"


def test_extension_commands(ini: str, database_url: str, tmp_path: Path,  # noqa: F811
                            capsys: pytest.CaptureFixture[str]):
    first, second = unique_account("x"), unique_account("x")
    assert run(ini, "initdb") == 0
    assert run(ini, "tenant", "create", "--account", first, "--name", "甲",
               "--admin-phone", "13800000000", "--admin-password", "password-1",
               "--extension", "oa") == 0
    assert run(ini, "tenant", "create", "--account", second, "--name", "乙",
               "--admin-phone", "13800000000", "--admin-password", "password-1") == 0
    assert run(ini, "tenant", "create", "--account", unique_account("x"),
               "--name", "丙", "--admin-phone", "13800000000",
               "--admin-password", "password-1", "--extension", "nope") == 1
    capsys.readouterr()
    assert run(ini, "extension", "list", "--tenant", second) == 0
    assert "installed" not in capsys.readouterr().out
    assert run(ini, "extension", "install", "--tenant", second, "oa") == 0
    assert run(ini, "extension", "install", "--tenant", second, "nope") == 1
    assert run(ini, "extension", "list", "--tenant", second) == 0
    assert "oa\t1.0.0" in capsys.readouterr().out
    assert run(ini, "tenant", "list") == 0
    assert f"{second}\t乙\toa" in capsys.readouterr().out

    doc = tmp_path / "quick.yaml"
    doc.write_text("kind: approval\napi_name: quick_leave\nform: leave\nsteps:\n"
                   "  - {approver: {relation: nth_superior, level: 2}}\n",
                   encoding="utf-8")
    assert run(ini, "metadata", "apply", "--tenant", second, str(doc)) == 0
    bad = tmp_path / "bad.yaml"
    bad.write_text("kind: approval\napi_name: bad\nform: leave\nsteps:\n"
                   "  - {approver: {relation: nth_superior}}\n", encoding="utf-8")
    assert run(ini, "metadata", "apply", "--tenant", second, str(bad)) == 1
    assert "level" in capsys.readouterr().err

    database = Database(database_url, str(tmp_path / "tenants"))
    try:
        for account in (first, second):
            effective = effective_for(database, account,
                                      current_version(database, account))
            assert OA_FORMS <= set(effective.objects)
            assert OA_FORMS <= set(effective.approvals)
        assert "quick_leave" in effective.approvals
    finally:
        database.dispose()
