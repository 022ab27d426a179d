"""The runner <-> coach message thread in SQL. Message texts are health data: nothing here logs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.store.models import ThreadMessage

__all__ = ["Direction", "Line", "add", "get", "recent"]


class Direction(StrEnum):
    TO_COACH = "to_coach"
    TO_RUNNER = "to_runner"


@dataclass(frozen=True, slots=True)
class Line:
    id: int
    runner_id: int
    coach_id: int | None
    direction: Direction
    text: str
    at: datetime


def _line(m: ThreadMessage) -> Line:
    return Line(m.id, m.runner_id, m.coach_id, Direction(m.direction), m.text, m.at)


async def add(
    session: AsyncSession,
    runner_id: int,
    coach_id: int | None,
    direction: Direction,
    text: str,
    *,
    at: datetime,
) -> int:
    row = ThreadMessage(
        runner_id=runner_id, coach_id=coach_id, direction=direction.value, text=text, at=at
    )
    session.add(row)
    await session.flush()
    return int(row.id)


async def get(session: AsyncSession, message_id: int) -> Line | None:
    row = await session.get(ThreadMessage, message_id)
    return _line(row) if row is not None else None


async def recent(session: AsyncSession, runner_id: int, *, limit: int = 10) -> list[Line]:
    """The thread's last `limit` messages, oldest first."""
    rows = await session.execute(
        select(ThreadMessage)
        .where(ThreadMessage.runner_id == runner_id)
        .order_by(ThreadMessage.at.desc(), ThreadMessage.id.desc())
        .limit(limit)
    )
    return list(reversed([_line(m) for m in rows.scalars()]))
