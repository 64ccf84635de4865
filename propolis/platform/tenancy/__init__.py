"""Enterprises: creating one (its storage, system objects and first admin),
applying metadata changes and extensions to it with the backfill jobs they need
(``IMetadataService``: ``metadata``, ``jobs``), its own settings
(``ITenancyService``: ``enterprise``), the system database's migrations and the
demo enterprise."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pyramid.config import Configurator
from pyramid.request import Request

from propolis.platform.audit import record_event
from propolis.platform.meta.interfaces import IMetadataService
from propolis.platform.tenancy.enterprise import EnterpriseService
from propolis.platform.tenancy.interfaces import ITenancyService
from propolis.platform.tenancy.jobs import backfill
from propolis.platform.tenancy.metadata import MetadataService


def tenancy_service_factory(context: Any, request: Request) -> EnterpriseService:
    """The settings of the request's enterprise, changed as its actor."""

    def audit(action: str, target: str | None, details: Mapping[str, Any]) -> None:
        record_event(request.db.connection(), actor_id=request.actor.user_id,
                     action=action, target=target, details=details,
                     ip=request.client_ip)

    return EnterpriseService(request.sysdb, request.tenant.id, audit)


def metadata_service_factory(context: Any, request: Request) -> MetadataService:
    """The metadata of the request's enterprise, changed as its actor in the
    request's transaction; backfills go to Celery after the commit."""
    account = request.tenant.account

    def enqueue(job_id: str) -> None:
        request.task(backfill).delay(account, job_id)

    return MetadataService(request.registry.database, account, request.effective,
                           request.db, request.sysdb, request.actor.user_id,
                           enqueue=enqueue, lang=request.lang, ip=request.client_ip)


def includeme(config: Configurator) -> None:
    config.register_service_factory(tenancy_service_factory, ITenancyService)
    config.register_service_factory(metadata_service_factory, IMetadataService)
