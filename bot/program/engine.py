"""The stage machine: `decide(state, event, rules, now) -> Decision`.

Reads like the clinic's protocol (DOMAIN.md): a runner moves through the protocol's phases when a
phase's entry gate is met (questions, days, clinician clearance where the site needs it); in the
run phases they climb the level ladder one step after the level's hold (a plateau of symptom-free
sessions) is met; a 24-hour follow-up decides progress / hold / regress (with rest days) / red flag;
repeated regressions escalate to the coach. Every Action names the id of the rule behind it.

Pure: no I/O, no clock. `now` is a timezone-aware UTC instant given by the caller.

The steps live in `bot/program/machine/`, one module per step of the protocol, each importing only
the ones above it: `context` (what a decision knows and collects, keys, notices and alerts),
`replan` (the next session on the calendar), `gates` (entry gates, the end of the ladder),
`ladder` (climbing, stages by days), `stops` (regress, escalate, red flag), `enrolment`,
`sessions` (report, 24-hour follow-up by followup.py's tables, missed, time), `runner_acts`,
`clinician` and `switch` (a clinician moves the runner to another protocol). Names with a
leading underscore are the engine's own, not for callers.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.program.decision import Decision
from bot.program.events import (
    ClearanceClaimed,
    CoachAction,
    CoachLinked,
    Enrolled,
    Event,
    FollowupAnswered,
    GateAnswered,
    OverlaySet,
    ProtocolSwitched,
    RunnerPaused,
    RunnerResumed,
    SessionMissed,
    SessionReported,
    SettingsChanged,
    SymptomsReported,
    TimePassed,
)
from bot.program.loader import Rules
from bot.program.machine.clinician import _on_coach, _on_linked, resume_options
from bot.program.machine.context import BadEvent, NotEnrolled, _context
from bot.program.machine.enrolment import _enrol, chosen_protocol, protocol_choices
from bot.program.machine.gates import gate_min_days, gate_questions, gate_symptoms, needs_clearance
from bot.program.machine.runner_acts import (
    _on_claim,
    _on_gate,
    _on_runner_pause,
    _on_runner_resume,
    _on_settings,
    _on_symptoms,
)
from bot.program.machine.sessions import (
    _on_followup,
    _on_missed,
    _on_reported,
    _on_time,
    followup_questions,
    report_questions,
)
from bot.program.machine.switch import _on_switch, landing_level, landing_phase, switch_choices
from bot.program.machine.tailoring import (
    _name_overlay,
    _on_overlay,
    check_overlay,
    start_levels,
)
from bot.program.state import ProgramState

__all__ = [
    "BadEvent",
    "NotEnrolled",
    "check_overlay",
    "chosen_protocol",
    "decide",
    "followup_questions",
    "gate_min_days",
    "gate_questions",
    "gate_symptoms",
    "landing_level",
    "landing_phase",
    "needs_clearance",
    "protocol_choices",
    "report_questions",
    "resume_options",
    "start_levels",
    "switch_choices",
]


def decide(state: ProgramState | None, event: Event, rules: Rules, now: datetime) -> Decision:
    """Apply one event to one runner's program. Deterministic: same inputs, same Decision."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware (UTC)")
    if isinstance(event, Enrolled):
        return _enrol(event, rules, now)
    if state is None:
        raise NotEnrolled(type(event).__name__)
    profile = state.profile
    site = rules.site_by_id[profile.site_id]
    ctx = _context(rules, state.protocol_id, site, now, profile.timezone, profile, state.overlay)
    handler = _HANDLERS[type(event)]
    decision: Decision = handler(state, event, ctx)
    if state.overlay is not None:  # a tailored runner: decisions under the overlay name it
        decision = _name_overlay(decision, ctx)
    assert decision.actions, "every decision names at least one rule"
    return decision


_HANDLERS: dict[type, Any] = {
    SessionReported: _on_reported,
    FollowupAnswered: _on_followup,
    SessionMissed: _on_missed,
    TimePassed: _on_time,
    GateAnswered: _on_gate,
    CoachAction: _on_coach,
    RunnerPaused: _on_runner_pause,
    RunnerResumed: _on_runner_resume,
    SettingsChanged: _on_settings,
    ClearanceClaimed: _on_claim,
    SymptomsReported: _on_symptoms,
    CoachLinked: _on_linked,
    OverlaySet: _on_overlay,
    ProtocolSwitched: _on_switch,
}
