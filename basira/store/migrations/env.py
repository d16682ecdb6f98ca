"""Alembic environment, run programmatically by basira.store.open_store (there is no alembic.ini)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context

from basira.store.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("basira migrations need a connection: use basira.store.open_store(url)")
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            # Two processes opening the same new database must not both create the tables.
            connection.execute(sa.text("SELECT pg_advisory_xact_lock(7367298901)"))
        context.run_migrations()


if context.is_offline_mode():
    raise RuntimeError("offline (SQL script) migrations are not supported")
run_migrations_online()
