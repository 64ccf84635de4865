"""The approval service: one object for everything approvals do (the engine's
state machine, submitting, acting, the boxes, delegations, the SLA pass), each
part in its own module, and the service of a request."""

from __future__ import annotations

from pyramid.request import Request

from propolis.platform.workflow.actions import Actions
from propolis.platform.workflow.boxes import Boxes
from propolis.platform.workflow.delegation import Delegations
from propolis.platform.workflow.sla import Escalations
from propolis.platform.workflow.submit import Submission


class ApprovalService(Submission, Actions, Boxes, Delegations, Escalations):
    """Approvals of one enterprise on behalf of one actor, inside the caller's
    transaction (never commits); see ``engine.ApprovalEngine``."""


def approval_service(request: Request) -> ApprovalService:
    """The approval service of ``request``: its session, metadata, actor and
    record service; events go to the registry's subscribers."""
    return ApprovalService(request.db, request.effective, request.actor,
                           records=request.records, notify=request.registry.notify,
                           request=request)
