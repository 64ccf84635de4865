"""Celery: one app configured from the ini; tasks are sent only after the request's
transaction commits (so a worker never looks for rows that aren't there yet)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from celery import Celery, Task
from pyramid.config import Configurator
from pyramid.request import Request

from propolis.platform.db import Database
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
    imports=("propolis.platform.tenancy.jobs", "propolis.platform.workflow.tasks"),
)


class _State:
    """What a worker process needs: the settings and, made on first use, the engines."""

    settings: Mapping[str, Any] = {}
    database: Database | None = None


state = _State()


def configure(settings: Mapping[str, Any]) -> Celery:
    state.settings = settings
    state.database = None
    celery_app.conf.update(
        broker_url=settings["propolis.broker_url"],
        result_backend=settings.get("propolis.result_backend") or None,
        task_always_eager=as_bool(settings.get("propolis.celery_always_eager")),
        task_eager_propagates=True,
        # periodic work, registered by name next to its domain
        beat_schedule={
            "approval-sla": {
                "task": "propolis.approvals.sla",
                "schedule": float(settings.get("propolis.approval_sla_seconds", 300)),
            },
        },
    )
    return celery_app


def worker_database() -> Database:
    if state.database is None:
        state.database = Database(
            state.settings["propolis.database_url"],
            state.settings.get("propolis.tenant_dir"),
        )
    return state.database


class _AfterCommit:
    def __init__(self, request: Request, task: Task) -> None:
        self.request = request
        self.task = task

    def delay(self, *args: Any, **kwargs: Any) -> None:
        def send(committed: bool) -> None:
            if committed:
                self.task.apply_async(args=args, kwargs=kwargs)

        self.request.tm.get().addAfterCommitHook(send)


def _task(request: Request, task: Task | Callable[..., Any]) -> _AfterCommit:
    return _AfterCommit(request, task)  # type: ignore[arg-type]


def includeme(config: Configurator) -> None:
    configure(config.get_settings())
    if state.database is None:
        state.database = config.registry.database
    config.add_request_method(_task, "task")
