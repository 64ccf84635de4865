"""What every JSON answer shares. Every failure of an API call is JSON
``{"error": {"code", "message", "fields"}}`` with a 4xx status, in the caller's
language (``error_response``; ``errors`` answers every failure under /api with
it); nothing else ever leaves /api. Request bodies are read here (size limit,
JSON object, storable text), and so are the URL's object and the admin check."""

from __future__ import annotations

import json
from typing import Any

from pyramid.request import Request
from pyramid.response import Response

from propolis.metadata.errors import MetadataError
from propolis.platform.errors import AppError, Forbidden, Message, NotFound, _

HTTP_MESSAGES = {
    400: _("Bad request"),
    401: _("Log in first"),
    403: _("Not allowed"),
    404: _("Not found"),
    405: _("Method not allowed"),
    413: _("Request body too large"),
}


def error_response(request: Request, error: AppError) -> Response:
    body = json.dumps(error.as_json(getattr(request, "lang", "zh")), ensure_ascii=False)
    response = Response(body=body.encode(), status=error.status,
                        content_type="application/json", charset="utf-8")
    if error.status == 401:
        response.headers["WWW-Authenticate"] = "Bearer"
    return response


def metadata_error(error: MetadataError) -> AppError:
    """Metadata problems as an API error: each problem under its path, with the fix."""
    fields: dict[str, list[Message]] = {}
    for problem in error.problems:
        fields.setdefault(problem.path or "$", []).append(problem.as_text())
    return AppError("invalid_metadata", _("Invalid metadata"), fields)


def json_body(request: Request) -> Any:
    try:
        body = request.json_body
    except RecursionError:  # nested deeper than the parser goes
        raise AppError("invalid_json", _("The JSON of the body is nested too deeply"),
                       ) from None
    except ValueError as exc:
        raise AppError(
            "invalid_json",
            _("The body is not valid JSON: ${exc}", mapping={"exc": exc}),
        ) from None
    refuse_unstorable(body)
    return body


def refuse_unstorable(body: Any) -> None:
    """400 ``invalid_text`` naming where ``body`` (a JSON body, or what a
    multipart part said: ``{"file": [name, type]}``) holds text no database can
    store (``unstorable_text``)."""
    bad = unstorable_text(body)
    if bad is not None:
        raise AppError("invalid_text", _("The text contains characters that cannot "
                                         "be stored"),
                       {bad: [_("contains a NUL character (U+0000) or an unpaired "
                                "surrogate")]})


def _storable(text: str) -> bool:
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate such as "\ud800"
        return False
    return True


def unstorable_text(body: Any) -> str | None:
    """The top-level key under which the body holds a string that no database can
    store as text (PostgreSQL refuses NUL, UTF-8 has no lone surrogates), "$" for
    the body itself; None when there is none. JSON allows both as escapes, so they
    are refused here, named, rather than failing the write."""
    pending: list[tuple[str, Any]] = (
        [(str(k), v) for k, v in body.items()] if isinstance(body, dict)
        else [("$", body)])
    if isinstance(body, dict) and not all(_storable(k) for k in body):
        return "$"
    while pending:
        top, value = pending.pop()
        if isinstance(value, str):
            if not _storable(value):
                return top
        elif isinstance(value, dict):
            for k, v in value.items():
                if not _storable(k):
                    return top
                pending.append((top, v))
        elif isinstance(value, list):
            pending.extend((top, v) for v in value)
    return None


def json_object(request: Request) -> dict[str, Any]:
    body = json_body(request)
    if not isinstance(body, dict):
        raise AppError("invalid_json",
                       _("The body must be a JSON object"))
    return body


def object_name(request: Request) -> str:
    name = request.matchdict["object"]
    if request.effective.object(name) is None:
        raise NotFound("no_such_object",
                       _("There is no object '${name}'", mapping={"name": name}))
    return name


def require_admin(request: Request) -> None:
    if "admin" not in request.actor.roles:
        raise Forbidden("admin_only", _("Enterprise admins only"))
