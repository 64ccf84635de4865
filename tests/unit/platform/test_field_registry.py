"""The field type registry: one for metadata and platform, registration that
cannot be mistaken, and the Pyramid directive for extensions."""

from __future__ import annotations

import subprocess
import sys

import pytest
from pyramid.config import Configurator

from propolis.metadata import fieldtypes, kind_schema
from propolis.platform.fields import BUILT_IN
from propolis.platform.fields.registry import register, registered, type_named
from propolis.platform.fields.textual import ShortText
from propolis.platform.fields.types.text import Text


class Color(ShortText):
    """``#rrggbb``."""

    name = "color"
    description = {"zh": "颜色", "en": "Colour"}
    length = 7


class OtherText(ShortText):
    name = "text"
    description = {"zh": "另一种文本", "en": "Another text"}
    length = 10


def test_a_registered_type_is_the_metadata_schemas_too() -> None:
    before = kind_schema("object")
    with registered(Color) as color:
        assert type_named("color") is color
        defs = kind_schema("object")["$defs"]
        assert defs["field_type"]["enum"][-1] == "color"
        assert defs["column_type"]["enum"][-1] == "color"
        assert defs["color_field"]["properties"]["type"] == {"const": "color"}
    assert kind_schema("object") == before
    with pytest.raises(KeyError):
        type_named("color")


def test_a_name_is_registered_once() -> None:
    assert register(Text) is type_named("text")  # the same class again: no change
    with pytest.raises(ValueError, match="registered already"):
        register(OtherText)
    with pytest.raises(ValueError, match="registered already"), registered(OtherText):
        pass
    assert type(type_named("text")) is Text
    with pytest.raises(TypeError):
        register(dict)  # type: ignore[arg-type]


def test_registered_unregisters_when_the_block_fails() -> None:
    with pytest.raises(RuntimeError), registered(Color):
        raise RuntimeError
    assert "color" not in fieldtypes.type_names()


def test_extensions_register_with_the_directive() -> None:
    config = Configurator()
    config.include("propolis.platform.fields")
    config.add_field_type(Color)
    assert "color" not in fieldtypes.type_names()  # at commit, like other actions
    config.commit()
    try:
        assert type(type_named("color")) is Color
    finally:
        fieldtypes.unregister("color")


def test_any_way_into_the_platform_finds_the_built_in_types() -> None:
    # a fresh interpreter, as the command line starts: its first platform import
    probe = ("import propolis.platform.cli\n"
             "from propolis.metadata import kind_schema\n"
             "print(len(kind_schema('object')['$defs']['field_type']['enum']))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True,
                          text=True, check=True)
    assert done.stdout.strip() == str(len(BUILT_IN))
