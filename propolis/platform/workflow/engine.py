"""The approval engine: submitting a record for approval, the actions on it, the
boxes, the inbox, delegations and the SLA pass (CONTRACT §2 kind: approval, §4, §5).

An instance keeps the definition it was submitted under (a snapshot, with the
metadata version it came from), so changing a definition never changes running
approvals. Its steps are laid out at submission: each step's ``when`` is evaluated
on the record, skipped steps are kept (status ``skipped``) for the timeline, and
every remaining step's approvers are resolved from the organisation then
(``resolve.Directory``); a step that resolves to nobody refuses the submission
with a 400 naming it, and the submitter never approves their own request (a step
that would only have them is skipped). A free flow (``mode: free``) has no steps
up front: the submitter picks the first approver, each approver the next one.

The state machine, per instance: ``pending`` → ``approved`` | ``rejected`` |
``withdrawn``. Per step: ``waiting`` → ``active`` → ``approved`` | ``rejected``
(or back to ``waiting`` when the flow is returned past it or an approver is added
before it). Per task (one approver of an active step): ``pending`` → ``approved`` |
``rejected`` | ``returned``, or replaced: ``transferred``, ``escalated``,
``cancelled``. A step signed ``any`` completes with its first approval, ``all``
when every approver approved, ``percentage`` when that share of its approvers
approved (a rejection there ends the flow only when the share can no longer be
reached).

The record is ``in_review`` (locked against edits and deletes by the record
service) while the instance is pending; the outcome sets it back to ``normal``, or
to ``invalid`` after a rejection when the definition says
``rejected_status: invalid``.

Every action locks the instance row first (``SELECT … FOR UPDATE`` on PostgreSQL;
SQLite's ``BEGIN IMMEDIATE`` serialises writers already), then checks that the
actor's task is still pending: of two approvers acting at once on an ``any`` step,
exactly one moves the flow on and the other gets a 409.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Literal, overload

from sqlalchemy import Row, func, insert, or_, select, update
from sqlalchemy.orm import Session

from propolis.platform.errors import (
    AppError,
    Conflict,
    Forbidden,
    Message,
    NotFound,
    _,
    both,
)
from propolis.platform.ids import new_id
from propolis.platform.meta.effective import Effective
from propolis.platform.permissions.actor import Actor
from propolis.platform.records.events import ApprovalFinished
from propolis.platform.records.services import RecordService
from propolis.platform.storage.platform_tables import (
    approval_actions,
    approval_cc,
    approval_delegations,
    approval_instances,
    approval_steps,
    approval_tasks,
    notifications,
)
from propolis.platform.workflow.resolve import Directory

ACTIONS = ("approve", "reject", "return", "transfer", "withdraw", "add_approver",
           "comment", "urge")
BOXES = ("todo", "submitted", "cc", "done")
MANAGERS = frozenset({"admin", "approval_admin"})
# tasks that no longer count towards their step: someone else took them over
REPLACED = ("transferred", "escalated", "cancelled")
ACTED = ("approved", "rejected", "returned")
MAX_COMMENT = 2000
MAX_PAGE = 100
INVALID = _("Invalid data")
NOT_FOUND = _("No such approval")
UNKNOWN_KEY = _("unknown key")
NOT_A_USER = _("must be the id of an active user")

Notify = Callable[[object], None]


def invalid(field: str, message: Message, summary: Message = INVALID) -> AppError:
    return AppError("invalid", summary, {field: [message]})


def check_keys(body: Mapping[str, Any], allowed: Iterable[str]) -> None:
    unknown = sorted(set(body) - set(allowed))
    if unknown:
        raise AppError("invalid", INVALID, {k: [UNKNOWN_KEY] for k in unknown})


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def both_languages(value: Any) -> dict[str, str]:
    if isinstance(value, Mapping):
        return {"zh": value.get("zh") or value.get("en") or "",
                "en": value.get("en") or value.get("zh") or ""}
    return {"zh": str(value or ""), "en": str(value or "")}



class ApprovalEngine:
    """Approvals of one enterprise on behalf of one actor, inside the caller's
    transaction (never commits). ``notify`` receives the lifecycle events
    (``ApprovalStarted``, ``ApprovalFinished``); ``request`` is handed to them.

    The state every part of the service shares and the moves of the state
    machine; submitting, acting, the boxes, delegations and the SLA pass build on
    it (``services.ApprovalService``)."""

    def __init__(
        self,
        session: Session,
        effective: Effective,
        actor: Actor,
        *,
        records: RecordService | None = None,
        notify: Notify | None = None,
        request: Any = None,
    ) -> None:
        self.session = session
        self.conn = session.connection()
        self.effective = effective
        self.actor = actor
        self.records = records or RecordService(session, effective, actor)
        self.notify = notify
        self.request = request
        self.directory = Directory(self.conn, effective)

    @property
    def me(self) -> str:
        if self.actor.user_id is None:
            raise Forbidden("no_user", _("Only a user can do this"))
        return self.actor.user_id

    @property
    def manager(self) -> bool:
        return bool(self.actor.roles & MANAGERS)

    @staticmethod
    def _step_row(kind: str, seq: int, label: Any, sign: str, percentage: Any,
                  approvers: list[str], status: str = "waiting") -> dict[str, Any]:
        return {"id": new_id(), "seq": seq, "label": label, "kind": kind,
                "sign": sign, "percentage": percentage, "approvers": approvers,
                "status": status, "sla_hours": None, "escalate_to": None,
                "escalate_after_hours": None}

    def _advance(self, inst: Row[Any], after: int) -> None:
        """Activates the first waiting step after ``after``; none left: approved."""
        s = approval_steps.c
        step = self.conn.execute(select(approval_steps).where(
            s.instance_id == inst.id, s.seq > after, s.status == "waiting")
            .order_by(s.seq).limit(1)).first()
        if step is None:
            self._end(inst, "approved")
            return
        now = utcnow()
        due = (now + dt.timedelta(hours=float(step.sla_hours))
               if step.sla_hours else None)
        self.conn.execute(update(approval_steps).where(s.id == step.id).values(
            status="active", started_at=now, due_at=due, finished_at=None))
        self.conn.execute(update(approval_instances).where(
            approval_instances.c.id == inst.id).values(current_step=step.seq,
                                                       updated_at=now))
        self._assign(inst, step, list(step.approvers))

    def _assign(self, inst: Row[Any], step: Row[Any], users: Sequence[str]) -> None:
        """Pending tasks for ``users`` on ``step``; a user away with a delegate
        (代批) has the delegate act for them."""
        now = utcnow()
        d = approval_delegations.c
        away = dict(self.conn.execute(select(d.user_id, d.delegate).where(
            d.user_id.in_(list(users)), d.starts_at <= now, d.ends_at > now)
        ).all()) if users else {}
        definition = inst.definition
        for user in users:
            assignee = away.get(user, user)
            self.conn.execute(insert(approval_tasks).values(
                id=new_id(), instance_id=inst.id, step_id=step.id, assignee=assignee,
                on_behalf_of=user if assignee != user else None, status="pending",
                created_at=now))
            self._inbox(assignee, "task", inst.id, _(
                    "${label} “${title}” awaits your approval",
                    mapping={"label": definition["label"], "title": inst.title or ""}))

    def _step_done(self, step: Row[Any]) -> bool:
        counts = self._counts(step.id)
        if step.sign == "all":
            return counts["pending"] == 0 and counts["rejected"] == 0
        if step.sign == "percentage":
            return counts["approved"] * 100 >= step.percentage * counts["total"]
        return counts["approved"] > 0

    def _counts(self, step_id: str) -> dict[str, int]:
        c = approval_tasks.c
        found: dict[str, int] = dict(self.conn.execute(
            select(c.status, func.count()).where(c.step_id == step_id)
            .group_by(c.status)).all())
        total = sum(n for status, n in found.items() if status not in REPLACED)
        return {"approved": found.get("approved", 0),
                "pending": found.get("pending", 0),
                "rejected": found.get("rejected", 0), "total": total}

    def _finish_step(self, step: Row[Any], status: str) -> None:
        now = utcnow()
        c = approval_tasks.c
        # an ``any`` or ``percentage`` step done: the others need not act
        self.conn.execute(update(approval_tasks).where(
            c.step_id == step.id, c.status == "pending").values(
            status="cancelled", acted_at=now))
        self.conn.execute(update(approval_steps).where(
            approval_steps.c.id == step.id).values(status=status, finished_at=now))

    def _end(self, inst: Row[Any], status: str) -> None:
        now = utcnow()
        self._cancel_pending(inst.id)
        self.conn.execute(update(approval_instances).where(
            approval_instances.c.id == inst.id).values(
            status=status, current_step=None, finished_at=now, updated_at=now))
        life = (inst.definition.get("rejected_status", "normal")
                if status == "rejected" else "normal")
        self.records.set_life_status(inst.object, inst.record_id, life)
        words = {"approved": _("was approved"),
                 "rejected": _("was rejected"),
                 "withdrawn": _("was withdrawn")}[status]
        self._log(inst.id, None, status, None, {}, actor=None)
        self._tell(inst, {inst.submitter} | self._cc(inst.id), status, words)
        self._event(ApprovalFinished(
            request=self.request, session=self.session, actor=self.actor,
            object=inst.object, record_id=inst.record_id,
            record=self._record(inst.object, inst.record_id) or {},
            instance_id=inst.id, definition=inst.definition_name,
            submitter=inst.submitter, status=status))

    def _record(self, form: str, record_id: str) -> dict[str, Any] | None:
        """The record of an approval as an admin reads it: None when it was
        deleted or its object removed since."""
        reader = RecordService(self.session, self.effective,
                               Actor(user_id=None, roles=frozenset({"admin"})))
        try:
            return reader.get(form, record_id)
        except AppError:
            return None

    def _instance(self, instance_id: Any, *, lock: bool = False) -> Row[Any]:
        """The instance, when the actor takes part in it (else 404)."""
        if not isinstance(instance_id, str):
            raise NotFound("not_found", NOT_FOUND)
        stmt = select(approval_instances).where(approval_instances.c.id == instance_id)
        if lock:
            stmt = stmt.with_for_update()
        row = self.conn.execute(stmt).first()
        if row is None or not self._takes_part(row):
            raise NotFound("not_found", NOT_FOUND)
        return row

    def _takes_part(self, inst: Row[Any]) -> bool:
        me = self.actor.user_id
        if self.manager or me == inst.submitter:
            return True
        c = approval_tasks.c
        if self.conn.execute(select(c.id).where(
                c.instance_id == inst.id,
                or_(c.assignee == me, c.on_behalf_of == me)).limit(1)).first():
            return True
        return me in self._cc(inst.id)

    def takes_part_in(self, object: str, record_id: str) -> bool:
        """Whether the actor takes part in an approval of the record (or manages
        approvals and the record has one)."""
        c = approval_instances.c
        return any(self._takes_part(inst) for inst in self.conn.execute(
            select(approval_instances).where(c.object == object,
                                             c.record_id == record_id)))

    def _cc(self, instance_id: str) -> set[str]:
        return set(self.conn.execute(select(approval_cc.c.user_id).where(
            approval_cc.c.instance_id == instance_id)).scalars())

    def _participants(self, inst: Row[Any]) -> set[str]:
        c = approval_tasks.c
        approvers = set(self.conn.execute(select(c.assignee).where(
            c.instance_id == inst.id)).scalars())
        return {inst.submitter} | approvers | self._cc(inst.id)

    def _steps(self, instance_id: str) -> list[Row[Any]]:
        s = approval_steps.c
        return list(self.conn.execute(select(approval_steps).where(
            s.instance_id == instance_id).order_by(s.seq)))

    def _step(self, instance_id: str, seq: int | None) -> Row[Any]:
        s = approval_steps.c
        return self.conn.execute(select(approval_steps).where(
            s.instance_id == instance_id, s.seq == seq)).one()

    def _pending(self, instance_id: str, seq: int | None) -> list[Row[Any]]:
        step = self._step(instance_id, seq)
        c = approval_tasks.c
        return list(self.conn.execute(select(approval_tasks).where(
            c.step_id == step.id, c.status == "pending").order_by(c.id)))

    def _my_task(self, inst: Row[Any], *, managers: bool = False) -> Any:
        """The actor's pending task on the active step. Someone else's turn: 403;
        the actor's task was settled meanwhile (another approver of an ``any``
        step was quicker): 409. ``managers``: an approval admin may act without
        a task (None)."""
        me = self.me
        mine = next((p for p in self._pending(inst.id, inst.current_step)
                     if p.assignee == me), None)
        if mine is not None:
            return mine
        if managers and self.manager:
            return None
        c = approval_tasks.c
        earlier = self.conn.execute(select(c.id).where(
            c.instance_id == inst.id, c.assignee == me).limit(1)).first()
        if earlier is not None:
            raise Conflict("already_handled", _("This step was already handled "
                                                "(perhaps by another approver just "
                                                "now); reload to see where it stands"))
        raise Forbidden("not_your_turn", _("It is not your turn to approve"))

    def _close_task(self, task: Row[Any], status: str, comment: str | None) -> None:
        c = approval_tasks.c
        done = self.conn.execute(update(approval_tasks).where(
            c.id == task.id, c.status == "pending").values(
            status=status, comment=comment, acted_at=utcnow()))
        if done.rowcount != 1:  # settled between our read and our write
            raise Conflict("already_handled", _("This step was already handled; "
                                                "reload to see where it stands"))

    def _cancel_pending(self, instance_id: str, step_seq: int | None = None) -> None:
        c = approval_tasks.c
        stmt = update(approval_tasks).where(c.instance_id == instance_id,
                                            c.status == "pending")
        if step_seq is not None:
            step = self._step(instance_id, step_seq)
            stmt = stmt.where(c.step_id == step.id)
        self.conn.execute(stmt.values(status="cancelled", acted_at=utcnow()))

    def _replace_approver(self, step: Row[Any], old: str, new: str) -> None:
        approvers = [new if a == old else a for a in step.approvers]
        if new not in approvers:
            approvers.append(new)
        self.conn.execute(update(approval_steps).where(
            approval_steps.c.id == step.id).values(approvers=approvers))

    def _log(self, instance_id: str, seq: int | None, action: str,
             comment: str | None, details: Mapping[str, Any], *,
             on_behalf_of: str | None = None, actor: Any = "me") -> None:
        self.conn.execute(insert(approval_actions).values(
            instance_id=instance_id, step_seq=seq,
            actor=self.actor.user_id if actor == "me" else actor,
            on_behalf_of=on_behalf_of, action=action, comment=comment,
            details=dict(details), at=utcnow()))

    def _inbox(self, user_id: str, kind: str, instance_id: str | None,
               message: Message) -> None:
        self.conn.execute(insert(notifications).values(
            id=new_id(), user_id=user_id, kind=kind, instance_id=instance_id,
            message=both(message), created_at=utcnow()))

    def _tell(self, inst: Row[Any], users: Iterable[str], kind: str,
              what: Message) -> None:
        label = inst.definition["label"]
        title = inst.title or ""
        for user in sorted(set(users)):
            self._inbox(user, kind, inst.id, _("${label} “${title}” ${what}",
                                               mapping={"label": label,
                                                        "title": title,
                                                        "what": what}))

    def _event(self, event: object) -> None:
        if self.notify is not None:
            self.notify(event)

    def _comment(self, body: Mapping[str, Any]) -> str | None:
        comment = body.get("comment")
        if comment is None or comment == "":
            return None
        if not isinstance(comment, str) or len(comment) > MAX_COMMENT:
            raise invalid("comment", _("must be text of at most ${max_comment} "
                                       "characters",
                                       mapping={"max_comment": MAX_COMMENT}))
        return comment

    @overload
    def _user_field(self, value: Any, field: str, required: Literal[True]) -> str:
        ...

    @overload
    def _user_field(self, value: Any, field: str, required: bool = False
                    ) -> str | None:
        ...

    def _user_field(self, value: Any, field: str, required: bool = False
                    ) -> str | None:
        if value is None and not required:
            return None
        if not isinstance(value, str) or not self.directory.active_ids([value]):
            raise invalid(field, NOT_A_USER)
        return value

    def get(self, instance_id: str) -> dict[str, Any]:
        """One instance with its steps, tasks, copies, timeline and the record; 404
        unless the actor takes part (submitter, approver, cc) or manages approvals
        (``approval_admin``, ``admin``)."""
        inst = self._instance(instance_id)
        steps = self._steps(inst.id)
        c = approval_tasks.c
        tasks = list(self.conn.execute(select(approval_tasks).where(
            c.instance_id == inst.id).order_by(c.created_at, c.id)))
        actions = list(self.conn.execute(select(approval_actions).where(
            approval_actions.c.instance_id == inst.id).order_by(approval_actions.c.id)))
        cc = sorted(self._cc(inst.id))
        ids = {inst.submitter, *cc}
        ids.update(task.assignee for task in tasks)
        ids.update(task.on_behalf_of for task in tasks if task.on_behalf_of)
        ids.update(a.actor for a in actions if a.actor)
        for s in steps:
            ids.update(s.approvers)
        names = self.directory.names(sorted(ids))

        def person(user_id: str | None) -> dict[str, Any] | None:
            return None if user_id is None else {"id": user_id,
                                                 "name": names.get(user_id)}

        by_step: dict[str, list[dict[str, Any]]] = {}
        for task in tasks:
            by_step.setdefault(task.step_id, []).append({
                "id": task.id, "assignee": person(task.assignee),
                "on_behalf_of": person(task.on_behalf_of), "status": task.status,
                "comment": task.comment, "created_at": task.created_at,
                "acted_at": task.acted_at})
        mine = next((task.id for task in tasks if task.status == "pending"
                     and task.assignee == self.actor.user_id), None)
        definition = inst.definition
        # Taking part in the approval is what gives the viewer the record (their
        # own scope may not reach it), but they see only the fields their roles
        # see on its object: a submitter or cc never more than the record's page
        # would show them.
        record = self._record(inst.object, inst.record_id)
        if record is not None:
            record = self.records.policy.strip(inst.object, record)
        return {
            "id": inst.id,
            "definition": {"api_name": inst.definition_name,
                           "label": definition["label"], "mode": definition["mode"],
                           "version": inst.definition_version},
            "object": inst.object, "record_id": inst.record_id, "record": record,
            "title": inst.title, "status": inst.status,
            "submitter": person(inst.submitter),
            "created_at": inst.created_at, "finished_at": inst.finished_at,
            "current_step": inst.current_step, "my_task": mine,
            "steps": [{
                "seq": s.seq, "label": s.label, "kind": s.kind, "sign": s.sign,
                "percentage": s.percentage, "status": s.status,
                "approvers": [person(a) for a in s.approvers],
                "started_at": s.started_at, "due_at": s.due_at,
                "finished_at": s.finished_at, "tasks": by_step.get(s.id, []),
            } for s in steps],
            "cc": [person(u) for u in cc],
            "timeline": [{
                "at": a.at, "action": a.action, "actor": person(a.actor),
                "on_behalf_of": person(a.on_behalf_of), "comment": a.comment,
                "step": a.step_seq, "details": a.details,
            } for a in actions],
        }
