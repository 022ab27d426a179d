"""What can happen to a runner's program: the inputs of `decide`.

Each event is a plain immutable value built by the shell (a Telegram handler, the agenda ticker,
the simulator) from what the runner, a coach or the calendar did.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, time
from enum import StrEnum

from bot.program.frozen import quick_init
from bot.program.state import Outcome, Overlay


@dataclass(frozen=True, slots=True)
class Enrolled:
    site_id: str
    diagnosis_date: date
    timezone: str
    preferred_time: time
    available_days: frozenset[int]
    imaging_system: str | None = None
    imaging_grade: str | None = None
    # What the runner says a clinician has cleared (e.g. {"weight_bearing"}): asked of the coach,
    # never granted by saying so.
    claimed: frozenset[str] = frozenset()
    gate_answers: dict[str, bool] = field(default_factory=dict)  # answered during onboarding
    # A protocol chosen for this runner (by their coach, or a simulation); None = by site/risk.
    protocol_id: str | None = None
    # The protocol the coach's invite carries: followed if allowed for the site, else the site's
    # default and the coach is told why (unlike protocol_id, which must be allowed).
    invite_protocol_id: str | None = None


@quick_init
@dataclass(frozen=True, slots=True)
class SessionReported:
    seq: int
    outcome: Outcome
    pain_during: int | None = None
    rpe: int | None = None


@quick_init
@dataclass(frozen=True, slots=True)
class FollowupAnswered:
    seq: int
    answers: dict[str, int | bool]


@dataclass(frozen=True, slots=True)
class SessionMissed:
    seq: int


@dataclass(frozen=True, slots=True)
class GateAnswered:
    phase_id: str
    answers: dict[str, bool]


class CoachVerb(StrEnum):
    ADVANCE = "advance"
    HOLD = "hold"
    REGRESS = "regress"
    PAUSE = "pause"
    RESUME = "resume"
    CLEAR = "clear"
    ACKNOWLEDGE = "acknowledge"


@dataclass(frozen=True, slots=True)
class CoachAction:
    """A clinician's recorded act: a coach (by id) or the operator (coach_id 0, `by` a name).

    `option` picks one of the rules' ways back when clearing a red flag or an escalation."""

    verb: CoachVerb
    coach_id: int
    option: str | None = None
    by: str | None = None


@dataclass(frozen=True, slots=True)
class ProtocolSwitched:
    """A clinician moves the runner to another protocol mid-program, keeping their history: a
    coach (by id) or the operator (coach_id 0, `by` a name)."""

    protocol_id: str
    coach_id: int
    by: str | None = None


@dataclass(frozen=True, slots=True)
class CoachLinked:
    """The runner was linked with a coach: what waits for a clinician goes to them."""

    coach_id: int


@dataclass(frozen=True, slots=True)
class ClearanceClaimed:
    """The runner says a clinician has cleared them for the step they wait at: a request."""


@quick_init
@dataclass(frozen=True, slots=True)
class SymptomsReported:
    """The runner reported symptoms outside the schedule (/pain), judged like a check."""

    answers: dict[str, int | bool]


@dataclass(frozen=True, slots=True)
class RunnerPaused:
    reason: str = "runner"


@dataclass(frozen=True, slots=True)
class RunnerResumed:
    # "I've been seen": after a red flag or escalation this asks the coach; it lifts nothing.
    clinician_reviewed: bool = False


@dataclass(frozen=True, slots=True)
class SettingsChanged:
    timezone: str | None = None
    preferred_time: time | None = None
    available_days: frozenset[int] | None = None


@dataclass(frozen=True, slots=True)
class TimePassed:
    """The calendar moved on: closes a session day that passed without a report."""


@dataclass(frozen=True, slots=True)
class OverlaySet:
    """A coach (by id) or the operator (coach_id 0) tailors the runner's program: `overlay` holds
    the new values in full (its version and author are the engine's to set); `by` names who."""

    overlay: Overlay
    coach_id: int
    by: str


Event = (
    Enrolled
    | SessionReported
    | FollowupAnswered
    | SessionMissed
    | GateAnswered
    | CoachAction
    | RunnerPaused
    | RunnerResumed
    | SettingsChanged
    | TimePassed
    | CoachLinked
    | ClearanceClaimed
    | SymptomsReported
    | OverlaySet
    | ProtocolSwitched
)
