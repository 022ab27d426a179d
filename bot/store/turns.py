"""The reads an update starts with, in one statement: was it handled already, who sent it (the
runner and their program) and where their conversation stands.

Built once at import, with bound parameters: a statement rebuilt on every update costs ten times
its execution (SQLAlchemy's construction and cache key), and this one runs for every update.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, exists, literal, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from bot.store.models import Dialog, ProcessedUpdate, Program, Runner

__all__ = ["DialogRow", "RunnerRow", "TurnRows", "load_turn", "runner_by_telegram"]

_runners = Runner.__table__
_programs = Program.__table__
_dialogs = Dialog.__table__
_processed = ProcessedUpdate.__table__

_seen = (
    exists()
    .where(
        _processed.c.bot_id == bindparam("bot_id"),
        _processed.c.update_id == bindparam("update_id"),
    )
    .label("seen")
)
_RUNNER_COLUMNS = (
    _runners.c.id,
    _runners.c.telegram_user_id,
    _runners.c.chat_id,
    _runners.c.coach_id,
    _runners.c.unreachable,
    _runners.c.display_name,
    _runners.c.language,
    _programs.c.state,
    _programs.c.version,
)
_RUNNER_BY_TELEGRAM = (
    select(*_RUNNER_COLUMNS)
    .select_from(_runners)
    .outerjoin(_programs, _programs.c.runner_id == _runners.c.id)
    .where(_runners.c.telegram_user_id == bindparam("user_id"))
)
_one = select(literal(1).label("one")).subquery("one")
_LOAD_TURN = (
    select(
        _seen,
        *_RUNNER_COLUMNS,
        _dialogs.c.step.label("dialog_step"),
        _dialogs.c.data.label("dialog_data"),
        _dialogs.c.runner_id.label("dialog_runner_id"),
    )
    .select_from(_one)
    .outerjoin(_runners, _runners.c.telegram_user_id == bindparam("user_id"))
    .outerjoin(_programs, _programs.c.runner_id == _runners.c.id)
    .outerjoin(_dialogs, _dialogs.c.telegram_user_id == bindparam("user_id"))
)


@dataclass(frozen=True, slots=True)
class RunnerRow:
    id: int
    telegram_user_id: int
    chat_id: int
    coach_id: int | None
    unreachable: bool
    display_name: str | None
    language: str
    state: dict[str, Any] | None  # the program's stored state, not decoded
    version: int | None


@dataclass(frozen=True, slots=True)
class DialogRow:
    step: str
    data: dict[str, Any]
    runner_id: int | None


@dataclass(frozen=True, slots=True)
class TurnRows:
    seen: bool
    runner: RunnerRow | None
    dialog: DialogRow | None


async def load_turn(
    conn: AsyncConnection | AsyncSession, *, bot_id: int, update_id: int, user_id: int | None
) -> TurnRows:
    """Whether (bot, update) was handled already, the sender's runner row with their program,
    and their dialog; one statement. `user_id` None (an update from no user) finds neither."""
    row = (
        await conn.execute(
            _LOAD_TURN,
            {"bot_id": bot_id, "update_id": update_id, "user_id": user_id if user_id else -1},
        )
    ).one()
    runner = _runner(row) if row.id is not None else None
    dialog = None
    if row.dialog_step is not None:
        dialog = DialogRow(row.dialog_step, dict(row.dialog_data or {}), row.dialog_runner_id)
    return TurnRows(bool(row.seen), runner, dialog)


async def runner_by_telegram(
    conn: AsyncConnection | AsyncSession, telegram_user_id: int
) -> RunnerRow | None:
    """The runner with this Telegram id and their program (None: not a runner)."""
    row = (await conn.execute(_RUNNER_BY_TELEGRAM, {"user_id": telegram_user_id})).one_or_none()
    return _runner(row) if row is not None else None


def _runner(row: Any) -> RunnerRow:
    return RunnerRow(
        row.id,
        row.telegram_user_id,
        row.chat_id,
        row.coach_id,
        bool(row.unreachable),
        row.display_name,
        row.language,
        row.state,
        row.version,
    )
