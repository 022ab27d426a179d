"""A clinician switches a runner's protocol mid-program, keeping their history.

Where the runner lands in the new protocol (the mapping rule, README "Switching protocol"):
- the phase of the same kind as the one they are in (run/walk to run/walk, strength to
  strength); if the new protocol has none, its last phase of an earlier kind, never a later
  (harder) one; if it has no phase that early, the switch is refused;
- in a run phase, the highest level that is not harder than the current one: no more running in
  a session (run seconds x repeats) and no longer unbroken run (a block); when even the phase's
  first level is harder, its first level (the phase's own entry point).
Everything the runner did and every clinician's act is kept: sessions, step-backs, clearances
(keyed by what was cleared, shared across protocols), claims and any stop. A red flag, an
escalation or a clearance being waited for stays exactly as it is: only a clinician's clear
lifts those, never a switch. The new level starts its hold afresh.

Part of the engine (`bot/program/engine.py`): pure, no I/O, no clock."""

from __future__ import annotations

from typing import Any

from bot.program.decision import Act, Decision
from bot.program.events import ProtocolSwitched
from bot.program.loader import Rules
from bot.program.machine.context import (
    BadEvent,
    _coach_alert,
    _context,
    _Ctx,
    _level_id,
    _notice,
    _Out,
    _phase,
)
from bot.program.machine.enrolment import protocol_choices
from bot.program.machine.gates import _schedule_gate
from bot.program.machine.replan import _replan
from bot.program.rules import Level, Phase, PhaseKind, Protocol
from bot.program.state import PendingGate, ProgramState, Status

_KIND_ORDER = list(PhaseKind)


def landing_phase(protocol: Protocol, kind: PhaseKind) -> Phase | None:
    """The phase of `protocol` a runner in a phase of `kind` moves to (None: it starts later)."""
    rank = _KIND_ORDER.index(kind)
    earlier = [p for p in protocol.phases if _KIND_ORDER.index(p.kind) <= rank]
    same = [p for p in earlier if p.kind is kind]
    if same:
        return same[0]
    return earlier[-1] if earlier else None


def landing_level(current: Level | None, phase: Phase) -> int:
    """The highest level of `phase` not harder than `current` (0 when none is, or no ladder)."""
    if not phase.runs or current is None:
        return 0
    best = 0
    for i, lv in enumerate(phase.levels):
        if lv.run_total_s <= current.run_total_s and lv.continuous_s <= current.continuous_s:
            best = i
    return best


def switch_choices(rules: Rules, state: ProgramState) -> list[Protocol]:
    """The protocols this runner may be switched to now: written for their site
    (`protocol_choices`) and with a phase no later than the one they are in; the current one
    first."""
    site = rules.site_by_id[state.profile.site_id]
    kind = rules.protocols[state.protocol_id].phase(state.phase_id).kind
    found = [p for p in protocol_choices(rules, site) if landing_phase(p, kind) is not None]
    return sorted(found, key=lambda p: (p.id != state.protocol_id, p.id))


def _on_switch(state: ProgramState, ev: ProtocolSwitched, ctx: _Ctx) -> Decision:
    out = _Out()
    rule = ctx.rules.symptoms.actions.protocol_switch.id
    who: dict[str, Any] = {"coach_id": ev.coach_id, **({"by": ev.by} if ev.by else {})}
    allowed = {p.id: p for p in protocol_choices(ctx.rules, ctx.site)}
    if ev.protocol_id not in allowed:
        raise BadEvent(
            f"protocol {ev.protocol_id!r} is not one for site {ctx.site.id!r} "
            f"(allowed: {', '.join(sorted(allowed))})"
        )
    if ev.protocol_id == state.protocol_id:  # already on it: nothing changes
        out.act(Act.RECORD, rule, protocol=ev.protocol_id, unchanged=True, **who)
        return out.done(state)
    if state.status is Status.DISCHARGED:  # the program has ended: nothing to switch
        out.act(Act.STALE, rule, status=state.status.value, **who)
        return out.done(state, stale=True)
    new = allowed[ev.protocol_id]
    old_phase = _phase(state, ctx)
    phase = landing_phase(new, old_phase.kind)
    if phase is None:
        raise BadEvent(
            f"protocol {new.id!r} starts at {new.phases[0].kind.value}, beyond the runner's "
            f"current phase ({old_phase.kind.value})"
        )
    old_level = old_phase.levels[state.level] if old_phase.runs else None
    level = landing_level(old_level, phase)
    nctx = _context(ctx.rules, new.id, ctx.site, ctx.now, ctx.tz, state.profile)
    before: dict[str, Any] = {
        "from_protocol": state.protocol_id,
        "from_phase": state.phase_id,
        "from_level": _level_id(state, ctx),
    }
    state = state.evolve(
        protocol_id=new.id,
        phase_id=phase.id,
        level=level,
        phase_since=state.phase_since if phase.kind is old_phase.kind else ctx.today,
        level_since=ctx.today,
        clear_at_level=0,
        stage_since=None,
        maintenance_since=state.maintenance_since if phase.kind is PhaseKind.MAINTENANCE else None,
        loading_since=state.loading_since if phase.runs else None,
        last_regress_level=_map_level(state.last_regress_level, ctx, phase),
        gate=_map_gate(state.gate, new, phase),
    )
    detail = {**before, "protocol": new.id, "phase": phase.id, "level": _level_id(state, nctx)}
    out.act(Act.SWITCH_PROTOCOL, rule, **detail, **who)
    stamp = ctx.now.isoformat()
    by = "operator" if ev.by else "coach"
    _notice(
        out, nctx, f"notice:protocol:{stamp}", "protocol_switched", rules=[rule], by=by, **detail
    )
    _coach_alert(
        out, state, nctx, f"alert:protocol:{stamp}", "protocol_switched", [rule], **before, **who
    )
    if state.gate is None and state.status is Status.ACTIVE:
        state = _schedule_gate(state, nctx, out)
    return out.done(_replan(state, nctx, out))


def _map_level(level_id: str | None, ctx: _Ctx, phase: Phase) -> str | None:
    """The level the last step-back came at, carried over so 'still painful after stepping back'
    keeps watching (mapped like the runner's own level)."""
    if level_id is None or not phase.runs:
        return None
    for p in ctx.protocol.phases:
        for lv in p.levels:
            if lv.id == level_id:
                return phase.levels[landing_level(lv, phase)].id
    return None


def _map_gate(gate: PendingGate | None, protocol: Protocol, phase: Phase) -> PendingGate | None:
    """A clearance waited for is still waited for, now for the phase after the new one (a
    switch never grants one; the clinician's clear still decides). A gate only being asked is
    dropped: the new protocol's gate is asked afresh (its questions may differ)."""
    if gate is None or not gate.awaiting_clearance:
        return None
    i = protocol.phases.index(phase)
    if i + 1 >= len(protocol.phases):
        return None
    return PendingGate(
        protocol.phases[i + 1].id, gate.asked_on, answers_ok=True, awaiting_clearance=True
    )
