"""Repositories: every read and write the bot makes, as plain async functions over a session.

Handlers and the agenda dispatcher never write SQL; they call these inside one transaction per
update (`async with sessionmaker.begin() as session: ...`). Functions flush but never commit:
the caller's transaction decides, so a state change and the messages it schedules are committed
together or not at all.

The heart is `apply_decision`: it stores what `bot.program.engine.decide` returned (new state,
audit row, scheduled and cancelled messages) under optimistic concurrency.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, delete, func, select, update
from sqlalchemy import insert as insert_into
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.program.codec import state_from_dict, state_to_dict
from bot.program.decision import Act, Decision, MessageKind
from bot.program.state import ProgramState
from bot.store import agenda, alerts, hot
from bot.store.agenda import NewItem, jsonable
from bot.store.models import (
    Agenda,
    AgendaStatus,
    Alert,
    Answer,
    Coach,
    DecisionRecord,
    Dialog,
    Invite,
    OverlayVersion,
    ProcessedUpdate,
    Program,
    Runner,
    SessionRecord,
    ThreadMessage,
)

__all__ = [
    "ConcurrentUpdate",
    "RedeemResult",
    "add_coach",
    "answers_by_seq",
    "apply_decision",
    "claim_update",
    "clear_dialog",
    "coach_of",
    "count_rows",
    "create_invite",
    "create_runner",
    "delete_runner",
    "export_runner",
    "get_coach",
    "get_coach_by_telegram",
    "get_runner",
    "get_runner_by_telegram",
    "invite_with_coach",
    "list_coaches",
    "list_decisions",
    "list_runners_of_coach",
    "load_dialog",
    "load_program",
    "mark_reachable",
    "mark_unreachable",
    "prune_processed_updates",
    "record_answers",
    "record_report",
    "redeem_invite",
    "reported_sessions",
    "save_dialog",
    "set_coach_active",
    "set_runner_coach",
    "set_session_timer",
    "update_runner",
]

INVITE_TTL = timedelta(days=7)


class ConcurrentUpdate(Exception):
    """Someone else changed the runner's program since it was read. Roll back, reload, retry."""

    def __init__(self, runner_id: int, expected: int | None, found: int | None) -> None:
        super().__init__(f"runner {runner_id}: program version {found}, expected {expected}")
        self.runner_id = runner_id
        self.expected = expected
        self.found = found


def _now(at: datetime | None) -> datetime:
    return at if at is not None else datetime.now(UTC)


# --- runners ---------------------------------------------------------------------------------


async def create_runner(
    session: AsyncSession,
    *,
    telegram_user_id: int,
    chat_id: int,
    timezone: str,
    now: datetime,
    language: str = "en",
    display_name: str | None = None,
    coach_id: int | None = None,
) -> Runner:
    runner = Runner(
        telegram_user_id=telegram_user_id,
        chat_id=chat_id,
        timezone=timezone,
        language=language,
        display_name=display_name,
        coach_id=coach_id,
        created_at=now,
        unreachable=False,
    )
    session.add(runner)
    await session.flush()
    return runner


async def get_runner(session: AsyncSession, runner_id: int) -> Runner | None:
    return await session.get(Runner, runner_id)


async def get_runner_by_telegram(session: AsyncSession, telegram_user_id: int) -> Runner | None:
    result = await session.execute(
        select(Runner).where(Runner.telegram_user_id == telegram_user_id)
    )
    return result.scalar_one_or_none()


_RUNNER_FIELDS = frozenset({"chat_id", "display_name", "language", "timezone"})


async def update_runner(session: AsyncSession, runner_id: int, **changes: Any) -> None:
    """Change profile fields: chat_id, display_name, language, timezone."""
    unknown = set(changes) - _RUNNER_FIELDS
    if unknown:
        raise TypeError(f"update_runner cannot change {sorted(unknown)}")
    if changes:
        await session.execute(update(Runner).where(Runner.id == runner_id).values(**changes))


async def set_session_timer(session: AsyncSession, runner_id: int, on: bool) -> None:
    """The runner's switch: the session timer with run reminders, or not."""
    await session.execute(update(Runner).where(Runner.id == runner_id).values(session_timer=on))


async def coach_of(session: AsyncSession, runner_id: int) -> int | None:
    """The id of the runner's coach (None: no coach linked, or no such runner)."""
    coach_id = await session.scalar(select(Runner.coach_id).where(Runner.id == runner_id))
    return int(coach_id) if coach_id is not None else None


async def set_runner_coach(session: AsyncSession, runner_id: int, coach_id: int | None) -> None:
    await session.execute(update(Runner).where(Runner.id == runner_id).values(coach_id=coach_id))


async def mark_unreachable(session: AsyncSession, runner_id: int, *, now: datetime) -> bool:
    """Flag the runner as blocked. True only for the call that changed the flag, so exactly
    one caller goes on to tell the coach."""
    result = await session.execute(
        update(Runner)
        .where(Runner.id == runner_id, Runner.unreachable.is_(False))
        .values(unreachable=True, unreachable_since=now)
    )
    return int(result.rowcount) == 1  # type: ignore[attr-defined]


async def mark_reachable(session: AsyncSession, runner_id: int) -> bool:
    """The runner wrote to the bot again: they can be messaged. True if the flag was set."""
    result = await session.execute(
        update(Runner)
        .where(Runner.id == runner_id, Runner.unreachable.is_(True))
        .values(unreachable=False, unreachable_since=None)
    )
    return int(result.rowcount) == 1  # type: ignore[attr-defined]


async def delete_runner(session: AsyncSession, runner_id: int) -> bool:
    """Delete the runner and, through ON DELETE CASCADE, everything of theirs: program,
    sessions, answers, decisions, scheduled messages, dialog. Invites they used lose the link."""
    runner = await session.get(Runner, runner_id)
    if runner is None:
        return False
    # A dialog begun before the runner row existed is keyed by Telegram user only.
    await session.execute(delete(Dialog).where(Dialog.telegram_user_id == runner.telegram_user_id))
    await session.execute(delete(Runner).where(Runner.id == runner_id))
    session.expunge(runner)
    return True


# --- coaches and invites ---------------------------------------------------------------------


async def add_coach(
    session: AsyncSession,
    *,
    telegram_user_id: int,
    name: str,
    now: datetime,
    timezone: str = "UTC",
) -> Coach:
    """Register a coach, or rename and re-activate the one with this Telegram id."""
    coach = await get_coach_by_telegram(session, telegram_user_id)
    if coach is None:
        coach = Coach(
            telegram_user_id=telegram_user_id,
            name=name,
            timezone=timezone,
            active=True,
            created_at=now,
        )
        session.add(coach)
    else:
        coach.name, coach.timezone, coach.active = name, timezone, True
    await session.flush()
    return coach


async def get_coach(session: AsyncSession, coach_id: int) -> Coach | None:
    return await session.get(Coach, coach_id)


async def get_coach_by_telegram(session: AsyncSession, telegram_user_id: int) -> Coach | None:
    result = await session.execute(select(Coach).where(Coach.telegram_user_id == telegram_user_id))
    return result.scalar_one_or_none()


async def set_coach_language(session: AsyncSession, coach_id: int, language: str) -> None:
    await session.execute(update(Coach).where(Coach.id == coach_id).values(language=language))


async def list_coaches(session: AsyncSession, *, active_only: bool = False) -> list[Coach]:
    stmt = select(Coach).order_by(Coach.id)
    if active_only:
        stmt = stmt.where(Coach.active.is_(True))
    return list((await session.execute(stmt)).scalars())


async def set_coach_active(session: AsyncSession, coach_id: int, active: bool) -> None:
    await session.execute(update(Coach).where(Coach.id == coach_id).values(active=active))


async def list_runners_of_coach(session: AsyncSession, coach_id: int) -> list[Runner]:
    stmt = select(Runner).where(Runner.coach_id == coach_id).order_by(Runner.id)
    return list((await session.execute(stmt)).scalars())


async def create_invite(
    session: AsyncSession,
    coach_id: int,
    *,
    now: datetime,
    ttl: timedelta = INVITE_TTL,
    protocol_id: str | None = None,
) -> Invite:
    """A fresh single-use code; URL-safe, so it fits a `t.me/<bot>?start=<code>` deep link.
    `protocol_id`: the protocol chosen for the runner who enrols with it (None: their site's)."""
    invite = Invite(
        code=secrets.token_urlsafe(9),
        coach_id=coach_id,
        created_at=now,
        expires_at=now + ttl,
        protocol_id=protocol_id,
    )
    session.add(invite)
    await session.flush()
    return invite


@dataclass(frozen=True, slots=True)
class RedeemResult:
    ok: bool
    reason: str  # "linked", "unknown", "expired", "used", "inactive"
    coach_id: int | None = None
    protocol_id: str | None = None  # the protocol the invite carries (when linked)


async def redeem_invite(
    session: AsyncSession, code: str, runner_id: int, *, now: datetime
) -> RedeemResult:
    """Link the runner to the invite's coach, once. Atomic: of two runners racing for one code,
    one gets "linked" and the other "used"."""
    result = await session.execute(
        update(Invite)
        .where(Invite.code == code, Invite.used_by.is_(None), Invite.expires_at > now)
        .values(used_by=runner_id, used_at=now)
        .returning(Invite.coach_id, Invite.protocol_id)
    )
    row = result.one_or_none()
    coach_id, protocol_id = (row[0], row[1]) if row is not None else (None, None)
    if coach_id is None:
        invite = (
            await session.execute(select(Invite).where(Invite.code == code))
        ).scalar_one_or_none()
        if invite is None:
            return RedeemResult(False, "unknown")
        if invite.used_at is not None:
            return RedeemResult(False, "used", invite.coach_id)
        return RedeemResult(False, "expired", invite.coach_id)
    coach = await session.get(Coach, coach_id)
    if coach is None or not coach.active:
        return RedeemResult(False, "inactive", coach_id)
    await set_runner_coach(session, runner_id, coach_id)
    return RedeemResult(True, "linked", coach_id, protocol_id)


async def invite_with_coach(session: AsyncSession, code: str) -> tuple[Invite, Coach] | None:
    """The invite with this code and its coach (None: no such code)."""
    row = (
        await session.execute(
            select(Invite, Coach)
            .join(Coach, Coach.id == Invite.coach_id)
            .where(Invite.code == code)
        )
    ).one_or_none()
    return (row[0], row[1]) if row is not None else None


# --- program state and the decision log ------------------------------------------------------


async def load_program(session: AsyncSession, runner_id: int) -> tuple[ProgramState, int] | None:
    """The runner's program state and its version (pass it back to `apply_decision`)."""
    row = (
        await session.execute(
            select(Program.state, Program.version).where(Program.runner_id == runner_id)
        )
    ).one_or_none()
    if row is None:
        return None
    return state_from_dict(row.state), row.version


async def apply_decision(
    session: AsyncSession,
    runner_id: int,
    decision: Decision,
    *,
    event: str,
    actor: str,
    expected_version: int | None,
    at: datetime | None = None,
) -> int:
    """Store a decision in the caller's transaction; return the program's new version.

    - state: written with `version + 1`. With `expected_version` set, the write happens only if
      the stored version still equals it, else `ConcurrentUpdate` (roll back, reload, decide
      again). `expected_version=0` (or None) with no stored program inserts version 1.
      A stale decision changes nothing and keeps the version.
    - audit: one `decisions` row with the actions and rule ids.
    - sessions: the planned session is recorded (prescribed); a missed one is marked missed.
    - agenda: each message upserted by (runner, key) — a pending or cancelled row is
      re-scheduled, a row already sending/sent/dropped/failed is left alone (a key is delivered
      at most once); `decision.cancel` keys still pending become cancelled. Coach alerts go to
      the runner's coach; without one they are stored `dropped` ("no coach").
    """
    now = _now(at)
    if decision.stale:
        current = await session.scalar(
            select(Program.version).where(Program.runner_id == runner_id)
        )
        version = current or 0
    else:
        version = await _write_state(session, runner_id, decision.state, expected_version, now)
        await _sync_sessions(session, runner_id, decision)
        if decision.state.overlay is not None:  # only a tailored runner can have a new version
            await _record_overlay(session, runner_id, decision, now)

    await session.execute(
        _INSERT_DECISION,
        {
            "runner_id": runner_id,
            "at": now,
            "actor": actor,
            "event": event,
            "actions": [
                {"act": a.act.value, "rule": a.rule, "detail": jsonable(a.detail)}
                for a in decision.actions
            ],
            "rules": " ".join(decision.rules),
            "stale": decision.stale,
            "version": version,
        },
    )

    scope = agenda.runner_scope(runner_id)
    await agenda.cancel(session, scope, decision.cancel, now=now)
    if decision.messages:
        coach_id: int | None = None
        if any(m.kind is MessageKind.COACH_ALERT for m in decision.messages):
            coach_id = await coach_of(session, runner_id)
        items = []
        for m in decision.messages:
            alert = m.kind is MessageKind.COACH_ALERT
            orphan = alert and coach_id is None
            items.append(
                NewItem(
                    scope=scope,
                    runner_id=runner_id,
                    coach_id=coach_id if alert else None,
                    kind=m.kind.value,
                    key=m.key,
                    due_at=m.due,
                    payload=m.payload,
                    status=AgendaStatus.DROPPED if orphan else AgendaStatus.PENDING,
                    reason="no coach" if orphan else None,
                )
            )
        await agenda.schedule(session, items, now=now)
        if coach_id is not None:
            for m in decision.messages:
                if m.kind is MessageKind.COACH_ALERT and not m.payload.get("reminder"):
                    await alerts.open_alert(
                        session,
                        runner_id,
                        coach_id,
                        str(m.payload.get("reason", "")),
                        now=now,
                        stopped=str(m.payload.get("stopped", "")),
                    )
    if not decision.stale and actor.startswith(("coach:", "operator:")) and event != "CoachLinked":
        # A clinician's recorded act moves the runner's alerts on, in the same transaction.
        st = decision.state
        await alerts.settle_after_act(
            session,
            runner_id,
            actor=actor,
            action=_act_name(decision, event),
            stopped=st.status.stopped,
            acknowledged_by=st.flag_ack,
            awaiting_clearance=st.gate is not None and st.gate.awaiting_clearance,
            now=now,
        )
    await session.flush()
    return version


def _act_name(decision: Decision, event: str) -> str:
    """What the act did (its first action other than bookkeeping), else the event's name."""
    acts = (a.act.value for a in decision.actions if a.act.value not in ("plan", "record"))
    return next(acts, event)


async def _write_state(
    session: AsyncSession,
    runner_id: int,
    state: ProgramState,
    expected_version: int | None,
    now: datetime,
) -> int:
    values = {
        "state": state_to_dict(state),
        "phase_id": state.phase_id,
        "level": state.level,
        "status": state.status.value,
        "updated_at": now,
    }
    if expected_version is not None:
        version = (
            await session.execute(
                hot.WRITE_STATE,
                {
                    "b_runner_id": runner_id,
                    "b_expected": expected_version,
                    "b_state": values["state"],
                    "b_phase_id": values["phase_id"],
                    "b_level": values["level"],
                    "b_status": values["status"],
                    "b_now": now,
                },
            )
        ).scalar_one_or_none()
    else:
        stmt = (
            update(Program)
            .where(Program.runner_id == runner_id)
            .values(version=Program.version + 1, **values)
            .returning(Program.version)
        )
        version = (await session.execute(stmt)).scalar_one_or_none()
    if version is not None:
        return int(version)
    found = await session.scalar(select(Program.version).where(Program.runner_id == runner_id))
    if found is not None or expected_version not in (None, 0):
        raise ConcurrentUpdate(runner_id, expected_version, found)
    try:
        # A savepoint, so that losing an insert race leaves the caller's transaction usable.
        async with session.begin_nested():
            session.add(Program(runner_id=runner_id, version=1, **values))
    except IntegrityError:
        raise ConcurrentUpdate(runner_id, expected_version, None) from None
    return 1


async def _sync_sessions(session: AsyncSession, runner_id: int, decision: Decision) -> None:
    nxt = decision.state.next
    if nxt is not None:
        planned = asdict(nxt.prescription)
        planned["kind"] = nxt.prescription.kind.value
        await session.execute(
            hot.plan_session(session),
            {
                "runner_id": runner_id,
                "seq": nxt.seq,
                "day": nxt.day,
                "kind": nxt.prescription.kind.value,
                "prescription": planned,
            },
        )
    missed = [a.detail["seq"] for a in decision.actions if a.act is Act.MISSED]
    if missed:
        await session.execute(
            update(SessionRecord)
            .where(
                SessionRecord.runner_id == runner_id,
                SessionRecord.seq.in_(missed),
                SessionRecord.outcome.is_(None),
            )
            .values(outcome="missed")
        )


async def record_report(
    session: AsyncSession,
    runner_id: int,
    seq: int,
    *,
    outcome: str,
    pain_during: int | None,
    rpe: int | None,
    at: datetime,
) -> None:
    """What the runner reported for session `seq` (call it with the SessionReported decision)."""
    await session.execute(
        hot.REPORT_SESSION,
        {
            "b_runner_id": runner_id,
            "b_seq": seq,
            "b_outcome": outcome,
            "b_pain_during": pain_during,
            "b_rpe": rpe,
            "b_now": at,
        },
    )


async def record_answers(
    session: AsyncSession,
    runner_id: int,
    stage: str,
    answers: Mapping[str, Any],
    *,
    at: datetime,
    seq: int | None = None,
) -> None:
    """One row per answered question (onboarding, follow-up, gate...), in one statement."""
    if not answers:
        return
    rows = [
        {
            "runner_id": runner_id,
            "seq": seq,
            "stage": stage,
            "question_id": question_id,
            "value": jsonable(value),
            "answered_at": at,
        }
        for question_id, value in answers.items()
    ]
    # Core, not ORM objects: nothing here is read back, and a flush costs ten statements' time.
    await session.execute(_INSERT_ANSWERS, rows)


_INSERT_ANSWERS = insert_into(cast(Table, Answer.__table__))
_INSERT_DECISION = insert_into(cast(Table, DecisionRecord.__table__))


async def reported_sessions(
    session: AsyncSession, runner_id: int, *, limit: int
) -> list[SessionRecord]:
    """The newest `limit` sessions with an outcome (reported, skipped or missed), oldest first."""
    rows = (
        await session.scalars(
            select(SessionRecord)
            .where(SessionRecord.runner_id == runner_id, SessionRecord.outcome.is_not(None))
            .order_by(SessionRecord.seq.desc())
            .limit(limit)
        )
    ).all()
    return list(reversed(rows))


async def answers_by_seq(
    session: AsyncSession, runner_id: int, *, stage: str, question_id: str
) -> dict[int | None, Any]:
    """One question's answers of one stage, by session number."""
    rows = await session.execute(
        select(Answer.seq, Answer.value).where(
            Answer.runner_id == runner_id, Answer.stage == stage, Answer.question_id == question_id
        )
    )
    return {seq: value for seq, value in rows}


async def list_decisions(
    session: AsyncSession, runner_id: int, *, limit: int = 50
) -> list[DecisionRecord]:
    """The newest decisions first: the audit trail a coach reads."""
    stmt = (
        select(DecisionRecord)
        .where(DecisionRecord.runner_id == runner_id)
        .order_by(DecisionRecord.at.desc(), DecisionRecord.id.desc())
        .limit(limit)
    )
    return list((await session.execute(stmt)).scalars())


# --- dialogs and duplicate updates -----------------------------------------------------------


async def load_dialog(session: AsyncSession, telegram_user_id: int) -> Dialog | None:
    return await session.get(Dialog, telegram_user_id)


async def save_dialog(
    session: AsyncSession,
    telegram_user_id: int,
    *,
    flow: str,
    step: str,
    data: Mapping[str, Any],
    now: datetime,
    runner_id: int | None = None,
) -> None:
    """Remember where the user's conversation stands (one dialog per user; replaces)."""
    values = {
        "telegram_user_id": telegram_user_id,
        "runner_id": runner_id,
        "flow": flow,
        "step": step,
        "data": jsonable(dict(data)),
        "updated_at": now,
    }
    await session.execute(hot.save_dialog(session), values)
    existing = session.identity_map.get(session.identity_key(Dialog, (telegram_user_id,)))
    if existing is not None:
        # The upsert bypassed the ORM; make a later load_dialog() read the new row.
        session.expire(existing)


async def clear_dialog(session: AsyncSession, telegram_user_id: int) -> None:
    await session.execute(hot.CLEAR_DIALOG, {"b_user_id": telegram_user_id})


async def claim_update(
    session: AsyncSession, update_id: int, *, now: datetime, bot_id: int = 0
) -> bool:
    """True the first time an update id is seen; False for a redelivered duplicate. Call it in
    the same transaction as the update's effects, so a crash forgets both or neither.
    `bot_id`: update ids are counted per bot (the token's numeric prefix)."""
    result = await session.execute(
        hot.claim_update(session),
        {"bot_id": bot_id, "update_id": update_id, "processed_at": now},
    )
    return int(result.rowcount) == 1  # type: ignore[attr-defined]


async def prune_processed_updates(session: AsyncSession, *, before: datetime) -> int:
    """Forget update ids older than `before` (Telegram redelivers for at most a day)."""
    result = await session.execute(
        delete(ProcessedUpdate).where(ProcessedUpdate.processed_at < before)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


# --- export ----------------------------------------------------------------------------------


def _row_dict(obj: Any) -> dict[str, Any]:
    table = obj.__table__
    return {c.key: _plain(getattr(obj, c.key)) for c in table.columns}


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


async def export_runner(session: AsyncSession, runner_id: int) -> dict[str, Any] | None:
    """Everything stored about one runner, JSON-ready (for the runner's export and the CLI)."""
    runner = await session.get(Runner, runner_id)
    if runner is None:
        return None

    async def rows(model: Any, *order: Any, where: Any = None) -> list[dict[str, Any]]:
        cond = where if where is not None else model.runner_id == runner_id
        result = await session.execute(select(model).where(cond).order_by(*order))
        return [_row_dict(r) for r in result.scalars()]

    program = await session.get(Program, runner_id)
    coach = await session.get(Coach, runner.coach_id) if runner.coach_id else None
    return {
        "format": "boneload-export/1",
        "runner": _row_dict(runner),
        "coach": {"id": coach.id, "name": coach.name} if coach else None,
        "program": _row_dict(program) if program else None,
        "sessions": await rows(SessionRecord, SessionRecord.seq),
        "answers": await rows(Answer, Answer.answered_at, Answer.id),
        "decisions": await rows(DecisionRecord, DecisionRecord.at, DecisionRecord.id),
        "agenda": await rows(Agenda, Agenda.due_at, Agenda.id),
        "dialog": await rows(
            Dialog, Dialog.updated_at, where=Dialog.telegram_user_id == runner.telegram_user_id
        ),
        "invites_used": await rows(Invite, Invite.used_at, where=Invite.used_by == runner_id),
        "overlay_versions": await rows(OverlayVersion, OverlayVersion.version),
        "alerts": await rows(Alert, Alert.created_at, Alert.id),
        "messages": await rows(ThreadMessage, ThreadMessage.at, ThreadMessage.id),
    }


async def overlay_history(session: AsyncSession, runner_id: int) -> list[OverlayVersion]:
    """Every version of the coach's tailoring of this runner, oldest first."""
    result = await session.execute(
        select(OverlayVersion)
        .where(OverlayVersion.runner_id == runner_id)
        .order_by(OverlayVersion.version)
    )
    return list(result.scalars())


async def _record_overlay(
    session: AsyncSession, runner_id: int, decision: Decision, now: datetime
) -> None:
    """A tailoring decision's new overlay version, in the decision's own transaction."""
    for a in decision.actions:
        if a.act is Act.TAILOR and "overlay" in a.detail:
            session.add(
                OverlayVersion(
                    runner_id=runner_id,
                    version=int(a.detail["version"]),
                    overlay=jsonable(a.detail["overlay"]),
                    by=str(a.detail["by"]),
                    at=now,
                )
            )


async def count_rows(session: AsyncSession, model: Any) -> int:
    """How many rows a table holds (tests, benchmarks, `boneload doctor`)."""
    return int(await session.scalar(select(func.count()).select_from(model)) or 0)
