"""Climbing the run ladder (DOMAIN.md §3.3): one level after the level's plateau, read
from followup.py's CLIMB table; moving along it across run phases.

Part of the engine (`bot/program/engine.py`): pure, no I/O, no clock."""

from __future__ import annotations

from datetime import date, timedelta

from bot.program.calendar import build_deload_week
from bot.program.decision import Act
from bot.program.followup import Do, climb_row
from bot.program.machine.context import (
    _climbed,
    _Ctx,
    _notice,
    _Out,
    _overlay_rule,
    _phase,
    _row_rule,
)
from bot.program.machine.gates import _gate_ready
from bot.program.rules import Level, PhaseKind
from bot.program.state import ProgramState


def _move_levels(state: ProgramState, ctx: _Ctx, steps: int) -> ProgramState:
    """Move along the run ladder, across run phases if need be, never off its ends."""
    ladder = ctx.pt.ladder
    here = ctx.pt.ladder_position.get((ctx.pt.index[state.phase_id], state.level))
    if here is None:
        return state
    pos = max(0, min(len(ladder) - 1, here + steps))
    pi, lj = ladder[pos]
    phase = ctx.protocol.phases[pi]
    return state.evolve(
        phase_id=phase.id,
        level=lj,
        level_since=ctx.today,
        phase_since=state.phase_since if phase.id == state.phase_id else ctx.today,
        clear_at_level=0,
        stage_since=None,
    )


def _progress_after_clear(state: ProgramState, ctx: _Ctx, out: _Out, seq: int) -> ProgramState:
    """A session that counts toward the plateau: what it does is looked up in followup.CLIMB."""
    phase = _phase(state, ctx)
    if not phase.runs:
        row = climb_row(False, False, False, False)  # no ladder
        out.act(Act.HOLD, _row_rule(row.rule, ctx), reason="no ladder in this phase")
        return state
    level = phase.levels[state.level]
    clear = state.clear_at_level + 1
    days = (ctx.today - state.level_since).days
    state = state.evolve(clear_at_level=clear)
    reached = _hold_met(state, level, ctx.today)
    # The deload week is asked only once the hold is reached (the rows above decide otherwise).
    deload_week = (
        reached
        and phase.kind is not PhaseKind.MAINTENANCE
        and build_deload_week(ctx.today, state.loading_since, ctx.rules.scheduling)
    )
    top = state.level + 1 >= len(phase.levels)
    row = climb_row(True, reached, deload_week, top)  # ladder, hold reached, deload week, top
    rule = _row_rule(row.rule, ctx)
    if row.do in (Do.HOLDING, Do.STEP_UP) and ctx.overlay is not None:
        rule = _overlay_rule(ctx, "hold_sessions", "hold_days") or rule  # the coach's hold
    if row.do is Do.HOLDING and level.stage_days is not None:
        start = state.stage_since or ctx.today
        day = (ctx.today - start).days + 1
        out.act(Act.HOLD, rule, level=level.id, stage_day=day, stage_days=level.stage_days)
        _notice(
            out,
            ctx,
            f"notice:holding:{seq}",
            "stage_holding",
            level=level.id,
            day=day,
            days=level.stage_days,
            rules=[rule],
        )
    elif row.do is Do.HOLDING:
        out.act(
            Act.HOLD,
            rule,
            level=level.id,
            clear=clear,
            needed=level.hold_sessions,
            days=days,
            needed_days=level.hold_days,
        )
        _notice(
            out,
            ctx,
            f"notice:holding:{seq}",
            "holding",
            level=level.id,
            clear=clear,
            needed=level.hold_sessions,
            rules=[rule],
        )
    elif row.do is Do.DELOAD_HOLD:
        # A deload week is a plateau on purpose: the step up waits for the week after it.
        out.act(Act.HOLD, rule, level=level.id, clear=clear, reason="deload week")
    elif row.do is Do.STEP_UP:
        state = state.evolve(
            level=state.level + 1, level_since=ctx.today, clear_at_level=0, stage_since=None
        )
        state = _climbed(state, ctx)
        new = phase.levels[state.level].id
        out.act(Act.PROGRESS, rule, from_level=level.id, to_level=new)
        _notice(out, ctx, f"notice:progress:{seq}", "progressed", level=new, rules=[rule])
    else:
        assert row.do is Do.TOP
        out.act(Act.HOLD, rule, level=level.id, reason="top of ladder")
        if state.gate is None:
            state = _gate_ready(state, ctx, out)
    return state


def _hold_met(state: ProgramState, level: Level, today: date) -> bool:
    """The level's hold is met: its clear sessions and days, and for a stage (stage_days) the
    calendar days since the stage's first session (a mild session restarted it)."""
    if state.clear_at_level < level.hold_sessions:
        return False
    if today < state.level_since + timedelta(level.hold_days):
        return False
    if level.stage_days is None:
        return True
    start = state.stage_since
    return (
        start is not None
        and start >= state.level_since
        and today >= start + timedelta(level.stage_days)
    )


def _stage_started(state: ProgramState, ctx: _Ctx, level_id: str | None) -> ProgramState:
    """A session at a stage level (stage_days) starts the stage's clock if none is running."""
    phase = _phase(state, ctx)
    if not phase.runs:
        return state
    level = phase.levels[state.level]
    if level.stage_days is None or level.id != level_id:
        return state
    start = state.stage_since
    if start is not None and start >= state.level_since:
        return state
    return state.evolve(stage_since=ctx.today)
