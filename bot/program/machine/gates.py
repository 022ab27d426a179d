"""Entry gates (DOMAIN.md §3.1): which questions a phase's gate asks at this site, when it
is asked, and passing it, never without a clinician where the site or grade needs one.

Part of the engine (`bot/program/engine.py`): pure, no I/O, no clock."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bot.program.calendar import weekly_times
from bot.program.decision import Act, Message, MessageKind
from bot.program.loader import Rules
from bot.program.machine.context import (
    _at_local,
    _climbed,
    _coach_alert,
    _Ctx,
    _habit_key,
    _level_id,
    _next_phase,
    _notice,
    _Out,
    _phase,
)
from bot.program.machine.replan import _replan
from bot.program.rules import (
    Gate,
    ImagingGrade,
    Phase,
    PhaseKind,
    Site,
)
from bot.program.state import PendingGate, ProgramState, Status
from bot.program.tables import gate_questions as _site_gate_questions


def gate_questions(gate: Gate, site: Site, rules: Rules) -> list[str]:
    """The gate's questions that apply to this site (no hop tests where hopping is unsafe)."""
    return _site_gate_questions(gate, site, rules.question_by_id)


def _gate_questions(phase: Phase, ctx: _Ctx) -> tuple[str, ...]:
    """`gate_questions` for a phase of the runner's protocol, from the tables (made for every
    phase and site of the rules; a site the rules lack has none there, so it is worked out)."""
    found = ctx.pt.gate_questions.get((phase.id, ctx.site.id))
    if found is None:
        found = tuple(_site_gate_questions(phase.gate, ctx.site, ctx.rules.question_by_id))
    return found


def needs_clearance(gate: Gate, site: Site, grade: ImagingGrade | None) -> bool:
    """Only a clinician opens this gate: always, or where the site or the imaging grade asks."""
    if gate.clearance == "always":
        return True
    risky = site.needs_clearance or (grade is not None and grade.needs_clearance)
    return gate.clearance == "site" and risky


def _needs_clearance(gate: Gate, ctx: _Ctx) -> bool:
    return needs_clearance(gate, ctx.site, ctx.grade)


def gate_min_days(phase: Phase, grade: ImagingGrade | None) -> int:
    """Days after diagnosis before this phase may start: the gate's, or the grade's for running."""
    days = phase.gate.min_days_since_diagnosis
    if grade is not None and phase.kind is PhaseKind.RUN_WALK:
        days = max(days, grade.min_days_before_run)
    return days


def _start_level(state: ProgramState, phase: Phase, ctx: _Ctx) -> int:
    """The level a phase is entered at: its first, or the coach's start level when running
    starts here (the overlay's start level is a level of the first run phase)."""
    ov = ctx.overlay
    if ov is None or ov.start_level is None or not phase.runs:
        return 0
    if _phase(state, ctx).runs:  # already running: a later run phase starts at its first level
        return 0
    for j, lv in enumerate(phase.levels):
        if lv.id == ov.start_level:
            return j
    return 0


def _enter_phase(state: ProgramState, phase: Phase, ctx: _Ctx, out: _Out) -> ProgramState:
    maint = ctx.today if phase.kind is PhaseKind.MAINTENANCE else state.maintenance_since
    loading = state.loading_since
    if loading is None and phase.runs:
        loading = ctx.today  # the build-phase deload weeks count from the first run phase
    state = state.evolve(
        phase_id=phase.id,
        level=_start_level(state, phase, ctx),
        phase_since=ctx.today,
        level_since=ctx.today,
        clear_at_level=0,
        gate=None,
        maintenance_since=maint,
        loading_since=loading,
        stage_since=None,
    )
    state = _climbed(state, ctx)
    out.act(Act.ADVANCE_PHASE, phase.gate.id, phase=phase.id, kind=phase.kind.value)
    if state.level:  # running starts at the coach's start level
        out.act(Act.TAILOR, ctx.rules.tailoring.id, start_level=phase.levels[state.level].id)
    _notice(out, ctx, f"notice:phase:{phase.id}:{ctx.today}", "phase_entered", phase=phase.id)
    return _schedule_gate(state, ctx, out)


def _schedule_gate(state: ProgramState, ctx: _Ctx, out: _Out) -> ProgramState:
    """Ask the next phase's gate questions once the current phase's minimum days have passed."""
    phase, nxt = _phase(state, ctx), _next_phase(state, ctx)
    if nxt is None or phase.runs:
        return state  # run phases finish by climbing their ladder, not by days
    day = max(
        state.phase_since + timedelta(days=phase.min_days),
        state.profile.diagnosis_date + timedelta(days=gate_min_days(nxt, ctx.grade)),
        ctx.today,
    )
    due = _at_local(day, state.profile.preferred_time, ctx)
    due = max(due, ctx.now)
    key = f"gate:{nxt.id}:{day.isoformat()}"
    out.send(Message(MessageKind.GATE_CHECK, key, due, {"phase": nxt.id}))
    return state


def _gate_ready(state: ProgramState, ctx: _Ctx, out: _Out) -> ProgramState:
    """The current run ladder is complete: ask the next gate now (or pass straight through)."""
    nxt = _next_phase(state, ctx)
    if nxt is None:
        return _discharge(state, ctx, out) if ctx.protocol.discharges else state
    if not _gate_questions(nxt, ctx):
        return _try_pass_gate(state, nxt, ctx, out)
    key = f"gate:{nxt.id}:{ctx.today.isoformat()}"
    out.send(Message(MessageKind.GATE_CHECK, key, ctx.now, {"phase": nxt.id}))
    out.act(Act.GATE_ASKED, nxt.gate.id, phase=nxt.id)
    return state


def _discharge(state: ProgramState, ctx: _Ctx, out: _Out) -> ProgramState:
    """The last phase's top level is passed and the protocol ends there (on_finish: discharge):
    nothing more is scheduled, the runner is told, the coach gets a notice."""
    rule = ctx.protocol.on_finish.id
    level = _level_id(state, ctx)
    for session in state.open:
        out.drop(f"followup:{session.seq}", f"followup-nudge:{session.seq}")
    _call_off_weekly_habits(state, ctx, out)
    state = state.evolve(status=Status.DISCHARGED, gate=None, open=(), pause_reason=rule)
    out.act(Act.DISCHARGE, rule, phase=state.phase_id, level=level)
    _notice(
        out,
        ctx,
        f"notice:discharged:{state.phase_id}",
        "discharged",
        rules=[rule],
        message=ctx.protocol.on_finish.message,
    )
    _coach_alert(out, state, ctx, f"alert:discharged:{ctx.today}", "discharged", [rule])
    return _replan(state, ctx, out)


def _call_off_weekly_habits(state: ProgramState, ctx: _Ctx, out: _Out) -> None:
    """The weekly prompts planned with the last session (this week's or next week's day);
    the dispatcher also drops any other habit prompt of a discharged runner at send time."""
    pref = state.profile.preferred_time
    for h in ctx.tables.planning_habits:
        if h.trigger == "weekly" and h.weekday is not None:
            this_week, next_week = weekly_times(h.weekday, ctx.today, pref, ctx.tz)
            out.drop(_habit_key(h.id, this_week[0]), _habit_key(h.id, next_week[0]))


def _try_pass_gate(state: ProgramState, nxt: Phase, ctx: _Ctx, out: _Out) -> ProgramState:
    gate = nxt.gate
    if _needs_clearance(gate, ctx) and gate.clearance_key not in state.clearances:
        already = state.gate is not None and state.gate.awaiting_clearance
        state = state.evolve(
            gate=PendingGate(nxt.id, ctx.today, answers_ok=True, awaiting_clearance=True),
        )
        rule = ctx.rules.symptoms.actions.clearance_needed.id
        out.act(Act.AWAIT_CLEARANCE, rule, phase=nxt.id, clearance=gate.clearance_key)
        if not already:
            _clearance_alert(state, nxt, ctx, out, f"alert:clearance:{nxt.id}:{ctx.today}")
            _notice(out, ctx, f"notice:await:{nxt.id}", "awaiting_clearance", phase=nxt.id)
        return state
    return _enter_phase(state, nxt, ctx, out)


def _clearance_alert(state: ProgramState, nxt: Phase, ctx: _Ctx, out: _Out, key: str) -> None:
    """Ask the coach to clear the runner for `nxt`; says whether the runner claims they were."""
    gate = nxt.gate
    rule = ctx.rules.symptoms.actions.clearance_needed.id
    claimed = gate.clearance_key in state.claims
    why = [rule, gate.id]
    if claimed:
        why.append(ctx.rules.symptoms.actions.clearance_claimed.id)
    if ctx.grade is not None and ctx.grade.needs_clearance and not ctx.site.needs_clearance:
        why.append(f"imaging:{ctx.grade.id}")
    _coach_alert(
        out,
        state,
        ctx,
        key,
        "clearance_needed",
        why,
        next_phase=nxt.id,
        clearance=gate.clearance_key,
        claimed=claimed,
    )


def gate_symptoms(answers: dict[str, Any], rules: Rules) -> dict[str, int | bool]:
    """The follow-up answers that 'no' to gate questions amount to (questions.yaml no_means)."""
    implied: dict[str, int | bool] = {}
    for qid, value in answers.items():
        q = rules.question_by_id.get(qid)
        if q is not None and value is False:
            implied.update(q.no_means)
    return implied
