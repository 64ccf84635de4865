"""The JSON routes of replies, likes, receipts, topics and the feed (CONTRACT
§9)."""

from __future__ import annotations

from typing import Any

from pyramid.request import Request
from pyramid.view import view_config

from propolis.platform.auth import AUTHENTICATED
from propolis.platform.errors import AppError, _
from propolis.platform.social.interfaces import ISocialService
from propolis.platform.web.api import json_object, object_name


def service(request: Request) -> Any:
    return request.find_service(ISocialService)


def record(request: Request) -> tuple[str, str]:
    return object_name(request), request.matchdict["id"]


def limit_of(request: Request) -> int:
    raw = request.params.get("limit", "20")
    if not raw.isdigit() or not 1 <= int(raw) <= 100:
        raise AppError("invalid", _("Invalid parameter"),
                       {"limit": [_("must be a whole number from 1 to 100")]})
    return int(raw)


def param(request: Request, name: str) -> str | None:
    return request.params.get(name) or None


@view_config(route_name="api.feed", request_method="GET", renderer="json",
             permission=AUTHENTICATED)
def feed(request: Request) -> dict[str, Any]:
    return service(request).feed(
        type=param(request, "type"), topic=param(request, "topic"),
        author=param(request, "author"), q=param(request, "q"),
        cursor=param(request, "cursor"), limit=limit_of(request))


@view_config(route_name="api.topics", request_method="GET", renderer="json",
             permission=AUTHENTICATED)
def topics(request: Request) -> dict[str, Any]:
    return service(request).topics()


@view_config(route_name="api.topic", request_method="GET", renderer="json",
             permission=AUTHENTICATED)
def topic(request: Request) -> dict[str, Any]:
    name = request.matchdict["name"]
    page = service(request).feed(
        type=param(request, "type"), topic=name, author=None, q=None,
        cursor=param(request, "cursor"), limit=limit_of(request))
    return {**service(request).topic(name), **page}


@view_config(route_name="api.topic", request_method="PUT", renderer="json",
             permission=AUTHENTICATED)
def set_topic(request: Request) -> dict[str, Any]:
    return service(request).set_topic(request.matchdict["name"],
                                      json_object(request))


@view_config(route_name="api.topic.follow", request_method="POST", renderer="json",
             permission=AUTHENTICATED)
def follow(request: Request) -> dict[str, Any]:
    return service(request).follow(request.matchdict["name"], True)


@view_config(route_name="api.topic.follow", request_method="DELETE",
             renderer="json", permission=AUTHENTICATED)
def unfollow(request: Request) -> dict[str, Any]:
    return service(request).follow(request.matchdict["name"], False)


@view_config(route_name="api.record.comments", request_method="GET",
             renderer="json", permission=AUTHENTICATED)
def comments(request: Request) -> dict[str, Any]:
    return service(request).comments(*record(request))


@view_config(route_name="api.record.comments", request_method="POST",
             renderer="json", permission=AUTHENTICATED)
def add_comment(request: Request) -> dict[str, Any]:
    request.response.status = 201
    return service(request).add_comment(*record(request), json_object(request))


@view_config(route_name="api.record.likes", request_method="POST", renderer="json",
             permission=AUTHENTICATED)
def like(request: Request) -> dict[str, Any]:
    return service(request).like(*record(request))


@view_config(route_name="api.record.receipt", request_method="POST",
             renderer="json", permission=AUTHENTICATED)
def confirm(request: Request) -> dict[str, Any]:
    return service(request).confirm(*record(request))


@view_config(route_name="api.record.receipts", request_method="GET",
             renderer="json", permission=AUTHENTICATED)
def receipts(request: Request) -> dict[str, Any]:
    return service(request).receipts(*record(request))


@view_config(route_name="api.record.receipts.remind", request_method="POST",
             renderer="json", permission=AUTHENTICATED)
def remind(request: Request) -> dict[str, Any]:
    return service(request).remind(*record(request))


@view_config(route_name="api.drafts", request_method="GET", renderer="json",
             permission=AUTHENTICATED)
def drafts(request: Request) -> dict[str, Any]:
    return service(request).drafts(object_name(request))


@view_config(route_name="api.drafts", request_method="POST", renderer="json",
             permission=AUTHENTICATED)
def new_draft(request: Request) -> dict[str, Any]:
    request.response.status = 201
    return service(request).save_draft(object_name(request), None,
                                       json_object(request))


@view_config(route_name="api.draft", request_method="PUT", renderer="json",
             permission=AUTHENTICATED)
def save_draft(request: Request) -> dict[str, Any]:
    return service(request).save_draft(*record(request), json_object(request))


@view_config(route_name="api.draft", request_method="DELETE", renderer="json",
             permission=AUTHENTICATED)
def delete_draft(request: Request) -> dict[str, Any]:
    service(request).delete_draft(*record(request))
    return {"deleted": True}


@view_config(route_name="api.draft.submit", request_method="POST", renderer="json",
             permission=AUTHENTICATED)
def submit_draft(request: Request) -> dict[str, Any]:
    request.response.status = 201
    return service(request).submit_draft(*record(request))
