"""The actions on a running approval: approve, reject, return, transfer,
withdraw, add an approver, comment, urge; each locks the instance and checks the
actor's task first (see ``engine``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Row, insert, update

from propolis.platform.errors import Conflict, Forbidden, _
from propolis.platform.storage.platform_tables import approval_steps
from propolis.platform.workflow.engine import (
    ACTIONS,
    ApprovalEngine,
    check_keys,
    invalid,
)


class Actions(ApprovalEngine):
    """Acting on approvals."""

    def act(self, instance_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """One action on an instance (``action`` is one of ``ACTIONS``); returns the
        instance as ``get`` does. Not a participant: 404; not allowed this action:
        403; the instance or the actor's task moved on meanwhile: 409."""
        check_keys(body, ("action", "comment", "next_approver", "to", "from", "step",
                          "position"))
        action = body.get("action")
        if action not in ACTIONS:
            raise invalid("action", _("must be one of ${actions}",
                                      mapping={"actions": ' | '.join(ACTIONS)}))
        comment = self._comment(body)
        inst = self._instance(instance_id, lock=True)
        if action == "comment":
            if comment is None:
                raise invalid("comment", _("write the comment"))
            self._log(inst.id, inst.current_step, "comment", comment, {})
            self._tell(inst, self._participants(inst) - {self.me}, "comment", _(
                    "has a new comment"))
            return self.get(inst.id)
        if inst.status != "pending":
            raise Conflict("not_pending", _("The approval has ended"))
        handler = getattr(self, f"_{action}")
        handler(inst, body, comment)
        return self.get(inst.id)

    def _approve(self, inst: Row[Any], body: Mapping[str, Any],
                 comment: str | None) -> None:
        task = self._my_task(inst)
        step = self._step(inst.id, inst.current_step)
        free = inst.definition["mode"] == "free"
        next_approver = None
        if body.get("next_approver") is not None:
            if not free:
                raise invalid("next_approver", _("only a free flow picks the next "
                                                 "approver"))
            next_approver = self._user_field(body["next_approver"], "next_approver")
            if next_approver in (self.me, inst.submitter):
                raise invalid("next_approver", _("cannot be yourself or the submitter"))
        self._close_task(task, "approved", comment)
        self._log(inst.id, step.seq, "approve", comment,
                  {"next_approver": next_approver} if next_approver else {},
                  on_behalf_of=task.on_behalf_of)
        if not self._step_done(step):
            return
        self._finish_step(step, "approved")
        if free and next_approver:
            seq = step.seq + 1
            self.conn.execute(update(approval_steps).where(
                approval_steps.c.instance_id == inst.id,
                approval_steps.c.seq >= seq).values(seq=approval_steps.c.seq + 1))
            self.conn.execute(insert(approval_steps).values(
                instance_id=inst.id,
                **self._step_row("free", seq, None, "any", None, [next_approver])))
        self._advance(self._instance(inst.id), after=step.seq)

    def _reject(self, inst: Row[Any], body: Mapping[str, Any],
                comment: str | None) -> None:
        task = self._my_task(inst)
        step = self._step(inst.id, inst.current_step)
        self._close_task(task, "rejected", comment)
        self._log(inst.id, step.seq, "reject", comment, {},
                  on_behalf_of=task.on_behalf_of)
        if step.sign == "percentage":
            counts = self._counts(step.id)
            possible = counts["approved"] + counts["pending"]
            if possible * 100 >= step.percentage * counts["total"]:
                if self._step_done(step):
                    self._finish_step(step, "approved")
                    self._advance(self._instance(inst.id), after=step.seq)
                return
        self._finish_step(step, "rejected")
        self._end(inst, "rejected")

    def _return(self, inst: Row[Any], body: Mapping[str, Any],
                comment: str | None) -> None:
        task = self._my_task(inst)
        target = body.get("step")
        current = inst.current_step
        earlier = {s.seq: s for s in self._steps(inst.id)
                   if s.seq < current and s.status == "approved"}
        if not isinstance(target, int) or isinstance(target, bool) \
                or target not in earlier:
            raise invalid("step", _(
                    "must be the number of an earlier, approved step: ${value}",
                    mapping={"value": sorted(earlier) or _("none")}))
        self._close_task(task, "returned", comment)
        self._cancel_pending(inst.id, step_seq=current)
        s = approval_steps.c
        self.conn.execute(update(approval_steps).where(
            s.instance_id == inst.id, s.seq >= target, s.seq <= current,
            s.status.in_(("approved", "active"))).values(
            status="waiting", finished_at=None, started_at=None, due_at=None,
            reminded_at=None, escalated_at=None))
        self._log(inst.id, current, "return", comment, {"to_step": target},
                  on_behalf_of=task.on_behalf_of)
        self._tell(inst, {inst.submitter}, "returned", _("was returned to step "
                                                         "${target}",
                                                         mapping={"target": target}))
        self._advance(self._instance(inst.id), after=target - 1)

    def _transfer(self, inst: Row[Any], body: Mapping[str, Any],
                  comment: str | None) -> None:
        me = self.me
        free = inst.definition["mode"] == "free"
        pending = self._pending(inst.id, inst.current_step)
        mine = next((p for p in pending if p.assignee == me), None)
        if free and me != inst.submitter:
            raise Forbidden("only_submitter", _("While a free flow is pending only "
                                                "its submitter may change the "
                                                "approver"))
        if not (me == inst.submitter or mine is not None or self.manager):
            raise Forbidden("not_allowed", _("You may not transfer this approval"))
        source = body.get("from")
        if source is not None:
            task = next((p for p in pending if p.assignee == source), None)
            if task is None:
                raise invalid("from", _("is not a pending approver of this step"))
        elif mine is not None:
            task = mine
        elif len(pending) == 1:
            task = pending[0]
        else:
            raise invalid("from", _("this step has several approvers: name the one "
                                    "to replace"))
        to = self._user_field(body.get("to"), "to", required=True)
        if to == inst.submitter or to in {p.assignee for p in pending}:
            raise invalid("to", _("cannot be the submitter or an approver of the "
                                  "step already"))
        self._close_task(task, "transferred", comment)
        step = self._step(inst.id, inst.current_step)
        self._replace_approver(step, task.on_behalf_of or task.assignee, to)
        self._assign(inst, step, [to])
        self._log(inst.id, step.seq, "transfer", comment,
                  {"from": task.assignee, "to": to})

    def _withdraw(self, inst: Row[Any], body: Mapping[str, Any],
                  comment: str | None) -> None:
        if self.me != inst.submitter:
            raise Forbidden("only_submitter", _("Only the submitter may withdraw"))
        step = self._step(inst.id, inst.current_step)
        self._cancel_pending(inst.id, step_seq=inst.current_step)
        self._finish_step(step, "cancelled")
        self._log(inst.id, step.seq, "withdraw", comment, {})
        self._end(inst, "withdrawn")

    def _add_approver(self, inst: Row[Any], body: Mapping[str, Any],
                      comment: str | None) -> None:
        task = self._my_task(inst, managers=True)
        where = body.get("position", "after")
        if where not in ("before", "after"):
            raise invalid("position", _("must be before or after"))
        to = self._user_field(body.get("to"), "to", required=True)
        if to == inst.submitter:
            raise invalid("to", _("cannot be the submitter"))
        current = inst.current_step
        seq = current if where == "before" else current + 1
        s = approval_steps.c
        self.conn.execute(update(approval_steps).where(
            s.instance_id == inst.id, s.seq >= seq).values(seq=s.seq + 1))
        self.conn.execute(insert(approval_steps).values(
            instance_id=inst.id, **self._step_row("added", seq, None, "any", None,
                                                  [to])))
        self._log(inst.id, current, "add_approver", comment,
                  {"to": to, "position": where},
                  on_behalf_of=task.on_behalf_of if task is not None else None)
        if where == "before":
            # the current step waits for the added approver, then starts over
            self._cancel_pending(inst.id, step_seq=current + 1)
            self.conn.execute(update(approval_steps).where(
                s.instance_id == inst.id, s.seq == current + 1).values(
                status="waiting", started_at=None, due_at=None, reminded_at=None,
                escalated_at=None))
            self._advance(self._instance(inst.id), after=current - 1)

    def _urge(self, inst: Row[Any], body: Mapping[str, Any],
              comment: str | None) -> None:
        if self.me != inst.submitter:
            raise Forbidden("only_submitter", _("Only the submitter may urge"))
        waiting = {p.assignee for p in self._pending(inst.id, inst.current_step)}
        self._log(inst.id, inst.current_step, "urge", comment, {})
        self._tell(inst, waiting, "urge", _("is waiting for you: please decide"))
