"""Running a record's actions: those the object declares in metadata (``when``,
``set``, ``roles``) and those extensions register in Python, looked up by name
in one list (a registered action replaces a declared one of the same name:
metadata cannot take over extension code).

An action is offered and run only when the actor may read the record (else the
404 of every record route), holds one of its ``roles`` (the enterprise admin
holds them all; else 403), has its verb on the record (``edit``, through the
record service: 404/403 as for a change) and its ``when`` is true on the record
now (else 409 ``action_unavailable``). A declared action's ``set`` is computed
on the record as it is and applied by the record service's ``update``, in the
caller's transaction: validation, history and events as for any change."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from zope.interface import implementer

from propolis.metadata.expressions import (
    CompiledExpression,
    ExpressionError,
    OptionTable,
    compile_expression,
    option_attributes,
)
from propolis.metadata.texts import Label
from propolis.platform.actions.interfaces import IActionService
from propolis.platform.actions.registry import RecordActions, RegisteredAction
from propolis.platform.errors import AppError, Conflict, NotFound, _
from propolis.platform.fields.values import to_json_value
from propolis.platform.meta.effective import Effective, ObjectMeta
from propolis.platform.permissions.actor import Actor
from propolis.platform.permissions.policy import READ, forbidden
from propolis.platform.records.interfaces import IRecordService

CACHE_KEY = "actions.declared"
UNAVAILABLE = _("This action is not available on the record now")


@dataclass(frozen=True)
class Action:
    """One action of an object as the service runs it: declared (``when``,
    ``assignments``) or registered (``registered``)."""

    name: str
    label: Label
    roles: frozenset[str]
    verb: str | None = "edit"
    confirm: Label | None = None
    when: CompiledExpression | None = None
    assignments: tuple[tuple[str, CompiledExpression], ...] = ()
    options: OptionTable | None = None
    registered: RegisteredAction | None = None

    def listed(self) -> dict[str, Any]:
        listed: dict[str, Any] = {"api_name": self.name, "label": dict(self.label),
                  "confirm": dict(self.confirm) if self.confirm else None}
        # what a page asks for first (registered actions that take parameters)
        if self.registered is not None and self.registered.params:
            listed["params"] = [p.listed() for p in self.registered.params]
        return listed


def declared_actions(obj: ObjectMeta) -> dict[str, Action]:
    """The object's ``actions:``, compiled once per metadata version."""
    found: dict[str, Action] | None = obj.cache.get(CACHE_KEY)
    if found is None:
        options = option_attributes(obj.fields.values())
        found = {
            a["api_name"]: Action(
                name=a["api_name"], label=a["label"], roles=frozenset(a["roles"]),
                confirm=a.get("confirm"),
                when=compile_expression(a["when"]) if a.get("when") else None,
                assignments=tuple((field, compile_expression(source))
                                  for field, source in a["set"].items()),
                options=options)
            for a in obj.doc.get("actions", ())}
        obj.cache[CACHE_KEY] = found
    return found


def unavailable() -> Conflict:
    return Conflict("action_unavailable", UNAVAILABLE)


@implementer(IActionService)
class ActionService:
    """The actions of one enterprise's records, on behalf of the request's actor.
    ``now`` fixes the moment ``now()``/``today()`` see in ``when`` and ``set``
    (a schedule run at a given time); None: the clock."""

    def __init__(self, request: Any, effective: Effective, actor: Actor,
                 actions: RecordActions, tz: str,
                 now: dt.datetime | None = None) -> None:
        self.request = request
        self.effective = effective
        self.actor = actor
        self.registered = actions
        self.tz = tz
        self.now = now

    @property
    def records(self) -> Any:
        return self.request.find_service(IRecordService)

    def actions_of(self, object: str) -> list[Action]:
        obj = self.effective.object(object)
        found = dict(declared_actions(obj)) if obj is not None else {}
        for action in self.registered.of(object):
            found[action.name] = Action(name=action.name, label=action.label,
                                        roles=action.roles, verb=action.verb,
                                        registered=action)
        return list(found.values())

    def available(self, object: str, id: str) -> list[dict[str, Any]]:
        record = self.records.get(object, id)
        return [action.listed() for action in self.actions_of(object)
                if self._offered(action, object, record)]

    def _offered(self, action: Action, object: str, record: dict[str, Any]) -> bool:
        try:
            self._prepare(action, object, record)
        except AppError:
            return False
        # a record under approval is locked: a declared action's change is a 409
        return action.registered is not None or record["life_status"] != "in_review"

    def find(self, object: str, name: str) -> Action:
        """The action ``name`` of ``object`` (404 when there is none)."""
        action = next((a for a in self.actions_of(object) if a.name == name), None)
        if action is None:
            raise NotFound("no_such_action", _("There is no action '${name}'",
                                               mapping={"name": name}))
        return action

    def run(self, object: str, id: str, name: str,
            params: Mapping[str, Any]) -> dict[str, Any]:
        record = self.records.get(object, id)
        return self.perform(object, record, self.find(object, name), params)

    def perform(self, object: str, record: dict[str, Any], action: Action,
                params: Mapping[str, Any]) -> dict[str, Any]:
        """Runs ``action`` on ``record`` (as the record service returned it to
        the actor) with the body's ``params``; returns the record."""
        values = self._prepare(action, object, record, lock=True)
        if action.registered is not None:
            return action.registered.run(self.request, record, dict(params))
        if params:
            raise AppError("invalid", _("This action takes no parameters"),
                           {key: [_("unknown parameter")]
                            for key in sorted(params)})
        return dict(self.records.update(object, record["id"],
                                        self._assigned(action, values)))

    def _prepare(self, action: Action, object: str, record: dict[str, Any], *,
                 lock: bool = False) -> dict[str, Any]:
        """The record as the action's expressions see it, when the actor may run
        the action on it now; else the refusal is raised."""
        id = record["id"]
        if action.roles and not self.actor.roles & (action.roles | {"admin"}):
            raise forbidden()
        if action.registered is not None:
            if action.verb is not None:
                self.records.check(object, id, action.verb)
            available = action.registered.available
            if available is not None and not available(self.request, record):
                raise unavailable()
            return record
        values: dict[str, Any] = self.records.variables(
            object, id, verb=action.verb or READ, lock=lock)
        if action.when is not None and self._evaluate(
                action, action.when, values) is not True:
            raise unavailable()
        return values

    def _evaluate(self, action: Action, expression: CompiledExpression,
                  values: Mapping[str, Any]) -> Any:
        try:
            return expression.evaluate(values, tz=self.tz, now=self.now,
                                       options=action.options or {})
        except ExpressionError:
            return None  # a condition that cannot be evaluated does not hold

    def _assigned(self, action: Action, values: Mapping[str, Any]
                  ) -> dict[str, Any]:
        """The JSON values ``set`` gives, for the record service's update."""
        data: dict[str, Any] = {}
        for field, expression in action.assignments:
            try:
                result = expression.evaluate(values, tz=self.tz, now=self.now,
                                             options=action.options or {})
            except ExpressionError as exc:
                raise AppError("invalid", _("The new value of ${field} cannot be "
                                            "computed",
                                            mapping={"field": field}),
                               {field: [_("cannot be computed: ${exc}",
                                          mapping={"exc": exc})]}) from None
            data[field] = to_json_value(result, self.tz)
        return data
