"""Celery: one app configured from the ini; tasks are sent only after the request's
transaction commits (so a worker never looks for rows that aren't there yet).

A task works through the application's services like a view, in a request of its
own (``propolis.platform.web.offline.service_request``) made from the
application's registry: the web process's, or the one ``propolis worker`` loads
from the ini (``configure(settings, registry)``)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from celery import Celery, Task
from pyramid.config import Configurator
from pyramid.registry import Registry
from pyramid.request import Request
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from propolis.settings import as_bool

celery_app = Celery("propolis")
celery_app.conf.update(
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    task_serializer="json",
    accept_content=["json"],
    result_serializer="json",
    timezone="Asia/Shanghai",
    enable_utc=True,
    broker_connection_retry_on_startup=True,
    imports=("propolis.platform.tenancy.jobs",),
)


class _State:
    """What a worker process needs: the settings and the application's registry
    (its services, its database)."""

    settings: Mapping[str, Any] = {}
    registry: Registry | None = None


state = _State()


def configure(settings: Mapping[str, Any], registry: Registry) -> Celery:
    state.settings = settings
    state.registry = registry
    celery_app.conf.update(
        broker_url=settings["propolis.broker_url"],
        result_backend=settings.get("propolis.result_backend") or None,
        task_always_eager=as_bool(settings.get("propolis.celery_always_eager")),
        task_eager_propagates=True,
        beat_schedule=beat_schedule(settings, registry),
    )
    return celery_app


# periodic work: {key: (task name, the setting of its period in seconds)}, added by
# each domain's includeme with ``config.add_periodic_task``
PERIODIC = "propolis.periodic_tasks"
DEFAULT_PERIOD = 300.0


def periodic_tasks(registry: Registry) -> dict[str, tuple[str, str]]:
    found: dict[str, tuple[str, str]] = registry.setdefault(PERIODIC, {})
    return found


def beat_schedule(settings: Mapping[str, Any], registry: Registry
                  ) -> dict[str, dict[str, Any]]:
    return {key: {"task": task,
                  "schedule": float(settings.get(setting, DEFAULT_PERIOD))}
            for key, (task, setting) in periodic_tasks(registry).items()}


def add_periodic_task(config: Configurator, key: str, task: Task, setting: str
                      ) -> None:
    """Beat sends ``task`` every ``settings[setting]`` seconds (300 by default).
    The task's module is imported by whoever registers it, so a worker built from
    the same application knows it; a layer above the platform adds its own work
    this way without the platform naming it."""
    periodic_tasks(config.registry)[key] = (task.name, setting)
    celery_app.conf.beat_schedule = beat_schedule(config.get_settings(),
                                                  config.registry)


def worker_registry() -> Registry:
    """The registry of the application the tasks run in."""
    if state.registry is None:
        raise RuntimeError("Celery is not configured: start workers with "
                           "`propolis worker`")
    return state.registry


# the savepoints rolled back in a session (its ``info``): what was sent inside one
# of them is not sent at the commit
UNDONE = "propolis.undone_savepoints"


@event.listens_for(Session, "after_soft_rollback")
def _savepoint_undone(session: Session, previous: SessionTransaction) -> None:
    if previous.nested:
        session.info.setdefault(UNDONE, set()).add(previous)


def _open_savepoints(request: Request) -> list[SessionTransaction]:
    """The savepoints open in the request's tenant session, innermost first (none
    when it has no session yet)."""
    session = request.__dict__.get("db")  # reified: never opened for this
    found = []
    savepoint = session.get_nested_transaction() if session is not None else None
    while savepoint is not None and savepoint.nested:
        found.append(savepoint)
        savepoint = savepoint.parent
    return found


class _AfterCommit:
    """Sends the task when the request's transaction commits, unless it was sent
    inside a savepoint that was rolled back (an import's refused row, a page's
    refused attempt): like the rows written there, it never happened."""

    def __init__(self, request: Request, task: Task) -> None:
        self.request = request
        self.task = task

    def delay(self, *args: Any, **kwargs: Any) -> None:
        savepoints = _open_savepoints(self.request)

        def send(committed: bool) -> None:
            undone = (savepoints[0].session.info.get(UNDONE, ())
                      if savepoints else ())
            if committed and not any(s in undone for s in savepoints):
                self.task.apply_async(args=args, kwargs=kwargs)

        self.request.tm.get().addAfterCommitHook(send)


def _task(request: Request, task: Task | Callable[..., Any]) -> _AfterCommit:
    return _AfterCommit(request, task)  # type: ignore[arg-type]


def includeme(config: Configurator) -> None:
    configure(config.get_settings(), config.registry)
    config.add_request_method(_task, "task")
    config.add_directive("add_periodic_task", add_periodic_task)
