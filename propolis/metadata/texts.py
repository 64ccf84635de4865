"""Labels written in metadata — an object's, a field's, an option's — are
``{"zh": …, "en": …}`` mappings, because whoever writes the metadata writes both
languages; the code's own texts are gettext messages instead
(``propolis.platform.errors._``). ``pick`` is the one way to read a label in a
language, with one fallback rule: the language asked for, then the other one,
then nothing."""

from __future__ import annotations

from collections.abc import Mapping

LANGS = ("zh", "en")

Label = Mapping[str, str]  # {"zh": …, "en": …}


def pick(text: Mapping[str, str] | None, lang: str) -> str:
    """``text`` in ``lang``, else in the other language, else ``""``."""
    if not text:
        return ""
    other = "en" if lang == "zh" else "zh"
    return text.get(lang) or text.get(other) or ""
