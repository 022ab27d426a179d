"""pytest fixtures for code that touches the database; import them in a conftest.py:

    from bot.store.fixtures import (  # noqa: F401
        _db_choice, _pg_choice, db_url, engine, pg_session_db, pg_url, sessionmaker,
        sqlite_template,
    )

`db_url` runs a test twice, on a fresh SQLite file and on PostgreSQL (a database created for the
test session and emptied before each test). `pg_url` is the PostgreSQL one alone. Both skip
PostgreSQL when `BONELOAD_TEST_PG_URL` is unset, and fail instead when `CI` is set.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import pool
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.store.db import make_engine, make_sessionmaker, migrate
from bot.store.testing import (
    PostgresUnavailable,
    copy_sqlite,
    create_pg_database,
    drop_pg_database,
    migrated_sqlite_template,
    pg_base_url,
    truncate_all,
)

__all__ = ["db_url", "engine", "pg_session_db", "pg_url", "sessionmaker", "sqlite_template"]


def require_pg() -> str:
    """The PostgreSQL base URL; skips the test, or fails it under CI, when there is none."""
    try:
        return pg_base_url()
    except PostgresUnavailable as exc:
        if exc.required:
            pytest.fail(str(exc), pytrace=False)
        pytest.skip(str(exc))


@pytest.fixture(scope="session")
def pg_session_db() -> Iterator[str]:
    """One migrated PostgreSQL database for the whole test session, dropped at the end."""
    base = require_pg()

    async def setup() -> str:
        url = await create_pg_database(base)
        await migrate(url)
        return url

    url = asyncio.run(setup())
    yield url
    asyncio.run(drop_pg_database(url, base=base))


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return asyncio.run(migrated_sqlite_template(tmp_path_factory.mktemp("sqlite-template")))


@pytest.fixture(
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
)
def _db_choice(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    # Sync on purpose: the session fixtures above run their own event loop.
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        return copy_sqlite(template, tmp_path / "boneload.db")
    url: str = request.getfixturevalue("pg_session_db")
    return url


async def _emptied(url: str) -> str:
    if url.startswith("postgresql"):
        eng = make_engine(url, poolclass=pool.NullPool)
        try:
            await truncate_all(eng)
        finally:
            await eng.dispose()
    return url


@pytest.fixture
async def db_url(_db_choice: str) -> str:
    """A migrated, empty database: SQLite file or PostgreSQL (the test runs on both)."""
    return await _emptied(_db_choice)


@pytest.fixture
def _pg_choice(request: pytest.FixtureRequest) -> str:
    require_pg()
    url: str = request.getfixturevalue("pg_session_db")
    return url


@pytest.fixture
async def pg_url(_pg_choice: str) -> str:
    """A migrated, empty PostgreSQL database (tests that only make sense there)."""
    return await _emptied(_pg_choice)


@pytest.fixture
async def engine(db_url: str) -> AsyncIterator[AsyncEngine]:
    eng = make_engine(db_url)
    yield eng
    await eng.dispose()


@pytest.fixture
def sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return make_sessionmaker(engine)
