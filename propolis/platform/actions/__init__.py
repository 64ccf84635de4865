"""Record actions and schedules (CONTRACT §6): the actions a user runs on one
record (declared in an object's ``actions:`` or registered by extensions with
``config.add_record_action``), their JSON routes under
/api/v1/objects/{o}/records/{id}/actions, and the schedules (``schedules:``) that
Celery beat and ``propolis schedule run`` apply to the records they match."""

from __future__ import annotations

from typing import Any

from pyramid.config import Configurator
from pyramid.request import Request

from propolis.platform.actions.interfaces import IActionService, IScheduleService
from propolis.platform.actions.registry import add_record_action, record_actions
from propolis.platform.actions.schedules import ScheduleService
from propolis.platform.actions.services import ActionService
from propolis.platform.actions.tasks import run_schedules

__all__ = ["IActionService", "IScheduleService", "add_record_action"]


def action_service_factory(context: Any, request: Request) -> ActionService:
    """The actions of the request's enterprise, for its actor, in its time zone."""
    return ActionService(request, request.effective, request.actor,
                         record_actions(request.registry), request.tz)


def schedule_service_factory(context: Any, request: Request) -> ScheduleService:
    """The schedules of the request's enterprise, run by its actor."""
    return ScheduleService(request, request.db, request.effective,
                           request.find_service(IActionService), request.tz)


def includeme(config: Configurator) -> None:
    record_actions(config.registry)
    config.add_directive("add_record_action", add_record_action)
    config.add_periodic_task("schedules", run_schedules, "propolis.schedule_seconds")
    config.register_service_factory(action_service_factory, IActionService)
    config.register_service_factory(schedule_service_factory, IScheduleService)
    config.include(".routes", route_prefix="/api/v1")
    config.scan(".api")
