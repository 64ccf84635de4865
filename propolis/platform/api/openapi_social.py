"""The OpenAPI paths of replies, likes, receipts, topics, the feed and the
notifications (``propolis.platform.social``): per object, what its ``social:``
enables; once, the feed and topics when some object is in the feed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from propolis.platform.errors import _
from propolis.platform.meta.effective import ObjectMeta

Schema = dict[str, Any]
STRING = {"type": "string"}
IDS = {"type": "array", "items": STRING}
TOPIC = {"type": "object", "required": ["name", "pinned", "company_wide", "followed"],
         "properties": {"name": STRING, "pinned": {"type": "boolean"},
                        "company_wide": {"type": "boolean"},
                        "followed": {"type": "boolean"}}}


def social_schemas() -> dict[str, Schema]:
    comment = {"type": "object",
               "required": ["id", "content", "created_by", "created_at"],
               "properties": {"id": STRING, "content": STRING, "files": IDS,
                              "mentions": IDS, "created_by": STRING,
                              "created_at": {"type": "string",
                                             "format": "date-time"}}}
    item = {"type": "object",
            "required": ["object", "id", "created_at", "created_by", "record"],
            "properties": {"object": STRING, "id": STRING, "created_at": STRING,
                           "created_by": {"type": ["string", "null"]},
                           "record": {"type": "object"}}}
    feed = {"type": "object", "required": ["items", "next_cursor"],
            "properties": {"items": {"type": "array", "items": item},
                           "next_cursor": {"type": ["string", "null"]}}}
    return {
        "Comment": comment,
        "Comments": {"type": "object", "required": ["comments"], "properties": {
            "comments": {"type": "array", "items": comment}}},
        "CommentInput": {"type": "object", "required": ["content"], "properties": {
            "content": {"type": "string", "minLength": 1, "maxLength": 5000},
            "files": IDS, "mentions": IDS}},
        "Like": {"type": "object", "required": ["liked", "count"], "properties": {
            "liked": {"type": "boolean"}, "count": {"type": "integer"}}},
        "Receipts": {"type": "object", "required": ["confirmed", "pending"],
                     "properties": {"confirmed": IDS, "pending": IDS}},
        "Feed": feed,
        "Topic": TOPIC,
        "TopicPage": {"allOf": [TOPIC, feed]},
        "Topics": {"type": "object", "required": ["topics"], "properties": {
            "topics": {"type": "array", "items": TOPIC}}},
    }


def record_paths(paths: dict[str, Any], base: str, obj: ObjectMeta,
                 op: Callable[..., Schema], one: Schema,
                 responses: Callable[..., Schema], body: Callable[[Schema], Schema],
                 ref: Callable[[str], Schema]) -> None:
    """The routes of one object's records that its ``social:`` enables."""
    social = obj.doc.get("social") or {}
    record = f"{base}/records/{{id}}"
    if social.get("drafts"):
        draft = {"type": "object", "description": "the fields' values so far"}
        paths[f"{base}/drafts"] = {
            "get": op("drafts", _("My drafts: "),
                      responses=responses(200, {"type": "object"}, 404)),
            "post": op("draft", _("Save a draft: "),
                       requestBody=body(draft),
                       responses=responses(201, {"type": "object"}, 400, 404))}
        paths[f"{base}/drafts/{{id}}"] = {
            "parameters": [one],
            "put": op("draft.save", _("Change a draft: "),
                      requestBody=body(draft),
                      responses=responses(200, {"type": "object"}, 400, 404)),
            "delete": op("draft.delete", _("Discard a draft: "),
                         responses=responses(200, {"type": "object"}, 404))}
        paths[f"{base}/drafts/{{id}}/submit"] = {"parameters": [one], "post": op(
            "draft.submit", _("Send a draft: "),
            responses=responses(201, ref(obj.api_name), 400, 404))}
    if social.get("comments"):
        paths[f"{record}/comments"] = {
            "parameters": [one],
            "get": op("comments", _("Replies: "),
                      responses=responses(200, ref("Comments"), 404)),
            "post": op("comment", _("Reply (with @mentions): "),
                       requestBody=body(ref("CommentInput")),
                       responses=responses(201, ref("Comment"), 400, 404))}
    if social.get("likes"):
        paths[f"{record}/likes"] = {"parameters": [one], "post": op(
            "like", _("Like or unlike: "),
            responses=responses(200, ref("Like"), 404))}
    if social.get("receipts"):
        paths[f"{record}/receipt"] = {"parameters": [one], "post": op(
            "confirm", _("Confirm the receipt: "),
            responses=responses(200, {"type": "object"}, 403, 404))}
        paths[f"{record}/receipts"] = {"parameters": [one], "get": op(
            "receipts", _("Receipts (the author): "),
            responses=responses(200, ref("Receipts"), 403, 404))}
        paths[f"{record}/receipts/remind"] = {"parameters": [one], "post": op(
            "remind", _("Remind those pending: "),
            responses=responses(200, {"type": "object"}, 403, 404))}


def platform_paths(paths: dict[str, Any], text: Callable[[Any], str],
                   responses: Callable[..., Schema], ref: Callable[[str], Schema],
                   feed: list[str]) -> None:
    """The feed and topics (when some object is in the feed) and the inbox."""
    tag = ["platform"]
    page = [{"name": "cursor", "in": "query", "schema": STRING},
            {"name": "limit", "in": "query", "schema": {
                "type": "integer", "minimum": 1, "maximum": 100, "default": 20}}]
    name = {"name": "name", "in": "path", "required": True, "schema": STRING}
    paths["/notifications"] = {"get": {
        "operationId": "notifications", "tags": tag,
        "summary": text(_("Notifications: mentions, replies, scores, instructions, "
                          "reminders and approvals")),
        "responses": responses(200, {"type": "object"})}}
    if not feed:
        return
    paths["/feed"] = {"get": {
        "operationId": "feed", "tags": tag,
        "summary": text(_("The feed: what the user may read, newest first")),
        "parameters": [{"name": "type", "in": "query",
                        "schema": {"enum": sorted(feed)}},
                       {"name": "topic", "in": "query", "schema": STRING},
                       {"name": "author", "in": "query", "schema": STRING},
                       {"name": "q", "in": "query", "schema": STRING}, *page],
        "responses": responses(200, ref("Feed"), 400)}}
    paths["/topics"] = {"get": {
        "operationId": "topics", "tags": tag,
        "summary": text(_("Topics: pinned first, then the latest")),
        "responses": responses(200, ref("Topics"))}}
    paths["/topics/{name}"] = {"parameters": [name], "get": {
        "operationId": "topic", "tags": tag,
        "summary": text(_("A topic's page")), "parameters": page,
        "responses": responses(200, ref("TopicPage"), 400)}, "put": {
        "operationId": "topic.settings", "tags": tag,
        "summary": text(_("Set a topic (admin): pinned, company-wide")),
        "requestBody": {"required": True, "content": {"application/json": {
            "schema": {"type": "object", "properties": {
                "pinned": {"type": "boolean"},
                "company_wide": {"type": "boolean"}}}}}},
        "responses": responses(200, ref("Topic"), 400, 403)}}
    paths["/topics/{name}/follow"] = {"parameters": [name], "post": {
        "operationId": "topic.follow", "tags": tag,
        "summary": text(_("Follow a topic")),
        "responses": responses(200, ref("Topic"), 400)}, "delete": {
        "operationId": "topic.unfollow", "tags": tag,
        "summary": text(_("Stop following a topic")),
        "responses": responses(200, ref("Topic"), 400)}}
