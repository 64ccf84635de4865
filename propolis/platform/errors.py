"""Errors that reach the user — a status, a stable code and messages — and the
texts of the code, which are gettext messages.

A message in code is ``_("English", mapping={...})``: a TranslationString whose
msgid is the English text, translated from the Babel catalogues
(``propolis/locale``; ``make i18n``). A mapping value may be a label from
metadata (``{"zh", "en"}``, picked in the same language) or another message.
``translate`` renders any of them in a language, inside a request or outside it
(the command line, Celery tasks, exports: ``localizer_for(lang)``)."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from importlib.resources import files
from typing import Any, TypeAlias

from pyramid.i18n import (
    Localizer,
    TranslationString,
    TranslationStringFactory,
    make_localizer,
)

from propolis.metadata.texts import LANGS, pick

_ = TranslationStringFactory("propolis")

# what the user may be shown: a gettext message, a label from metadata, or text
# that needs no translation (a value the user typed)
Message: TypeAlias = TranslationString | Mapping[str, str] | str


def _c(context: str, msgid: str, mapping: Mapping[str, Any] | None = None
       ) -> TranslationString:
    """A message whose English is another message's but whose translation is not
    (``msgctxt``; ``make i18n`` extracts ``_c`` with its context)."""
    return TranslationString(msgid, domain="propolis", mapping=mapping,
                             context=context)


@functools.cache
def localizer_for(lang: str) -> Localizer:
    """The translations of ``lang`` (cached per language): for texts rendered
    outside a request, in the enterprise's or the user's language."""
    return make_localizer(lang, [str(files("propolis") / "locale")])


def translate(value: Any, lang: str, localizer: Localizer | None = None) -> str:
    """A message (see ``Message``) in ``lang``; ``localizer``: the request's."""
    if value is None:
        return ""
    if isinstance(value, TranslationString):
        localizer = localizer or localizer_for(lang)
        mapping = value.mapping and {
            k: translate(v, lang, localizer)
            if isinstance(v, TranslationString | Mapping) else v
            for k, v in value.mapping.items()}
        return str(localizer.translate(value, mapping=mapping or None))
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        return pick(value, lang)
    return str(value)


def joined(messages: Sequence[Message], separator: Message) -> TranslationString:
    """Several messages as one, ``separator`` (punctuation, which may differ by
    language: ``SEMICOLON``) between them."""
    keys = [f"m{i}" for i in range(len(messages))]
    return TranslationString("${separator}".join(f"${{{k}}}" for k in keys),
                             domain="propolis",
                             mapping={"separator": separator,
                                      **dict(zip(keys, messages, strict=True))})


def add_message(messages: list[Message], message: Message) -> None:
    """Appends ``message`` unless the same one is there. Two TranslationStrings
    with one msgid are equal strings whatever their mappings, so they are
    compared with their mappings."""
    if not any(_key(m) == _key(message) for m in messages):
        messages.append(message)


def _key(message: Message) -> Any:
    if isinstance(message, TranslationString) and message.mapping:
        return (str(message), repr(sorted(message.mapping.items())))
    return message


SEMICOLON = {"zh": "；", "en": "; "}
COMMA = {"zh": "、", "en": ", "}
AND = {"zh": "、", "en": " and "}


def both(value: Any) -> dict[str, str]:
    """A message in every language, as ``{"zh", "en"}``: for what is stored or
    sent to be shown later in a language not known yet (notifications, import
    reports, metadata descriptions)."""
    return {lang: translate(value, lang) for lang in LANGS}


class AppError(Exception):
    """Bad input or a refused action. Rendered by the API as
    ``{"error": {"code", "message", "fields"}}`` in the request's language."""

    status = 400

    def __init__(
        self,
        code: str,
        message: Message,
        fields: Mapping[str, Sequence[Message]] | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(code)
        self.code = code
        self.message = message
        self.fields = {k: list(v) for k, v in (fields or {}).items()}
        if status is not None:
            self.status = status

    def __str__(self) -> str:
        return translate(self.message, "en") or self.code

    def as_json(self, lang: str = "zh") -> dict[str, Any]:
        def text(message: Message) -> str:
            return translate(message, lang)

        return {
            "error": {
                "code": self.code,
                "message": text(self.message),
                "fields": {k: [text(m) for m in v] for k, v in self.fields.items()},
            }
        }


class NotFound(AppError):
    status = 404


class Forbidden(AppError):
    status = 403


class Conflict(AppError):
    status = 409
