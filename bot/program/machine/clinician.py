"""What a coach or the operator does: hold, advance, regress, pause, acknowledge, keep a
stop, or clear it with one of the rules' ways back; linking a coach.

Part of the engine (`bot/program/engine.py`): pure, no I/O, no clock."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bot.program.decision import Act, Decision
from bot.program.events import CoachAction, CoachLinked, CoachVerb
from bot.program.loader import Rules
from bot.program.machine.context import (
    BadEvent,
    _climbed,
    _coach_alert,
    _Ctx,
    _ladder_position,
    _level_id,
    _next_phase,
    _notice,
    _Out,
    _phase,
)
from bot.program.machine.gates import _clearance_alert, _enter_phase, _schedule_gate
from bot.program.machine.ladder import _move_levels
from bot.program.machine.replan import _replan
from bot.program.machine.stops import _call_off_reminder
from bot.program.rules import ResumeOption
from bot.program.state import ProgramState, Status


def _on_coach(state: ProgramState, ev: CoachAction, ctx: _Ctx) -> Decision:
    out = _Out()
    acts = ctx.rules.symptoms.actions
    rule = acts.coach.id
    verb = ev.verb
    who = _who(ev)
    if verb is CoachVerb.ACKNOWLEDGE:
        if state.status.stopped and state.flag_ack is None:
            state = _acknowledge(state, ev, ctx, out)
        out.act(Act.RECORD, acts.acknowledged.id, status=state.status.value, **who)
        return out.done(state)
    if state.status is Status.DISCHARGED:  # the protocol has ended: nothing to change
        out.act(Act.STALE, rule, status=state.status.value, **who)
        return out.done(state, stale=True)
    if state.status.stopped:
        # A red flag or an escalation: only a deliberate Clear lifts it. Every other verb is
        # the clinician's word on the runner that keeps them stopped, and says so.
        if verb is CoachVerb.CLEAR:
            state = _lift_stop(state, ev, ctx, out)
        else:
            state = _keep_stop(state, ev, ctx, out)
        return out.done(_replan(state, ctx, out))
    if verb is CoachVerb.PAUSE:
        state = state.evolve(status=Status.PAUSED, pause_reason=f"coach:{ev.coach_id}")
        out.act(Act.PAUSE, rule, **who)
        key = f"notice:coach:{ev.coach_id}:pause:{ctx.now.isoformat()}"
        _notice(out, ctx, key, "coach_paused", rules=[rule], by=_by(ev))
        return out.done(_replan(state, ctx, out))
    was = state.status
    code = f"coach_{verb.value}"  # the runner's notice: what the verb did
    if verb in (CoachVerb.RESUME, CoachVerb.CLEAR) and was is Status.PAUSED:
        # Resume and Clear lift a pause; Hold, Regress and Advance change the level only.
        state = state.evolve(status=Status.ACTIVE, pause_reason=None)
        out.act(Act.RESUME, rule, previous=was.value, **who)
    if verb is CoachVerb.HOLD:
        state = state.evolve(clear_at_level=0)
        out.act(Act.HOLD, rule, level=_level_id(state, ctx), **who)
    elif verb is CoachVerb.REGRESS:
        before = _level_id(state, ctx)
        here = _ladder_position(state, ctx)
        state = _move_levels(state, ctx, -1)
        out.act(Act.REGRESS, rule, from_level=before, to_level=_level_id(state, ctx), **who)
        if _ladder_position(state, ctx) == here:  # the ladder's bottom, or no ladder here
            code = "coach_regress_bottom"
    elif verb is CoachVerb.ADVANCE:
        phase = _phase(state, ctx)
        if phase.runs and state.level + 1 < len(phase.levels):
            before = _level_id(state, ctx)
            state = state.evolve(level=state.level + 1, level_since=ctx.today, clear_at_level=0)
            state = _climbed(state, ctx)
            out.act(Act.PROGRESS, rule, from_level=before, to_level=_level_id(state, ctx), **who)
        else:
            nxt = _next_phase(state, ctx)
            if nxt is None:
                out.act(Act.HOLD, rule, reason="last phase", **who)
            else:
                clearance = nxt.gate.clearance_key
                if clearance:
                    state = state.evolve(clearances=state.clearances | {clearance})
                state = _enter_phase(state, nxt, ctx, out)
                out.act(Act.CLEARED, rule, phase=nxt.id, **who)
    elif verb is CoachVerb.CLEAR:
        state = _coach_clear(state, ctx, out, who, was)
    elif verb is CoachVerb.RESUME and was is Status.ACTIVE:
        out.act(Act.RECORD, rule, **who)
    if verb is not CoachVerb.CLEAR and not out.actions:
        out.act(Act.RECORD, rule, **who)
    if was is not Status.ACTIVE and state.status is Status.ACTIVE:
        # A gate check that fell due while paused was dropped: ask it again.
        state = _schedule_gate(state, ctx, out)
    key = f"notice:coach:{ev.coach_id}:{verb.value}:{ctx.now.isoformat()}"
    level = _level_id(state, ctx)
    _notice(out, ctx, key, code, rules=[rule], level=level, by=_by(ev))
    return out.done(_replan(state, ctx, out))


def _who(ev: CoachAction) -> dict[str, Any]:
    who: dict[str, Any] = {"coach_id": ev.coach_id, "verb": ev.verb.value}
    if ev.by:
        who["by"] = ev.by
    if ev.option:
        who["option"] = ev.option
    return who


def _by(ev: CoachAction) -> str:
    """Who decided, as the runner is told: their coach, or the clinic (the operator)."""
    return "operator" if ev.by else "coach"


def _actor(ev: CoachAction) -> str:
    return f"operator:{ev.by}" if ev.by else f"coach:{ev.coach_id}"


def resume_options(state: ProgramState, rules: Rules) -> list[ResumeOption]:
    """The ways back the rules allow from this runner's stop (empty when not stopped)."""
    acts = rules.symptoms.actions
    if state.status is Status.RED_FLAG:
        return list(acts.red_flag.resume)
    if state.status is Status.ESCALATED:
        pain = rules.tables.protocols[state.protocol_id].pain  # the protocol's own, if any
        return list(pain.actions.escalate.resume)
    return []


def _acknowledge(state: ProgramState, ev: CoachAction, ctx: _Ctx, out: _Out) -> ProgramState:
    """A clinician has seen the stop: recorded, and the repeated alert is called off."""
    _call_off_reminder(state, out)
    rule = ctx.rules.symptoms.actions.acknowledged.id
    key = f"notice:ack:{state.flag_since}"
    _notice(out, ctx, key, "coach_acknowledged", rules=[rule], by=_by(ev))
    return state.evolve(flag_ack=_actor(ev))


def _keep_stop(state: ProgramState, ev: CoachAction, ctx: _Ctx, out: _Out) -> ProgramState:
    acts = ctx.rules.symptoms.actions
    rule = acts.coach_kept_stop.id
    if state.flag_ack is None:
        state = _acknowledge(state, ev, ctx, out)
    if ev.verb is CoachVerb.REGRESS:
        before = _level_id(state, ctx)
        state = _move_levels(state, ctx, -1)
        out.act(Act.REGRESS, acts.coach.id, from_level=before, to_level=_level_id(state, ctx))
    out.act(Act.RECORD, rule, kept=state.status.value, **_who(ev))
    key = f"notice:coach:{ev.coach_id}:kept:{ctx.now.isoformat()}"
    level = _level_id(state, ctx)
    _notice(out, ctx, key, "coach_kept_stop", rules=[rule], level=level, by=_by(ev))
    return state


def _lift_stop(state: ProgramState, ev: CoachAction, ctx: _Ctx, out: _Out) -> ProgramState:
    """The clinician clears the runner after a red flag or an escalation, along one of the ways
    back the rules allow (rest days, then a level down by default)."""
    options = resume_options(state, ctx.rules)
    chosen = next((o for o in options if o.id == ev.option), None)
    if ev.option is None:
        chosen = next(o for o in options if o.default)
    if chosen is None:
        raise BadEvent(f"unknown resume option {ev.option!r}")
    was = state.status
    _call_off_reminder(state, out)
    before = _level_id(state, ctx)
    if _phase(state, ctx).runs:
        state = _move_levels(state, ctx, -chosen.levels_down)
    rest_until = ctx.today + timedelta(days=chosen.rest_days)
    if state.impact_free_until is not None:
        rest_until = max(rest_until, state.impact_free_until)
    state = state.evolve(
        status=Status.ACTIVE,
        pause_reason=None,
        clear_at_level=0,
        regressions=(),
        last_regress_level=None,  # reviewed by a clinician: the count starts again
        impact_free_until=rest_until if chosen.rest_days else state.impact_free_until,
        flag_since=None,
        flag_ack=None,
    )
    level = _level_id(state, ctx)
    out.act(
        Act.RESUME,
        chosen.id,
        previous=was.value,
        from_level=before,
        to_level=level,
        rest_days=chosen.rest_days,
        **_who(ev),
    )
    rule = ctx.rules.symptoms.actions.coach.id
    out.act(Act.CLEARED, rule, lifted=was.value, **_who(ev))
    key = f"notice:coach:{ev.coach_id}:lifted:{ctx.now.isoformat()}"
    _notice(
        out,
        ctx,
        key,
        "coach_cleared_stop",
        rules=[chosen.id, rule],
        level=level,
        rest_days=chosen.rest_days,
        by=_by(ev),
    )
    return _schedule_gate(state, ctx, out)


def _coach_clear(
    state: ProgramState, ctx: _Ctx, out: _Out, who: dict[str, Any], was: Status
) -> ProgramState:
    """Clear to continue. Grants the next gate's clearance when one is awaited, or when an
    active runner is cleared ahead of the gate; lifting a red flag or an escalation is never
    also a clearance for the next phase (that takes a second, deliberate clear)."""
    rule = ctx.rules.symptoms.actions.coach.id
    nxt = _next_phase(state, ctx)
    awaited = state.gate is not None and state.gate.awaiting_clearance
    if nxt is not None and nxt.gate.clearance_key and (awaited or was is Status.ACTIVE):
        state = state.evolve(clearances=state.clearances | {nxt.gate.clearance_key})
        out.act(Act.CLEARED, rule, clearance=nxt.gate.clearance_key, **who)
        if awaited:
            state = _enter_phase(state, nxt, ctx, out)
    else:
        out.act(Act.CLEARED, rule, **who)
    return state


def _on_linked(state: ProgramState, ev: CoachLinked, ctx: _Ctx) -> Decision:
    """A clinician was linked: what waited for one (a stop, a clearance) goes to them now."""
    out = _Out()
    acts = ctx.rules.symptoms.actions
    rule = acts.coach_linked.id
    if state.status.stopped and state.flag_since is not None:
        reason = "red_flag" if state.status is Status.RED_FLAG else "escalated"
        escalate = ctx.pt.pain.actions.escalate.id
        stop_rule = acts.red_flag.id if reason == "red_flag" else escalate
        key = f"alert:{reason}:linked:{ev.coach_id}:{state.flag_since.isoformat()}"
        _coach_alert(out, state, ctx, key, reason, [stop_rule, rule], urgent=True)
        out.act(Act.RECORD, rule, sent=reason, coach_id=ev.coach_id)
    elif state.gate is not None and state.gate.awaiting_clearance:
        nxt = ctx.pt.phase[state.gate.phase_id]
        key = f"alert:clearance:{nxt.id}:linked:{ev.coach_id}"
        _clearance_alert(state, nxt, ctx, out, key)
        out.act(Act.RECORD, rule, sent="clearance_needed", coach_id=ev.coach_id)
    else:
        out.act(Act.RECORD, rule, sent=None, coach_id=ev.coach_id)
    return out.done(state)
