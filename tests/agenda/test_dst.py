"""DST: the engine schedules and the dispatcher delivers "07:00 local" at 07:00 local on both
sides of both changes, for Europe/Berlin and America/New_York. Driven by an injected clock that
jumps from one due row to the next (no sleeping, no waiting for real time)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.agenda import Dispatcher
from bot.agenda.testing import FakeClock, FakeSender
from bot.program.loader import Rules
from bot.store.models import Agenda
from bot.store.testing import enrol_runner

Maker = async_sessionmaker[AsyncSession]

# 2025: New York springs forward 9 March and falls back 2 November; Berlin 30 March, 26 October.
WINDOWS = {
    "spring": (datetime(2025, 3, 3, 12, 0, tzinfo=UTC), datetime(2025, 4, 3, tzinfo=UTC)),
    "autumn": (datetime(2025, 10, 20, 12, 0, tzinfo=UTC), datetime(2025, 11, 6, tzinfo=UTC)),
}
CHANGE_DAYS = {
    "spring": {"Europe/Berlin": date(2025, 3, 30), "America/New_York": date(2025, 3, 9)},
    "autumn": {"Europe/Berlin": date(2025, 10, 26), "America/New_York": date(2025, 11, 2)},
}


async def _run_until(d: Dispatcher, sm: Maker, clock: FakeClock, end: datetime) -> None:
    """Jump the clock to each next due row and tick, as a live ticker would see it."""
    while True:
        async with sm() as s:
            nxt = await s.scalar(
                select(func.min(Agenda.next_attempt_at)).where(Agenda.status == "pending")
            )
        if nxt is None or nxt >= end:
            return
        clock.set(max(clock.now, nxt))
        await d.tick()


@pytest.mark.parametrize("season", ["spring", "autumn"])
async def test_reminders_keep_local_time_across_dst(
    sessionmaker: Maker, rules: Rules, season: str
) -> None:
    start, end = WINDOWS[season]
    clock = FakeClock(start)
    sender = FakeSender(clock)
    runners = {
        await enrol_runner(
            sessionmaker, rules, telegram_user_id=1, now=start, timezone="Europe/Berlin"
        ): ("Europe/Berlin", time(7, 0)),
        await enrol_runner(
            sessionmaker, rules, telegram_user_id=2, now=start, timezone="America/New_York"
        ): ("America/New_York", time(7, 0)),
        # 02:30 does not exist in Berlin on the spring day and happens twice in autumn.
        await enrol_runner(
            sessionmaker,
            rules,
            telegram_user_id=3,
            now=start,
            timezone="Europe/Berlin",
            preferred_time=time(2, 30),
        ): (
            "Europe/Berlin",
            time(2, 30),
        ),
    }
    d = Dispatcher(sessionmaker, rules, sender, owner="dst", clock=clock, rate_per_second=1000)
    await _run_until(d, sessionmaker, clock, end)

    by_runner: dict[int, dict[date, datetime]] = {rid: {} for rid in runners}
    for s in sender.sent:
        if s.item.kind == "session_reminder":
            assert s.at == s.item.due_at  # delivered when due, not an hour off
            rid = s.item.runner_id
            assert rid is not None
            tz = ZoneInfo(runners[rid][0])
            by_runner[rid][s.at.astimezone(tz).date()] = s.at
    days = (end - start).days
    for rid, (tzname, wanted) in runners.items():
        tz = ZoneInfo(tzname)
        sent = by_runner[rid]
        assert len(sent) >= days - 3, (tzname, len(sent))  # a session every day, all reminded
        change = CHANGE_DAYS[season][tzname]
        for day in (change - timedelta(days=1), change, change + timedelta(days=1)):
            assert day in sent, (tzname, day)
        for day, at in sent.items():
            local = at.astimezone(tz).time()
            if wanted == time(2, 30) and season == "spring" and day == change:
                # A wall time that does not exist moves forward by the gap (calendar.py).
                assert local == time(3, 30), (day, at)
            else:
                assert local == wanted, (tzname, day, at, local)
    # The UTC instants really moved by the hour at each runner's change.
    for rid, (tzname, wanted) in runners.items():
        if wanted != time(7, 0):
            continue
        change = CHANGE_DAYS[season][tzname]
        before = by_runner[rid][change - timedelta(days=1)]
        after = by_runner[rid][change + timedelta(days=1)]
        gap = (after - before) - timedelta(days=2)
        assert gap == (timedelta(hours=-1) if season == "spring" else timedelta(hours=1))
