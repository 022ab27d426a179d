"""The runner <-> coach thread: a runner's message to their coach, a coach's message to their
runner, the coach told when a runner joins through their invite, and the open alerts a coach
is shown.

Every message is a `messages` row and an agenda row written in one transaction (the update's
turn), so it reaches the other side even if Telegram is briefly unreachable, and it is part of
the runner's record: exported with it, erased with it. Texts are never logged.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.program.decision import MessageKind
from bot.services.deps import Deps
from bot.services.turn import reading, wake_agenda, writing
from bot.store import agenda, alerts, repo, thread
from bot.store.agenda import NewItem
from bot.store.thread import Direction

log = logging.getLogger(__name__)

TEXT_MAX = 3500  # a Telegram message holds 4096 characters; room for the header


class NotTheirRunner(Exception):
    """No such runner, or another coach's: the same answer for both."""


@dataclass(frozen=True, slots=True)
class Sent:
    message_id: int
    to_name: str


async def runner_to_coach(d: Deps, runner_id: int, text: str) -> Sent | None:
    """The runner's words to their coach (None: no active coach to send them to)."""
    now = d.clock()
    async with writing(d) as s:
        r = await repo.get_runner(s, runner_id)
        coach = await repo.get_coach(s, r.coach_id) if r is not None and r.coach_id else None
        if coach is None or not coach.active:
            return None
        mid = await thread.add(s, runner_id, coach.id, Direction.TO_COACH, text[:TEXT_MAX], at=now)
        payload: dict[str, Any] = {"reason": "runner_message", "message": mid}
        payload.update(await _where_they_are(s, d, runner_id))
        await _to_coach(s, runner_id, coach.id, f"msg:{mid}", payload, now)
        name = coach.name
    wake_agenda(d, runner_id)
    log.info("runner wrote to their coach", extra={"runner_id": runner_id})
    return Sent(mid, name)


async def coach_to_runner(
    d: Deps, coach_id: int, coach_name: str, runner_id: int, text: str
) -> Sent:
    """A coach's words to their runner, with the coach's name; answers the notices about them."""
    now = d.clock()
    async with writing(d) as s:
        r = await repo.get_runner(s, runner_id)
        if r is None or r.coach_id != coach_id:
            raise NotTheirRunner(runner_id)
        mid = await thread.add(s, runner_id, coach_id, Direction.TO_RUNNER, text[:TEXT_MAX], at=now)
        await agenda.schedule(
            s,
            [
                NewItem(
                    scope=agenda.runner_scope(runner_id),
                    runner_id=runner_id,
                    kind=MessageKind.RUNNER_NOTICE.value,
                    key=f"coach-msg:{mid}",
                    due_at=now,
                    payload={"code": "coach_message", "coach": coach_name, "text": text[:TEXT_MAX]},
                )
            ],
            now=now,
        )
        await alerts.resolve_notices(s, runner_id, actor=f"coach:{coach_id}", now=now)
        name = r.display_name or f"#{r.id}"
    wake_agenda(d, runner_id)
    log.info("coach wrote to a runner", extra={"runner_id": runner_id, "coach_id": coach_id})
    return Sent(mid, name)


async def runner_name(d: Deps, coach_id: int, runner_id: int) -> str:
    """The name of the coach's runner (NotTheirRunner otherwise)."""
    async with reading(d) as s:
        r = await repo.get_runner(s, runner_id)
    if r is None or r.coach_id != coach_id:
        raise NotTheirRunner(runner_id)
    return r.display_name or f"#{r.id}"


async def notices_seen(d: Deps, coach_id: int, runner_id: int) -> None:
    """The coach marks the notices about their runner as dealt with (NotTheirRunner first)."""
    async with writing(d) as s:
        r = await repo.get_runner(s, runner_id)
        if r is None or r.coach_id != coach_id:
            raise NotTheirRunner(runner_id)
        await alerts.resolve_notices(
            s, runner_id, actor=f"coach:{coach_id}", now=d.clock(), action="seen"
        )


async def joined(s: AsyncSession, runner_id: int, coach_id: int, now: datetime) -> None:
    """Tell the coach a runner joined through their invite (the link's own transaction)."""
    key = f"joined:{coach_id}:{now.isoformat()}"  # a later re-link is a new notice
    await _to_coach(s, runner_id, coach_id, key, {"reason": "joined"}, now)


async def message_text(d: Deps, message_id: int) -> str | None:
    async with reading(d) as s:
        line = await thread.get(s, message_id)
    return line.text if line is not None else None


async def recent_thread(d: Deps, runner_id: int, limit: int = 10) -> list[thread.Line]:
    async with reading(d) as s:
        return await thread.recent(s, runner_id, limit=limit)


async def open_alerts(d: Deps, coach_id: int, limit: int = 10) -> list[alerts.OpenAlert]:
    async with reading(d) as s:
        return await alerts.list_open(s, coach_id, limit=limit)


async def count_open_alerts(d: Deps, coach_id: int) -> int:
    async with reading(d) as s:
        return await alerts.count_open(s, coach_id)


async def _where_they_are(s: AsyncSession, d: Deps, runner_id: int) -> dict[str, Any]:
    """Phase and level ids now, for the coach's header (the words are made when it is sent)."""
    loaded = await repo.load_program(s, runner_id)
    if loaded is None:
        return {}
    state = loaded[0]
    phase = d.rules.protocols[state.protocol_id].phase(state.phase_id)
    out: dict[str, Any] = {"phase": state.phase_id}
    if phase.levels:
        out["level"] = phase.levels[state.level].id
    return out


async def _to_coach(
    s: AsyncSession, runner_id: int, coach_id: int, key: str, payload: dict[str, Any], now: datetime
) -> None:
    await agenda.schedule(
        s,
        [
            NewItem(
                scope=agenda.runner_scope(runner_id),
                runner_id=runner_id,
                coach_id=coach_id,
                kind=MessageKind.COACH_NOTE.value,
                key=key,
                due_at=now,
                payload=payload,
            )
        ],
        now=now,
    )
