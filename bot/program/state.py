"""A runner's program state: everything the engine needs to decide, and nothing else.

Immutable values; the engine returns a new state rather than changing one. Dates are the runner's
local calendar dates; instants are timezone-aware UTC datetimes. `codec.py` turns a state into JSON
for the database and back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from enum import StrEnum

from bot.program.rules import SessionKind, Severity


class Status(StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"  # by the runner or a coach: no sessions, resumes on request
    ESCALATED = "escalated"  # repeated regressions: running paused until a coach clears
    RED_FLAG = "red_flag"  # stop all impact and seek review; a clinician must clear


class Outcome(StrEnum):
    DONE = "done"
    PARTIAL = "partial"
    SKIPPED = "skipped"


@dataclass(frozen=True, slots=True)
class Profile:
    site_id: str
    diagnosis_date: date
    timezone: str
    preferred_time: time
    available_days: frozenset[int]  # 0 = Monday
    imaging_system: str | None = None
    imaging_grade: str | None = None


@dataclass(frozen=True, slots=True)
class Prescription:
    """What a session asks for. For runs: run_s/walk_s/repeats; otherwise minutes."""

    kind: SessionKind
    phase_id: str
    level_id: str | None
    description: str
    minutes: int
    run_s: int = 0
    walk_s: int = 0
    repeats: int = 0
    deload: bool = False
    intensity: bool = False


@dataclass(frozen=True, slots=True)
class Planned:
    """The next session on the calendar."""

    seq: int
    day: date
    prescription: Prescription


@dataclass(frozen=True, slots=True)
class OpenSession:
    """A reported session whose 24-hour follow-up is still outstanding."""

    seq: int
    day: date
    kind: SessionKind
    reported_at: datetime
    severity: Severity  # worst so far
    applied: Severity  # what has already been acted on (regress applied at report time)
    pain_during: int | None = None
    level_id: str | None = None  # the rung it was done at; None in rows written before it existed


@dataclass(frozen=True, slots=True)
class PendingGate:
    """The runner is being asked whether they are ready for `phase_id`."""

    phase_id: str
    asked_on: date
    answers_ok: bool = False  # answered yes to every question; maybe still waiting on clearance
    awaiting_clearance: bool = False


@dataclass(frozen=True, slots=True)
class ProgramState:
    profile: Profile
    protocol_id: str
    phase_id: str
    level: int  # index into the phase's levels; 0 where the phase has none
    phase_since: date
    level_since: date
    status: Status = Status.ACTIVE
    clear_at_level: int = 0  # symptom-free sessions counted toward the level's hold
    impact_free_until: date | None = None  # no run on or before this date
    regressions: tuple[date, ...] = ()
    clearances: frozenset[str] = frozenset()
    next: Planned | None = None
    open: tuple[OpenSession, ...] = ()
    recent: tuple[tuple[date, SessionKind], ...] = ()  # sessions done in the last 7 days
    gate: PendingGate | None = None
    seq: int = 0
    pause_reason: str | None = None
    maintenance_since: date | None = None
    sessions_total: int = 0
