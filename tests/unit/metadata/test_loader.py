from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from propolis.metadata import (
    Document,
    MetadataError,
    load_path,
    load_paths,
    load_text,
    validate_documents,
)

YAML = """\
kind: object
api_name: customer
fields:
  - {api_name: name, type: text}
  - api_name: level
    type: select
    options: [A, B]
---
kind: report
api_name: daily_sales
period: daily
due: 18:00
since: 2026-11-28
ratio: 1.5
flag: &yes true
again: *yes
fields: [{api_name: calls, type: number}]
"""


def plain(value: Any) -> bool:
    """Only the types json.loads would produce."""
    if type(value) is dict:
        return all(type(k) is str and plain(v) for k, v in value.items())
    if type(value) is list:
        return all(plain(v) for v in value)
    return type(value) in (str, int, float, bool, type(None))


def test_loads_every_document_of_a_file_as_plain_data() -> None:
    customer, report = load_text(YAML, "sales.yaml")
    assert (customer.kind, customer.api_name, customer.source) == (
        "object",
        "customer",
        "sales.yaml",
    )
    assert customer.data["fields"][1] == {
        "api_name": "level",
        "type": "select",
        "options": ["A", "B"],
    }
    assert report.kind == "report"
    assert plain(customer.data) and plain(report.data)
    # YAML 1.2: 18:00 is text, not sexagesimal; a date stays the text it was
    assert report.data["due"] == "18:00"
    assert report.data["since"] == "2026-11-28"
    assert report.data["ratio"] == 1.5
    assert report.data["flag"] is True and report.data["again"] is True


def test_positions_of_nested_paths() -> None:
    customer, report = load_text(YAML)
    assert customer.line(("fields",)) == 3
    assert customer.position(("fields", 0, "type")) == (4, 22)
    assert customer.line(("fields", 1)) == 5
    assert customer.line(("fields", 1, "options", 1)) == 7
    # lines count from the top of the file, not of the document
    assert report.line(()) == 9
    assert report.line(("fields", 0, "type")) == 17


def test_unwritten_path_falls_back_to_the_nearest_written_ancestor() -> None:
    customer, _ = load_text(YAML)
    assert customer.line(("fields", 1, "depends_on")) == 5
    assert customer.line(("fields", 9, "type")) == 3
    assert customer.line(("label",)) == 1


def test_documents_built_in_code_have_no_positions() -> None:
    doc = Document({"kind": "object", "api_name": "customer"})
    assert doc.line(("api_name",)) is None
    assert doc.problem(("api_name",), "required", key="x").line is None


def test_json_is_read_with_positions_even_when_indented_with_tabs() -> None:
    text = json.dumps(
        {
            "kind": "object",
            "api_name": "customer",
            "fields": [{"api_name": "name", "type": "text"}],
        },
        indent="\t",
    )
    [doc] = load_text(text, "customer.json")
    assert doc.data["fields"][0]["type"] == "text"
    assert doc.line(("fields", 0, "type")) == 7


def test_malformed_yaml_is_a_metadata_error_with_file_and_line() -> None:
    text = "kind: object\napi_name: customer\nfields: [\n  {api_name: name\nlabel: x\n"
    with pytest.raises(MetadataError) as info:
        load_text(text, "customer.yaml")
    [problem] = info.value.problems
    assert (problem.source, problem.code) == ("customer.yaml", "yaml_syntax")
    assert problem.line == 5
    assert str(info.value).startswith("customer.yaml:5: invalid YAML: ")
    assert "\n" not in str(info.value)
    assert problem.message_zh.startswith("YAML 语法错误")


def test_bad_indentation_points_at_its_line() -> None:
    with pytest.raises(MetadataError) as info:
        load_text("kind: object\napi_name: customer\n  label: x\n", "customer.yaml")
    assert info.value.problems[0].line == 3


def test_duplicate_keys_are_refused() -> None:
    with pytest.raises(MetadataError) as info:
        load_text("kind: object\napi_name: a\napi_name: b\n", "dup.yaml")
    [problem] = info.value.problems
    assert problem.line == 3
    assert "duplicate key" in problem.message


def test_a_document_must_be_a_mapping() -> None:
    with pytest.raises(MetadataError) as info:
        load_text("kind: object\napi_name: ok\n---\n- just\n- a list\n", "list.yaml")
    [problem] = info.value.problems
    assert (problem.code, problem.line) == ("not_a_mapping", 4)


def test_empty_documents_are_skipped() -> None:
    assert load_text("---\n# nothing\n---\n") == []


def test_load_path_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "customer.yaml"
    path.write_text("\ufeffkind: object\napi_name: customer\n", encoding="utf-8")
    [doc] = load_path(path)
    assert doc.source == str(path)
    assert doc.data == {"kind": "object", "api_name": "customer"}


def test_unreadable_file_is_a_metadata_error(tmp_path: Path) -> None:
    with pytest.raises(MetadataError) as info:
        load_path(tmp_path / "missing.yaml")
    assert info.value.problems[0].code == "unreadable"
    assert "No such file" in str(info.value)


def test_load_paths_reads_directories_and_reports_every_broken_file(
    tmp_path: Path,
) -> None:
    (tmp_path / "objects").mkdir()
    (tmp_path / "objects" / "a.yaml").write_text("kind: object\napi_name: aa\n")
    (tmp_path / "objects" / "b.json").write_text('{"kind": "object", "api_name": "bb"}')
    (tmp_path / "objects" / "notes.txt").write_text("not metadata")
    docs = load_paths([tmp_path / "objects"])
    assert [d.api_name for d in docs] == ["aa", "bb"]

    (tmp_path / "bad1.yaml").write_text("kind: [\n")
    (tmp_path / "bad2.yaml").write_text("a: 1\na: 2\n")
    with pytest.raises(MetadataError) as info:
        load_paths([tmp_path / "bad1.yaml", tmp_path / "bad2.yaml"])
    assert [Path(p.source).name for p in info.value.problems] == [
        "bad1.yaml",
        "bad2.yaml",
    ]


def alias_bomb(levels: int) -> str:
    """Each level is a list of ten aliases of the level below: 10^levels values."""
    lines = ["kind: object", "api_name: bomb", "l0: &l0 [x, x, x, x, x, x, x, x, x, x]"]
    for n in range(1, levels):
        lines.append(f"l{n}: &l{n} [" + ", ".join([f"*l{n - 1}"] * 10) + "]")
    lines.append("fields: [" + ", ".join([f"*l{levels - 1}"] * 10) + "]")
    return "\n".join(lines) + "\n"


def test_an_alias_bomb_is_refused_once_the_value_bound_is_crossed() -> None:
    with pytest.raises(MetadataError) as info:
        load_text(alias_bomb(10), "bomb.yaml")
    [problem] = info.value.problems
    assert str(problem) == (
        "bomb.yaml: the document holds more than 100000 values (a YAML alias *name "
        "counts at every use) — write the values out instead of aliasing aliases "
        "(each level multiplies the size), or split the document")
    assert "别名" in problem.as_text()["zh"]
    # a few levels of ordinary aliasing are fine
    [doc] = load_text(alias_bomb(3), "ok.yaml")
    assert len(doc.data["fields"]) == 10


def test_deep_nesting_is_refused_from_yaml_json_and_plain_data() -> None:
    for text in ("a: " + "[" * 40 + "]" * 40, "[" * 5000 + "]" * 5000,
                 '{"a": ' * 3000 + "1" + "}" * 3000):
        with pytest.raises(MetadataError) as info:
            load_text(text, "deep.yaml")
        [problem] = info.value.problems
        assert problem.code == "nested_too_deeply"
        assert problem.message == "the document is nested more than 32 levels deep"
    nested: dict[str, Any] = {"kind": "object", "api_name": "deep"}
    inner = nested
    for _ in range(40):
        inner["label"] = inner = {}
    with pytest.raises(MetadataError) as info:
        validate_documents([nested])
    assert [p.code for p in info.value.problems] == ["nested_too_deeply"]


def test_a_file_over_the_size_bound_is_refused_before_it_is_read(
        tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    big.write_text("kind: object\napi_name: big\n# " + "x" * (3 << 20) + "\n")
    with pytest.raises(MetadataError) as info:
        load_path(big)
    [problem] = info.value.problems
    assert problem.code == "document_too_large"
    assert problem.message.startswith(f"the document is {big.stat().st_size} bytes")
    with pytest.raises(MetadataError) as info:
        load_text(big.read_text(), "text")
    assert [p.code for p in info.value.problems] == ["document_too_large"]
