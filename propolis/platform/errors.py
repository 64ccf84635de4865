"""Errors that reach the user: a status, a stable code, and messages in zh and en."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

Text = Mapping[str, str]  # {"zh": …, "en": …}


def t(zh: str, en: str) -> dict[str, str]:
    return {"zh": zh, "en": en}


class AppError(Exception):
    """Bad input or a refused action. Rendered by the API as
    ``{"error": {"code", "message", "fields"}}`` in the request's language."""

    status = 400

    def __init__(
        self,
        code: str,
        message: Text,
        fields: Mapping[str, Sequence[Text]] | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(message.get("en") or code)
        self.code = code
        self.message = dict(message)
        self.fields = {k: [dict(m) for m in v] for k, v in (fields or {}).items()}
        if status is not None:
            self.status = status

    def as_json(self, lang: str = "zh") -> dict[str, Any]:
        def pick(text: Text) -> str:
            return text.get(lang) or text.get("en") or text.get("zh") or ""

        return {
            "error": {
                "code": self.code,
                "message": pick(self.message),
                "fields": {k: [pick(m) for m in v] for k, v in self.fields.items()},
            }
        }


class NotFound(AppError):
    status = 404


class Forbidden(AppError):
    status = 403


class Conflict(AppError):
    status = 409
