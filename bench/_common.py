"""Shared bits of the benchmarks: databases to run on, bulk-loading due messages."""

from __future__ import annotations

import os
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.store import agenda
from bot.store.db import migrate
from bot.store.models import Runner
from bot.store.testing import PG_URL_ENV, create_pg_database, drop_pg_database, sqlite_url

ROOT = Path(__file__).resolve().parents[1]
RULES = ROOT / "rules"


def pg_base() -> str | None:
    return os.environ.get(PG_URL_ENV) or os.environ.get("BENCH_PG_URL")


@asynccontextmanager
async def database(kind: str) -> AsyncIterator[str]:
    """A fresh, migrated database: "sqlite" (a temp file) or "postgresql" (durable commits)."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            url = sqlite_url(Path(tmp) / "bench.db")
            await migrate(url)
            yield url
        return
    base = pg_base()
    if not base:
        raise SystemExit(f"set {PG_URL_ENV} for the PostgreSQL runs")
    url = await create_pg_database(
        base, prefix="boneload_bench", durable=os.environ.get("BENCH_NOT_DURABLE") is None
    )
    try:
        await migrate(url)
        yield url
    finally:
        await drop_pg_database(url, base=base)


async def load_due(
    sm: async_sessionmaker[AsyncSession],
    *,
    runners: int,
    per_runner: int,
    due: datetime,
    first_chat: int = 1_000_000,
    chunk: int = 2000,
) -> None:
    """`runners` runners (chat id = Telegram id), each with `per_runner` notices due at `due`."""
    async with sm.begin() as s:
        await s.execute(
            insert(Runner),
            [
                {
                    "telegram_user_id": first_chat + i,
                    "chat_id": first_chat + i,
                    "timezone": "UTC",
                    "language": "en",
                    "created_at": due,
                    "unreachable": False,
                }
                for i in range(runners)
            ],
        )
    items = []
    for rid in range(1, runners + 1):
        for j in range(per_runner):
            items.append(
                agenda.NewItem(agenda.runner_scope(rid), "runner_notice", f"n:{j}", due, {}, rid)
            )
    for start in range(0, len(items), chunk):
        async with sm.begin() as s:
            await agenda.schedule(s, items[start : start + chunk], now=due)
