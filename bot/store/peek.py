"""Read-only looks at the agenda for the sandbox's clock and for operators."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.store.models import Agenda, AgendaStatus


async def next_due(session: AsyncSession) -> datetime | None:
    """When the earliest pending row may next be sent (None when nothing is pending)."""
    row = (
        await session.execute(
            select(Agenda.next_attempt_at)
            .where(Agenda.status == AgendaStatus.PENDING.value)
            .order_by(Agenda.next_attempt_at)
            .limit(1)
        )
    ).scalar_one_or_none()
    return row  # ordered select, not min(): keeps the column's UTC type on SQLite


async def list_agenda(session: AsyncSession, *, limit: int = 200) -> list[dict[str, object]]:
    """Pending, sending and failed rows, soonest first, with the recipient's local due time."""
    from bot.program.calendar import zone
    from bot.store.models import Coach, Runner

    stmt = (
        select(Agenda, Runner.timezone, Coach.timezone)
        .outerjoin(Runner, Runner.id == Agenda.runner_id)
        .outerjoin(Coach, Coach.id == Agenda.coach_id)
        .where(
            Agenda.status.in_(
                [AgendaStatus.PENDING.value, AgendaStatus.SENDING.value, AgendaStatus.FAILED.value]
            )
        )
        .order_by(Agenda.due_at, Agenda.id)
        .limit(limit)
    )
    out: list[dict[str, object]] = []
    for row, runner_tz, coach_tz in (await session.execute(stmt)).all():
        tz = (coach_tz if row.coach_id else runner_tz) or "UTC"
        out.append(
            {
                "id": row.id,
                "status": row.status,
                "kind": row.kind,
                "key": row.key,
                "runner_id": row.runner_id,
                "coach_id": row.coach_id,
                "due_utc": f"{row.due_at:%Y-%m-%d %H:%M}Z",
                "due_local": f"{row.due_at.astimezone(zone(tz)):%Y-%m-%d %H:%M} {tz}",
                "attempts": row.attempts,
                "last_error": row.last_error,
            }
        )
    return out


async def agenda_counts(session: AsyncSession) -> dict[str, object]:
    """Pending and failed rows, and how late the oldest pending row is (agenda lag)."""
    from sqlalchemy import func

    counts = dict(
        (await session.execute(select(Agenda.status, func.count()).group_by(Agenda.status))).all()
    )
    oldest = (
        await session.execute(
            select(Agenda.due_at)
            .where(Agenda.status == AgendaStatus.PENDING.value)
            .order_by(Agenda.due_at)
            .limit(1)
        )
    ).scalar_one_or_none()
    last_sent = (
        await session.execute(
            select(Agenda.sent_at)
            .where(Agenda.sent_at.is_not(None))
            .order_by(Agenda.sent_at.desc())
            .limit(1)
        )
    ).scalar_one_or_none()
    return {
        "last_dispatch": last_sent.isoformat() if last_sent else None,
        "pending": int(counts.get(AgendaStatus.PENDING.value, 0)),
        "failed": int(counts.get(AgendaStatus.FAILED.value, 0)),
        "oldest_pending_due": oldest.isoformat() if oldest else None,
    }
