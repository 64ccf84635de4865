"""Metadata documents are bounded in size, depth and expanded values, from a file on
the command line and from a JSON body through the API alike."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from webtest import TestApp

from propolis.platform.cli import main as cli
from tests.common.api import Tenant, error, login_admin
from tests.unit.metadata.test_loader import alias_bomb


def test_validate_refuses_an_alias_bomb_fast_with_one_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(alias_bomb(10), encoding="utf-8")
    started = time.monotonic()
    assert cli(["metadata", "validate", str(bomb)]) == 1
    assert time.monotonic() - started < 30  # it grew to 10.6 GB before
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (
        f"{bomb}: the document holds more than 100000 values (a YAML alias *name "
        "counts at every use) — write the values out instead of aliasing aliases "
        "(each level multiplies the size), or split the document\n")

    deep = tmp_path / "deep.yaml"
    deep.write_text("kind: object\napi_name: deep\nfields: " + "[" * 3000
                    + "]" * 3000 + "\n", encoding="utf-8")
    assert cli(["metadata", "validate", str(deep)]) == 1
    assert capsys.readouterr().err == (
        f"{deep}: the document is nested more than 32 levels deep — metadata needs "
        "a few levels only: look for unclosed brackets or runaway indentation\n")


def test_put_refuses_a_document_too_deep_or_too_large(
        app: TestApp, enterprise: Callable[..., Tenant]):
    api = login_admin(app, enterprise())
    nested: dict[str, Any] = {}
    inner = nested
    for _ in range(40):
        inner["zh"] = inner = {}
    doc = {"label": nested, "fields": [{"api_name": "title", "type": "text"}]}
    response = api.put("/metadata/objects/thing", doc, status=400)
    assert error(response) == {
        "code": "invalid_metadata", "message": "元数据有误",
        "fields": {"$": ["文档嵌套超过 32 层；元数据只需要几层嵌套："
                         "检查是否有未闭合的括号或错误的缩进"]}}
    many = {"fields": [{"api_name": "title", "type": "text"}],
            "layouts": [[0] * 100_000]}
    assert len(json.dumps(many)) < 5 << 20  # within the body limit
    response = api.put("/metadata/objects/thing", many, status=400)
    assert list(error(response)["fields"]) == ["$"]
    assert error(response)["fields"]["$"][0].startswith(
        "文档的取值超过 100000 个")
    large = {"fields": [{"api_name": "title", "type": "text",
                         "help": "long help " * 250_000}]}
    assert len(json.dumps(large)) < 5 << 20
    response = api.put("/metadata/objects/thing", large, status=400)
    [message] = error(response)["fields"]["$"]
    assert message.startswith("文档有 至少 ")
    assert "超过元数据文件 2097152 字节的上限" in message
    assert api.get("/objects/thing", status=404)
