"""Throw-away databases for tests and benchmarks, on SQLite and PostgreSQL.

PostgreSQL comes from `BONELOAD_TEST_PG_URL` (e.g.
`postgresql+asyncpg://postgres@127.0.0.1:5432/test`). That database is only used to connect:
each test run creates its own databases next to it (`boneload_t_<random>`) and drops them at the
end, so runs never see each other's rows, in parallel or one after another. When the variable is
unset the PostgreSQL variants skip, except under CI (env `CI` set), where they fail: the suite
must never silently lose its PostgreSQL half.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date, datetime, time, timedelta
from pathlib import Path

from sqlalchemy import make_url, pool, text
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from bot.program.engine import decide
from bot.program.events import Enrolled
from bot.program.loader import Rules
from bot.store.db import migrate
from bot.store.models import Base
from bot.store.repo import apply_decision, create_runner

__all__ = [
    "PG_URL_ENV",
    "PostgresUnavailable",
    "copy_sqlite",
    "create_pg_database",
    "drop_pg_database",
    "enrol_runner",
    "migrated_sqlite_template",
    "pg_base_url",
    "pg_database",
    "sqlite_url",
    "truncate_all",
]

PG_URL_ENV = "BONELOAD_TEST_PG_URL"


class PostgresUnavailable(Exception):
    """BONELOAD_TEST_PG_URL is unset; `required` says whether that is an error (CI)."""

    def __init__(self, required: bool) -> None:
        super().__init__(
            f"{PG_URL_ENV} is not set"
            + (" but CI is: PostgreSQL tests must run in CI" if required else "")
        )
        self.required = required


def pg_base_url() -> str:
    """The configured PostgreSQL URL, or PostgresUnavailable."""
    url = os.environ.get(PG_URL_ENV, "").strip()
    if not url:
        raise PostgresUnavailable(required=bool(os.environ.get("CI")))
    return url


def sqlite_url(path: Path | str) -> str:
    return f"sqlite+aiosqlite:///{Path(path)}"


def _admin_engine(base: str | URL) -> AsyncEngine:
    return create_async_engine(base, poolclass=pool.NullPool, isolation_level="AUTOCOMMIT")


async def create_pg_database(
    base: str | URL, *, prefix: str = "boneload_t", durable: bool = False
) -> str:
    """Create an empty database beside `base`'s and return its URL.

    Unless `durable`, commits do not wait for the WAL flush (synchronous_commit=off): a test
    never survives a PostgreSQL crash anyway, and thousands of agenda commits then cost CPU
    rather than fsyncs. Benchmarks pass durable=True to measure what production would see.
    """
    name = f"{prefix}_{secrets.token_hex(6)}"
    admin = _admin_engine(base)
    try:
        async with admin.connect() as conn:
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
            if not durable:
                await conn.execute(text(f'ALTER DATABASE "{name}" SET synchronous_commit = off'))
    finally:
        await admin.dispose()
    return make_url(base).set(database=name).render_as_string(hide_password=False)


async def drop_pg_database(url: str | URL, *, base: str | URL | None = None) -> None:
    """Drop a database made by `create_pg_database`, connecting through `base`'s database."""
    u = make_url(url)
    admin = _admin_engine(base if base is not None else u.set(database="postgres"))
    try:
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{u.database}" WITH (FORCE)'))
    finally:
        await admin.dispose()


@asynccontextmanager
async def pg_database(*, migrated: bool = True) -> AsyncIterator[str]:
    """A fresh PostgreSQL database for the duration of the block."""
    base = pg_base_url()
    url = await create_pg_database(base)
    try:
        if migrated:
            await migrate(url)
        yield url
    finally:
        await drop_pg_database(url, base=base)


async def truncate_all(engine: AsyncEngine) -> None:
    """Empty every table of the schema (fast per-test isolation on a shared database)."""
    tables = [t.name for t in Base.metadata.sorted_tables]
    async with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            names = ", ".join(f'"{t}"' for t in tables)
            await conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for t in reversed(tables):
                await conn.execute(text(f'DELETE FROM "{t}"'))


async def migrated_sqlite_template(directory: Path) -> Path:
    """A migrated SQLite file to copy per test (copying beats migrating every time)."""
    path = directory / "template.db"
    if not path.exists():
        # migrate() closes its last connection, which checkpoints the WAL into the main file.
        await migrate(sqlite_url(path))
    return path


def copy_sqlite(template: Path, target: Path) -> str:
    shutil.copyfile(template, target)
    for suffix in ("-wal", "-shm"):
        side = template.with_name(template.name + suffix)
        if side.exists():
            shutil.copyfile(side, target.with_name(target.name + suffix))
    return sqlite_url(target)


async def enrol_runner(
    sessionmaker: async_sessionmaker[AsyncSession],
    rules: Rules,
    *,
    telegram_user_id: int,
    now: datetime,
    timezone: str = "UTC",
    preferred_time: time = time(7, 0),
    site_id: str = "second-metatarsal-base",
    diagnosis_date: date | None = None,
    coach_id: int | None = None,
) -> int:
    """Create a runner and enrol them through the real engine; returns the runner id."""
    async with sessionmaker.begin() as session:
        runner = await create_runner(
            session,
            telegram_user_id=telegram_user_id,
            chat_id=telegram_user_id,
            timezone=timezone,
            now=now,
            coach_id=coach_id,
        )
        event = Enrolled(
            site_id=site_id,
            diagnosis_date=diagnosis_date or (now.date() - timedelta(days=60)),
            timezone=timezone,
            preferred_time=preferred_time,
            available_days=frozenset(range(7)),
            claimed=frozenset({"weight_bearing", "running"}),
        )
        decision = decide(None, event, rules, now)
        await apply_decision(
            session,
            runner.id,
            decision,
            event="Enrolled",
            actor="runner",
            expected_version=0,
            at=now,
        )
        return runner.id
