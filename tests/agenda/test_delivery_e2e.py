"""End to end over real HTTP: the dispatcher sends through PTB to the local Bot API stand-in.

Covers the Bot API faults (429 with retry_after, 500, a timeout, 403 blocked, 400) and a
restart: an application stopped mid-dispatch and a new one on the same database.
"""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram import Bot
from telegram.ext import ApplicationBuilder
from telegram.request import HTTPXRequest

from bot.agenda import Dispatcher, PlainSender, run_dispatcher
from bot.agenda.testing import FakeClock
from bot.program.loader import Rules
from bot.standin import BotApiStandIn, RecordedCall, faults
from bot.store import agenda, repo
from bot.store.models import Agenda, Runner

Maker = async_sessionmaker[AsyncSession]
TOKEN = "123:ABC"
NOW = datetime(2025, 3, 2, 7, 0, tzinfo=UTC)

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")


@pytest.fixture
async def standin() -> AsyncIterator[BotApiStandIn]:
    server = BotApiStandIn()
    await server.start()
    yield server
    await server.stop()


def _bot(standin: BotApiStandIn, read_timeout: float = 5.0) -> Bot:
    request = HTTPXRequest(connection_pool_size=8, read_timeout=read_timeout)
    return Bot(TOKEN, base_url=standin.base_url, request=request)


async def _notices(
    sm: Maker, chats: Sequence[int], per_chat: int = 1, due: datetime = NOW
) -> list[int]:
    """Runners (chat id = Telegram id) with `per_chat` notices each, all due at NOW."""
    ids = []
    async with sm.begin() as s:
        for chat in chats:
            r = await repo.create_runner(
                s, telegram_user_id=chat, chat_id=chat, timezone="UTC", now=NOW
            )
            ids.append(r.id)
            await agenda.schedule(
                s,
                [
                    agenda.NewItem(
                        scope=agenda.runner_scope(r.id),
                        runner_id=r.id,
                        kind="runner_notice",
                        key=f"notice:{i}",
                        due_at=due,
                        payload={"code": "test"},
                    )
                    for i in range(per_chat)
                ],
                now=NOW,
            )
    return ids


def _delivered(standin: BotApiStandIn, chats: Sequence[int]) -> Counter[int]:
    """How many times each agenda id reached a chat (the text is `<kind> #<id>`)."""
    seen: Counter[int] = Counter()
    for chat in chats:
        for m in standin.messages_to(chat):
            match = re.search(r"#(\d+)$", m.text or "")
            assert match, m.text
            seen[int(match.group(1))] += 1
    return seen


async def _statuses(sm: Maker) -> Counter[str]:
    async with sm() as s:
        return Counter((await s.execute(select(Agenda.status))).scalars())


async def test_bot_api_faults_are_classified(
    sessionmaker: Maker, rules: Rules, standin: BotApiStandIn
) -> None:
    clock = FakeClock(NOW)
    chats = [201, 202, 203, 204, 205, 206]
    await _notices(sessionmaker, chats[:-1])
    # The blocked runner's message comes due after the four faults are used up, so that which
    # row meets which fault does not matter.
    await _notices(sessionmaker, chats[-1:], due=NOW + timedelta(seconds=30))
    async with sessionmaker.begin() as s:
        coach = await repo.add_coach(s, telegram_user_id=900, name="Coach", now=NOW)
        blocked = await repo.get_runner_by_telegram(s, 206)
        assert blocked is not None
        await repo.set_runner_coach(s, blocked.id, coach.id)
    standin.block_user(206)
    for fault in (
        faults.RetryAfter(1),
        faults.ServerError(500),
        faults.Timeout(seconds=2.0),
        faults.BadRequest("chat not found"),
    ):
        standin.inject("sendMessage", fault)

    async with _bot(standin, read_timeout=0.5) as bot:
        d = Dispatcher(
            sessionmaker,
            rules,
            PlainSender(bot),
            owner="faults",
            clock=clock,
            rate_per_second=50,
            max_in_flight=1,
        )
        for _ in range(6):
            await d.tick()
            clock.advance(timedelta(minutes=1))  # past every backoff and retry_after

    status = await _statuses(sessionmaker)
    # 4 chats delivered despite 429, 500 and a timeout; one 400; one blocked; the coach told.
    assert status == {"sent": 5, "failed": 2}
    async with sessionmaker() as s:
        rows = list((await s.execute(select(Agenda))).scalars())
        runner = await s.get(Runner, blocked.id)
    errors = {r.last_error.split(":")[0] for r in rows if r.last_error}
    assert {"RetryAfter", "NetworkError", "TimedOut", "BadRequest", "Forbidden"} <= errors
    failed = {r.last_error for r in rows if r.status == "failed"}
    assert failed == {
        "BadRequest: Chat not found",
        "Forbidden: Forbidden: bot was blocked by the user",
    }
    assert runner is not None and runner.unreachable
    coach_msgs = standin.messages_to(900)
    assert [m.text.split()[0] for m in coach_msgs if m.text] == ["coach_alert"]
    # Nothing lost, nothing doubled: every sendable chat got its message exactly once.
    delivered = _delivered(standin, chats)
    assert sorted(delivered.values()) == [1, 1, 1, 1]
    # The 429 paused all sending for its retry_after, not just the row that met it.
    sends = standin.calls_to("sendMessage")
    flood = next(i for i, c in enumerate(sends) if isinstance(c.fault, faults.RetryAfter))
    assert sends[flood + 1].time - sends[flood].time >= 0.9


async def test_timeout_after_delivery_is_the_documented_duplicate(
    sessionmaker: Maker, rules: Rules, standin: BotApiStandIn
) -> None:
    """Telegram did the work but the answer never arrived: at-least-once means one duplicate."""
    clock = FakeClock(NOW)
    await _notices(sessionmaker, [301])
    standin.inject("sendMessage", faults.Timeout(seconds=2.0, deliver=True))
    async with _bot(standin, read_timeout=0.5) as bot:
        d = Dispatcher(sessionmaker, rules, PlainSender(bot), owner="t", clock=clock)
        await d.tick()
        clock.advance(timedelta(minutes=1))
        await d.tick()
    assert list(_delivered(standin, [301]).values()) == [2]
    assert await _statuses(sessionmaker) == {"sent": 1}


async def _wait_sent(standin: BotApiStandIn, n: int, within: float = 20.0) -> None:
    def enough(calls: Sequence[RecordedCall]) -> bool:
        return sum(1 for c in calls if c.method == "sendMessage" and c.ok) >= n

    await standin.wait_for(enough, timeout=within)


def _app(standin: BotApiStandIn) -> Any:
    return (
        ApplicationBuilder()
        .token(TOKEN)
        .base_url(standin.base_url)
        .base_file_url(standin.base_file_url)
        .build()
    )


async def test_restart_mid_dispatch(
    sessionmaker: Maker, rules: Rules, standin: BotApiStandIn
) -> None:
    """Stop the application while it works through a backlog; a new one finishes the job:
    every message delivered, none twice."""
    standin.latency = 0.02
    clock = FakeClock(NOW)
    chats = list(range(1000, 1040))
    await _notices(sessionmaker, chats)

    first = _app(standin)
    d1 = Dispatcher(
        sessionmaker, rules, PlainSender(first.bot), owner="one", clock=clock, rate_per_second=40
    )
    run_dispatcher(first, d1, interval=1.0)
    await first.initialize()
    await first.start()
    await _wait_sent(standin, 10)
    await first.stop()  # mid-dispatch: in-flight sends finish and are recorded
    await first.shutdown()

    status = await _statuses(sessionmaker)
    assert status["sending"] == 0  # the unsent claimed rows were given back
    assert 10 <= status["sent"] < len(chats)
    assert status["sent"] + status["pending"] == len(chats)

    second = _app(standin)
    d2 = Dispatcher(
        sessionmaker, rules, PlainSender(second.bot), owner="two", clock=clock, rate_per_second=40
    )
    run_dispatcher(second, d2, interval=1.0)
    await second.initialize()
    await second.start()
    try:
        await _wait_sent(standin, len(chats))
        await d2.join()
    finally:
        await second.stop()
        await second.shutdown()
    assert await _statuses(sessionmaker) == {"sent": len(chats)}
    delivered = _delivered(standin, chats)
    assert len(delivered) == len(chats) and set(delivered.values()) == {1}


async def test_abrupt_stop_is_recovered_after_the_lease(
    sessionmaker: Maker, rules: Rules, standin: BotApiStandIn
) -> None:
    """A dispatcher cancelled mid-send (as good as a crash inside the process): its leases
    run out and another instance re-claims; duplicates stay within max_in_flight."""
    standin.latency = 0.05
    clock = FakeClock(NOW)
    chats = list(range(2000, 2030))
    await _notices(sessionmaker, chats)
    async with _bot(standin) as bot:
        d1 = Dispatcher(
            sessionmaker, rules, PlainSender(bot), owner="one", clock=clock, max_in_flight=2
        )
        task = asyncio.create_task(d1.tick())
        await _wait_sent(standin, 5)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        status = await _statuses(sessionmaker)
        assert status["sending"] > 0  # leased, not given back: nobody knows what was sent

        d2 = Dispatcher(sessionmaker, rules, PlainSender(bot), owner="two", clock=clock)
        assert (await d2.tick()).claimed == 0  # the leases still hold
        clock.advance(timedelta(seconds=61))
        await d2.tick()
    assert await _statuses(sessionmaker) == {"sent": len(chats)}
    delivered = _delivered(standin, chats)
    assert len(delivered) == len(chats)
    assert sum(delivered.values()) - len(chats) <= 2
