"""What `decide` returns: the new state, the messages to schedule and the rules behind it all."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from bot.program.frozen import quick_init
from bot.program.state import ProgramState


class MessageKind(StrEnum):
    SESSION_REMINDER = "session_reminder"
    CHECKIN_NUDGE = "checkin_nudge"  # the session's time passed and nothing was reported
    SESSION_CLOSE = "session_close"  # internal: the session day is over, slide if unreported
    FOLLOWUP = "followup"  # the 24-hour symptom check
    FOLLOWUP_NUDGE = "followup_nudge"
    GATE_CHECK = "gate_check"
    COACH_ALERT = "coach_alert"
    RUNNER_NOTICE = "runner_notice"  # a decision explained, a stop-and-seek-review, a habit
    HABIT = "habit"
    DIGEST = "digest"  # coach-level: the weekly digest, scheduled by the shell, not the engine
    # Shell-made, to a coach about a runner: the runner's own message, "a runner joined".
    # Words only, no alert life cycle (and not counted as alerts waiting to go out).
    COACH_NOTE = "coach_note"
    COACH_MENU = "coach_menu"  # coach-level: set the coach's command menu (after `coach add`)

    @property
    def internal(self) -> bool:
        """Not sent to anyone: it wakes the engine up."""
        return self is MessageKind.SESSION_CLOSE


@quick_init
@dataclass(frozen=True, slots=True)
class Message:
    """A message to send at `due` (UTC).

    `key` is unique per runner: scheduling it again replaces."""

    kind: MessageKind
    key: str
    due: datetime
    payload: dict[str, Any] = field(default_factory=dict)


class Act(StrEnum):
    ENROL = "enrol"
    PLAN = "plan"
    PROGRESS = "progress"
    HOLD = "hold"
    REGRESS = "regress"
    ESCALATE = "escalate"
    RED_FLAG = "red_flag"
    ADVANCE_PHASE = "advance_phase"
    GATE_ASKED = "gate_asked"
    GATE_NOT_YET = "gate_not_yet"
    AWAIT_CLEARANCE = "await_clearance"
    CLEARED = "cleared"
    MISSED = "missed"
    PAUSE = "pause"
    RESUME = "resume"
    STALE = "stale"
    RECORD = "record"
    DELOAD = "deload"
    OFF_WEEK = "off_week"
    DISCHARGE = "discharge"
    TAILOR = "tailor"  # a coach tailored the runner's program (the coach's overlay)
    SWITCH_PROTOCOL = "switch_protocol"  # a clinician moved the runner to another protocol


@quick_init
@dataclass(frozen=True, slots=True)
class Action:
    """One thing the engine decided, and the id of the rule that made it."""

    act: Act
    rule: str
    detail: dict[str, Any] = field(default_factory=dict)


@quick_init
@dataclass(frozen=True, slots=True)
class Decision:
    state: ProgramState
    actions: tuple[Action, ...]
    messages: tuple[Message, ...] = ()
    cancel: tuple[str, ...] = ()  # keys of scheduled messages that no longer make sense
    stale: bool = False  # the event referred to something that has moved on; nothing changed

    @property
    def rules(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(a.rule for a in self.actions))
