"""Runner workflows: find, enrol, apply an event, remember a conversation, export and delete.

Inside an update every function works in that update's turn (`bot.services.turn`): reads come
from the turn's snapshot or session, writes join its one transaction. Events go through the one
decide-and-store path (`turn.decide_and_store` inside `turn.in_one_transaction`), which starts
again when another update changed the program in between (optimistic concurrency), so two
presses at once never corrupt state: the second sees the moved state and is answered as stale.
"""

from __future__ import annotations

import csv
import io
import json
import logging
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.coach.reasons import rule_words
from bot.conversation.onboarding import enrolled_event
from bot.i18n import _
from bot.localised import texts
from bot.program.calendar import local_date
from bot.program.codec import overlay_to_dict, state_from_dict
from bot.program.decision import Decision, MessageKind
from bot.program.engine import decide, switch_choices
from bot.program.events import CoachLinked, Event, ProtocolSwitched
from bot.program.state import Outcome, ProgramState, Status
from bot.services import messages
from bot.services.deps import Deps
from bot.services.turn import (
    decide_and_store,
    in_one_transaction,
    reading,
    turn_of,
    wake_agenda,
    writing,
)
from bot.store import agenda, repo, turns
from bot.store.agenda import NewItem
from bot.store.turns import DialogRow

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RunnerCtx:
    id: int
    telegram_user_id: int
    chat_id: int
    coach_id: int | None
    unreachable: bool
    display_name: str | None
    state: ProgramState | None
    version: int | None


@dataclass(frozen=True, slots=True)
class DialogView:
    flows: dict[str, dict[str, Any]]
    active: str | None


@dataclass(frozen=True, slots=True)
class EnrolResult:
    runner_id: int
    decision: Decision
    coach_name: str | None
    invite_lost: bool = False  # a code valid at /start was used or expired by the end


def local_today(d: Deps, state: ProgramState) -> date:
    return local_date(d.clock(), state.profile.timezone)


async def find_runner(d: Deps, telegram_user_id: int) -> RunnerCtx | None:
    """The runner and their program: from the turn's first read when it can answer, else one
    query."""
    turn = turn_of(d)
    if turn is not None and turn.knows_runner(telegram_user_id):
        row, state = turn.rows.runner, turn.runner_state()
    else:
        async with reading(d) as s:
            row = await turns.runner_by_telegram(s, telegram_user_id)
        state = state_from_dict(row.state) if row is not None and row.state is not None else None
    if row is None:
        return None
    return RunnerCtx(
        id=row.id,
        telegram_user_id=row.telegram_user_id,
        chat_id=row.chat_id,
        coach_id=row.coach_id,
        unreachable=row.unreachable,
        display_name=row.display_name,
        state=state,
        version=row.version,
    )


async def came_back(d: Deps, runner_id: int) -> bool:
    """A runner marked unreachable (blocked the bot) wrote again: reminders resume."""
    from bot.program.events import TimePassed

    async with writing(d) as s:
        was = await repo.mark_reachable(s, runner_id)
    if was:
        await apply_event(d, runner_id, TimePassed(), actor="engine")
    return was


# --- dialogs: several open flows per user, the latest one active -----------------------------


async def _dialog_row(s: AsyncSession | None, d: Deps, telegram_user_id: int) -> DialogRow | None:
    """Where the user's dialog stands: the turn knows it for its own user, else the database."""
    turn = turn_of(d)
    if turn is not None and turn.user_id == telegram_user_id:
        return turn.dialog
    if s is None:
        async with reading(d) as session:
            row = await repo.load_dialog(session, telegram_user_id)
    else:
        row = await repo.load_dialog(s, telegram_user_id)
    return DialogRow(row.step, dict(row.data), row.runner_id) if row is not None else None


async def load_dialog(d: Deps, telegram_user_id: int) -> DialogView:
    row = await _dialog_row(None, d, telegram_user_id)
    if row is None:
        return DialogView({}, None)
    return DialogView(dict(row.data.get("flows", {})), row.step or None)


async def save_flow(
    d: Deps, telegram_user_id: int, runner_id: int | None, flow: str, data: dict[str, Any]
) -> None:
    async with writing(d) as s:
        await _save_flow(s, d, telegram_user_id, runner_id, flow, data)


async def _store_dialog(
    s: AsyncSession, d: Deps, telegram_user_id: int, row: DialogRow | None
) -> None:
    if row is None:
        await repo.clear_dialog(s, telegram_user_id)
    else:
        await repo.save_dialog(
            s,
            telegram_user_id,
            flow="multi",
            step=row.step,
            data=row.data,
            now=d.clock(),
            runner_id=row.runner_id,
        )
    _remember_dialog(d, telegram_user_id, row)


def _remember_dialog(d: Deps, telegram_user_id: int, row: DialogRow | None) -> None:
    """Keep the turn's view of its user's dialog in step with what was just written."""
    turn = turn_of(d)
    if turn is not None and turn.user_id == telegram_user_id:
        turn.dialog_saved(row)


async def _save_flow(
    s: AsyncSession,
    d: Deps,
    telegram_user_id: int,
    runner_id: int | None,
    flow: str,
    data: dict[str, Any],
) -> None:
    row = await _dialog_row(s, d, telegram_user_id)
    flows = dict(row.data.get("flows", {})) if row is not None else {}
    flows[flow] = data
    owner = runner_id if runner_id is not None else (row.runner_id if row else None)
    await _store_dialog(s, d, telegram_user_id, DialogRow(flow, {"flows": flows}, owner))


async def clear_flow(d: Deps, telegram_user_id: int, flow: str) -> None:
    row = await _dialog_row(None, d, telegram_user_id)
    if row is None or flow not in row.data.get("flows", {}):
        return  # nothing to write
    async with writing(d) as s:
        await _clear_flow(s, d, telegram_user_id, flow)


async def _clear_flow(s: AsyncSession, d: Deps, telegram_user_id: int, flow: str) -> None:
    row = await _dialog_row(s, d, telegram_user_id)
    if row is None:
        return
    flows = dict(row.data.get("flows", {}))
    if flow not in flows:
        return
    flows.pop(flow)
    if not flows:
        await _store_dialog(s, d, telegram_user_id, None)
        return
    active = row.step if row.step in flows else next(iter(flows))
    await _store_dialog(s, d, telegram_user_id, DialogRow(active, {"flows": flows}, row.runner_id))


async def save_step(
    d: Deps,
    telegram_user_id: int,
    runner_id: int,
    stage: str,
    seq: int | None,
    answers: dict[str, Any],
    flow: str,
    data: dict[str, Any],
) -> None:
    """A question answered mid-flow: the answer and where the flow stands, in one transaction."""
    async with writing(d) as s:
        if answers:
            await repo.record_answers(s, runner_id, stage, answers, at=d.clock(), seq=seq)
        await _save_flow(s, d, telegram_user_id, runner_id, flow, data)


# --- invites and enrolment -------------------------------------------------------------------


async def check_invite(d: Deps, code: str) -> str | None:
    """The coach's name when the code is valid now (unused, unexpired, active coach)."""
    async with reading(d) as s:
        row = await repo.invite_with_coach(s, code)
    if row is None:
        return None
    invite, coach = row
    if invite.used_by is not None or invite.expires_at <= d.clock() or not coach.active:
        return None
    return str(coach.name)


async def link_with_invite(d: Deps, runner_id: int, code: str) -> str | None:
    """Link an enrolled runner to the invite's coach; what waits for a clinician (a stop's
    alert, an awaited clearance) goes to that coach in the same transaction (CoachLinked)."""

    async def link(s: AsyncSession, now: datetime) -> str | None:
        res = await repo.redeem_invite(s, code, runner_id, now=now)
        if not res.ok or res.coach_id is None:
            return None
        # Told first, then what waits for them (the agenda sends in the order written).
        await messages.joined(s, runner_id, res.coach_id, now)
        await _coach_linked(s, d, runner_id, res.coach_id, now)
        if res.protocol_id is not None:
            await _invite_protocol(s, d, runner_id, res.coach_id, res.protocol_id, now)
        coach = await repo.get_coach(s, res.coach_id)
        return coach.name if coach else ""

    name = await in_one_transaction(d, runner_id, link)
    if name is not None:
        wake_agenda(d, runner_id)
    return name or None


async def _invite_protocol(
    s: AsyncSession, d: Deps, runner_id: int, coach_id: int, protocol_id: str, now: datetime
) -> None:
    """An enrolled runner linked through an invite that carries a protocol: moved to it (the
    coach's switch) if they may be, else the coach is told why (rule invite-protocol-not-allowed)
    and the runner keeps the protocol they follow."""
    loaded = await repo.load_program(s, runner_id)
    if loaded is None or loaded[0].protocol_id == protocol_id:
        return
    state = loaded[0]
    allowed = {p.id for p in switch_choices(d.rules, state)}
    if state.status is not Status.DISCHARGED and protocol_id in allowed:
        event = ProtocolSwitched(protocol_id, coach_id)
        await decide_and_store(s, d, runner_id, event, actor=f"coach:{coach_id}", now=now)
        return
    payload = {
        "reason": "protocol_fallback",
        "rules": [d.rules.symptoms.actions.protocol_fallback.id],
        "site": state.profile.site_id,
        "phase": state.phase_id,
        "level": None,
        "asked": protocol_id,
        "protocol": state.protocol_id,
    }
    item = NewItem(
        scope=agenda.runner_scope(runner_id),
        runner_id=runner_id,
        coach_id=coach_id,
        kind=MessageKind.COACH_ALERT.value,
        key=f"alert:invite-protocol:{now.isoformat()}",
        due_at=now,
        payload=payload,
    )
    await agenda.schedule(s, [item], now=now)
    wake_agenda(d, runner_id)


async def _coach_linked(
    s: AsyncSession, d: Deps, runner_id: int, coach_id: int, now: datetime
) -> None:
    if await repo.load_program(s, runner_id) is None:
        return
    await decide_and_store(
        s, d, runner_id, CoachLinked(coach_id), actor=f"coach:{coach_id}", now=now
    )


async def enrol(
    d: Deps,
    telegram_user_id: int,
    chat_id: int,
    display_name: str | None,
    data: dict[str, Any],
    *,
    language: str = "en",
) -> EnrolResult:
    """Create the runner and their program from the onboarding answers, in one transaction."""
    event = enrolled_event(data, d.rules)
    now = d.clock()
    decision = decide(None, event, d.rules, now)  # bad answers raise before anything is written
    async with writing(d) as s:
        runner = await repo.create_runner(
            s,
            telegram_user_id=telegram_user_id,
            chat_id=chat_id,
            timezone=event.timezone,
            now=now,
            language=language,
            display_name=(display_name or "")[:60] or None,
        )
        coach_name = None
        linked_to: int | None = None
        code = data.get("invite")
        if code:
            res = await repo.redeem_invite(s, str(code), runner.id, now=now)
            if res.ok and res.coach_id is not None:
                linked_to = res.coach_id
                # Told first, then the alerts the decision has for them (the agenda sends in
                # the order written), all in the link's transaction.
                await messages.joined(s, runner.id, linked_to, now)
                coach = await repo.get_coach(s, res.coach_id)
                coach_name = coach.name if coach else None
                if res.protocol_id is not None:
                    # The coach chose a protocol with the invite: followed if the runner's
                    # site allows it, else the site's own, and the coach is told (engine).
                    event = replace(event, invite_protocol_id=res.protocol_id)
                    decision = decide(None, event, d.rules, now)
        await repo.apply_decision(
            s, runner.id, decision, event="Enrolled", actor="runner", expected_version=0, at=now
        )
        alerted = any(m.kind is MessageKind.COACH_ALERT for m in decision.messages)
        if linked_to is not None and not alerted:
            # Linked before the decision was stored, so its alerts already went to the coach;
            # without any, CoachLinked records the link (and sends whatever else waits).
            await _coach_linked(s, d, runner.id, linked_to, now)
        answers = {k: v for k, v in data.items() if k not in ("invite", "days_done")}
        await repo.record_answers(s, runner.id, "onboarding", answers, at=now)
        await _store_dialog(s, d, telegram_user_id, None)
    if linked_to is not None:
        wake_agenda(d, runner.id)
    return EnrolResult(runner.id, decision, coach_name, invite_lost=bool(code) and not coach_name)


# --- events ----------------------------------------------------------------------------------


async def apply_event(
    d: Deps,
    runner_id: int,
    event: Event,
    *,
    actor: str,
    report: tuple[int, Outcome, int | None, int | None] | None = None,
    answers: tuple[str, int | None, dict[str, Any]] | None = None,
    close_flow: tuple[int, str] | None = None,
) -> Decision:
    """Decide and store, retrying on a concurrent change (the retry decides on fresh state).

    `answers` (stage, seq, {question: value}) are recorded and `close_flow` (Telegram user,
    flow) is closed in the same transaction, even when the decision turns out stale: what the
    runner said is kept either way, and the question is over.
    """

    async def turn(s: AsyncSession, now: datetime) -> Decision:
        _, decision = await decide_and_store(s, d, runner_id, event, actor=actor, now=now)
        if report is not None and not decision.stale:
            seq, outcome, pain, rpe = report
            await repo.record_report(
                s, runner_id, seq, outcome=outcome.value, pain_during=pain, rpe=rpe, at=now
            )
        if answers is not None and answers[2]:
            stage, aseq, values = answers
            await repo.record_answers(s, runner_id, stage, values, at=now, seq=aseq)
        if close_flow is not None:
            await _clear_flow(s, d, *close_flow)
        return decision

    return await in_one_transaction(d, runner_id, turn)


async def record_answers(
    d: Deps, runner_id: int, stage: str, seq: int | None, answers: dict[str, Any]
) -> None:
    if not answers:
        return
    async with writing(d) as s:
        await repo.record_answers(s, runner_id, stage, answers, at=d.clock(), seq=seq)


async def set_runner_timezone(d: Deps, runner_id: int, tz: str) -> None:
    async with writing(d) as s:
        await repo.update_runner(s, runner_id, timezone=tz)


async def set_runner_language(d: Deps, runner_id: int, language: str) -> None:
    async with writing(d) as s:
        await repo.update_runner(s, runner_id, language=language)


async def delete_runner(d: Deps, runner_id: int, telegram_user_id: int) -> None:
    async with writing(d) as s:
        await repo.delete_runner(s, runner_id)  # the dialog goes with the runner
    _remember_dialog(d, telegram_user_id, None)
    log.info("runner deleted their data", extra={"runner_id": runner_id})


# --- reading for /status, /history, /export --------------------------------------------------


@dataclass(frozen=True, slots=True)
class SessionLine:
    seq: int
    day: date
    kind: str
    outcome: str | None
    pain_during: int | None
    rpe: int | None
    pain_24h: int | None
    run_s_total: int


async def sessions(d: Deps, runner_id: int, *, limit: int = 200) -> list[SessionLine]:
    """Reported and missed sessions, oldest first, with the 24-hour pain where answered."""
    async with reading(d) as s:
        rows = await repo.reported_sessions(s, runner_id, limit=limit)
        pain24 = await repo.answers_by_seq(s, runner_id, stage="followup", question_id="pain_now")
    out = []
    for r in rows:
        prescribed = r.prescription or {}
        run_total = 0
        if r.outcome not in ("skipped", "missed"):
            run_total = int(prescribed.get("run_s", 0)) * int(prescribed.get("repeats", 0))
        p24 = pain24.get(r.seq)
        out.append(
            SessionLine(
                r.seq,
                r.day,
                r.kind,
                r.outcome,
                r.pain_during,
                r.rpe,
                int(p24) if isinstance(p24, int) else None,
                run_total,
            )
        )
    return out


def stage_progress(st: ProgramState, stage_days: int, today: date) -> str:
    """Where the runner is in a stage of calendar days (a level with stage_days)."""
    start = st.stage_since
    if start is None or start < st.level_since:
        return texts.STATUS_STAGE_NOT_STARTED.format(days=stage_days)
    return texts.STATUS_STAGE.format(day=(today - start).days + 1, days=stage_days, since=start)


def _says(d: Deps, protocol_id: str, rule_ids: list[str]) -> str:
    """The classifications behind a decision in the runner's words (rule ids stay unsaid)."""
    says = d.rules.tables.protocols[protocol_id].pain.says
    return ", ".join(says[r] for r in rule_ids if r in says)


async def status_text(d: Deps, runner: RunnerCtx) -> str:
    st = runner.state
    assert st is not None
    proto = d.rules.protocols[st.protocol_id]
    phase = proto.phase(st.phase_id)
    level_id = phase.levels[st.level].id if phase.levels else None
    level = (
        texts.STATUS_LEVEL.format(level=texts.level_label(d.rules, st.protocol_id, level_id))
        if level_id
        else ""
    )
    if phase.levels:
        lv = phase.levels[st.level]
        hold = lv.hold_sessions
        if st.overlay is not None and st.overlay.hold_sessions is not None:
            hold = st.overlay.hold_sessions  # the coach's tailored hold
        progress = texts.STATUS_PROGRESS_LEVEL.format(done=st.clear_at_level, hold=hold)
        if lv.stage_days is not None:
            progress += "\n" + stage_progress(st, lv.stage_days, local_today(d, st))
    else:
        progress = texts.STATUS_PROGRESS_PHASE.format(since=st.phase_since)
    recent = await sessions(d, runner.id, limit=1)
    last = texts.STATUS_NONE_YET
    if recent:
        r = recent[-1]
        during = r.pain_during if r.pain_during is not None else "–"
        outcome = texts.session_word(r.outcome) if r.outcome is not None else r.outcome
        last = texts.STATUS_LAST.format(day=r.day, outcome=outcome, during=during)
        if r.pain_24h is not None:
            last += texts.STATUS_LAST_24H.format(pain=r.pain_24h)
    async with reading(d) as s:
        decisions = await repo.list_decisions(s, runner.id, limit=30)
    lines = []
    for rec in decisions:
        for a in rec.actions:
            if a["act"] in ("plan", "record", "stale"):
                continue
            act = texts.ACT_WORDS.get(a["act"], a["act"].replace("_", " "))
            why = _says(d, st.protocol_id, (a.get("detail") or {}).get("because") or [])
            template = texts.STATUS_DECISION_WHY if why else texts.STATUS_DECISION
            lines.append(template.format(at=rec.at, act=act, why=why))
        if len(lines) >= 5:
            break
    if st.overlay is not None:  # the coach's tailoring, its version and who set it
        progress += "\n" + texts.overlay_status(
            d.rules, st.protocol_id, overlay_to_dict(st.overlay)
        )
    return texts.STATUS.format(
        phase=_(phase.name),
        level=level,
        status=texts.STATUS_WORDS.get(st.status.value, st.status.value),
        progress=progress,
        last=last,
        decisions="\n".join(lines[:5]) or texts.STATUS_NO_DECISIONS,
    )


async def history_text(d: Deps, runner: RunnerCtx) -> str:
    rows = await sessions(d, runner.id, limit=14)
    if not rows:
        return texts.HISTORY_EMPTY
    lines = []
    for r in reversed(rows):
        pains = ""
        if r.pain_during is not None:
            pains = texts.HISTORY_PAIN.format(during=r.pain_during)
            if r.pain_24h is not None:
                pains += texts.HISTORY_PAIN_24H.format(pain=r.pain_24h)
        kind = texts.session_word(r.kind)
        outcome = texts.session_word(r.outcome) if r.outcome is not None else r.outcome
        lines.append(texts.HISTORY_LINE.format(day=r.day, kind=kind, outcome=outcome, pains=pains))
    return "\n".join(lines)


async def export_files(d: Deps, runner_id: int) -> tuple[bytes, bytes]:
    """The runner's full record as JSON, and their sessions as CSV."""
    async with reading(d) as s:
        data = await repo.export_runner(s, runner_id)
        loaded = await repo.load_program(s, runner_id)
    if data is not None and loaded is not None:
        data["reasons"] = _reasons_of(d, loaded[0].protocol_id, data.get("decisions") or [])
    js = json.dumps(data, indent=1, default=str, ensure_ascii=False).encode()
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["seq", "day", "kind", "outcome", "pain_during", "rpe", "pain_24h", "run_s_total"])
    for r in await sessions(d, runner_id, limit=100_000):
        w.writerow(
            [r.seq, r.day, r.kind, r.outcome, r.pain_during, r.rpe, r.pain_24h, r.run_s_total]
        )
    return js, buf.getvalue().encode()


def _reasons_of(d: Deps, protocol_id: str, decisions: list[dict[str, Any]]) -> dict[str, str]:
    """Each rule id the decisions name, with its reason in words where the rules give one: the
    export keeps the rule id beside the reason, as the coach reads them."""
    words = rule_words(d.rules, protocol_id)
    named: dict[str, str] = {}
    for rec in decisions:
        for a in rec.get("actions") or []:
            for rule in [a.get("rule"), *((a.get("detail") or {}).get("because") or [])]:
                if isinstance(rule, str) and rule in words:
                    named[rule] = words[rule]
    return named


async def has_coach(d: Deps, runner_id: int) -> bool:
    """Is a coach linked with this runner now (their alerts reach someone)?"""
    async with reading(d) as s:
        runner = await repo.get_runner(s, runner_id)
    return runner is not None and runner.coach_id is not None


async def exists(d: Deps, runner_id: int) -> bool:
    async with reading(d) as s:
        return await repo.get_runner(s, runner_id) is not None
