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
