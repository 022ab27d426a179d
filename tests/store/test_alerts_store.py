"""The alerts table's life cycle in SQL: one open alert per runner and reason (a reminder or a
re-send moves it, never doubles it), acknowledged and resolved only by a clinician's recorded
act, listed most urgent first for the runner's own coach only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import texts_coach as tc
from bot.program.loader import Rules
from bot.store import alerts, repo
from bot.store.models import AlertState
from bot.store.testing import enrol_runner

Maker = async_sessionmaker[AsyncSession]
NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


async def _coach(sm: Maker, tg: int, name: str) -> int:
    async with sm.begin() as s:
        return (await repo.add_coach(s, telegram_user_id=tg, name=name, now=NOW)).id


async def test_open_ack_resolve_and_list(sessionmaker: Maker, rules: Rules) -> None:
    sam = await _coach(sessionmaker, 9001, "Sam")
    kim = await _coach(sessionmaker, 9002, "Kim")
    anna = await enrol_runner(sessionmaker, rules, telegram_user_id=9101, now=NOW, coach_id=sam)
    ben = await enrol_runner(sessionmaker, rules, telegram_user_id=9102, now=NOW, coach_id=sam)
    async with sessionmaker.begin() as s:
        await alerts.open_alert(s, ben, sam, "clearance_needed", now=NOW)
        await alerts.open_alert(s, anna, sam, "red_flag", now=NOW + timedelta(minutes=1))
        # The same stop again (a review request about it): still one alert.
        await alerts.open_alert(s, anna, sam, "review_requested", now=NOW, stopped="red_flag")
        await alerts.open_alert(s, anna, sam, "runner_message", now=NOW)  # no life cycle
    async with sessionmaker() as s:
        listed = await alerts.list_open(s, sam)
        assert [(a.runner_id, a.reason) for a in listed] == [
            (anna, "red_flag"),
            (ben, "clearance_needed"),
        ]
        assert await alerts.list_open(s, kim) == [] and await alerts.count_open(s, kim) == 0
    later = NOW + timedelta(hours=1)
    async with sessionmaker.begin() as s:
        await alerts.settle_after_act(
            s,
            anna,
            actor=f"coach:{sam}",
            action="record",
            stopped=True,
            acknowledged_by=f"coach:{sam}",
            awaiting_clearance=False,
            now=later,
        )
    async with sessionmaker() as s:
        (a, b) = await alerts.list_open(s, sam)
        assert (a.state, a.acked_by, a.acked_at) == (AlertState.ACKNOWLEDGED, f"coach:{sam}", later)
        assert b.state == AlertState.NEW
    async with sessionmaker.begin() as s:
        await alerts.settle_after_act(
            s,
            anna,
            actor=f"coach:{sam}",
            action="resume",
            stopped=False,
            acknowledged_by=None,
            awaiting_clearance=False,
            now=later,
        )
    async with sessionmaker() as s:
        assert [a.runner_id for a in await alerts.list_open(s, sam)] == [ben]
        assert await alerts.count_open(s, sam) == 1
    # Linked to Kim now: the open alert is Kim's to see, not Sam's.
    async with sessionmaker.begin() as s:
        await repo.set_runner_coach(s, ben, kim)
    async with sessionmaker() as s:
        assert await alerts.count_open(s, sam) == 0 and await alerts.count_open(s, kim) == 1


def test_every_alert_with_a_life_cycle_has_words_in_the_alerts_list() -> None:
    """/alerts names each open alert's reason in words, never its code."""
    assert set(alerts.URGENCY) <= set(tc.ALERT_WHAT)
