"""The answer to every failure, by where it happened: under /api the JSON error
of CONTRACT §4 (``{"error": {"code", "message", "fields"}}``), on a page path a
page saying what went wrong in the user's language, with the way home.

A refusal of a service (``AppError``), a metadata error, an unknown address, a
refused permission, a stale form, a body over the size limit and an unexpected
failure (500, logged, shown
without its traceback) all come here; the request's transaction is rolled back
(pyramid_tm does so for every answer made by an exception view)."""

from __future__ import annotations

import codecs
import logging
import re
from collections.abc import Callable
from email.message import Message

from pyramid.exceptions import BadCSRFToken
from pyramid.httpexceptions import HTTPException
from pyramid.i18n import TranslationStringFactory
from pyramid.registry import Registry
from pyramid.request import Request
from pyramid.response import Response
from pyramid.view import (
    exception_view_config,
    forbidden_view_config,
    notfound_view_config,
)

from propolis.metadata.errors import MetadataError
from propolis.platform.errors import AppError
from propolis.platform.web.api import HTTP_MESSAGES, error_response, metadata_error
from propolis.platform.web.pages import error_page, to_login

_ = TranslationStringFactory("propolis")
log = logging.getLogger(__name__)

# a page's heading for each status (its text is the error's own message)
TITLES = {
    400: _("This did not work"),
    403: _("Not allowed"),
    404: _("Not found"),
    405: _("Not found"),
    409: _("Not possible now"),
    413: _("Too large"),
    429: _("Too many attempts"),
    500: _("Something went wrong"),
}
# the record import's routes (the API's and the page's): the body is a file of
# any size
IMPORT_PATH = re.compile(r"^(/api/v1/objects/[^/]+|/o/[^/]+)/import$")
NO_SUCH_PAGE = _("There is no such page.")
NOT_ALLOWED = _("You may not see this page.")
BAD_BODY = _("The body's Content-Type cannot be read")
INTERNAL = _("Something went wrong on the server; it has been logged. Try again later.")


def is_api(request: Request) -> bool:
    path = request.path_info
    return path == "/api" or path.startswith("/api/")


def failure(request: Request, error: AppError, *, bare: bool = False) -> Response:
    """``error`` answered as the path wants: JSON under /api, else a page (the
    login page when the user must log in first); ``bare`` as for ``error_page``."""
    if is_api(request):
        return error_response(request, error)
    if error.status == 401:
        return to_login(request)
    title = TITLES.get(error.status, TITLES[400])
    return error_page(request, title, error.message, error.status, bare=bare)


def body_limit_tween_factory(
    handler: Callable[[Request], Response], registry: Registry
) -> Callable[[Request], Response]:
    """Refuses oversized bodies before anything reads them (and before the
    request's transaction: the page it answers with reads no storage)."""
    limit = int(registry.settings.get("propolis.max_body_bytes", 5 * 1024 * 1024))

    def tween(request: Request) -> Response:
        # an import's file has no size limit: it is read as a stream, and a large
        # one kept on disk for a job
        length = None if IMPORT_PATH.match(request.path) else request.content_length
        if length is not None and length > limit:
            return failure(request, AppError(
                "body_too_large",
                _("The request body exceeds the ${mb} MB limit",
                  mapping={"mb": limit // 1024 // 1024}),
                status=413), bare=True)
        if length is None and request.method in ("POST", "PUT", "PATCH") \
                and not IMPORT_PATH.match(request.path):
            body = request.body_file_raw.read(limit + 1)
            if len(body) > limit:
                return failure(request, AppError(
                    "body_too_large", HTTP_MESSAGES[413], status=413), bare=True)
            request.body = body
        problem = body_type_problem(request)
        if problem is not None:
            return failure(request, problem, bare=True)
        return handler(request)

    return tween


def body_type_problem(request: Request) -> AppError | None:
    """A body whose ``Content-Type`` nothing can read — a charset Python does not
    know, a multipart form without its boundary — refused before a view or the
    CSRF check tries to decode it."""
    if request.method not in ("POST", "PUT", "PATCH", "DELETE") \
            or "Content-Type" not in request.headers:
        return None
    header = Message()
    header["Content-Type"] = request.headers["Content-Type"]
    charset = header.get_param("charset")
    if isinstance(charset, str):
        try:
            codecs.lookup(charset)
        except LookupError:
            return AppError("invalid_body", BAD_BODY, {"Content-Type": [_(
                    "unknown charset '${charset}'",
                    mapping={"charset": charset})]},
                status=415)
    if header.get_content_type() == "multipart/form-data" \
            and not header.get_param("boundary"):
        return AppError("invalid_body", BAD_BODY, {"Content-Type": [_(
                "multipart/form-data without its boundary parameter")]})
    return None


@exception_view_config(AppError)
def app_error_view(exc: AppError, request: Request) -> Response:
    return failure(request, exc)


@exception_view_config(MetadataError)
def metadata_error_view(exc: MetadataError, request: Request) -> Response:
    return failure(request, metadata_error(exc))


@notfound_view_config()
def notfound_view(request: Request) -> Response:
    if is_api(request):
        return error_response(request,
                              AppError("not_found", HTTP_MESSAGES[404], status=404))
    return error_page(request, TITLES[404], NO_SUCH_PAGE, 404)


@forbidden_view_config()
def forbidden_view(request: Request) -> Response:
    if request.identity is None:
        return failure(request, AppError("unauthenticated", HTTP_MESSAGES[401],
                                         status=401))
    if is_api(request):
        return error_response(request,
                              AppError("forbidden", HTTP_MESSAGES[403], status=403))
    return error_page(request, TITLES[403], NOT_ALLOWED, 403)


@exception_view_config(BadCSRFToken)
def bad_csrf_view(exc: BadCSRFToken, request: Request) -> Response:
    if is_api(request):
        return error_response(request, AppError(
            "bad_csrf_token", _("Missing or invalid CSRF token (X-CSRF-Token)"),
            status=400))
    return error_page(request, _("This form has expired"),
                      _("Go back, reload the page and try again."), 400)


@exception_view_config(HTTPException)
def http_exception_view(exc: HTTPException, request: Request) -> Response:
    if exc.status_code < 400:  # a redirect raised rather than returned
        return exc
    code = exc.status_code if exc.status_code < 500 else 400
    message = HTTP_MESSAGES.get(code, HTTP_MESSAGES[400])
    return failure(request, AppError(exc.title.lower().replace(" ", "_"), message,
                                     status=code))


@exception_view_config(Exception)
def unexpected_view(exc: Exception, request: Request) -> Response:
    """A failure no one foresaw: logged with its traceback, answered without it.
    The page leaves out the user's header: the request's storage may be what
    failed."""
    log.error("%s %s failed", request.method, request.path_qs, exc_info=exc)
    error = AppError("internal_error", INTERNAL, status=500)
    if is_api(request):
        return error_response(request, error)
    return error_page(request, TITLES[500], INTERNAL, 500, bare=True)
