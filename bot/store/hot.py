"""The statements every update runs, built once per database dialect and reused.

Building a SQLAlchemy statement and its cache key costs about ten times executing it (see
bench/update_cost.py): these are built at their first use on a dialect and kept, with every
value a bound parameter. Upserts differ between SQLite and PostgreSQL only in the insert
construct, hence one statement per dialect.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from sqlalchemy import Executable, Table, bindparam, delete, or_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from bot.store.models import Agenda, AgendaStatus, Dialog, ProcessedUpdate, Program, SessionRecord

_programs = cast(Table, Program.__table__)
_sessions = cast(Table, SessionRecord.__table__)
_dialogs = cast(Table, Dialog.__table__)
_processed = cast(Table, ProcessedUpdate.__table__)
_agenda = cast(Table, Agenda.__table__)

# Rows a later schedule may overwrite. Terminal rows keep their key: a key is delivered once.
REPLACEABLE = (AgendaStatus.PENDING.value, AgendaStatus.CANCELLED.value)

_INSERTS: dict[str, Any] = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}
_built: dict[tuple[str, str], Executable] = {}


def _once(name: str, session: AsyncSession, build: Callable[[Any], Any]) -> Executable:
    dialect = session.get_bind().dialect.name
    stmt = _built.get((name, dialect))
    if stmt is None:
        insert = _INSERTS.get(dialect)
        if insert is None:
            raise NotImplementedError(f"unsupported database {dialect}")
        stmt = _built[(name, dialect)] = cast(Executable, build(insert))
    return stmt


# Dialect-independent statements: built at import.
WRITE_STATE = (
    update(_programs)
    .where(
        _programs.c.runner_id == bindparam("b_runner_id"),
        _programs.c.version == bindparam("b_expected"),
    )
    .values(
        version=_programs.c.version + 1,
        state=bindparam("b_state"),
        phase_id=bindparam("b_phase_id"),
        level=bindparam("b_level"),
        status=bindparam("b_status"),
        updated_at=bindparam("b_now"),
    )
    .returning(_programs.c.version)
)
CANCEL_KEYS = (
    update(_agenda)
    .where(
        _agenda.c.scope == bindparam("b_scope"),
        _agenda.c.key.in_(bindparam("b_keys", expanding=True)),
        _agenda.c.status == AgendaStatus.PENDING.value,
    )
    .values(status=AgendaStatus.CANCELLED.value, finished_at=bindparam("b_now"))
)
REPORT_SESSION = (
    update(_sessions)
    .where(
        _sessions.c.runner_id == bindparam("b_runner_id"),
        _sessions.c.seq == bindparam("b_seq"),
    )
    .values(
        outcome=bindparam("b_outcome"),
        pain_during=bindparam("b_pain_during"),
        rpe=bindparam("b_rpe"),
        reported_at=bindparam("b_now"),
    )
)
CLEAR_DIALOG = delete(_dialogs).where(_dialogs.c.telegram_user_id == bindparam("b_user_id"))


def plan_session(session: AsyncSession) -> Executable:
    """Insert the planned session, or move it while it is still unreported."""

    def build(insert: Any) -> Any:
        stmt = insert(_sessions)
        return stmt.on_conflict_do_update(
            index_elements=[_sessions.c.runner_id, _sessions.c.seq],
            set_={
                "day": stmt.excluded.day,
                "kind": stmt.excluded.kind,
                "prescription": stmt.excluded.prescription,
            },
            where=_sessions.c.outcome.is_(None),
        )

    return _once("plan_session", session, build)


def schedule(session: AsyncSession) -> Executable:
    """Insert agenda rows, or re-schedule a row with the same (scope, key) still replaceable."""

    def build(insert: Any) -> Any:
        stmt = insert(_agenda)
        ex = stmt.excluded
        return stmt.on_conflict_do_update(
            index_elements=[_agenda.c.scope, _agenda.c.key],
            set_={
                "kind": ex.kind,
                "due_at": ex.due_at,
                "payload": ex.payload,
                "status": ex.status,
                "coach_id": ex.coach_id,
                "attempts": 0,
                "next_attempt_at": ex.next_attempt_at,
                "finished_at": ex.finished_at,
                "last_error": ex.last_error,
                "lease_owner": None,
                "lease_token": None,
                "lease_expires_at": None,
            },
            # Not IN (...): an expanding parameter cannot run as executemany.
            where=or_(*(_agenda.c.status == status for status in REPLACEABLE)),
        )

    return _once("schedule", session, build)


def save_dialog(session: AsyncSession) -> Executable:
    """Insert the user's dialog row or replace it (one per user)."""

    def build(insert: Any) -> Any:
        stmt = insert(_dialogs)
        return stmt.on_conflict_do_update(
            index_elements=[_dialogs.c.telegram_user_id],
            set_={
                name: stmt.excluded[name]
                for name in ("runner_id", "flow", "step", "data", "updated_at")
            },
        )

    return _once("save_dialog", session, build)


def claim_update(session: AsyncSession) -> Executable:
    """Record an update id as handled; a second record of the same id does nothing."""

    def build(insert: Any) -> Any:
        return insert(_processed).on_conflict_do_nothing(
            index_elements=[_processed.c.bot_id, _processed.c.update_id]
        )

    return _once("claim_update", session, build)
