"""Alembic environment: runs on the connection the service hands over (``db.migrate``)."""

from __future__ import annotations

from alembic import context

from leadsla.service.db import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - the service always passes its connection
    raise RuntimeError("run migrations through leadsla.service.db.migrate(engine)")
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
