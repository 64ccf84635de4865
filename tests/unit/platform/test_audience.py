"""What a save reads out of a record's text: topics (``#话题#``) and @names."""

from __future__ import annotations

from propolis.platform.fields.types.audience import members
from propolis.platform.records.audience import found_topics, mentioned_names


def test_topics_are_found_in_order_once_each() -> None:
    assert found_topics(["#季度冲刺# 开始了 #客户A#", None, "再说 #季度冲刺#"]) == [
        "季度冲刺", "客户A"]
    assert found_topics(["# #", "单个#号", "#跨\n行#"]) == []


def test_mentions_end_at_spaces_and_punctuation() -> None:
    assert mentioned_names(["请@张三 和@李四，看一下@王五。", "@张三"]) == [
        "张三", "李四", "王五"]
    assert mentioned_names(["mail@", "no mention"]) == []


def test_an_audience_value_reads_missing_keys_as_nobody() -> None:
    assert members(None) == (False, [], [])
    assert members({"users": ["u1"]}) == (False, ["u1"], [])
    assert members({"all": True, "departments": ["d1"]}) == (True, [], ["d1"])
