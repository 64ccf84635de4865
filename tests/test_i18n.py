"""One translation system: the code's texts are gettext messages whose Chinese is
in the zh catalogue (``make i18n``), and no ``t("中文", "English")`` pair is left."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

import propolis

PACKAGE = Path(propolis.__file__).parent
LOCALE = PACKAGE / "locale"
ROOT = PACKAGE.parent
# the keywords of `make i18n`: the defaults, and _c(context, msgid)
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "ugettext": None,
            "_c": ((1, "c"), 2)}


def catalog(path: Path):  # type: ignore[no-untyped-def]
    with path.open("rb") as f:
        return read_po(f)


def test_every_message_has_its_chinese() -> None:
    template = catalog(LOCALE / "messages.pot")
    zh = catalog(LOCALE / "zh" / "LC_MESSAGES" / "propolis.po")
    missing = [(m.context, m.id) for m in template if m.id
               and not (zh.get(m.id, context=m.context) or m).string]
    assert missing == []


def test_the_compiled_catalogue_is_the_current_one() -> None:
    zh = catalog(LOCALE / "zh" / "LC_MESSAGES" / "propolis.po")
    with (LOCALE / "zh" / "LC_MESSAGES" / "propolis.mo").open("rb") as f:
        compiled = read_mo(f)
    assert {(m.context, m.id): m.string for m in compiled if m.id} == {
        (m.context, m.id): m.string for m in zh if m.id and m.string}


def test_the_template_holds_every_message_of_the_code() -> None:
    """A message added without `make i18n` would be shown in English to everyone."""
    with (ROOT / "babel.cfg").open() as f:
        method_map, options_map = parse_mapping_cfg(f)
    found = {(context, msgid if isinstance(msgid, str) else msgid[0])
             for _file, _line, msgid, _comments, context in extract_from_dir(
                 str(PACKAGE), method_map, options_map, keywords=KEYWORDS)}
    template = {(m.context, m.id) for m in catalog(LOCALE / "messages.pot") if m.id}
    assert found - template == set()


@pytest.mark.parametrize("pattern", [
    r"(?<![\w.])t\(",  # the old pair
    r"from propolis\.platform\.errors import[^\n]*\b(?:t|Text)\b",
])
def test_no_language_pair_is_left_in_the_code(pattern: str) -> None:
    found = [f"{path.relative_to(ROOT)}:{number}"
             for path in sorted(PACKAGE.rglob("*.py"))
             for number, line in enumerate(path.read_text().splitlines(), 1)
             if re.search(pattern, line)]
    assert found == []
