"""The approval service: one object for everything approvals do (the engine's
state machine, submitting, acting, the boxes, delegations, statistics, the SLA
pass), each part in its own module."""

from __future__ import annotations

from typing import Any

from zope.interface import implementer

from propolis.platform.errors import Forbidden, _
from propolis.platform.workflow import stats
from propolis.platform.workflow.actions import Actions
from propolis.platform.workflow.boxes import Boxes
from propolis.platform.workflow.delegation import Delegations
from propolis.platform.workflow.interfaces import IApprovalService
from propolis.platform.workflow.sla import Escalations
from propolis.platform.workflow.submit import Submission


@implementer(IApprovalService)
class ApprovalService(Submission, Actions, Boxes, Delegations, Escalations):
    """Approvals of one enterprise on behalf of one actor, inside the caller's
    transaction (never commits); see ``engine.ApprovalEngine``."""

    def statistics(self, by: str, start: str | None, end: str | None
                   ) -> tuple[stats.StatsQuery, list[dict[str, Any]]]:
        """The statistics ``by`` type, department or person of the instances
        submitted from ``start`` to ``end`` (ISO dates, days of the enterprise's
        time zone), and the query they answer: for approval admins and
        enterprise admins."""
        if not self.manager:
            raise Forbidden("approval_admin_only", _("Only approval admins and "
                                                     "enterprise admins see "
                                                     "approval statistics"))
        query = stats.StatsQuery.parse(by, start, end, self.records.tz)
        return query, stats.compute(self.conn, self.effective, query)
