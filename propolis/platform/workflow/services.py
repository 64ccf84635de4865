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
from typing import Any

from sqlalchemy import Row, and_, func, insert, or_, select, update
from sqlalchemy.orm import Session

from propolis.metadata.expressions import ExpressionError, compile_expression
from propolis.platform.errors import AppError, Conflict, Forbidden, NotFound, Text, t
from propolis.platform.fields.values import ValueProblem, from_column, parse_datetime
from propolis.platform.ids import new_id
from propolis.platform.meta.effective import Effective
from propolis.platform.permissions.actor import Actor
from propolis.platform.records import history
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
from propolis.platform.storage.tables import column_type
from propolis.platform.workflow.events import ApprovalFinished, ApprovalStarted
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
INVALID = t("数据有误", "Invalid data")
NOT_FOUND = t("审批不存在", "No such approval")
UNKNOWN_KEY = t("不支持的参数", "unknown key")
NOT_A_USER = t("应为在职员工的 id", "must be the id of an active user")

Notify = Callable[[object], None]


def invalid(field: str, message: Text, summary: Text = INVALID) -> AppError:
    return AppError("invalid", summary, {field: [message]})


def check_keys(body: Mapping[str, Any], allowed: Iterable[str]) -> None:
    unknown = sorted(set(body) - set(allowed))
    if unknown:
        raise AppError("invalid", INVALID, {k: [UNKNOWN_KEY] for k in unknown})


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _text(value: Any) -> dict[str, str]:
    if isinstance(value, Mapping):
        return {"zh": value.get("zh") or value.get("en") or "",
                "en": value.get("en") or value.get("zh") or ""}
    return {"zh": str(value or ""), "en": str(value or "")}


class ApprovalService:
    """Approvals of one enterprise on behalf of one actor, inside the caller's
    transaction (never commits). ``notify`` receives the lifecycle events
    (``ApprovalStarted``, ``ApprovalFinished``); ``request`` is handed to them."""

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
            raise Forbidden("no_user", t("需要以员工身份操作",
                                         "Only a user can do this"))
        return self.actor.user_id

    @property
    def manager(self) -> bool:
        return bool(self.actor.roles & MANAGERS)

    # -- definitions -----------------------------------------------------------

    def definitions(self) -> list[dict[str, Any]]:
        """The approval definitions a user may submit, in name order."""
        return [{"api_name": name, "label": d["label"], "form": d["form"],
                 "mode": d["mode"], "description": d.get("description")}
                for name, d in sorted(self.effective.approvals.items())
                if self.effective.object(d["form"]) is not None]

    # -- submitting ------------------------------------------------------------

    def start(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """Submits a record for approval: ``definition``, then ``data`` (a new
        record of the definition's form) or ``record`` (the id of an existing one
        the submitter may edit); ``next_approver`` (a free flow's first approver,
        or the approver of a ``submitter_choice`` step), ``step_approvers``
        ({step number: [user ids]} for ``submitter_choice`` steps), ``comment``.
        Returns the instance as ``get`` does."""
        check_keys(body, ("definition", "data", "record", "next_approver",
                          "step_approvers", "comment"))
        name = body.get("definition")
        definition = (self.effective.approvals.get(name) if isinstance(name, str)
                      else None)
        if definition is None:
            raise invalid("definition", t("没有这个审批类型", "no such approval type"))
        form = definition["form"]
        if self.effective.object(form) is None:
            raise invalid("definition", t(f"审批表单 {form} 已不存在",
                                          f"its form {form!r} no longer exists"))
        has_data, has_record = "data" in body, "record" in body
        if has_data == has_record:
            raise AppError("invalid", INVALID, {"data": [t(
                "请给出 data（新填的表单）或 record（已有记录的 id）之一",
                "give either data (a new form) or record (an existing record's id)")]})
        comment = self._comment(body)
        submitter = self.me
        next_approver = body.get("next_approver")
        if definition["mode"] == "free":
            first = self._user_field(next_approver, "next_approver", required=True)
            if first == submitter:
                raise invalid("next_approver", t("不能选择自己", "cannot be yourself"))
        chosen = self._step_choices(body.get("step_approvers"), next_approver)

        if has_data:
            if not isinstance(body["data"], Mapping):
                raise invalid("data", t("应为对象", "must be an object"))
            record_id = self.records.create(form, body["data"])["id"]
        else:
            record_id = body["record"]
            if not isinstance(record_id, str):
                raise invalid("record", t("应为记录 id", "must be a record id"))
            self.records.check(form, record_id, "edit")
        values = self._values(form, record_id)
        if values["life_status"] != "normal":
            raise Conflict("record_not_normal", t(
                "该记录正在审批中或已作废，不能再提交",
                "The record is already under approval or invalid"))

        plan = (self._plan_steps(definition, values, submitter, chosen)
                if definition["mode"] == "fixed" else
                [self._step_row("free", 1, None, "any", None, [first])])
        now = _now()
        instance_id = new_id()
        name_field = self.effective.objects[form].doc["name_field"]
        title = values.get(name_field)
        self.conn.execute(insert(approval_instances).values(
            id=instance_id, definition_name=name,
            definition_version=self.effective.version, definition=dict(definition),
            object=form, record_id=record_id,
            title=str(title)[:255] if title is not None else None,
            submitter=submitter, submitter_department=self.actor.department_id,
            status="pending", current_step=None, created_at=now, updated_at=now))
        for row in plan:
            self.conn.execute(insert(approval_steps).values(instance_id=instance_id,
                                                            **row))
        self._log(instance_id, None, "submit", comment,
                  {"skipped": [r["seq"] for r in plan if r["status"] == "skipped"]})
        self._set_life_status(form, record_id, "in_review")
        for user_id in self._cc_users(definition, submitter):
            self.conn.execute(insert(approval_cc).values(
                instance_id=instance_id, user_id=user_id, created_at=now))
            self._inbox(user_id, "cc", instance_id, t(
                f"抄送：{definition['label']['zh']}「{title or ''}」",
                f"For your information: {definition['label']['en']} "
                f"\u201c{title or ''}\u201d"))
        self._event(ApprovalStarted(instance_id, name, form, record_id, submitter,
                                    self.session, self.request))
        self._advance(self._instance(instance_id), after=0)
        return self.get(instance_id)

    def _step_choices(self, raw: Any, next_approver: Any) -> dict[int, list[str]]:
        if raw is None:
            chosen: dict[int, list[str]] = {}
        elif isinstance(raw, Mapping) and all(
                isinstance(v, str) or (isinstance(v, list)
                                       and all(isinstance(i, str) for i in v))
                for v in raw.values()):
            try:
                chosen = {int(k): [v] if isinstance(v, str) else list(v)
                          for k, v in raw.items()}
            except ValueError:
                chosen = {0: []}
            if 0 in chosen or any(k < 0 for k in chosen):
                raise invalid("step_approvers", t("键应为步骤序号（从 1 开始）",
                                                  "keys must be step numbers from 1"))
        else:
            raise invalid("step_approvers", t(
                "应为 {步骤序号: [员工 id]}", "must be {step number: [user ids]}"))
        if isinstance(next_approver, str):
            chosen.setdefault(-1, [next_approver])  # the first submitter_choice step
        return chosen

    def _plan_steps(self, definition: Mapping[str, Any], values: Mapping[str, Any],
                    submitter: str, chosen: dict[int, list[str]]
                    ) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        problems: dict[str, list[Text]] = {}
        first_choice = True
        for index, step in enumerate(definition["steps"]):
            seq = index + 1
            label = step.get("label")
            if step.get("when") and not self._condition(step["when"], values, seq):
                rows.append(self._step_row("defined", seq, label, step["sign"],
                                           step.get("percentage"), [], "skipped"))
                continue
            picks = chosen.get(seq, [])
            if "submitter_choice" in step["approver"]:
                if not picks and first_choice:
                    picks = chosen.get(-1, [])
                first_choice = False
                unknown = [p for p in picks if p not in
                           self.directory.active_ids(picks)]
                if unknown:
                    problems[f"step_approvers.{seq}"] = [NOT_A_USER]
            everyone = self.directory.resolve(step["approver"], submitter, picks)
            approvers = [u for u in everyone if u != submitter]
            if not everyone:
                problems[f"steps.{seq}"] = [self._nobody(step, seq)]
                continue
            row = self._step_row("defined", seq, label, step["sign"],
                                 step.get("percentage"), approvers,
                                 "waiting" if approvers else "skipped")
            row.update(sla_hours=step.get("sla_hours"),
                       escalate_to=step.get("escalate_to"),
                       escalate_after_hours=step.get("escalate_after_hours"))
            rows.append(row)
        if problems:
            raise AppError("no_approver", t("审批流程中有步骤找不到审批人",
                                            "Some steps of the flow have no approver"),
                           problems)
        return rows

    @staticmethod
    def _nobody(step: Mapping[str, Any], seq: int) -> Text:
        approver = step["approver"]
        if "submitter_choice" in approver:
            return t(f"第 {seq} 步需要你选择审批人（step_approvers）",
                     f"step {seq}: choose its approver (step_approvers)")
        what = ", ".join(f"{k}={v}" for k, v in approver.items())
        return t(f"第 {seq} 步（{what}）没有对应的在职员工，请联系管理员完善组织架构",
                 f"step {seq} ({what}) names no active user; ask the admin to complete "
                 "the organisation")

    def _condition(self, source: str, values: Mapping[str, Any], seq: int) -> bool:
        try:
            result = compile_expression(source).evaluate(dict(values))
        except ExpressionError as exc:
            raise AppError("condition_failed", t(
                f"第 {seq} 步的条件无法计算：{exc}",
                f"The condition of step {seq} cannot be evaluated: {exc}")) from None
        # a condition over empty inputs is null: the step does not apply
        return result is True

    @staticmethod
    def _step_row(kind: str, seq: int, label: Any, sign: str, percentage: Any,
                  approvers: list[str], status: str = "waiting") -> dict[str, Any]:
        return {"id": new_id(), "seq": seq, "label": label, "kind": kind,
                "sign": sign, "percentage": percentage, "approvers": approvers,
                "status": status, "sla_hours": None, "escalate_to": None,
                "escalate_after_hours": None}

    def _cc_users(self, definition: Mapping[str, Any], submitter: str) -> list[str]:
        found: list[str] = []
        for spec in definition.get("cc", []):
            found += self.directory.resolve(spec, submitter)
        return [u for u in dict.fromkeys(found) if u != submitter]

    def _values(self, form: str, record_id: str) -> dict[str, Any]:
        """The record as Python values (what conditions are evaluated on)."""
        meta = self.effective.objects[form]
        table = self.effective.tables.main[form]
        row = self.conn.execute(select(table).where(table.c.id == record_id)).first()
        if row is None:
            raise NotFound("not_found", t("记录不存在或已删除",
                                          "The record does not exist or was deleted"))
        values: dict[str, Any] = {"life_status": row.life_status}
        for name, field in meta.fields.items():
            if column_type(field) is not None:
                values[name] = from_column(field, row._mapping[name])
            elif field["type"] == "table":
                child = self.effective.tables.children[form][name]
                subs = [s for s in field["fields"] if column_type(s) is not None]
                values[name] = [
                    {s["api_name"]: from_column(s, r._mapping[s["api_name"]])
                     for s in subs}
                    for r in self.conn.execute(select(child).where(
                        child.c.parent_id == record_id).order_by(child.c.row_order))]
        return values

    # -- acting ----------------------------------------------------------------

    def act(self, instance_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """One action on an instance (``action`` is one of ``ACTIONS``); returns the
        instance as ``get`` does. Not a participant: 404; not allowed this action:
        403; the instance or the actor's task moved on meanwhile: 409."""
        check_keys(body, ("action", "comment", "next_approver", "to", "from", "step",
                          "position"))
        action = body.get("action")
        if action not in ACTIONS:
            raise invalid("action", t(f"应为 {' | '.join(ACTIONS)} 之一",
                                      f"must be one of {' | '.join(ACTIONS)}"))
        comment = self._comment(body)
        inst = self._instance(instance_id, lock=True)
        if action == "comment":
            if comment is None:
                raise invalid("comment", t("请填写评论", "write the comment"))
            self._log(inst.id, inst.current_step, "comment", comment, {})
            self._tell(inst, self._participants(inst) - {self.me}, "comment", t(
                "有新评论", "has a new comment"))
            return self.get(inst.id)
        if inst.status != "pending":
            raise Conflict("not_pending", t("该审批已结束", "The approval has ended"))
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
                raise invalid("next_approver", t(
                    "只有自由流程由审批人选择下一位", "only a free flow picks the next "
                    "approver"))
            next_approver = self._user_field(body["next_approver"], "next_approver")
            if next_approver in (self.me, inst.submitter):
                raise invalid("next_approver", t("不能选择自己或发起人",
                                                 "cannot be yourself or the submitter"))
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
            raise invalid("step", t(
                f"应为已通过的前面步骤序号之一：{sorted(earlier) or '无'}",
                f"must be the number of an earlier, approved step: "
                f"{sorted(earlier) or 'none'}"))
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
        self._tell(inst, {inst.submitter}, "returned", t(
            f"被退回到第 {target} 步", f"was returned to step {target}"))
        self._advance(self._instance(inst.id), after=target - 1)

    def _transfer(self, inst: Row[Any], body: Mapping[str, Any],
                  comment: str | None) -> None:
        me = self.me
        free = inst.definition["mode"] == "free"
        pending = self._pending(inst.id, inst.current_step)
        mine = next((p for p in pending if p.assignee == me), None)
        if free and me != inst.submitter:
            raise Forbidden("only_submitter", t(
                "自由流程审批中只有发起人可以更换审批人",
                "While a free flow is pending only its submitter may change the "
                "approver"))
        if not (me == inst.submitter or mine is not None or self.manager):
            raise Forbidden("not_allowed", t("你不能转交这项审批",
                                             "You may not transfer this approval"))
        source = body.get("from")
        if source is not None:
            task = next((p for p in pending if p.assignee == source), None)
            if task is None:
                raise invalid("from", t("不是当前步骤的待审批人",
                                        "is not a pending approver of this step"))
        elif mine is not None:
            task = mine
        elif len(pending) == 1:
            task = pending[0]
        else:
            raise invalid("from", t("当前步骤有多位审批人，请指明要替换哪一位",
                                    "this step has several approvers: name the one "
                                    "to replace"))
        to = self._user_field(body.get("to"), "to", required=True)
        if to == inst.submitter or to in {p.assignee for p in pending}:
            raise invalid("to", t("不能是发起人或本步骤已有的审批人",
                                  "cannot be the submitter or an approver of the "
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
            raise Forbidden("only_submitter", t("只有发起人可以撤回",
                                                "Only the submitter may withdraw"))
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
            raise invalid("position", t("应为 before 或 after",
                                        "must be before or after"))
        to = self._user_field(body.get("to"), "to", required=True)
        if to == inst.submitter:
            raise invalid("to", t("不能是发起人", "cannot be the submitter"))
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
            raise Forbidden("only_submitter", t("只有发起人可以催办",
                                                "Only the submitter may urge"))
        waiting = {p.assignee for p in self._pending(inst.id, inst.current_step)}
        self._log(inst.id, inst.current_step, "urge", comment, {})
        self._tell(inst, waiting, "urge", t("催办：请尽快审批",
                                            "is waiting for you: please decide"))

    # -- the state machine -------------------------------------------------------

    def _advance(self, inst: Row[Any], after: int) -> None:
        """Activates the first waiting step after ``after``; none left: approved."""
        s = approval_steps.c
        step = self.conn.execute(select(approval_steps).where(
            s.instance_id == inst.id, s.seq > after, s.status == "waiting")
            .order_by(s.seq).limit(1)).first()
        if step is None:
            self._end(inst, "approved")
            return
        now = _now()
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
        now = _now()
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
            self._inbox(assignee, "task", inst.id, t(
                f"{definition['label']['zh']}「{inst.title or ''}」等待你审批",
                f"{definition['label']['en']} \u201c{inst.title or ''}\u201d awaits "
                "your approval"))

    def _step_done(self, step: Row[Any]) -> bool:
        counts = self._counts(step.id)
        if step.sign == "all":
            return counts["pending"] == 0 and counts["rejected"] == 0
        if step.sign == "percentage":
            return counts["approved"] * 100 >= step.percentage * counts["total"]
        return counts["approved"] > 0

    def _counts(self, step_id: str) -> dict[str, int]:
        c = approval_tasks.c
        found = dict(self.conn.execute(select(c.status, func.count()).where(
            c.step_id == step_id).group_by(c.status)).all())
        total = sum(n for status, n in found.items() if status not in REPLACED)
        return {"approved": found.get("approved", 0),
                "pending": found.get("pending", 0),
                "rejected": found.get("rejected", 0), "total": total}

    def _finish_step(self, step: Row[Any], status: str) -> None:
        now = _now()
        c = approval_tasks.c
        # an ``any`` or ``percentage`` step done: the others need not act
        self.conn.execute(update(approval_tasks).where(
            c.step_id == step.id, c.status == "pending").values(
            status="cancelled", acted_at=now))
        self.conn.execute(update(approval_steps).where(
            approval_steps.c.id == step.id).values(status=status, finished_at=now))

    def _end(self, inst: Row[Any], status: str) -> None:
        now = _now()
        self._cancel_pending(inst.id)
        self.conn.execute(update(approval_instances).where(
            approval_instances.c.id == inst.id).values(
            status=status, current_step=None, finished_at=now, updated_at=now))
        life = (inst.definition.get("rejected_status", "normal")
                if status == "rejected" else "normal")
        self._set_life_status(inst.object, inst.record_id, life)
        words = {"approved": t("已通过", "was approved"),
                 "rejected": t("被驳回", "was rejected"),
                 "withdrawn": t("已撤回", "was withdrawn")}[status]
        self._log(inst.id, None, status, None, {}, actor=None)
        self._tell(inst, {inst.submitter} | self._cc(inst.id), status, words)
        self._event(ApprovalFinished(inst.id, inst.definition_name, inst.object,
                                     inst.record_id, inst.submitter, status,
                                     self.session, self.request))

    def _set_life_status(self, form: str, record_id: str, status: str) -> None:
        table = self.effective.tables.main.get(form)
        if table is None:  # the form object was removed since the submission
            return
        row = self.conn.execute(select(table.c.life_status, table.c.version).where(
            table.c.id == record_id).with_for_update()).first()
        if row is None or row.life_status == status:
            return
        now = _now()
        self.conn.execute(update(table).where(table.c.id == record_id).values(
            life_status=status, version=row.version + 1, updated_at=now,
            updated_by=self.actor.user_id))
        history.write(self.conn, object=form, record_id=record_id,
                      version=row.version + 1, action="update",
                      actor_id=self.actor.user_id, at=now,
                      changes={"life_status": [row.life_status, status]})

    # -- rows ------------------------------------------------------------------

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
            raise Conflict("already_handled", t(
                "这一步已经处理过了（可能是其他审批人刚刚处理），请刷新后查看",
                "This step was already handled (perhaps by another approver just "
                "now); reload to see where it stands"))
        raise Forbidden("not_your_turn", t("当前不是由你审批",
                                           "It is not your turn to approve"))

    def _close_task(self, task: Row[Any], status: str, comment: str | None) -> None:
        c = approval_tasks.c
        done = self.conn.execute(update(approval_tasks).where(
            c.id == task.id, c.status == "pending").values(
            status=status, comment=comment, acted_at=_now()))
        if done.rowcount != 1:  # settled between our read and our write
            raise Conflict("already_handled", t(
                "这一步已经处理过了，请刷新后查看",
                "This step was already handled; reload to see where it stands"))

    def _cancel_pending(self, instance_id: str, step_seq: int | None = None) -> None:
        c = approval_tasks.c
        stmt = update(approval_tasks).where(c.instance_id == instance_id,
                                            c.status == "pending")
        if step_seq is not None:
            step = self._step(instance_id, step_seq)
            stmt = stmt.where(c.step_id == step.id)
        self.conn.execute(stmt.values(status="cancelled", acted_at=_now()))

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
            details=dict(details), at=_now()))

    def _inbox(self, user_id: str, kind: str, instance_id: str | None,
               message: Text) -> None:
        self.conn.execute(insert(notifications).values(
            id=new_id(), user_id=user_id, kind=kind, instance_id=instance_id,
            message=dict(message), created_at=_now()))

    def _tell(self, inst: Row[Any], users: Iterable[str], kind: str,
              what: Text) -> None:
        label = inst.definition["label"]
        title = inst.title or ""
        for user in sorted(set(users)):
            self._inbox(user, kind, inst.id, t(
                f"{label['zh']}「{title}」{what['zh']}",
                f"{label['en']} \u201c{title}\u201d {what['en']}"))

    def _event(self, event: object) -> None:
        if self.notify is not None:
            self.notify(event)

    def _comment(self, body: Mapping[str, Any]) -> str | None:
        comment = body.get("comment")
        if comment is None or comment == "":
            return None
        if not isinstance(comment, str) or len(comment) > MAX_COMMENT:
            raise invalid("comment", t(f"应为不超过 {MAX_COMMENT} 字的文字",
                                       f"must be text of at most {MAX_COMMENT} "
                                       "characters"))
        return comment

    def _user_field(self, value: Any, field: str, required: bool = False
                    ) -> str | None:
        if value is None and not required:
            return None
        if not isinstance(value, str) or not self.directory.active_ids([value]):
            raise invalid(field, NOT_A_USER)
        return value

    # -- reading -----------------------------------------------------------------

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
        reader = RecordService(self.session, self.effective,
                               Actor(user_id=None, roles=frozenset({"admin"})))
        try:
            record = reader.get(inst.object, inst.record_id)
        except AppError:
            record = None  # deleted or its object removed since
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

    def box(self, box: str, *, limit: int = 20, cursor: str | None = None,
            status: str | None = None) -> dict[str, Any]:
        """A page of one of the actor's boxes, newest first: ``todo`` (waiting for
        them), ``submitted`` (theirs), ``cc`` (copied to them), ``done`` (they
        acted on); ``next_cursor`` continues it."""
        if box not in BOXES:
            raise invalid("box", t(f"应为 {' | '.join(BOXES)} 之一",
                                   f"must be one of {' | '.join(BOXES)}"))
        me = self.me
        i, c = approval_instances.c, approval_tasks.c
        if box == "todo":
            stmt = (select(approval_instances, c.id.label("task_id"),
                           c.id.label("key"))
                    .join(approval_tasks, c.instance_id == i.id)
                    .where(c.assignee == me, c.status == "pending")
                    .order_by(c.id.desc()))
            key = c.id
        else:
            stmt = select(approval_instances, i.id.label("key")).order_by(i.id.desc())
            key = i.id
            if box == "submitted":
                stmt = stmt.where(i.submitter == me)
            elif box == "cc":
                stmt = stmt.where(i.id.in_(select(approval_cc.c.instance_id).where(
                    approval_cc.c.user_id == me)))
            else:
                stmt = stmt.where(i.id.in_(select(c.instance_id).where(
                    c.assignee == me, c.status.in_(ACTED + ("transferred",)))))
        if status is not None:
            stmt = stmt.where(i.status == status)
        if cursor:
            stmt = stmt.where(key < cursor)
        rows = list(self.conn.execute(stmt.limit(limit + 1)))
        more = len(rows) > limit
        rows = rows[:limit]
        names = self.directory.names([r.submitter for r in rows])
        items = []
        for r in rows:
            item = {"id": r.id,
                    "definition": {"api_name": r.definition_name,
                                   "label": r.definition["label"]},
                    "object": r.object, "record_id": r.record_id, "title": r.title,
                    "status": r.status,
                    "submitter": {"id": r.submitter, "name": names.get(r.submitter)},
                    "current_step": r.current_step, "created_at": r.created_at,
                    "finished_at": r.finished_at}
            if box == "todo":
                item["task_id"] = r.task_id
            items.append(item)
        return {"items": items, "next_cursor": rows[-1].key if more else None}

    # -- the inbox -----------------------------------------------------------------

    def notifications(self, *, unread: bool = False, limit: int = 20,
                      cursor: str | None = None, lang: str = "zh") -> dict[str, Any]:
        """The actor's notifications, newest first, with the unread count."""
        n = notifications.c
        stmt = select(notifications).where(n.user_id == self.me).order_by(n.id.desc())
        if unread:
            stmt = stmt.where(n.read_at.is_(None))
        if cursor:
            stmt = stmt.where(n.id < cursor)
        rows = list(self.conn.execute(stmt.limit(limit + 1)))
        more = len(rows) > limit
        rows = rows[:limit]
        count = self.conn.execute(select(func.count()).where(
            n.user_id == self.me, n.read_at.is_(None))).scalar_one()
        return {"items": [{"id": r.id, "kind": r.kind, "instance_id": r.instance_id,
                           "message": _text(r.message)[lang],
                           "created_at": r.created_at,
                           "read": r.read_at is not None} for r in rows],
                "unread": count, "next_cursor": rows[-1].id if more else None}

    def mark_read(self, ids: Sequence[str] | None) -> int:
        """Marks the actor's notifications read (``ids``; None: all of them)."""
        n = notifications.c
        stmt = update(notifications).where(n.user_id == self.me, n.read_at.is_(None))
        if ids is not None:
            stmt = stmt.where(n.id.in_(list(ids)))
        return int(self.conn.execute(stmt.values(read_at=_now())).rowcount or 0)

    # -- delegation ---------------------------------------------------------------

    def delegation(self) -> dict[str, Any] | None:
        """The actor's delegation setting (None when they have none)."""
        d = approval_delegations.c
        row = self.conn.execute(select(approval_delegations).where(
            d.user_id == self.me)).first()
        if row is None:
            return None
        name = self.directory.names([row.delegate]).get(row.delegate)
        return {"delegate": {"id": row.delegate, "name": name},
                "from": row.starts_at, "to": row.ends_at,
                "active": row.starts_at <= _now() < row.ends_at}

    def set_delegation(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """While away from ``from`` to ``to`` (ISO 8601 with offset), tasks
        assigned to the actor go to ``delegate``, who acts on their behalf."""
        check_keys(body, ("delegate", "from", "to"))
        delegate = self._user_field(body.get("delegate"), "delegate", required=True)
        if delegate == self.me:
            raise invalid("delegate", t("不能委托给自己", "cannot be yourself"))
        period = {}
        for key in ("from", "to"):
            try:
                period[key] = parse_datetime(body.get(key))
            except ValueProblem as exc:
                raise invalid(key, exc.args[0]) from None
        if period["to"] <= period["from"]:
            raise invalid("to", t("应晚于开始时间", "must be after from"))
        d = approval_delegations.c
        self.conn.execute(approval_delegations.delete().where(d.user_id == self.me))
        self.conn.execute(insert(approval_delegations).values(
            user_id=self.me, delegate=delegate, starts_at=period["from"],
            ends_at=period["to"], updated_at=_now()))
        return self.delegation() or {}

    def clear_delegation(self) -> None:
        self.conn.execute(approval_delegations.delete().where(
            approval_delegations.c.user_id == self.me))

    # -- time limits ----------------------------------------------------------------

    def process_overdue(self, now: dt.datetime | None = None) -> dict[str, int]:
        """The SLA pass (run by Celery beat): an active step past its ``due_at``
        gets a reminder to its approvers; ``escalate_after_hours`` after that its
        pending approvers are replaced by ``escalate_to`` (resolved for the
        submitter). Each happens once per activation of the step."""
        now = now or _now()
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
                self._tell(inst, waiting, "overdue", t(
                    "已超过处理时限，请尽快审批", "is overdue: please decide"))
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
