"""Operations bookkeeping: processed update ids, ticker heartbeats, and the health figures.

Read and written by the Telegram layer (`bot.telegram.app`), the agenda ticker and the health
check (`bot.runtime.health`); nothing here holds health data.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.program.decision import MessageKind
from bot.program.state import Status
from bot.store import agenda
from bot.store.models import Agenda, AgendaStatus, Heartbeat, ProcessedUpdate, Program, Runner

_AWAITING_COACH = (Status.RED_FLAG.value, Status.ESCALATED.value)

__all__ = [
    "beat",
    "health_figures",
    "prune",
]


async def beat(session: AsyncSession, instance: str, now: datetime) -> None:
    """Record that `instance`'s agenda ticker ran at `now`."""
    insert = agenda.dialect_insert(session)
    stmt = insert(Heartbeat).values(instance=instance[:200], last_tick_at=now)
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=[Heartbeat.instance], set_={"last_tick_at": stmt.excluded.last_tick_at}
        )
    )


async def prune(session: AsyncSession, *, now: datetime, keep: timedelta) -> int:
    """Forget processed update ids and heartbeats older than `keep` (a bounded window)."""
    before = now - keep
    n = await session.execute(delete(ProcessedUpdate).where(ProcessedUpdate.processed_at < before))
    await session.execute(delete(Heartbeat).where(Heartbeat.last_tick_at < before))
    return int(n.rowcount)  # type: ignore[attr-defined]


async def health_figures(session: AsyncSession, now: datetime) -> dict[str, Any]:
    """Last tick's age, the oldest due-but-unsent row's lag, unacknowledged coach alerts."""
    last_tick = (
        await session.execute(
            select(Heartbeat.last_tick_at).order_by(Heartbeat.last_tick_at.desc()).limit(1)
        )
    ).scalar_one_or_none()
    oldest = (
        await session.execute(
            select(Agenda.next_attempt_at)
            .where(
                Agenda.status.in_([AgendaStatus.PENDING.value, AgendaStatus.SENDING.value]),
                Agenda.next_attempt_at <= now,
            )
            .order_by(Agenda.next_attempt_at)
            .limit(1)
        )
    ).scalar_one_or_none()
    alerts = await session.scalar(
        select(func.count())
        .select_from(Agenda)
        .where(
            Agenda.kind == MessageKind.COACH_ALERT.value,
            Agenda.status.in_([AgendaStatus.PENDING.value, AgendaStatus.SENDING.value]),
        )
    )
    # Alerted and waiting for a coach's decision: red flag or escalation not yet cleared.
    waiting = await session.scalar(
        select(func.count())
        .select_from(Program)
        .join(Runner, Runner.id == Program.runner_id)
        .where(Program.status.in_(_AWAITING_COACH), Runner.coach_id.is_not(None))
    )
    return {
        "last_tick": last_tick.isoformat() if last_tick else None,
        "last_tick_age_s": round((now - last_tick).total_seconds(), 1) if last_tick else None,
        "agenda_lag_s": round(max((now - oldest).total_seconds(), 0.0), 1) if oldest else 0.0,
        "alerts_unsent": int(alerts or 0),
        "alerts_open": int(waiting or 0),
    }
