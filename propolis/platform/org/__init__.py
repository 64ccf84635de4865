"""The organisation: departments, employees, invitations and join requests, the
employee import, the handover when someone leaves, the admin console's numbers
(``IOrgService``, ``IInvitationService``, ``IJoinService``). Its JSON API lives
under /api/v1/org; its pages under /admin (the admin console) and /join (the
invitation links)."""

from __future__ import annotations

from typing import Any

from pyramid.config import Configurator
from pyramid.request import Request

from propolis.platform.org.interfaces import (
    IInvitationService,
    IJoinService,
    IOrgService,
)
from propolis.platform.org.invitations import Invitations, JoinService
from propolis.platform.org.services import OrgService
from propolis.platform.records.interfaces import IRecordService


def org_service_factory(context: Any, request: Request) -> OrgService:
    """The organisation of the request's enterprise, changed as its actor."""
    return OrgService(request.find_service(IRecordService), sysdb=request.sysdb,
                      enterprise_id=request.tenant.id, ip=request.client_ip)


def invitation_service_factory(context: Any, request: Request) -> Invitations:
    """The invitations and join requests of the request's enterprise; links are
    made from the address the request came to."""
    tenant = request.tenant
    return Invitations(request.find_service(IOrgService), enterprise_name=tenant.name,
                       account=tenant.account, base_url=request.application_url)


def join_service_factory(context: Any, request: Request) -> JoinService:
    """Joining by token, in the request's transaction."""
    return JoinService(request.registry.database, request.tm)


def includeme(config: Configurator) -> None:
    config.register_service_factory(org_service_factory, IOrgService)
    config.register_service_factory(invitation_service_factory, IInvitationService)
    config.register_service_factory(join_service_factory, IJoinService)
    config.include(".routes")
    config.scan(".api")
    config.scan(".pages")
    config.scan(".join_pages")
