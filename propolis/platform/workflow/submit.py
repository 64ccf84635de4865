"""Submitting a record for approval: the definitions a user may start, the steps laid
out on the record's values (each step's ``when``, its approvers resolved from the
organisation), the copies, the first step activated."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import insert

from propolis.metadata.expressions import (
    ExpressionError,
    compile_expression,
    option_attributes,
)
from propolis.platform.errors import AppError, Conflict, Message, _, _c
from propolis.platform.ids import new_id
from propolis.platform.storage.platform_tables import (
    approval_cc,
    approval_instances,
    approval_steps,
)
from propolis.platform.workflow.engine import (
    INVALID,
    NOT_A_USER,
    ApprovalEngine,
    check_keys,
    invalid,
    utcnow,
)
from propolis.platform.workflow.events import ApprovalStarted


class Submission(ApprovalEngine):
    """Starting approvals."""

    def definitions(self) -> list[dict[str, Any]]:
        """The approval definitions a user may submit, in name order."""
        return [{"api_name": name, "label": d["label"], "form": d["form"],
                 "mode": d["mode"], "description": d.get("description")}
                for name, d in sorted(self.effective.approvals.items())
                if self.effective.object(d["form"]) is not None]

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
        if not isinstance(name, str) or name not in self.effective.approvals:
            raise invalid("definition", _("no such approval type"))
        definition = self.effective.approvals[name]
        form = definition["form"]
        if self.effective.object(form) is None:
            raise invalid("definition", _("its form '${form}' no longer exists",
                                          mapping={"form": form}))
        has_data, has_record = "data" in body, "record" in body
        if has_data == has_record:
            raise AppError("invalid", INVALID, {"data": [_("give either data (a "
                                                           "new form) or record "
                                                           "(an existing record's "
                                                           "id)")]})
        comment = self._comment(body)
        submitter = self.me
        next_approver = body.get("next_approver")
        if definition["mode"] == "free":
            first = self._user_field(next_approver, "next_approver", required=True)
            if first == submitter:
                raise invalid("next_approver", _c("platform.workflow.submit",
                        "cannot be yourself"))
        chosen = self._step_choices(body.get("step_approvers"), next_approver)

        if has_data:
            if not isinstance(body["data"], Mapping):
                raise invalid("data", _("must be an object"))
            record_id = self.records.create(form, body["data"])["id"]
        else:
            record_id = body["record"]
            if not isinstance(record_id, str):
                raise invalid("record", _("must be a record id"))
            self.records.check(form, record_id, "edit")
        values = self.records.variables(form, record_id, verb=None)
        if values["life_status"] != "normal":
            raise Conflict("record_not_normal", _("The record is already under "
                                                  "approval or invalid"))

        plan = (self._plan_steps(definition, values, submitter, chosen)
                if definition["mode"] == "fixed" else
                [self._step_row("free", 1, None, "any", None, [first])])
        now = utcnow()
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
        self.records.set_life_status(form, record_id, "in_review")
        for user_id in self._cc_users(definition, submitter):
            self.conn.execute(insert(approval_cc).values(
                instance_id=instance_id, user_id=user_id, created_at=now))
            self._inbox(user_id, "cc", instance_id, _(
                    "For your information: ${label} “${title}”",
                    mapping={"label": definition["label"], "title": title or ""}))
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
                raise invalid("step_approvers", _("keys must be step numbers from 1"))
        else:
            raise invalid("step_approvers", _("must be {step number: [user ids]}"))
        if isinstance(next_approver, str):
            chosen.setdefault(-1, [next_approver])  # the first submitter_choice step
        return chosen

    def _plan_steps(self, definition: Mapping[str, Any], values: Mapping[str, Any],
                    submitter: str, chosen: dict[int, list[str]]
                    ) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        problems: dict[str, list[Message]] = {}
        first_choice = True
        for index, step in enumerate(definition["steps"]):
            seq = index + 1
            label = step.get("label")
            if step.get("when") and not self._condition(
                    step["when"], values, seq, definition["form"]):
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
            raise AppError("no_approver", _("Some steps of the flow have no approver"),
                           problems)
        return rows

    @staticmethod
    def _nobody(step: Mapping[str, Any], seq: int) -> Message:
        approver = step["approver"]
        if "submitter_choice" in approver:
            return _("step ${seq}: choose its approver (step_approvers)",
                     mapping={"seq": seq})
        what = ", ".join(f"{k}={v}" for k, v in approver.items())
        return _("step ${seq} (${what}) names no active user; ask the admin to "
                 "complete the organisation",
                 mapping={"seq": seq, "what": what})

    def _condition(self, source: str, values: Mapping[str, Any], seq: int,
                   form: str) -> bool:
        options = option_attributes(self.effective.objects[form].fields.values())
        try:
            # today() and now() in the enterprise's time zone, as for its records
            result = compile_expression(source).evaluate(
                dict(values), tz=self.records.tz, options=options)
        except ExpressionError as exc:
            raise AppError("condition_failed", _("The condition of step ${seq} "
                                                 "cannot be evaluated: ${exc}",
                                                 mapping={"seq": seq,
                                                          "exc": exc})) from None
        # a condition over empty inputs is null: the step does not apply
        return result is True

    def _cc_users(self, definition: Mapping[str, Any], submitter: str) -> list[str]:
        found: list[str] = []
        for spec in definition.get("cc", []):
            found += self.directory.resolve(spec, submitter)
        return [u for u in dict.fromkeys(found) if u != submitter]
