"""The streaming readers of an import: rows one at a time, whatever the size."""

from __future__ import annotations

import io
import tracemalloc

import pytest
from openpyxl import Workbook

from propolis.platform.errors import AppError
from propolis.platform.exchange.sheets import count_rows, iter_csv, iter_sheet


def test_csv_rows_come_one_at_a_time_padded_and_unquoted() -> None:
    data = "\ufeff名称,金额\n\n甲,'=1\n乙\n".encode()
    rows = iter_csv(io.BytesIO(data), max_cols=3)
    assert next(rows) == (1, ["名称", "金额", ""])
    assert list(rows) == [(3, ["甲", "=1", ""]), (4, ["乙", "", ""])]


def test_gb18030_is_read_and_a_bad_encoding_or_width_refused() -> None:
    source = io.BytesIO("名称\n甲\n".encode("gb18030"))
    assert [r for _, r in iter_csv(source, max_cols=1)] == [["名称"], ["甲"]]
    with pytest.raises(AppError) as info:
        list(iter_csv(io.BytesIO(b"a,b,c\n"), max_cols=2))
    assert list(info.value.fields) == ["file"]
    with pytest.raises(AppError):
        list(iter_csv(io.BytesIO(b"a\x00b\n"), max_cols=2))


def test_the_callers_file_stays_open() -> None:
    source = io.BytesIO(b"a\nb\n")
    assert len(list(iter_csv(source, max_cols=1))) == 2
    assert not source.closed
    assert count_rows(source, "csv") == 2 and source.tell() == 0


def test_a_big_csv_is_read_in_flat_memory() -> None:
    line = "某某科技有限公司,13800000000,1234.50,备注备注备注\n"
    data = ("名称,手机,金额,备注\n" + line * 200_000).encode()
    tracemalloc.start()
    try:
        count = sum(1 for _ in iter_csv(io.BytesIO(data), max_cols=5))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 200_001
    # the encoding sniffed on the first MB, then a page at a time: never the
    # whole file decoded (12.8 MB of bytes, more as text)
    assert peak < 6_000_000


def test_xlsx_is_read_in_read_only_mode() -> None:
    book = Workbook()
    for row in (["名称", "金额"], [], ["甲", 1.5], ["乙", None]):
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    out.seek(0)
    assert list(iter_sheet(out, "xlsx", max_cols=2)) == [
        (1, ["名称", "金额"]), (3, ["甲", "1.5"]), (4, ["乙", ""])]
    out.seek(0)
    assert count_rows(out, "xlsx") == 3
