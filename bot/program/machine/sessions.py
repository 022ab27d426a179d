"""A session's life: reported (with the answers right after it), its 24-hour follow-up
(followup.py's FOLLOWUP table says what the answers do), missed, and time passing.

Part of the engine (`bot/program/engine.py`): pure, no I/O, no clock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from bot.program.calendar import followup_times
from bot.program.decision import Act, Decision, Message, MessageKind
from bot.program.events import (
    FollowupAnswered,
    SessionMissed,
    SessionReported,
    TimePassed,
)
from bot.program.followup import Check, Do, RunnerStatus, followup_row
from bot.program.loader import Rules
from bot.program.machine.context import (
    ONE_DAY,
    SIX_DAYS,
    _Ctx,
    _level_id,
    _notice,
    _Out,
    _phase,
    _row_rule,
    _session_keys,
)
from bot.program.machine.ladder import _progress_after_clear, _stage_started
from bot.program.machine.replan import _replan
from bot.program.machine.stops import _red_flag, _regress
from bot.program.rules import QuestionStage, Severity
from bot.program.state import (
    OpenSession,
    Outcome,
    ProgramState,
    Status,
)
from bot.program.symptoms import classify_with, validate_answers


def _on_reported(state: ProgramState, ev: SessionReported, ctx: _Ctx) -> Decision:
    out = _Out()
    nxt = state.next
    if nxt is None or not state.session_open(ev.seq, ctx.today):
        out.act(Act.STALE, ctx.rules.symptoms.actions.stale.id, seq=ev.seq)
        return out.done(state, stale=True)
    acts = ctx.rules.symptoms.actions
    out.drop(*_session_keys(ev.seq))
    if ev.outcome is Outcome.SKIPPED:
        out.act(Act.MISSED, acts.missed.id, seq=ev.seq, skipped=True)
        state = state.evolve(next=None)
        # Skipped today, even before its reminder: the next allowed day is tomorrow at the earliest.
        return out.done(_replan(state, ctx, out, not_before=ctx.today + ONE_DAY))
    kind = nxt.prescription.kind
    answers: dict[str, int | bool] = {}
    if ev.pain_during is not None:
        answers["pain_during"] = ev.pain_during
    if ev.rpe is not None:
        answers["rpe"] = ev.rpe
    answers = validate_answers(answers, ctx.rules)
    severity, because = classify_with(ctx.pt.pain, answers)
    if ev.outcome is Outcome.PARTIAL and severity.rank < Severity.MILD.rank:
        severity, because = Severity.MILD, (acts.partial.id,)
    cutoff = ctx.today - SIX_DAYS
    recent = (*[r for r in state.recent if r[0] >= cutoff], (ctx.today, kind))
    state = state.evolve(next=None, recent=recent, sessions_total=state.sessions_total + 1)
    if kind.is_impact:
        state = _stage_started(state, ctx, nxt.prescription.level_id)
    out.act(
        Act.RECORD,
        acts.partial.id if ev.outcome is Outcome.PARTIAL else acts.plan.id,
        seq=ev.seq,
        outcome=ev.outcome.value,
        severity=severity.value,
        because=list(because),
    )
    applied = Severity.CLEAR
    if severity is Severity.RED_FLAG:
        state = _red_flag(state, ctx, out, because, ev.seq, answers)
        return out.done(_replan(state, ctx, out))
    if severity is Severity.REGRESS:
        # Pain during the session: stop now and regress, don't wait a day (DOMAIN 4.4).
        state = _regress(state, ctx, out, because, ev.seq)
        applied = Severity.REGRESS
    for h in ctx.tables.after_session_habits:
        if not h.after_kinds or kind in h.after_kinds:
            key = f"habit:{h.id}:{ev.seq}"
            out.send(Message(MessageKind.HABIT, key, ctx.now, {"habit": h.id}))
            out.act(Act.RECORD, h.id, habit=h.id)
    watch = _watch_due(state, ctx)
    if (kind.is_impact or watch) and state.status is Status.ACTIVE:
        after = ctx.tables.followup_after
        if not kind.is_impact:
            # A session before running: a short red-flag check (symptoms.yaml watch).
            after = timedelta(hours=ctx.rules.symptoms.watch.after_hours)
            state = state.evolve(watched_on=ctx.today)
            out.act(Act.RECORD, ctx.rules.symptoms.watch.id, seq=ev.seq, check="asked")
        due, nudge = followup_times(
            ctx.now,
            after,
            ctx.tables.followup_nudge_after,
            ctx.tz,
            ctx.rules.scheduling.quiet_hours,
        )
        payload = {"seq": ev.seq}
        out.send(Message(MessageKind.FOLLOWUP, f"followup:{ev.seq}", due, payload))
        out.send(Message(MessageKind.FOLLOWUP_NUDGE, f"followup-nudge:{ev.seq}", nudge, payload))
        opened = OpenSession(
            ev.seq,
            ctx.today,
            kind,
            ctx.now,
            severity,
            applied,
            answers.get("pain_during"),
            nxt.prescription.level_id,
        )
        state = state.evolve(open=(*state.open, opened))
    elif severity is Severity.CLEAR and not kind.is_impact:
        pass  # cross-training and strength count toward nothing but the calendar
    elif severity is Severity.MILD:
        out.act(Act.HOLD, ctx.pt.pain.actions.hold.id, because=list(because))
    return out.done(_replan(state, ctx, out))


def _watch_due(state: ProgramState, ctx: _Ctx) -> bool:
    """Does a session in this phase get the red-flag check now (at most one every few days)?"""
    watch = ctx.rules.symptoms.watch
    if _phase(state, ctx).kind not in watch.questions:
        return False
    last = state.watched_on
    return last is None or (ctx.today - last).days >= watch.min_days_apart


def followup_questions(state: ProgramState, seq: int, rules: Rules) -> list[str]:
    """The questions of one open 24-hour check: every follow-up question for a run, the phase's
    red-flag questions for a session before running. Empty when no such check is open."""
    found = next((o for o in state.open if o.seq == seq), None)
    if found is None:
        return []
    site = rules.site(state.profile.site_id)
    if not found.watch:
        return [q.id for q in rules.questions_for(QuestionStage.FOLLOWUP, site)]
    proto = rules.tables.protocols[state.protocol_id]
    kind = proto.phase[state.phase_id].kind
    ids = rules.symptoms.watch.questions.get(kind, [])
    return [q for q in ids if site.hip or not rules.question_by_id[q].hip_only]


def report_questions(state: ProgramState, rules: Rules) -> list[str]:
    """The questions of a symptom report the runner opens at any time (/pain)."""
    site = rules.site(state.profile.site_id)
    ids = rules.symptoms.report_questions
    return [q for q in ids if site.hip or not rules.question_by_id[q].hip_only]


def _on_followup(state: ProgramState, ev: FollowupAnswered, ctx: _Ctx) -> Decision:
    """The 24-hour check answered: the situation is looked up in followup.FOLLOWUP."""
    out = _Out()
    acts = ctx.pt.pain.actions
    found = next((o for o in state.open if o.seq == ev.seq), None)
    if found is None:
        out.act(Act.STALE, acts.stale.id, seq=ev.seq)
        return out.done(state, stale=True)
    answers = validate_answers(ev.answers, ctx.rules)
    if found.pain_during is not None:
        answers.setdefault("pain_during", found.pain_during)
    severity, because = classify_with(ctx.pt.pain, answers)
    if severity.rank < found.severity.rank:
        severity, because = found.severity, because or (acts.hold.id,)
    state = state.evolve(open=tuple(o for o in state.open if o.seq != ev.seq))
    out.drop(f"followup:{ev.seq}", f"followup-nudge:{ev.seq}")
    status = state.status
    runner = (
        RunnerStatus.STOPPED
        if status.stopped
        else RunnerStatus.PAUSED
        if status is Status.PAUSED
        else RunnerStatus.ACTIVE
    )
    applied = found.applied is not Severity.CLEAR and severity.rank <= found.applied.rank
    # A session done at another rung, or before the level last changed (its follow-up answered
    # late, or a coach moved the level that day), still counts for regress and red flags, but
    # not toward the plateau of the level the runner is on now.
    counts = found.day >= state.level_since and found.level_id in (None, _level_id(state, ctx))
    check = Check.WATCH if found.watch else Check.RUN
    row = followup_row(check, runner, severity, applied, counts)
    answered = _Answered(
        ev.seq, found, answers, because, severity, counts, _row_rule(row.rule, ctx)
    )
    state = _FOLLOWUP_DO[row.do](state, ctx, out, answered)
    if row.do is Do.NOTE_ONLY:
        return out.done(state)  # nothing changed for the calendar
    return out.done(_replan(state, ctx, out))


@dataclass(slots=True)  # internal and short-lived, like _Ctx
class _Answered:
    """One answered follow-up, as the FOLLOWUP actions need it."""

    seq: int
    session: OpenSession
    answers: dict[str, int | bool]
    because: tuple[str, ...]
    severity: Severity
    counts: bool
    rule: str  # the id of the rule the table's row names


def _do_red_flag(state: ProgramState, ctx: _Ctx, out: _Out, fu: _Answered) -> ProgramState:
    return _red_flag(state, ctx, out, fu.because, fu.seq, fu.answers)


def _do_regress(state: ProgramState, ctx: _Ctx, out: _Out, fu: _Answered) -> ProgramState:
    return _regress(state, ctx, out, fu.because, fu.seq)


def _do_note_watch(state: ProgramState, ctx: _Ctx, out: _Out, fu: _Answered) -> ProgramState:
    severity = fu.severity.value
    out.act(Act.RECORD, fu.rule, seq=fu.seq, severity=severity, because=list(fu.because))
    return state


def _do_note_only(state: ProgramState, ctx: _Ctx, out: _Out, fu: _Answered) -> ProgramState:
    out.act(Act.RECORD, fu.rule, seq=fu.seq, status=state.status.value)
    return state


def _do_keep(state: ProgramState, ctx: _Ctx, out: _Out, fu: _Answered) -> ProgramState:
    applied = fu.session.applied.value
    out.act(Act.HOLD, fu.rule, seq=fu.seq, already_applied=applied)
    return state


def _do_hold_mild(state: ProgramState, ctx: _Ctx, out: _Out, fu: _Answered) -> ProgramState:
    if ctx.pt.pain.actions.hold.counts_toward_hold and fu.counts:
        state = _progress_after_clear(state, ctx, out, fu.seq)
    elif fu.counts and state.stage_since is not None:
        # A stage counts only sessions that were all clear: a mild one starts it again.
        state = state.evolve(stage_since=None)
        out.act(Act.HOLD, fu.rule, reason="stage restarts", level=_level_id(state, ctx))
    level = _level_id(state, ctx)
    out.act(Act.HOLD, fu.rule, because=list(fu.because), level=level)
    key = f"notice:hold:{fu.seq}"
    _notice(out, ctx, key, "held", level=level, rules=[fu.rule, *fu.because])
    return state


def _do_count(state: ProgramState, ctx: _Ctx, out: _Out, fu: _Answered) -> ProgramState:
    return _progress_after_clear(state, ctx, out, fu.seq)


def _do_not_counted(state: ProgramState, ctx: _Ctx, out: _Out, fu: _Answered) -> ProgramState:
    out.act(Act.HOLD, fu.rule, seq=fu.seq, reason="done before the level changed")
    return state


_FOLLOWUP_DO: dict[Do, Any] = {
    Do.RED_FLAG: _do_red_flag,
    Do.REGRESS: _do_regress,
    Do.NOTE_WATCH: _do_note_watch,
    Do.NOTE_ONLY: _do_note_only,
    Do.KEEP: _do_keep,
    Do.HOLD_MILD: _do_hold_mild,
    Do.COUNT: _do_count,
    Do.NOT_COUNTED: _do_not_counted,
}


def _on_missed(state: ProgramState, ev: SessionMissed, ctx: _Ctx) -> Decision:
    out = _Out()
    nxt = state.next
    if nxt is None or nxt.seq != ev.seq or nxt.day >= ctx.today:
        out.act(Act.STALE, ctx.rules.symptoms.actions.stale.id, seq=ev.seq)
        return out.done(state, stale=True)
    return _slide(state, ctx, out)


def _slide(state: ProgramState, ctx: _Ctx, out: _Out) -> Decision:
    assert state.next is not None
    seq = state.next.seq
    out.act(Act.MISSED, ctx.rules.symptoms.actions.missed.id, seq=seq)
    out.drop(*_session_keys(seq))
    state = state.evolve(next=None)
    return out.done(_replan(state, ctx, out))


def _on_time(state: ProgramState, ev: TimePassed, ctx: _Ctx) -> Decision:
    out = _Out()
    if state.next is not None and state.next.day < ctx.today:
        return _slide(state, ctx, out)
    if state.status is Status.ACTIVE and state.next is None:
        state = _replan(state, ctx, out)
    if not out.actions:
        out.act(Act.RECORD, ctx.rules.symptoms.actions.plan.id, unchanged=True)
    return out.done(state)
