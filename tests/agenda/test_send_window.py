"""The in-flight window follows Bot API latency x rate (bot.agenda.window): wide enough to
carry the send budget at 100-600 ms round trips, never wider than SEND_IN_FLIGHT (the crash
duplicates bound)."""

from __future__ import annotations

import asyncio
import math
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.agenda.dispatcher import Dispatcher
from bot.agenda.sender import AgendaItem
from bot.agenda.testing import FakeClock, FakeSender
from bot.agenda.window import SendWindow, default_ceiling
from bot.program.loader import Rules
from bot.program.state import ProgramState
from bot.store import agenda, repo

Maker = async_sessionmaker[AsyncSession]
NOW = datetime(2025, 3, 2, 7, 0, tzinfo=UTC)


async def _notices(sm: Maker, chats: int) -> None:
    """One notice due now for each of `chats` runners (so the per-chat lock holds nobody up)."""
    async with sm.begin() as s:
        for chat in range(chats):
            r = await repo.create_runner(
                s, telegram_user_id=5000 + chat, chat_id=5000 + chat, timezone="UTC", now=NOW
            )
            item = agenda.NewItem(agenda.runner_scope(r.id), "runner_notice", "n", NOW, {}, r.id)
            await agenda.schedule(s, [item], now=NOW)


# --- the rule ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rate", "latency", "window"),
    [
        (25, 0.0, 4),  # floor: where it starts, and enough for a local Bot API
        (25, 0.1, 5),  # ceil(25 x 0.1 x 1.5) + 1
        (25, 0.3, 13),
        (25, 0.6, 24),
        (12.5, 0.6, 13),  # two instances, each with half the budget
        (25, 5.0, 25),  # ceiling: one second of the budget
    ],
)
def test_window_is_latency_times_rate_with_headroom(
    rate: float, latency: float, window: int
) -> None:
    w = SendWindow(rate, ceiling=default_ceiling(rate))
    assert w.limit == 4  # nothing observed yet
    w.observe(latency)
    assert w.limit == window
    if window < w.ceiling:
        assert w.limit >= rate * latency  # enough sends on the wire to carry the rate


def test_window_follows_the_mean_latency_down_and_is_never_below_floor() -> None:
    w = SendWindow(25, ceiling=25)
    w.observe(0.6)
    assert w.limit == 24
    for _ in range(60):
        w.observe(0.1)
    assert w.limit == 5  # shrinks again: fewer sends a crash could duplicate
    w.observe(-3.0)  # a wall clock stepped back
    assert w.limit >= w.floor and w.latency is not None and w.latency >= 0


def test_one_slow_answer_moves_the_window_a_little() -> None:
    w = SendWindow(25, ceiling=25)
    for _ in range(20):
        w.observe(0.1)
    w.observe(5.0)  # a single timeout-length answer
    assert w.limit == math.ceil(25 * (0.1 + 0.1 * 4.9) * 1.5) + 1 < 25


def test_ceiling_below_the_floor_is_the_window() -> None:
    w = SendWindow(25, ceiling=1)  # SEND_IN_FLIGHT=1: at most one duplicate after a crash
    w.observe(0.6)
    assert (w.floor, w.limit) == (1, 1)


# --- the semaphore -------------------------------------------------------------------------


async def test_holders_never_exceed_the_limit_and_a_grown_window_lets_waiters_in() -> None:
    w = SendWindow(100, ceiling=20)
    gate = asyncio.Event()
    inside: list[int] = []
    peak = 0

    async def hold(n: int) -> None:
        nonlocal peak
        async with w:
            inside.append(n)
            peak = max(peak, w.in_flight)
            await gate.wait()
            inside.remove(n)

    tasks = [asyncio.create_task(hold(n)) for n in range(12)]
    for _ in range(3):
        await asyncio.sleep(0)  # let every task reach the window
    assert sorted(inside) == [0, 1, 2, 3]  # the floor, first come first served
    w.observe(0.05)  # ceil(100 x 0.05 x 1.5) + 1 = 9
    for _ in range(3):
        await asyncio.sleep(0)
    assert sorted(inside) == list(range(9))
    gate.set()
    await asyncio.gather(*tasks)
    assert (peak, w.in_flight) == (9, 0)


async def test_a_cancelled_waiter_gives_its_place_on() -> None:
    w = SendWindow(25, ceiling=1)
    entered = asyncio.Event()
    release = asyncio.Event()

    async def first() -> None:
        async with w:
            entered.set()
            await release.wait()

    holder = asyncio.create_task(first())
    await entered.wait()
    waiter = asyncio.create_task(w.__aenter__())
    await asyncio.sleep(0)
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    release.set()
    await holder
    async with w:  # the slot was not lost to the cancelled waiter
        assert w.in_flight == 1
    assert w.in_flight == 0


# --- in the dispatcher ---------------------------------------------------------------------


@pytest.mark.parametrize(("rate", "latency_ms"), [(25, 100), (25, 300), (25, 600), (12.5, 600)])
async def test_dispatcher_window_grows_with_latency_times_rate(
    sessionmaker: Maker, rules: Rules, rate: float, latency_ms: int
) -> None:
    """The Bot API's answers take `latency` on the injected clock: the window opens to cover
    rate x latency, which a fixed 4 would not (4 / 0.3 s = 13 of 25 messages a second)."""
    clock = FakeClock(NOW)
    latency = timedelta(milliseconds=latency_ms)
    sender = FakeSender(clock, latency=latency)
    await _notices(sessionmaker, 3)
    d = Dispatcher(sessionmaker, rules, sender, owner="w", clock=clock, rate_per_second=rate)
    assert d.in_flight_window == 4
    assert (await d.tick()).sent == 3
    needed = rate * latency.total_seconds()
    assert needed <= d.in_flight_window == math.ceil(needed * 1.5) + 1


async def test_dispatcher_window_stops_at_send_in_flight(sessionmaker: Maker, rules: Rules) -> None:
    clock = FakeClock(NOW)
    sender = FakeSender(clock, latency=timedelta(milliseconds=600))
    await _notices(sessionmaker, 2)
    d = Dispatcher(
        sessionmaker, rules, sender, owner="w", clock=clock, rate_per_second=25, max_in_flight=8
    )
    await d.tick()
    assert d.in_flight_window == 8


class _GatedSender:
    """The first send answers after `latency` (on the injected clock); the rest wait at a gate,
    so the test sees how many the dispatcher puts on the wire at once."""

    def __init__(self, clock: FakeClock, latency: timedelta) -> None:
        self._clock = clock
        self._latency = latency
        self.gate = asyncio.Event()
        self.on_the_wire = 0
        self.peak = 0
        self._entered = asyncio.Condition()
        self._first = True

    async def send(self, item: AgendaItem, state: ProgramState | None) -> int | None:
        if self._first:
            self._first = False
            self._clock.advance(self._latency)
            return 1
        async with self._entered:
            self.on_the_wire += 1
            self.peak = max(self.peak, self.on_the_wire)
            self._entered.notify_all()
        await self.gate.wait()
        self.on_the_wire -= 1
        return 2

    async def wait_on_the_wire(self, n: int) -> None:
        async with asyncio.timeout(10), self._entered:
            await self._entered.wait_for(lambda: self.on_the_wire >= n)


async def test_dispatcher_puts_the_whole_window_on_the_wire(
    sessionmaker: Maker, rules: Rules
) -> None:
    clock = FakeClock(NOW)
    sender = _GatedSender(clock, timedelta(milliseconds=60))
    await _notices(sessionmaker, 30)
    # 250/s x 60 ms needs 15 in flight; the window opens to ceil(15 x 1.5) + 1 = 24.
    d = Dispatcher(sessionmaker, rules, sender, owner="w", clock=clock, rate_per_second=250)
    tick = asyncio.create_task(d.tick())
    await sender.wait_on_the_wire(24)
    assert d.in_flight_window == 24
    sender.gate.set()
    assert (await tick).sent == 30
    assert sender.peak == 24  # and never more: SEND_IN_FLIGHT-sized crash bound holds
