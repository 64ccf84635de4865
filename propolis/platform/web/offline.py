"""Requests outside the web: the command line, Celery tasks and tests get their
services from the same factories as the views, through a request of their own.

``service_request(registry, account, actor)`` makes a request of the
application whose registry is given (the web application's, or the one the
command line and the worker load from the ini), for one enterprise on behalf of
one actor (the system by default), inside a transaction of its own::

    with service_request(registry, "acme") as request:
        request.find_service(IRecordService).create("order", {...})

The transaction commits when the block ends and aborts when it raises; tasks
sent with ``request.task(fn).delay(...)`` leave after the commit, as from a
view."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from pyramid.registry import Registry
from pyramid.request import Request, apply_request_extensions
from sqlalchemy import select

from propolis.platform.errors import NotFound, _
from propolis.platform.permissions.actor import SYSTEM, Actor
from propolis.platform.storage.system import Enterprise
from propolis.platform.web import Tenant


def read_tenant(registry: Registry, account: str) -> Tenant:
    """The enterprise ``account`` as a request needs it (404 when there is none)."""
    with registry.database.system_sessionmaker() as session:
        row = session.execute(select(
            Enterprise.id, Enterprise.account, Enterprise.name,
            Enterprise.metadata_version, Enterprise.time_zone).where(
            Enterprise.account == account)).first()
    if row is None:
        raise NotFound("no_such_enterprise",
                       _("There is no enterprise '${account}'",
                         mapping={"account": account}))
    return Tenant(row.id, row.account, row.name, row.metadata_version, row.time_zone)


def blank_request(registry: Registry, path: str = "/") -> Request:
    """A request of the application with nobody logged in, for ``path``."""
    request = Request.blank(path)
    request.registry = registry
    apply_request_extensions(request)
    return request


@contextmanager
def service_request(registry: Registry, account: str, actor: Actor = SYSTEM, *,
                    lang: str = "zh") -> Iterator[Request]:
    """A request for ``account`` acting as ``actor``, in ``lang``, whose
    transaction commits when the block ends (see the module's docstring)."""
    request = blank_request(registry)
    # set before anything reads them: the request's other properties follow
    request.tenant = read_tenant(registry, account)
    request.actor = actor
    request.lang = lang
    with request.tm:
        yield request
