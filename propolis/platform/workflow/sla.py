"""The SLA pass: reminders for steps past their due time and escalation to the
step's ``escalate_to`` after ``escalate_after_hours`` (run by beat, see
``tasks``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Row, and_, or_, select, update

from propolis.platform.errors import _
from propolis.platform.storage.platform_tables import (
    approval_instances,
    approval_steps,
    approval_tasks,
)
from propolis.platform.workflow.engine import ApprovalEngine, utcnow


class Escalations(ApprovalEngine):
    """Overdue steps."""

    def process_overdue(self, now: dt.datetime | None = None) -> dict[str, int]:
        """The SLA pass (run by Celery beat): an active step past its ``due_at``
        gets a reminder to its approvers; ``escalate_after_hours`` after that its
        pending approvers are replaced by ``escalate_to`` (resolved for the
        submitter). Each happens once per activation of the step."""
        now = now or utcnow()
        s = approval_steps.c
        due = list(self.conn.execute(select(approval_steps).where(
            s.status == "active", s.due_at.is_not(None), s.due_at <= now,
            or_(s.reminded_at.is_(None),
                and_(s.escalate_to.is_not(None), s.escalated_at.is_(None))))
            .order_by(s.due_at)))
        counts = {"reminded": 0, "escalated": 0}
        for step in due:
            inst = self.conn.execute(select(approval_instances).where(
                approval_instances.c.id == step.instance_id).with_for_update()).first()
            fresh = self.conn.execute(select(approval_steps).where(
                s.id == step.id)).first()
            if inst is None or inst.status != "pending" or fresh is None \
                    or fresh.status != "active":
                continue
            if fresh.reminded_at is None:
                waiting = {p.assignee for p in self._pending(inst.id, fresh.seq)}
                self._tell(inst, waiting, "overdue", _("is overdue: please decide"))
                self.conn.execute(update(approval_steps).where(s.id == step.id)
                                  .values(reminded_at=now))
                self._log(inst.id, fresh.seq, "remind", None, {}, actor=None)
                counts["reminded"] += 1
                continue
            after = dt.timedelta(hours=float(fresh.escalate_after_hours or 0))
            if now < fresh.reminded_at + after:
                continue
            self._escalate(inst, fresh, now)
            counts["escalated"] += 1
        return counts

    def _escalate(self, inst: Row[Any], step: Row[Any], now: dt.datetime) -> None:
        pending = self._pending(inst.id, step.seq)
        targets = [u for u in self.directory.resolve(step.escalate_to, inst.submitter)
                   if u != inst.submitter]
        s = approval_steps.c
        self.conn.execute(update(approval_steps).where(s.id == step.id)
                          .values(escalated_at=now))
        if not targets:
            self._log(inst.id, step.seq, "escalate", None, {"to": []}, actor=None)
            return
        c = approval_tasks.c
        self.conn.execute(update(approval_tasks).where(
            c.id.in_([p.id for p in pending])).values(status="escalated",
                                                      acted_at=now))
        kept = [a for a in step.approvers if a not in
                {p.on_behalf_of or p.assignee for p in pending}]
        self.conn.execute(update(approval_steps).where(s.id == step.id).values(
            approvers=[*kept, *[u for u in targets if u not in kept]]))
        self._assign(inst, step, [u for u in targets if u not in kept])
        self._log(inst.id, step.seq, "escalate", None,
                  {"from": [p.assignee for p in pending], "to": targets}, actor=None)
