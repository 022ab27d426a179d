"""What can happen to a runner's program: the inputs of `decide`.

Each event is a plain immutable value built by the shell (a Telegram handler, the agenda ticker,
the simulator) from what the runner, a coach or the calendar did.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, time
from enum import StrEnum

from bot.program.frozen import quick_init
from bot.program.state import Outcome


@dataclass(frozen=True, slots=True)
class Enrolled:
    site_id: str
    diagnosis_date: date
    timezone: str
    preferred_time: time
    available_days: frozenset[int]
    imaging_system: str | None = None
    imaging_grade: str | None = None
    clearances: frozenset[str] = frozenset()  # e.g. {"weight_bearing", "running"}
    gate_answers: dict[str, bool] = field(default_factory=dict)  # answered during onboarding


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


@dataclass(frozen=True, slots=True)
class CoachAction:
    verb: CoachVerb
    coach_id: int


@dataclass(frozen=True, slots=True)
class RunnerPaused:
    reason: str = "runner"


@dataclass(frozen=True, slots=True)
class RunnerResumed:
    clinician_reviewed: bool = False  # needed to resume after a red flag without a coach


@dataclass(frozen=True, slots=True)
class SettingsChanged:
    timezone: str | None = None
    preferred_time: time | None = None
    available_days: frozenset[int] | None = None


@dataclass(frozen=True, slots=True)
class TimePassed:
    """The calendar moved on: closes a session day that passed without a report."""


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
)
