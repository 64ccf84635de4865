"""The approval engine (审批): definitions (``kind: approval`` metadata), instances
and their state machine, boxes, notifications, delegation, statistics and the SLA
pass. Its JSON API lives under /api/v1/approvals and /api/v1/notifications; the
forms themselves are configuration (the ``oa`` extension)."""

from typing import Any

from pyramid.config import Configurator
from pyramid.request import Request

from propolis.platform.records.interfaces import IRecordService
from propolis.platform.workflow.events import ApprovalFinished, ApprovalStarted
from propolis.platform.workflow.interfaces import IApprovalService
from propolis.platform.workflow.services import ApprovalService
from propolis.platform.workflow.tasks import approval_sla

__all__ = ["ApprovalFinished", "ApprovalStarted"]


def approval_service_factory(context: Any, request: Request) -> ApprovalService:
    """The approval service of ``request``: its session, metadata, actor and
    record service; events go to the registry's subscribers."""
    return ApprovalService(request.db, request.effective, request.actor,
                           records=request.find_service(IRecordService),
                           notify=request.registry.notify, request=request)


def includeme(config: Configurator) -> None:
    config.register_service_factory(approval_service_factory, IApprovalService)
    config.add_periodic_task("approval-sla", approval_sla,
                             "propolis.approval_sla_seconds")
    config.include(".routes", route_prefix="/api/v1")
    config.scan(".api")
