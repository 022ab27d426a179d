"""Database engines, sessions and migrations, for SQLite (aiosqlite) and PostgreSQL (asyncpg).

`make_engine(url)` gives an `AsyncEngine` set up for the bot's access pattern:
- SQLite: WAL journal (readers never block the writer), foreign keys on (the runner's cascading
  delete depends on it), a busy timeout, and every transaction opened with BEGIN IMMEDIATE. The
  last one matters: with SQLite's default deferred BEGIN a transaction that reads and then writes
  fails at once with SQLITE_BUSY when another connection wrote in between (the busy timeout does
  not apply to a stale read snapshot). Taking the write lock up front makes concurrent
  transactions queue on the busy timeout instead. SQLite is for one instance only.
- PostgreSQL: asyncpg, the session time zone pinned to UTC, connections recycled half-hourly.

`migrate(url)` brings the schema to the newest revision with the Alembic scripts shipped inside
the package (no alembic.ini needed), under an advisory lock on PostgreSQL so that two instances
starting together do not race.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import event, make_url, pool, text
from sqlalchemy.engine import URL, Connection
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from bot.store.sqlite_driver import one_trip_dbapi

__all__ = [
    "MIGRATIONS_DIR",
    "alembic_config",
    "current_revision",
    "downgrade",
    "is_sqlite",
    "make_engine",
    "make_sessionmaker",
    "migrate",
    "reading",
]

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
SQLITE_BUSY_TIMEOUT_MS = 15_000
READ_ONLY = "boneload_read_only"  # an execution option: this transaction never writes
# An arbitrary constant shared by every boneload instance: pg_advisory_xact_lock(key).
_MIGRATION_LOCK_KEY = 0x626F6E656C6F6164  # "boneload"


def is_sqlite(url: str | URL) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def make_engine(
    url: str | URL,
    *,
    foreign_keys: bool = True,
    echo: bool = False,
    poolclass: type[pool.Pool] | None = None,
    **kwargs: Any,
) -> AsyncEngine:
    """An async engine for `url` configured as described in the module docstring.

    `foreign_keys=False` is for SQLite migrations only: batch mode recreates tables, and
    dropping a parent table with foreign keys enforced would cascade-delete its children.
    """
    u = make_url(url)
    # Parameters are health data (answers, names, messages): never in logs or error texts.
    kwargs.setdefault("hide_parameters", True)
    if poolclass is not None:
        kwargs["poolclass"] = poolclass
    if u.get_backend_name() == "sqlite":
        # The pool's own rollback on every return costs a round trip to the driver's thread per
        # transaction, after a commit or rollback that already ended it; `_on_reset` rolls back
        # only a connection that comes back still inside a transaction.
        kwargs.setdefault("pool_reset_on_return", None)
        # One trip to aiosqlite's thread per statement instead of four (see sqlite_driver).
        kwargs.setdefault("module", one_trip_dbapi())
        engine = create_async_engine(u, echo=echo, **kwargs)
        _configure_sqlite(engine, foreign_keys=foreign_keys)
        return engine
    connect_args: dict[str, Any] = dict(kwargs.pop("connect_args", {}))
    settings: dict[str, str] = dict(connect_args.pop("server_settings", {}))
    settings.setdefault("timezone", "UTC")
    settings.setdefault("application_name", "boneload")
    connect_args["server_settings"] = settings
    # No pool_pre_ping: it costs a round trip per checkout, i.e. per agenda row. A connection
    # broken by a database restart fails one transaction; the agenda retries what it touched.
    kwargs.setdefault("pool_recycle", 1800)
    return create_async_engine(u, echo=echo, connect_args=connect_args, **kwargs)


def _configure_sqlite(engine: AsyncEngine, *, foreign_keys: bool) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Hand transaction control to SQLAlchemy (the driver's implicit BEGIN is deferred).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            # NORMAL is durable across application crashes in WAL mode; only an OS crash or
            # power loss can lose the last commits, and then the agenda re-sends (see docs).
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute(f"PRAGMA foreign_keys={'ON' if foreign_keys else 'OFF'}")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        finally:
            cursor.close()

    @event.listens_for(engine.sync_engine, "reset")
    def _on_reset(dbapi_connection: Any, _record: Any, state: Any) -> None:
        driver = getattr(dbapi_connection, "driver_connection", None)
        if state.asyncio_safe and driver is not None and driver.in_transaction:
            dbapi_connection.rollback()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # A reader (see `reading`) takes no lock: in WAL mode it reads while the writer
        # writes. Everything else may write, so it queues for the write lock up front.
        if not conn.get_execution_options().get(READ_ONLY, False):
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        # A reader sends no BEGIN at all: each of its statements reads a consistent snapshot on
        # its own (autocommit), and it saves the driver's thread a round trip per update.


def reading(engine: AsyncEngine) -> AsyncEngine:
    """The same engine (and pool) for transactions that only read: on SQLite they begin
    deferred and so never wait for, or hold, the write lock."""
    return engine.execution_options(**{READ_ONLY: True})


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions whose objects stay readable after commit (no lazy reload in async code)."""
    return async_sessionmaker(engine, expire_on_commit=False)


def alembic_config(url: str | URL | None = None) -> Config:
    """An Alembic config built in code, pointing at the migrations inside the package."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url is not None:
        # ConfigParser interpolation: a literal % in a password must be doubled.
        rendered = make_url(url).render_as_string(hide_password=False)
        cfg.set_main_option("sqlalchemy.url", rendered.replace("%", "%%"))
    return cfg


async def _run(url: str | URL, fn: Any, revision: str) -> None:
    engine = make_engine(url, foreign_keys=False, poolclass=pool.NullPool)
    try:
        async with engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                await conn.execute(text(f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK_KEY})"))

            def _go(sync_conn: Connection) -> None:
                cfg = alembic_config()
                cfg.attributes["connection"] = sync_conn
                fn(cfg, revision)

            await conn.run_sync(_go)
    finally:
        await engine.dispose()


async def migrate(url: str | URL, revision: str = "head") -> None:
    """Upgrade the database at `url` to `revision` (default: the newest). Idempotent."""
    log.info("applying database migrations", extra={"revision": revision})
    await _run(url, command.upgrade, revision)


async def downgrade(url: str | URL, revision: str = "base") -> None:
    """Downgrade the database at `url` to `revision` (default: empty)."""
    log.info("reverting database migrations", extra={"revision": revision})
    await _run(url, command.downgrade, revision)


async def current_revision(url: str | URL) -> str | None:
    """The revision the database is at, or None for an empty database."""
    engine = make_engine(url, poolclass=pool.NullPool)
    try:
        async with engine.connect() as conn:

            def _current(sync_conn: Connection) -> str | None:
                return MigrationContext.configure(sync_conn).get_current_revision()

            return await conn.run_sync(_current)
    finally:
        await engine.dispose()
