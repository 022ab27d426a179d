"""Stepping back and stopping (DOMAIN.md §4.4-4.5): regress with rest days, escalation as
the rules define it, red flags; only a clinician's recorded act lifts a stop.

Part of the engine (`bot/program/engine.py`): pure, no I/O, no clock."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bot.program.decision import Act
from bot.program.machine.context import (
    _coach_alert,
    _Ctx,
    _ladder_position,
    _level_id,
    _notice,
    _Out,
    _phase,
    _position_of,
)
from bot.program.machine.ladder import _move_levels
from bot.program.state import ProgramState, Status


def _regress(
    state: ProgramState, ctx: _Ctx, out: _Out, because: tuple[str, ...], seq: int | str
) -> ProgramState:
    pain = ctx.pt.pain
    rule = pain.actions.regress
    esc = pain.actions.escalate
    before = _level_id(state, ctx)
    here = _ladder_position(state, ctx)
    if _phase(state, ctx).runs:
        state = _move_levels(state, ctx, -rule.levels)
    rest_until = ctx.today + timedelta(days=rule.rest_days)
    window = ctx.today - timedelta(days=pain.escalate_window_days)
    regressions = (*(d for d in state.regressions if d > window), ctx.today)
    # "Still painful after stepping back": at or below the level of the last regression.
    last = _position_of(state.last_regress_level, ctx)
    again = here is not None and last is not None and here <= last
    state = state.evolve(
        impact_free_until=max(rest_until, state.impact_free_until or rest_until),
        regressions=regressions,
        clear_at_level=0,
        gate=None,
    )
    if pain.watches_step_back and here is not None:  # remembered only where a rule asks for it
        state = state.evolve(last_regress_level=before)
    out.act(
        Act.REGRESS,
        rule.id,
        because=list(because),
        from_level=before,
        to_level=_level_id(state, ctx),
        rest_days=rule.rest_days,
    )
    step_back = {"level": _level_id(state, ctx), "rest_days": rule.rest_days}
    fired = (
        []
        if state.status is Status.RED_FLAG
        else [
            w
            for w in pain.escalate_when
            if (w.regress_at_or_below_last and again)
            or (
                w.regressions is not None
                and w.within_days is not None
                and sum(d > ctx.today - timedelta(days=w.within_days) for d in regressions)
                >= w.regressions
            )
        ]
    )
    stop = [w for w in fired if (w.then or esc.then) == "stop"]
    if not stop:
        # Not when running stops here: "back to level N" just before "running is paused"
        # would say the opposite; the stop's own notice says why, once.
        key = f"notice:regress:{seq}"
        _notice(out, ctx, key, "regressed", **step_back, rules=[rule.id, *because])
    if not fired:
        return state
    ids = list(dict.fromkeys(w.id or esc.id for w in (stop or fired)))
    why = [*ids, *([esc.id] if esc.id not in ids else []), rule.id, *because]
    if stop:
        state = _stop(state, ctx, Status.ESCALATED, esc.id)
        detail: dict[str, Any] = {"regressions": len(regressions)}
        if esc.when is None:
            detail["within_days"] = esc.within_days
        else:
            detail["triggers"] = ids
        out.act(Act.ESCALATE, ids[0], **detail)
        _stop_alert(
            out,
            state,
            ctx,
            f"alert:escalate:{seq}",
            "escalated",
            why,
            regressions=len(regressions),
        )
        _notice(out, ctx, f"notice:escalate:{seq}", "escalated", rules=[ids[0], *because])
        return state
    # Notify only: the clinician hears of it; the runner keeps going at the lower level.
    out.act(Act.RECORD, ids[0], notified="coach", triggers=ids, regressions=len(regressions))
    _coach_alert(
        out,
        state,
        ctx,
        f"alert:notify:{seq}",
        "step_back_notice",
        why,
        regressions=len(regressions),
    )
    return state


def _stop(state: ProgramState, ctx: _Ctx, status: Status, rule: str) -> ProgramState:
    """Stop: only a clinician's recorded clearance makes this runner active again."""
    since = state.flag_since if state.status.stopped and state.flag_since else ctx.now
    return state.evolve(
        status=status, pause_reason=rule, open=(), gate=None, flag_since=since, flag_ack=None
    )


def _reminder_key(state: ProgramState) -> str:
    """The key of the stop's repeated alert: one per stop, derived from when it began."""
    assert state.flag_since is not None
    return f"alert:again:{state.flag_since.isoformat()}"


def _call_off_reminder(state: ProgramState, out: _Out) -> None:
    """A clinician acted on the stop: its repeated alert is not sent. (A stop stored before
    stops had a start time has no repeated alert to call off.)"""
    if state.flag_since is not None:
        out.drop(_reminder_key(state))


def _stop_alert(
    out: _Out, state: ProgramState, ctx: _Ctx, key: str, reason: str, rules: list[str], **p: Any
) -> None:
    """The urgent alert of a stop, and the same alert again later unless a clinician has acted
    on it by then (acknowledged, kept stopped or cleared: each cancels the repeat)."""
    _coach_alert(out, state, ctx, key, reason, rules, urgent=True, **p)
    hours = ctx.rules.symptoms.actions.red_flag.remind_coach_after_hours
    again = ctx.now + timedelta(hours=hours)
    key = _reminder_key(state)
    _coach_alert(out, state, ctx, key, reason, rules, again, urgent=True, reminder=True, **p)


def _red_flag(
    state: ProgramState,
    ctx: _Ctx,
    out: _Out,
    because: tuple[str, ...],
    seq: int | str,
    answers: dict[str, int | bool],
) -> ProgramState:
    rule = ctx.rules.symptoms.actions.red_flag.id
    state = _stop(state, ctx, Status.RED_FLAG, rule)
    out.act(Act.RED_FLAG, rule, because=list(because))
    _stop_alert(out, state, ctx, f"alert:red:{seq}", "red_flag", [rule, *because], answers=answers)
    _notice(out, ctx, f"notice:red:{seq}", "red_flag", rules=[rule, *because])
    return state
