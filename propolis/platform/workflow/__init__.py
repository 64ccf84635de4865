"""The approval engine (审批): definitions (``kind: approval`` metadata), instances
and their state machine, boxes, notifications, delegation, statistics and the SLA
pass. Its JSON API lives under /api/v1/approvals and /api/v1/notifications; the
forms themselves are configuration (the ``oa`` extension)."""

from pyramid.config import Configurator

from propolis.platform.workflow.events import ApprovalFinished, ApprovalStarted

__all__ = ["ApprovalFinished", "ApprovalStarted"]


def includeme(config: Configurator) -> None:
    config.include(".routes", route_prefix="/api/v1")
    config.scan(".views")
