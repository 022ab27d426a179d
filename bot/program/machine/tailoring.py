"""The coach's overlay (tailoring.yaml): a coach tailors one runner's program within the bounds
the rules set. Out of bounds is a BadEvent and nothing changes. Tailoring never lifts a stop:
it changes how the program runs, not whether it may.

Part of the engine (`bot/program/engine.py`): pure, no I/O, no clock."""

from __future__ import annotations

from dataclasses import replace

from bot.program.codec import overlay_to_dict
from bot.program.decision import Act, Action, Decision
from bot.program.events import OverlaySet
from bot.program.loader import Rules
from bot.program.machine.context import BadEvent, _context, _Ctx, _notice, _Out
from bot.program.machine.replan import _replan
from bot.program.rules import Phase, Protocol
from bot.program.state import OVERLAY_FIELDS, Overlay, ProgramState


def start_levels(protocol: Protocol, rules: Rules) -> list[str]:
    """The level ids a coach may start a runner at: the first run phase's, up to max_rung."""
    first: Phase | None = next((p for p in protocol.phases if p.runs), None)
    if first is None:
        return []
    return [lv.id for lv in first.levels[: rules.tailoring.start_level.max_rung]]


def check_overlay(ov: Overlay, protocol: Protocol, rules: Rules) -> list[str]:
    """Why this overlay is outside the bounds of tailoring.yaml (empty: it is within them)."""
    t = rules.tailoring
    problems: list[str] = []

    def bounded(name: str, value: int | None, lo: int, hi: int) -> None:
        if value is not None and not lo <= value <= hi:
            problems.append(f"{name} {value} is outside {lo}..{hi} ({t.id})")

    bounded("hold_sessions", ov.hold_sessions, t.hold_sessions.min, t.hold_sessions.max)
    bounded("hold_days", ov.hold_days, t.hold_days.min, t.hold_days.max)
    rd = t.rest_days_between_runs
    bounded("rest_days", ov.rest_days, rd.min, rd.max)
    bounded("pain_threshold", ov.pain_threshold, t.pain_threshold.min, t.pain_threshold.max)
    if ov.start_level is not None:
        allowed = start_levels(protocol, rules)
        if ov.start_level not in allowed:
            problems.append(
                f"start_level {ov.start_level!r} is not one of {', '.join(allowed) or 'none'} "
                f"({t.id})"
            )
    if ov.weekdays is not None:
        if not ov.weekdays <= frozenset(range(7)):
            problems.append(f"weekdays must be 0..6 (0 = Monday) ({t.id})")
        elif len(ov.weekdays) < t.weekdays.min_days:
            problems.append(f"weekdays: at least {t.weekdays.min_days} days ({t.id})")
    f = ov.maintenance_factor
    m = t.maintenance
    if f is not None and not m.factor_min <= f <= m.factor_max:
        problems.append(
            f"maintenance_factor {f} is outside {m.factor_min}..{m.factor_max} ({t.id})"
        )
    return problems


def changed_fields(old: Overlay | None, new: Overlay) -> list[str]:
    before = old or Overlay()
    return [f for f in OVERLAY_FIELDS if getattr(before, f) != getattr(new, f)]


def _on_overlay(state: ProgramState, ev: OverlaySet, ctx: _Ctx) -> Decision:
    rules = ctx.rules
    problems = check_overlay(ev.overlay, ctx.protocol, rules)
    if problems:
        raise BadEvent("; ".join(problems))
    old = state.overlay
    values = ev.overlay.values()
    changed = changed_fields(old, values)
    if not changed:
        raise BadEvent("nothing to change: the runner's program is already tailored so")
    version = (old.version if old is not None else 0) + 1
    ov = replace(values, version=version, by=ev.by)
    state = state.evolve(overlay=ov)
    out = _Out()
    rule = rules.tailoring.id
    out.act(
        Act.TAILOR, rule, version=version, by=ev.by, changed=changed, overlay=overlay_to_dict(ov)
    )
    # The rest of this decision, and every one after it, reads the tables as now tailored.
    ctx = _context(rules, state.protocol_id, ctx.site, ctx.now, ctx.tz, state.profile, ov)
    state = _apply_start_level(state, ov, ctx, out)
    state = _replan(state, ctx, out)
    _notice(
        out,
        ctx,
        f"notice:tailored:{version}",
        "tailored",
        by="operator" if ev.coach_id == 0 else "coach",
        version=version,
        changed=changed,
        overlay=overlay_to_dict(ov),
        rules=[rule],
    )
    return out.done(state)


def _apply_start_level(state: ProgramState, ov: Overlay, ctx: _Ctx, out: _Out) -> ProgramState:
    """A runner already in the first run phase, below the new start level, moves up to it (a
    coach's act). Elsewhere the start level waits until running starts (gates._enter_phase)."""
    if ov.start_level is None:
        return state
    phase = ctx.pt.phase[state.phase_id]
    first = next((p for p in ctx.protocol.phases if p.runs), None)
    if first is None or phase.id != first.id:
        return state
    target = next(j for j, lv in enumerate(phase.levels) if lv.id == ov.start_level)
    if target <= state.level:
        return state
    out.act(
        Act.PROGRESS,
        ctx.rules.tailoring.id,
        from_level=phase.levels[state.level].id,
        to_level=ov.start_level,
    )
    return state.evolve(level=target, level_since=ctx.today, clear_at_level=0, stage_since=None)


def _name_overlay(decision: Decision, ctx: _Ctx) -> Decision:
    """A tailored runner's decision judged by the coach's pain threshold (a classification named
    by the tailoring rule, in some action's `because`) names that rule among its own, so the
    decision log finds it by rule id like any other."""
    rule = ctx.rules.tailoring.id
    actions = decision.actions
    if any(a.rule == rule for a in actions):
        return decision
    if not any(rule in a.detail.get("because", ()) for a in actions):
        return decision
    named = (*actions, Action(Act.RECORD, rule, {"tailored": "pain_threshold"}))
    return replace(decision, actions=named)
