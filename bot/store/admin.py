"""Entry points for the command line: each takes a database URL, does one job, returns plain
data (dataclasses and dicts), and disposes of its engine. `bot/cli.py` formats the results.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.program.codec import state_from_dict
from bot.program.state import Status
from bot.store import repo
from bot.store.db import current_revision, downgrade, make_engine, make_sessionmaker, migrate
from bot.store.models import Agenda, AgendaStatus, Coach, Program, Runner

__all__ = [
    "AgendaRow",
    "CoachRow",
    "WaitingRunner",
    "add_coach",
    "current_revision",
    "downgrade",
    "export_runner",
    "list_agenda",
    "list_coaches",
    "migrate",
    "waiting_for_clinician",
]

DEFAULT_STATUSES = (AgendaStatus.PENDING.value, AgendaStatus.FAILED.value)


@asynccontextmanager
async def _session(url: str) -> AsyncIterator[AsyncSession]:
    engine = make_engine(url)
    try:
        async with make_sessionmaker(engine).begin() as session:
            yield session
    finally:
        await engine.dispose()


@dataclass(frozen=True, slots=True)
class AgendaRow:
    """One line of `boneload agenda`. Times are ISO 8601; `due_local` is in the recipient's
    time zone. No payload: it may hold health answers."""

    id: int
    kind: str
    key: str
    status: str
    runner_id: int | None
    coach_id: int | None
    due_utc: str
    due_local: str
    timezone: str
    attempts: int
    last_error: str | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _local(instant: datetime, tz: str) -> str:
    try:
        return instant.astimezone(ZoneInfo(tz)).isoformat()
    except (ZoneInfoNotFoundError, ValueError):
        return instant.isoformat()


async def list_agenda(
    url: str,
    *,
    statuses: Sequence[str] = DEFAULT_STATUSES,
    runner_id: int | None = None,
    limit: int = 200,
) -> list[AgendaRow]:
    """Scheduled messages, soonest first: pending and failed by default (`sending` rows are
    included with pending, as they are on their way)."""
    wanted = set(statuses)
    if AgendaStatus.PENDING.value in wanted:
        wanted.add(AgendaStatus.SENDING.value)
    stmt = (
        select(Agenda, Runner.timezone, Coach.timezone)
        .outerjoin(Runner, Runner.id == Agenda.runner_id)
        .outerjoin(Coach, Coach.id == Agenda.coach_id)
        .where(Agenda.status.in_(sorted(wanted)))
        .order_by(Agenda.due_at, Agenda.id)
        .limit(limit)
    )
    if runner_id is not None:
        stmt = stmt.where(Agenda.runner_id == runner_id)
    async with _session(url) as session:
        rows = (await session.execute(stmt)).all()
    out = []
    for a, runner_tz, coach_tz in rows:
        tz = (coach_tz if a.coach_id is not None else runner_tz) or "UTC"
        out.append(
            AgendaRow(
                id=a.id,
                kind=a.kind,
                key=a.key,
                status=a.status,
                runner_id=a.runner_id,
                coach_id=a.coach_id,
                due_utc=a.due_at.astimezone(UTC).isoformat(),
                due_local=_local(a.due_at, tz),
                timezone=tz,
                attempts=a.attempts,
                last_error=a.last_error,
            )
        )
    return out


@dataclass(frozen=True, slots=True)
class CoachRow:
    id: int
    telegram_user_id: int
    name: str
    timezone: str
    active: bool
    runners: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


async def add_coach(
    url: str, telegram_user_id: int, name: str, *, timezone: str = "UTC"
) -> CoachRow:
    """Register (or rename and re-activate) a coach."""
    async with _session(url) as session:
        coach = await repo.add_coach(
            session,
            telegram_user_id=telegram_user_id,
            name=name,
            timezone=timezone,
            now=datetime.now(UTC),
        )
        n = len(await repo.list_runners_of_coach(session, coach.id))
        return CoachRow(coach.id, coach.telegram_user_id, coach.name, coach.timezone, True, n)


async def list_coaches(url: str) -> list[CoachRow]:
    async with _session(url) as session:
        out = []
        for c in await repo.list_coaches(session):
            n = len(await repo.list_runners_of_coach(session, c.id))
            out.append(CoachRow(c.id, c.telegram_user_id, c.name, c.timezone, c.active, n))
        return out


async def export_runner(url: str, runner: int) -> dict[str, Any] | None:
    """A runner's full record by runner id or, failing that, by Telegram user id."""
    async with _session(url) as session:
        found = (
            await session.execute(
                select(Runner.id)
                .where(or_(Runner.id == runner, Runner.telegram_user_id == runner))
                .order_by((Runner.id != runner).asc())
                .limit(1)
            )
        ).scalar_one_or_none()
        if found is None:
            return None
        return await repo.export_runner(session, found)


# Re-exported so the CLI needs one import for everything database-related.
_ = (current_revision, downgrade, migrate)


@dataclass(frozen=True, slots=True)
class WaitingRunner:
    """A runner waiting for a clinician's act. Runner id only: no names, no answers."""

    runner_id: int
    waiting_for: str  # "red_flag" | "escalated" | "clearance"
    since: str | None  # ISO 8601 UTC, when the stop began (None for a clearance)
    has_coach: bool
    acknowledged_by: str | None  # "coach:3" / "operator:Name"; None: nobody yet
    overdue: bool  # a stop unacknowledged for longer than the reminder delay

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


async def waiting_for_clinician(
    url: str, *, now: datetime, remind_after_hours: int
) -> list[WaitingRunner]:
    """Every stopped runner, and every runner with no coach who waits at a gate for a clearance:
    what `doctor` and `agenda` show the operator."""
    stopped = [Status.RED_FLAG.value, Status.ESCALATED.value]
    stmt = (
        select(Program.runner_id, Program.state, Runner.coach_id)
        .join(Runner, Runner.id == Program.runner_id)
        .where(or_(Program.status.in_(stopped), Runner.coach_id.is_(None)))
        .order_by(Program.runner_id)
    )
    async with _session(url) as session:
        rows = (await session.execute(stmt)).all()
    overdue_before = now - timedelta(hours=remind_after_hours)
    out = []
    for runner_id, raw, coach_id in rows:
        state = state_from_dict(raw)
        if state.status.stopped:
            since = state.flag_since
            out.append(
                WaitingRunner(
                    runner_id=runner_id,
                    waiting_for=state.status.value,
                    since=since.astimezone(UTC).isoformat() if since else None,
                    has_coach=coach_id is not None,
                    acknowledged_by=state.flag_ack,
                    overdue=state.flag_ack is None and (since is None or since <= overdue_before),
                )
            )
        elif state.gate is not None and state.gate.awaiting_clearance:
            out.append(WaitingRunner(runner_id, "clearance", None, False, None, False))
    return out
