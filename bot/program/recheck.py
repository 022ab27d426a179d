"""Does a scheduled message still make sense at the moment it falls due?

The agenda stores messages long before they are sent; meanwhile the runner may have reported the
session, paused, or been flagged. The ticker asks this before every send, and the simulator does
the same, so both follow one rule.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from bot.program.calendar import local_date
from bot.program.decision import MessageKind
from bot.program.loader import Rules
from bot.program.state import ProgramState, Status


class Verdict(StrEnum):
    SEND = "send"
    DROP = "drop"  # no longer meaningful: finalise without sending
    WAKE = "wake"  # internal: feed the engine a SessionMissed for payload["seq"]


_ALWAYS = (
    MessageKind.COACH_ALERT,
    MessageKind.RUNNER_NOTICE,
    MessageKind.HABIT,
    MessageKind.DIGEST,
    MessageKind.COACH_MENU,
    MessageKind.COACH_NOTE,
)


def recheck(
    state: ProgramState | None,
    kind: MessageKind,
    payload: dict[str, Any],
    now: datetime,
    rules: Rules,
) -> tuple[Verdict, str]:
    """The verdict and a short reason (logged and stored, never shown to anyone)."""
    if kind is MessageKind.HABIT and state is not None and state.status is Status.DISCHARGED:
        # A prompt planned before the discharge: the program has ended, so has its coaching.
        return Verdict.DROP, "program ended"
    if kind in _ALWAYS:
        return Verdict.SEND, "always delivered, late if need be"
    if state is None:
        return Verdict.DROP, "runner has no program"
    seq = payload.get("seq")
    nxt = state.next
    if kind is MessageKind.SESSION_CLOSE:
        if nxt is not None and nxt.seq == seq:
            return Verdict.WAKE, "session day over without a report"
        return Verdict.DROP, "session already settled"
    if kind in (MessageKind.SESSION_REMINDER, MessageKind.CHECKIN_NUDGE):
        if state.status is not Status.ACTIVE:
            return Verdict.DROP, f"program {state.status.value}"
        if nxt is None or nxt.seq != seq:
            return Verdict.DROP, "session moved or reported"
        if nxt.day != local_date(now, state.profile.timezone):
            return Verdict.DROP, "not the session's day any more"
        return Verdict.SEND, "session still due today"
    if kind in (MessageKind.FOLLOWUP, MessageKind.FOLLOWUP_NUDGE):
        if any(o.seq == seq for o in state.open):
            return Verdict.SEND, "follow-up still open"
        return Verdict.DROP, "follow-up answered or closed"
    if kind is MessageKind.GATE_CHECK:
        phase_ahead = rules.tables.protocols[state.protocol_id].next_phase[state.phase_id]
        ahead = phase_ahead.id if phase_ahead is not None else None
        if state.status is not Status.ACTIVE or payload.get("phase") != ahead:
            return Verdict.DROP, "gate no longer ahead"
        if state.gate is not None and state.gate.awaiting_clearance:
            return Verdict.DROP, "answers given; waiting for clearance"
        return Verdict.SEND, "gate ahead"
    return Verdict.DROP, f"unknown kind {kind}"
