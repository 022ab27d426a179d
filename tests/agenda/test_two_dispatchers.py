"""Two dispatchers (two engines, two connection pools: as good as two instances) share one
PostgreSQL agenda of 10,000 due messages: every message goes out exactly once."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from bot.agenda import Dispatcher
from bot.agenda.testing import FakeClock, FakeSender
from bot.program.loader import Rules
from bot.store import agenda, repo
from bot.store.db import make_engine, make_sessionmaker
from bot.store.models import Agenda

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

NOW = datetime(2025, 3, 2, 7, 0, tzinfo=UTC)
RUNNERS = 100
PER_RUNNER = 100


async def test_two_dispatchers_share_10000(pg_url: str, rules: Rules) -> None:
    engines = [make_engine(pg_url, pool_size=8) for _ in range(2)]
    try:
        sm = make_sessionmaker(engines[0])
        async with sm.begin() as s:
            for chat in range(RUNNERS):
                r = await repo.create_runner(
                    s,
                    telegram_user_id=10_000 + chat,
                    chat_id=10_000 + chat,
                    timezone="UTC",
                    now=NOW,
                )
                await agenda.schedule(
                    s,
                    [
                        agenda.NewItem(
                            agenda.runner_scope(r.id), "runner_notice", f"n:{i}", NOW, {}, r.id
                        )
                        for i in range(PER_RUNNER)
                    ],
                    now=NOW,
                )
        clock = FakeClock(NOW)
        senders = [FakeSender(clock) for _ in engines]
        dispatchers = [
            Dispatcher(
                make_sessionmaker(engine),
                rules,
                sender,
                owner=f"instance-{i}",
                clock=clock,
                rate_per_second=100_000,
                batch=200,
                max_in_flight=16,
            )
            for i, (engine, sender) in enumerate(zip(engines, senders, strict=True))
        ]
        started = time.perf_counter()
        stats = await asyncio.gather(*(d.tick() for d in dispatchers))
        elapsed = time.perf_counter() - started

        total = RUNNERS * PER_RUNNER
        ids = Counter(s.item.id for sender in senders for s in sender.sent)
        assert len(ids) == total  # 0 lost
        assert max(ids.values()) == 1  # 0 duplicates
        assert sum(s.sent for s in stats) == total
        assert all(s.sent > total // 10 for s in stats), [s.sent for s in stats]  # both worked
        async with sm() as s:
            statuses = dict(
                (await s.execute(select(Agenda.status, func.count()).group_by(Agenda.status))).all()
            )
        assert statuses == {"sent": total}
        print(f"two dispatchers: {total} in {elapsed:.1f}s, split {[s.sent for s in stats]}")
    finally:
        for engine in engines:
            await engine.dispose()
