"""The record actions extensions register in Python, on the application's
registry (``registry.record_actions``), with the directive
``config.add_record_action(object, name, callable, label=…, roles=…)``.

Metadata declares actions too (an object's ``actions:``); the action service
looks both up by name, so an API client, the record page and a schedule's
``action: NAME`` see one list."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from pyramid.config import Configurator
from pyramid.registry import Registry

from propolis.metadata.texts import Label
from propolis.platform.errors import Message, both

# (request, record, params) → the record: the record as the API returns it, the
# JSON body's parameters; the callable acts through the request's services
ActionCallable = Callable[[Any, dict[str, Any], dict[str, Any]], dict[str, Any]]
# (request, record) → whether the action is offered on the record now
Availability = Callable[[Any, dict[str, Any]], bool]


@dataclass(frozen=True)
class ActionParam:
    """A parameter a page asks for before running an action: ``kind`` is
    ``text``, ``textarea`` or ``record`` (an id of ``to``: ``user`` or an
    object)."""

    name: str
    label: Message
    kind: str = "text"
    to: str | None = None
    required: bool = False

    def listed(self) -> dict[str, Any]:
        return {"name": self.name, "label": both(self.label), "kind": self.kind,
                "to": self.to, "required": self.required}


@dataclass(frozen=True)
class RegisteredAction:
    """An action of one object run by extension code. ``verb``: what the actor
    needs on the record besides one of ``roles`` (None: the callable checks
    everything itself); ``available``: when it is offered (default: always)."""

    object: str
    name: str
    run: ActionCallable
    label: Label
    roles: frozenset[str]
    verb: str | None = "edit"
    available: Availability | None = None
    params: tuple[ActionParam, ...] = ()


class RecordActions:
    """The registered actions of an application, by object and name."""

    def __init__(self) -> None:
        self._actions: dict[tuple[str, str], RegisteredAction] = {}

    def add(self, action: RegisteredAction) -> None:
        self._actions[(action.object, action.name)] = action

    def get(self, object: str, name: str) -> RegisteredAction | None:
        return self._actions.get((object, name))

    def of(self, object: str) -> list[RegisteredAction]:
        """The object's actions in the order they were registered."""
        return [a for (o, _), a in self._actions.items() if o == object]


def record_actions(registry: Registry) -> RecordActions:
    """The application's registered actions (made on first use)."""
    found: RecordActions | None = getattr(registry, "record_actions", None)
    if found is None:
        found = registry.record_actions = RecordActions()
    return found


def add_record_action(
    config: Configurator,
    object: str,
    name: str,
    callable: ActionCallable,
    *,
    label: str | Mapping[str, str] | None = None,
    roles: Iterable[str] = (),
    verb: str | None = "edit",
    available: Availability | None = None,
    params: Iterable[ActionParam] = (),
) -> None:
    """``config.add_record_action(object, name, callable, label=…, roles=…)``:
    registers ``callable`` as the action ``name`` of ``object``, run by
    ``POST /api/v1/objects/{object}/records/{id}/actions/{name}`` and offered on
    the record page (which asks for ``params`` first). Two registrations of one
    name conflict (Pyramid's conflict detection)."""
    given = {"zh": label, "en": label} if isinstance(label, str) else label or {}
    zh = given.get("zh") or given.get("en") or name
    text = {"zh": zh, "en": given.get("en") or zh}
    action = RegisteredAction(object, name, callable, text, frozenset(roles), verb,
                              available, tuple(params))

    def register() -> None:
        record_actions(config.registry).add(action)

    config.action(("propolis.record_action", object, name), register,
                  introspectables=())
