"""Migrations: empty -> head -> base -> head on SQLite and PostgreSQL; models match them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, pool
from sqlalchemy.engine import Connection

from bot.store.db import current_revision, downgrade, make_engine, migrate
from bot.store.fixtures import require_pg
from bot.store.models import Base
from bot.store.testing import create_pg_database, drop_pg_database, sqlite_url

EXPECTED_TABLES = {t.name for t in Base.metadata.sorted_tables}


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A brand-new empty database of each kind (not the shared, already migrated one)."""
    if request.param == "sqlite":
        yield sqlite_url(tmp_path / "empty.db")
        return
    base = require_pg()
    url = await create_pg_database(base, prefix="boneload_mig")
    try:
        yield url
    finally:
        await drop_pg_database(url, base=base)


async def _tables(url: str) -> set[str]:
    engine = make_engine(url, poolclass=pool.NullPool)
    try:
        async with engine.connect() as conn:
            names = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
    finally:
        await engine.dispose()
    return names - {"alembic_version"}


async def _diff(url: str) -> list[object]:
    engine = make_engine(url, poolclass=pool.NullPool)
    try:
        async with engine.connect() as conn:

            def compare(sync_conn: Connection) -> list[object]:
                ctx = MigrationContext.configure(sync_conn, opts={"compare_type": True})
                return list(compare_metadata(ctx, Base.metadata))

            return await conn.run_sync(compare)
    finally:
        await engine.dispose()


async def test_upgrade_downgrade_upgrade(empty_url: str) -> None:
    assert await current_revision(empty_url) is None
    await migrate(empty_url)
    assert await _tables(empty_url) == EXPECTED_TABLES
    head = await current_revision(empty_url)
    assert head is not None

    await migrate(empty_url)  # idempotent
    assert await current_revision(empty_url) == head

    await downgrade(empty_url, "base")
    assert await _tables(empty_url) == set()
    assert await current_revision(empty_url) is None

    await migrate(empty_url)
    assert await _tables(empty_url) == EXPECTED_TABLES
    assert await current_revision(empty_url) == head


async def test_models_match_migrations(empty_url: str) -> None:
    await migrate(empty_url)
    assert await _diff(empty_url) == []


async def test_sqlite_connection_settings(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "pragmas.db")
    await migrate(url)
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            mode = (await conn.exec_driver_sql("PRAGMA journal_mode")).scalar()
            fks = (await conn.exec_driver_sql("PRAGMA foreign_keys")).scalar()
            busy = (await conn.exec_driver_sql("PRAGMA busy_timeout")).scalar()
    finally:
        await engine.dispose()
    assert (mode, fks) == ("wal", 1)
    assert busy is not None and busy >= 1000
