"""Revision 0003_ops on a database with data: processed update ids keep their rows (bot id 0),
the same update id of two bots can coexist, and the downgrade goes back to 0002 cleanly."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import pool, text

from bot.store.db import current_revision, downgrade, make_engine, migrate
from bot.store.fixtures import require_pg
from bot.store.testing import create_pg_database, drop_pg_database, sqlite_url

NOW = datetime(2026, 3, 2, 8, tzinfo=UTC)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    if request.param == "sqlite":
        yield sqlite_url(tmp_path / "empty.db")
        return
    base = require_pg()
    url = await create_pg_database(base, prefix="boneload_ops")
    try:
        yield url
    finally:
        await drop_pg_database(url, base=base)


async def _execute(url: str, sql: str, **params: object) -> list[tuple[object, ...]]:
    engine = make_engine(url, poolclass=pool.NullPool)
    try:
        async with engine.begin() as conn:
            result = await conn.execute(text(sql), params)
            return [tuple(r) for r in result] if result.returns_rows else []
    finally:
        await engine.dispose()


async def test_0003_keeps_processed_updates_and_downgrades(empty_url: str) -> None:
    await migrate(empty_url, "0002")
    await _execute(
        empty_url,
        "INSERT INTO processed_updates (update_id, processed_at) VALUES (41, :at), (42, :at)",
        at=NOW,
    )
    await migrate(empty_url, "0003_ops")  # this revision, not whatever head is now
    assert await current_revision(empty_url) == "0003_ops"
    rows = await _execute(empty_url, "SELECT bot_id, update_id FROM processed_updates ORDER BY 2")
    assert rows == [(0, 41), (0, 42)]
    # Another bot's update 41 is a row of its own.
    await _execute(
        empty_url,
        "INSERT INTO processed_updates (bot_id, update_id, processed_at) VALUES (7, 41, :at)",
        at=NOW,
    )
    await _execute(
        empty_url, "INSERT INTO heartbeats (instance, last_tick_at) VALUES ('a', :at)", at=NOW
    )
    await downgrade(empty_url, "0002")
    assert await current_revision(empty_url) == "0002"
    rows = await _execute(empty_url, "SELECT update_id FROM processed_updates ORDER BY 1")
    assert rows == [(41,)]  # the newest bot's ids are kept, one row per update id
    await migrate(empty_url, "0003_ops")  # this revision, not whatever head is now
    assert await current_revision(empty_url) == "0003_ops"
