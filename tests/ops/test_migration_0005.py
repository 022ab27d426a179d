"""Revision 0005_invite_protocol on a database with data: invites from before it keep their rows
with no protocol (their runners follow the site's), a new invite can carry one, and the downgrade
goes back to 0007_reminder_messages cleanly."""

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
REVISION = "0005_invite_protocol"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    if request.param == "sqlite":
        yield sqlite_url(tmp_path / "empty.db")
        return
    base = require_pg()
    url = await create_pg_database(base, prefix="boneload_invproto")
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


async def test_0005_keeps_invites_and_downgrades(empty_url: str) -> None:
    await migrate(empty_url, "0007_reminder_messages")
    await _execute(
        empty_url,
        "INSERT INTO coaches (id, telegram_user_id, name, timezone, active, created_at) "
        "VALUES (1, 500, 'Dr A', 'UTC', true, :at)",
        at=NOW,
    )
    await _execute(
        empty_url,
        "INSERT INTO invites (code, coach_id, created_at, expires_at) VALUES ('old', 1, :at, :at)",
        at=NOW,
    )
    await migrate(empty_url, REVISION)
    assert await current_revision(empty_url) == REVISION
    assert await _execute(empty_url, "SELECT code, protocol_id FROM invites") == [("old", None)]
    await _execute(
        empty_url,
        "INSERT INTO invites (code, coach_id, created_at, expires_at, protocol_id) "
        "VALUES ('new', 1, :at, :at, 'zero-pain-low-risk')",
        at=NOW,
    )
    rows = await _execute(empty_url, "SELECT code, protocol_id FROM invites ORDER BY code")
    assert rows == [("new", "zero-pain-low-risk"), ("old", None)]
    await downgrade(empty_url, "0007_reminder_messages")
    assert await current_revision(empty_url) == "0007_reminder_messages"
    assert await _execute(empty_url, "SELECT code FROM invites ORDER BY code") == [
        ("new",),
        ("old",),
    ]
    await migrate(empty_url, REVISION)
    assert await current_revision(empty_url) == REVISION
