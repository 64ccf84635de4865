"""Alembic environment for the system database. ``propolis initdb`` runs it with a
connection in ``config.attributes["connection"]``."""

from alembic import context

from propolis.platform.db import dialect_for
from propolis.platform.storage.system import SystemBase

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=SystemBase.metadata,
    render_as_batch=dialect_for(connection).batch_alter,
)
with context.begin_transaction():
    context.run_migrations()
