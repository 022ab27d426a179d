"""Stale prompts after downtime (docs/delivery.md, "Late messages"): what still makes sense late
is sent late; what does not is dropped as expired. Injected clock, real databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.agenda.dispatcher import EXPIRES_AFTER, Dispatcher
from bot.agenda.testing import FakeClock, FakeSender
from bot.program.decision import MessageKind
from bot.program.loader import Rules
from bot.store import agenda
from bot.store.models import Agenda
from bot.store.testing import enrol_runner

Maker = async_sessionmaker[AsyncSession]
T0 = datetime(2025, 3, 2, 18, 0, tzinfo=UTC)  # a Sunday evening: the weekly sleep check


async def _schedule(sm: Maker, rid: int, kind: MessageKind, key: str, due: datetime) -> None:
    async with sm.begin() as s:
        await agenda.schedule(
            s,
            [agenda.NewItem(agenda.runner_scope(rid), kind.value, key, due, {}, rid)],
            now=due,
        )


async def _statuses(sm: Maker) -> dict[str, tuple[str, str | None]]:
    async with sm() as s:
        rows = (await s.execute(select(Agenda.key, Agenda.status, Agenda.last_error))).all()
    return {k: (st, err) for k, st, err in rows if k.startswith("t:")}


async def test_a_habit_prompt_days_late_is_dropped_and_a_notice_still_goes(
    sessionmaker: Maker, rules: Rules
) -> None:
    clock = FakeClock(T0)
    sender = FakeSender(clock)
    rid = await enrol_runner(sessionmaker, rules, telegram_user_id=301, now=T0)
    d = Dispatcher(sessionmaker, rules, sender, owner="t", clock=clock, rate_per_second=1000)
    await _schedule(sessionmaker, rid, MessageKind.HABIT, "t:sleep-late", T0)
    await _schedule(sessionmaker, rid, MessageKind.RUNNER_NOTICE, "t:notice-late", T0)
    # Down for 8 days: the "this week" sleep check would now be about the wrong week.
    clock.set(T0 + timedelta(days=8))
    await d.tick()
    got = await _statuses(sessionmaker)
    assert got["t:sleep-late"][0] == "dropped"
    assert got["t:notice-late"][0] == "sent"
    sent_kinds = [s.item.kind for s in sender.sent if s.item.key.startswith("t:")]
    assert sent_kinds == [MessageKind.RUNNER_NOTICE.value]


async def test_a_habit_prompt_within_a_day_of_due_still_goes(
    sessionmaker: Maker, rules: Rules
) -> None:
    clock = FakeClock(T0)
    sender = FakeSender(clock)
    rid = await enrol_runner(sessionmaker, rules, telegram_user_id=302, now=T0)
    d = Dispatcher(sessionmaker, rules, sender, owner="t", clock=clock, rate_per_second=1000)
    await _schedule(sessionmaker, rid, MessageKind.HABIT, "t:sleep", T0)
    clock.set(T0 + EXPIRES_AFTER[MessageKind.HABIT])  # the last moment it is still meaningful
    await d.tick()
    assert (await _statuses(sessionmaker))["t:sleep"][0] == "sent"
