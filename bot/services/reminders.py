"""A runner's reminders: "Later today" (snooze) and the session-timer switch.

A snooze is durable: one agenda row, a session reminder keyed `snooze:<seq>:<when>`, written in
the press's own turn, so a restart cannot lose it. When it falls due the ticker re-checks it like
any reminder (dropped if the session was reported, moved or paused meanwhile). When is decided
by the engine's pure `later_today`; this module only stores it.
"""

from __future__ import annotations

from datetime import datetime

from bot.program.decision import MessageKind
from bot.program.snooze import later_today
from bot.program.state import ProgramState
from bot.services.deps import Deps
from bot.services.turn import reading, writing
from bot.store import agenda, repo

__all__ = ["set_timer", "snooze", "snooze_key", "timer_on"]


def snooze_key(seq: int, due: datetime) -> str:
    return f"snooze:{seq}:{due:%Y%m%dT%H%M}"


async def snooze(d: Deps, runner_id: int, state: ProgramState) -> datetime | None:
    """Re-send today's reminder later today; the instant (UTC), or None when no slot is left
    today outside the runner's quiet hours. The caller has checked the session is open today."""
    assert state.next is not None
    now = d.clock()
    due = later_today(now, state.profile.timezone, d.rules.scheduling)
    if due is None:
        return None
    seq = state.next.seq
    item = agenda.NewItem(
        scope=agenda.runner_scope(runner_id),
        runner_id=runner_id,
        kind=MessageKind.SESSION_REMINDER.value,
        key=snooze_key(seq, due),
        due_at=due,
        payload={"seq": seq, "day": state.next.day.isoformat(), "snoozed": True},
    )
    async with writing(d) as s:
        await agenda.cancel_snoozes(s, runner_id, seq, now=now)  # one repeat at a time
        await agenda.schedule(s, [item], now=now)
    return due


async def timer_on(d: Deps, runner_id: int) -> bool:
    """Does the runner want the session timer with their run reminders (on unless turned off)?"""
    async with reading(d) as s:
        runner = await repo.get_runner(s, runner_id)
    return runner is None or runner.session_timer


async def set_timer(d: Deps, runner_id: int, on: bool) -> None:
    async with writing(d) as s:
        await repo.set_session_timer(s, runner_id, on)
