"""The CRM's Python hooks, included when the ini names it
(``propolis.extensions = crm``): the customer actions of the public pool
(``return``, ``claim``, ``assign``, the ``auto_return`` the schedule runs),
``transfer`` with the customer's contacts, opportunities and contracts, an
opportunity's ``lose`` (with its reason), and follow-ups stamping their
customer's ``last_follow_up_at``. The rest of the CRM is metadata
(``objects/*.yaml``).

Every action acts through the request's record service; the pool's actions check
the pool's rules themselves (its members, admins, limits) and then act with the
service's ``privileged()`` rights, since a pool member may only read the pool's
customers. A customer in a pool has no owner: its pool's members (the users
named, those of the member departments and below, the pool admins) follow it
with read access while it is there."""

from __future__ import annotations

from pyramid.config import Configurator

from propolis.extensions.crm import actions, subscribers


def includeme(config: Configurator) -> None:
    actions.register(config)
    subscribers.register(config)
