"""Alembic environment: runs on the connection :mod:`ai_gateway.storage.migrate` hands in."""

from __future__ import annotations

from alembic import context

from ai_gateway.storage.tables import Base

config = context.config
connection = config.attributes.get("connection")
if connection is None:  # pragma: no cover - only through ai_gateway.storage.migrate
    raise RuntimeError("run migrations through `ai-gateway migrate`")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
