"""Around records (issue 13's core): replies with @mentions, likes, receipts
(回执), topics (``#话题#``) and the feed, for any object whose metadata enables
them (``social: {comments, likes, receipts, feed}``); the JSON routes of
CONTRACT §9. The indexes a save keeps (audience, topics, pending receipts) are
written by the record service (``records/audience.py``); this domain reads them
and adds what people do."""

from __future__ import annotations

from typing import Any

from pyramid.config import Configurator
from pyramid.request import Request

from propolis.platform.records.interfaces import IRecordService
from propolis.platform.social.interfaces import ISocialService
from propolis.platform.social.services import SocialService

__all__ = ["ISocialService"]


def social_service_factory(context: Any, request: Request) -> SocialService:
    return SocialService(request.db, request.effective, request.actor,
                         request.access, request.find_service(IRecordService),
                         request.tz)


def includeme(config: Configurator) -> None:
    config.register_service_factory(social_service_factory, ISocialService)
    config.include(".routes", route_prefix="/api/v1")
    config.scan(".api")
