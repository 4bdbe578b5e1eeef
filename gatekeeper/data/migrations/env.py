"""Alembic environment: runs the Gatekeeper revisions against the engine it is handed.

`gatekeeper db upgrade` passes its engine in `config.attributes["engine"]`; the plain `alembic`
command (with the `alembic.ini` at the repository root) uses `sqlalchemy.url` or
`GATEKEEPER_DATABASE_URL` instead.
"""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy import Engine

from gatekeeper.service.database import WRITER, make_engine
from gatekeeper.service.tables import Base

config = context.config
target_metadata = Base.metadata


def _engine() -> Engine:
    given = config.attributes.get("engine")
    if given is not None:
        return given  # type: ignore[no-any-return]
    url = os.environ.get("GATEKEEPER_DATABASE_URL") or config.get_main_option("sqlalchemy.url")
    if not url:
        raise SystemExit("set GATEKEEPER_DATABASE_URL or sqlalchemy.url to run migrations")
    return make_engine(url)


def run_migrations_offline() -> None:
    """Prints the SQL of the migrations instead of running them."""
    url = os.environ.get("GATEKEEPER_DATABASE_URL") or config.get_main_option("sqlalchemy.url")
    context.configure(url=url, target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Runs the migrations in one transaction on a writer connection."""
    engine = _engine()
    with engine.connect() as plain:
        connection = plain.execution_options(**WRITER)
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=engine.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
