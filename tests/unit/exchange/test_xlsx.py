import io
import zipfile

import pytest
from openpyxl import Workbook, load_workbook

from propolis.platform.errors import AppError, both
from propolis.platform.exchange import xlsx
from propolis.platform.exchange.xlsx import Column, read_rows, report
from propolis.platform.org.imports import COLUMNS, EXAMPLE, template_bytes


def book_bytes(rows: list[list[object]]) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_template_is_a_workbook_with_headers_example_and_validation() -> None:
    book = load_workbook(io.BytesIO(template_bytes()))
    assert book.sheetnames == ["员工 Employees", "说明 Instructions"]
    sheet = book.worksheets[0]
    header_zh = [c.value for c in sheet[1]][:len(COLUMNS)]
    header_en = [c.value for c in sheet[2]][:len(COLUMNS)]
    assert header_zh[:3] == ["姓名*", "手机号*", "邮箱"]
    assert header_en[:3] == ["Name", "Mobile phone", "Email"]
    assert len(header_zh) == len(COLUMNS) and None not in header_zh
    assert [c.value for c in sheet[3]][:len(COLUMNS)] == \
        [v or None for v in EXAMPLE]
    assert "必填" in sheet["A1"].comment.text
    assert "总部/销售部" in sheet["D1"].comment.text
    status_col = "ABCDEFGHIJ"[[c.key for c in COLUMNS].index("status")]
    rules = sheet.data_validations.dataValidation
    assert len(rules) == 1
    assert rules[0].type == "list"
    assert rules[0].formula1 == '"在职,待激活,已停用"'
    assert f"{status_col}3" in rules[0] and f"{status_col}2000" in rules[0]
    assert f"{status_col}2" not in rules[0]
    notes = book.worksheets[1]
    assert notes["A1"].value == "员工导入说明"


def test_read_rows_gives_texts_and_skips_empty_rows() -> None:
    data = book_bytes([["姓名", "手机号"], [], ["张三", 13800001234],
                       ["李四", 1.3800001235e10, True], [None, None]])
    assert read_rows(data, max_cols=3, max_rows=10) == [
        (1, ["姓名", "手机号", ""]), (3, ["张三", "13800001234", ""]),
        (4, ["李四", "13800001235", "true"])]
    with pytest.raises(AppError) as info:
        read_rows(data, max_cols=3, max_rows=2)
    assert list(info.value.fields) == ["file"]


def other_zip() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("readme.txt", "not a workbook")
    return out.getvalue()


@pytest.mark.parametrize("data", [b"name,phone\n", b"", other_zip()])
def test_read_rows_refuses_what_is_no_workbook(data: bytes) -> None:
    with pytest.raises(AppError) as info:
        read_rows(data, max_cols=3, max_rows=10)
    assert info.value.code == "invalid_file"
    assert list(info.value.fields) == ["file"]


def test_read_rows_refuses_a_huge_archive(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(xlsx, "MAX_UNCOMPRESSED", 1000)
    with pytest.raises(AppError) as info:
        read_rows(book_bytes([["x"]]), max_cols=3, max_rows=10)
    assert "too large" in both(info.value.message)["en"]


def test_report_marks_bad_cells_and_lists_errors() -> None:
    columns = [Column("name", {"zh": "姓名", "en": "Name"}),
               Column("phone", {"zh": "手机号", "en": "Mobile"})]
    data = report(columns, [(3, ["张三", "123"]), (4, ["李四", "456"])],
                  {4: [("phone", "手机号：重复 / Mobile: repeated"),
                       (None, "整行有误 / bad row")]})
    sheet = load_workbook(io.BytesIO(data)).worksheets[0]
    assert [c.value for c in sheet[1]] == ["行号", "姓名", "手机号", "错误"]
    assert [c.value for c in sheet[2]] == ["Row", "Name", "Mobile", "Errors"]
    assert [c.value for c in sheet[3]] == [3, "张三", "123", None]
    assert [c.value for c in sheet[4]][:3] == [4, "李四", "456"]
    assert sheet["D4"].value == "手机号：重复 / Mobile: repeated\n整行有误 / bad row"
    assert sheet["C4"].fill.start_color.rgb == "FFFFC7CE"
    assert sheet["B4"].fill.fill_type is None
