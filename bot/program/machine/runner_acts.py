"""What the runner does besides sessions: answers a gate, pauses and resumes, says a
clinician cleared them (a request, never a grant), reports symptoms, changes settings.

Part of the engine (`bot/program/engine.py`): pure, no I/O, no clock."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from bot.program.calendar import local_date
from bot.program.decision import Act, Decision, Message, MessageKind
from bot.program.events import (
    ClearanceClaimed,
    GateAnswered,
    RunnerPaused,
    RunnerResumed,
    SettingsChanged,
    SymptomsReported,
)
from bot.program.machine.context import (
    BadEvent,
    _at_local,
    _coach_alert,
    _Ctx,
    _next_phase,
    _notice,
    _Out,
    _phase,
)
from bot.program.machine.gates import (
    _clearance_alert,
    _gate_questions,
    _schedule_gate,
    _try_pass_gate,
    gate_min_days,
    gate_symptoms,
)
from bot.program.machine.ladder import _hold_met
from bot.program.machine.replan import _replan
from bot.program.machine.stops import _red_flag, _regress
from bot.program.rules import Severity
from bot.program.state import ProgramState, Status
from bot.program.symptoms import classify_with, validate_answers


def _on_gate(state: ProgramState, ev: GateAnswered, ctx: _Ctx) -> Decision:
    out = _Out()
    acts = ctx.rules.symptoms.actions
    nxt = _next_phase(state, ctx)
    phase = _phase(state, ctx)
    top = phase.levels[-1] if phase.runs else None
    ladder_done = (
        top is not None
        and state.level == len(phase.levels) - 1
        and _hold_met(state, top, ctx.today)
    )
    # The next gate's own minimum (e.g. 6 weeks non-weight-bearing) counts, not just this phase's.
    since_diagnosis = gate_min_days(nxt, ctx.grade) if nxt is not None else 0
    due_by_days = (
        not phase.runs
        and ctx.today >= state.phase_since + timedelta(phase.min_days)
        and ctx.today >= state.profile.diagnosis_date + timedelta(since_diagnosis)
    )
    if (
        nxt is None
        or nxt.id != ev.phase_id
        or state.status is not Status.ACTIVE
        or not (ladder_done or due_by_days)
    ):
        out.act(Act.STALE, acts.stale.id, phase=ev.phase_id)
        return out.done(state, stale=True)
    answers = validate_answers(dict(ev.answers), ctx.rules)
    implied = gate_symptoms(answers, ctx.rules)
    if implied:
        # "No, pressing on the bone still hurts" is a symptom, judged like any check.
        severity, because = classify_with(ctx.pt.pain, implied)
        if severity is Severity.RED_FLAG:
            ref = f"gate-{nxt.id}-{ctx.today}"
            state = _red_flag(state, ctx, out, because, ref, implied)
            return out.done(_replan(state, ctx, out))
    missing = [q for q in _gate_questions(nxt, ctx) if answers.get(q) is not True]
    if missing:
        recheck = ctx.today + timedelta(days=ctx.rules.scheduling.gate_recheck_days)
        due = _at_local(recheck, state.profile.preferred_time, ctx)
        out.send(
            Message(MessageKind.GATE_CHECK, f"gate:{nxt.id}:{recheck}", due, {"phase": nxt.id})
        )
        out.act(Act.GATE_NOT_YET, acts.gate_not_yet.id, phase=nxt.id, no=missing)
        _notice(out, ctx, f"notice:gate-no:{nxt.id}:{ctx.today}", "gate_not_yet", phase=nxt.id)
        return out.done(state)
    state = _try_pass_gate(state, nxt, ctx, out)
    return out.done(_replan(state, ctx, out))


def _on_runner_pause(state: ProgramState, ev: RunnerPaused, ctx: _Ctx) -> Decision:
    out = _Out()
    rule = ctx.rules.symptoms.actions.runner_pause.id
    if state.status is not Status.ACTIVE:
        out.act(Act.STALE, rule, status=state.status.value)
        return out.done(state, stale=True)
    state = state.evolve(status=Status.PAUSED, pause_reason=ev.reason)
    out.act(Act.PAUSE, rule, by="runner")
    return out.done(_replan(state, ctx, out))


def _on_runner_resume(state: ProgramState, ev: RunnerResumed, ctx: _Ctx) -> Decision:
    out = _Out()
    acts = ctx.rules.symptoms.actions
    if state.status in (Status.ACTIVE, Status.DISCHARGED):  # a discharge is the end: no resuming
        out.act(Act.STALE, acts.runner_pause.id, status=state.status.value)
        return out.done(state, stale=True)
    if state.status.stopped:
        if not ev.clinician_reviewed:
            out.act(Act.STALE, acts.runner_resume_after_review.id, status=state.status.value)
            return out.done(state, stale=True)
        # "I've been seen and cleared" is the runner's word: it asks the coach, lifts nothing.
        rule = acts.runner_resume_after_review.id
        out.act(Act.RECORD, rule, requested="review", status=state.status.value)
        _coach_alert(
            out,
            state,
            ctx,
            f"alert:review:{ctx.today}",
            "review_requested",
            [rule, acts.clearance_claimed.id],
            stopped=state.status.value,
        )
        _notice(out, ctx, f"notice:review:{ctx.today}", "review_requested", rules=[rule])
        return out.done(state)
    state = state.evolve(status=Status.ACTIVE, pause_reason=None, clear_at_level=0)
    out.act(Act.RESUME, acts.runner_pause.id, previous=Status.PAUSED.value)
    state = _schedule_gate(state, ctx, out)  # one that fell due while paused was dropped
    return out.done(_replan(state, ctx, out))


def _on_claim(state: ProgramState, ev: ClearanceClaimed, ctx: _Ctx) -> Decision:
    """The runner says a clinician cleared them for the step they wait at: ask the coach."""
    out = _Out()
    acts = ctx.rules.symptoms.actions
    nxt = _next_phase(state, ctx)
    awaiting = state.gate is not None and state.gate.awaiting_clearance
    if not awaiting or nxt is None or nxt.gate.clearance_key is None or state.status.stopped:
        out.act(Act.STALE, acts.clearance_claimed.id)
        return out.done(state, stale=True)
    key = nxt.gate.clearance_key
    state = state.evolve(claims=state.claims | {key})
    out.act(Act.RECORD, acts.clearance_claimed.id, clearance=key, phase=nxt.id)
    _clearance_alert(state, nxt, ctx, out, f"alert:claim:{nxt.id}:{ctx.today}")
    _notice(out, ctx, f"notice:claim:{nxt.id}:{ctx.today}", "claim_sent", phase=nxt.id)
    return out.done(state)


def _on_symptoms(state: ProgramState, ev: SymptomsReported, ctx: _Ctx) -> Decision:
    """Symptoms reported outside the schedule: the same table and the same actions."""
    out = _Out()
    acts = ctx.rules.symptoms.actions
    answers = validate_answers(dict(ev.answers), ctx.rules)
    severity, because = classify_with(ctx.pt.pain, answers)
    ref = f"report-{ctx.now:%Y%m%d%H%M%S}"
    out.act(Act.RECORD, acts.symptom_report.id, severity=severity.value, because=list(because))
    if severity is Severity.RED_FLAG:
        state = _red_flag(state, ctx, out, because, ref, answers)
    elif severity is Severity.REGRESS and state.status in (Status.ACTIVE, Status.PAUSED):
        state = _regress(state, ctx, out, because, ref)
    else:
        code = "symptoms_mild" if severity is Severity.MILD else "symptoms_clear"
        _notice(out, ctx, f"notice:{ref}", code, rules=[acts.symptom_report.id, *because])
    return out.done(_replan(state, ctx, out))


def _on_settings(state: ProgramState, ev: SettingsChanged, ctx: _Ctx) -> Decision:
    out = _Out()
    p = state.profile
    if ev.timezone is not None:
        local_date(ctx.now, ev.timezone)  # unknown zones raise here, before any change
    if ev.available_days is not None and (
        not ev.available_days or not ev.available_days <= set(range(7))
    ):
        raise BadEvent("available_days must be a non-empty set of weekdays 0..6")
    profile = replace(
        p,
        timezone=ev.timezone or p.timezone,
        preferred_time=ev.preferred_time or p.preferred_time,
        available_days=ev.available_days or p.available_days,
    )
    state = state.evolve(profile=profile)
    ctx = replace(ctx, tz=profile.timezone, today=local_date(ctx.now, profile.timezone))
    out.act(Act.RECORD, ctx.rules.symptoms.actions.plan.id, settings=True)
    # The same day may now be at another hour, so the reminder is always re-sent.
    return out.done(_replan(state, ctx, out, force=True))
