"""What a runner's own update schedules for now (a notice, their coach's alert) goes out at once,
not behind a morning's backlog in the send budget; and it still counts in that budget."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.agenda.dispatcher import Dispatcher
from bot.agenda.ratelimit import RateLimiter
from bot.agenda.testing import FakeClock, FakeSender
from bot.program.decision import MessageKind
from bot.program.loader import Rules
from bot.store import agenda
from bot.store.testing import enrol_runner

Maker = async_sessionmaker[AsyncSession]
T0 = datetime(2025, 3, 3, 7, 0, tzinfo=UTC)


async def _notices(sm: Maker, runner_ids: list[int], key: str, due: datetime) -> None:
    async with sm.begin() as session:
        await agenda.schedule(
            session,
            [
                agenda.NewItem(
                    scope=agenda.runner_scope(rid),
                    runner_id=rid,
                    coach_id=None,
                    kind=MessageKind.RUNNER_NOTICE.value,
                    key=key,
                    due_at=due,
                    payload={"text": "x"},
                )
                for rid in runner_ids
            ],
            now=due,
        )


async def test_an_urgent_runner_is_sent_before_the_backlog(
    sessionmaker: Maker, rules: Rules
) -> None:
    clock = FakeClock(T0)
    sender = FakeSender(clock)
    backlog = [
        await enrol_runner(sessionmaker, rules, telegram_user_id=1000 + i, now=T0 - timedelta(1))
        for i in range(30)
    ]
    pressing = await enrol_runner(sessionmaker, rules, telegram_user_id=999, now=T0)
    await _notices(sessionmaker, backlog, "morning", T0 - timedelta(minutes=5))
    # 30 rows at 20 a second: about a second and a half of bulk sending.
    dispatcher = Dispatcher(
        sessionmaker, rules, sender, owner="t", clock=clock, rate_per_second=20.0, batch=10
    )
    tick = asyncio.create_task(dispatcher.tick())
    while len(sender.sent) < 2:  # the bulk is under way (bounded by the tick finishing)
        await asyncio.sleep(0)
        assert not tick.done()
    await _notices(sessionmaker, [pressing], "answer", T0)
    stats = await dispatcher.send_urgent(frozenset({pressing}))
    await tick
    assert stats.sent == 1
    order = [s.item.chat_id for s in sender.sent]
    # Sent while the backlog was still going out, not after all of it.
    assert order.index(999) < len(order) - 10, order


async def test_an_urgent_send_counts_in_the_budget() -> None:
    limiter = RateLimiter(10.0, tolerance=0.0)
    loop = asyncio.get_running_loop()
    assert limiter.take_now()
    start = loop.time()
    assert await limiter.acquire()
    # The bulk sender's slot moved one interval behind the urgent send.
    assert loop.time() - start >= 0.09
    limiter.pause(5.0)
    assert not limiter.take_now()  # flood control holds urgent sends too
