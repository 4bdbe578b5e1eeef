"""Engines for SQLite (WAL, `BEGIN IMMEDIATE` for writers) and PostgreSQL, and schema migrations.

SQLite: the driver's own transaction handling is turned off in a connect hook and the begin hook
emits `BEGIN IMMEDIATE` on connections opened with `writer=True` (so two writers queue on the
database lock, honouring `busy_timeout`, instead of failing on a lock upgrade), `BEGIN` otherwise.
The Alembic scripts ship inside the package (`gatekeeper/data/migrations`; `migrations/` at the
repository root points at them), so an installed wheel finds them through `importlib.resources`.
"""

from __future__ import annotations

import importlib.resources
import logging
import os
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, TextClause, create_engine, event, inspect, make_url, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from gatekeeper.errors import ServiceError

_log = logging.getLogger(__name__)

BUSY_TIMEOUT_S = 30.0
SQLITE_CACHE_KIB = 65_536
SQLITE_MMAP_BYTES = 1 << 30
SQLITE_POOL_SIZE = 16
"""SQLite connections kept open: enough for the requests a process serves at once (a new one
pays for its PRAGMAs and a cold page cache)."""
WRITER = {"gatekeeper_writer": True}
"""Execution options for a connection that appends (SQLite: `BEGIN IMMEDIATE`)."""


def is_sqlite(engine: Engine) -> bool:
    """True when the engine talks to SQLite."""
    return engine.dialect.name == "sqlite"


@lru_cache(maxsize=32)
def _pyformat(sql: str) -> str:
    """`:name` placeholders as psycopg's `%(name)s`."""
    return re.sub(r":(\w+)", r"%(\1)s", sql)


def driver_sql(engine: Engine, clause: TextClause) -> str:
    """The SQL of `clause` in the parameter style of the engine's driver, for a driver cursor
    (paths that run per request skip SQLAlchemy's per-statement work)."""
    return clause.text if is_sqlite(engine) else _pyformat(clause.text)


def masked_url(url: str) -> str:
    """`url` with its password shown as `***` (for messages naming the database in use)."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return "(not a database URL)"


def make_data_dir(path: Path) -> None:
    """Creates the data directory (keys, SQLite file) readable by its owner only, whatever the
    umask; an existing one is narrowed to 0700 too."""
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, 0o700)


def _private_sqlite_file(url: str) -> None:
    """Creates the SQLite file 0600 (an existing one is narrowed) before SQLite opens it: SQLite
    gives its WAL and shared-memory files the mode of the database file."""
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    path = Path(database)
    if not path.parent.is_dir():
        return  # SQLite names the missing folder itself
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    os.close(descriptor)
    os.chmod(path, 0o600)
    for suffix in ("-wal", "-shm"):
        companion = path.with_name(path.name + suffix)
        if companion.exists():
            os.chmod(companion, 0o600)


def make_engine(url: str, *, pool_size: int = 5, busy_timeout: float = BUSY_TIMEOUT_S) -> Engine:
    """An engine for `url` (SQLite file or PostgreSQL through psycopg 3), hooks installed;
    `busy_timeout`: how long a SQLite connection waits for a lock held by another."""
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if not url.strip():
        raise ServiceError("cannot use database URL: GATEKEEPER_DATABASE_URL is set but empty")
    try:
        if url.startswith("sqlite"):
            _private_sqlite_file(url)
            # connections are kept, not opened per request: each new one runs the PRAGMAs below
            engine = create_engine(
                url, connect_args={"timeout": busy_timeout}, pool_size=SQLITE_POOL_SIZE
            )
            _install_sqlite_hooks(engine, busy_timeout)
        else:
            # pre-ping: a connection the server dropped (restart, failover, idle kill) is
            # replaced at checkout instead of failing the request that drew it
            engine = create_engine(url, pool_size=pool_size, pool_recycle=1800, pool_pre_ping=True)
    except (SQLAlchemyError, ValueError, ImportError) as error:
        raise ServiceError(f"cannot use database URL {masked_url(url)}: {error}") from error
    except OSError as error:
        raise ServiceError(f"cannot create the SQLite file of {url}: {error.strerror}") from error
    return engine


def _install_sqlite_hooks(engine: Engine, busy_timeout: float) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute(f"PRAGMA busy_timeout={round(busy_timeout * 1000)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
        cursor.execute(f"PRAGMA mmap_size={SQLITE_MMAP_BYTES}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        writer = connection.get_execution_options().get("gatekeeper_writer", False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if writer else "BEGIN")


def migrations_dir() -> Path:
    """The Alembic script folder shipped in the package."""
    return Path(str(importlib.resources.files("gatekeeper") / "data" / "migrations"))


def alembic_config(engine: Engine) -> Config:
    """An Alembic configuration for `engine`, built without an ini file."""
    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    config.attributes["engine"] = engine
    return config


def head_revision() -> str:
    """The newest revision of the shipped migrations."""
    script = ScriptDirectory.from_config(alembic_config_for_scripts())
    head = script.get_current_head()
    if head is None:  # pragma: no cover - the package always ships revisions
        raise ServiceError("no database migrations are shipped with this installation")
    return head


def alembic_config_for_scripts() -> Config:
    """An Alembic configuration that only reads the scripts (no database)."""
    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    return config


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (None for an empty database).

    Read from Alembic's version table directly: `MigrationContext.configure` logs two INFO lines
    each time, which would fill the log on every readiness check."""
    try:
        with engine.connect() as connection:
            if not inspect(connection).has_table("alembic_version"):
                return None
            row = connection.execute(text("SELECT version_num FROM alembic_version")).first()
            return None if row is None else str(row[0])
    except SQLAlchemyError as error:
        raise ServiceError(f"cannot reach the database: {_short(error)}") from error


def upgrade(engine: Engine) -> tuple[str | None, str]:
    """Runs every pending migration; returns (revision before, revision after)."""
    before = current_revision(engine)
    try:
        command.upgrade(alembic_config(engine), "head")
    except SQLAlchemyError as error:
        raise ServiceError(f"database migration failed: {_short(error)}") from error
    after = current_revision(engine) or ""
    _log.info("database schema at %s (was %s)", after, before)
    return before, after


def schema_is_current(engine: Engine) -> bool:
    """True when the database is at the newest shipped revision."""
    return current_revision(engine) == head_revision()


def require_current_schema(engine: Engine) -> None:
    """Raises ServiceError, saying what to run, when the schema is not the newest."""
    current, head = current_revision(engine), head_revision()
    if current != head:
        raise ServiceError(
            f"the database schema is at {current or 'nothing'} but this version needs {head}; "
            "run `gatekeeper db upgrade` first"
        )


def _short(error: BaseException) -> str:
    return str(error).splitlines()[0][:300]
