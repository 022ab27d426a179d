"""A runner's program state: everything the engine needs to decide, and nothing else.

Immutable values; the engine returns a new state rather than changing one. Dates are the runner's
local calendar dates; instants are timezone-aware UTC datetimes. `codec.py` turns a state into JSON
for the database and back.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date, datetime, time
from enum import Enum, StrEnum
from typing import Final

from bot.program.frozen import quick_init
from bot.program.rules import SessionKind, Severity


class _Keep(Enum):
    """Marks a field `ProgramState.evolve` leaves as it is."""

    KEEP = "keep"


KEEP: Final = _Keep.KEEP


class Status(StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"  # by the runner or a coach: no sessions, resumes on request
    ESCALATED = "escalated"  # repeated regressions: running paused until a coach clears
    RED_FLAG = "red_flag"  # stop all impact and seek review; a clinician must clear

    @property
    def stopped(self) -> bool:
        """Only a clinician's recorded clearance lifts this (never the runner)."""
        return self in (Status.RED_FLAG, Status.ESCALATED)


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


@quick_init
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


@quick_init
@dataclass(frozen=True, slots=True)
class Planned:
    """The next session on the calendar."""

    seq: int
    day: date
    prescription: Prescription


@quick_init
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

    @property
    def watch(self) -> bool:
        """A session before running: its check asks only the phase's red-flag questions."""
        return not self.kind.is_impact


@quick_init
@dataclass(frozen=True, slots=True)
class PendingGate:
    """The runner is being asked whether they are ready for `phase_id`."""

    phase_id: str
    asked_on: date
    answers_ok: bool = False  # answered yes to every question; maybe still waiting on clearance
    awaiting_clearance: bool = False


@quick_init
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
    # What the runner said a clinician cleared them for: a request to the coach, never a grant.
    claims: frozenset[str] = frozenset()
    flag_since: datetime | None = None  # when the current red flag or escalation began
    flag_ack: str | None = None  # who acknowledged it ("coach:3", "operator:Dr Jones")
    loading_since: date | None = None  # first day of running, for the build-phase deloads
    watched_on: date | None = None  # the last session before running that got a symptom check

    def session_open(self, seq: int, today: date) -> bool:
        """Can session `seq` be reported now: the runner is active and it is the planned
        session, planned for today. A press on any other session's button is stale."""
        nxt = self.next
        return (
            self.status is Status.ACTIVE and nxt is not None and nxt.seq == seq and nxt.day == today
        )

    def evolve(
        self,
        *,
        profile: Profile | _Keep = KEEP,
        protocol_id: str | _Keep = KEEP,
        phase_id: str | _Keep = KEEP,
        level: int | _Keep = KEEP,
        phase_since: date | _Keep = KEEP,
        level_since: date | _Keep = KEEP,
        status: Status | _Keep = KEEP,
        clear_at_level: int | _Keep = KEEP,
        impact_free_until: date | _Keep | None = KEEP,
        regressions: tuple[date, ...] | _Keep = KEEP,
        clearances: frozenset[str] | _Keep = KEEP,
        next: Planned | _Keep | None = KEEP,
        open: tuple[OpenSession, ...] | _Keep = KEEP,
        recent: tuple[tuple[date, SessionKind], ...] | _Keep = KEEP,
        gate: PendingGate | _Keep | None = KEEP,
        seq: int | _Keep = KEEP,
        pause_reason: str | _Keep | None = KEEP,
        maintenance_since: date | _Keep | None = KEEP,
        sessions_total: int | _Keep = KEEP,
        claims: frozenset[str] | _Keep = KEEP,
        flag_since: datetime | _Keep | None = KEEP,
        flag_ack: str | _Keep | None = KEEP,
        loading_since: date | _Keep | None = KEEP,
        watched_on: date | _Keep | None = KEEP,
    ) -> ProgramState:
        """This state with the given fields changed: `dataclasses.replace`, spelled out.

        The engine makes a new state a few times per decision; `replace` re-reads the field list
        on every call and costs twice as much as this.
        """
        return ProgramState(
            self.profile if profile is KEEP else profile,
            self.protocol_id if protocol_id is KEEP else protocol_id,
            self.phase_id if phase_id is KEEP else phase_id,
            self.level if level is KEEP else level,
            self.phase_since if phase_since is KEEP else phase_since,
            self.level_since if level_since is KEEP else level_since,
            self.status if status is KEEP else status,
            self.clear_at_level if clear_at_level is KEEP else clear_at_level,
            self.impact_free_until if impact_free_until is KEEP else impact_free_until,
            self.regressions if regressions is KEEP else regressions,
            self.clearances if clearances is KEEP else clearances,
            self.next if next is KEEP else next,
            self.open if open is KEEP else open,
            self.recent if recent is KEEP else recent,
            self.gate if gate is KEEP else gate,
            self.seq if seq is KEEP else seq,
            self.pause_reason if pause_reason is KEEP else pause_reason,
            self.maintenance_since if maintenance_since is KEEP else maintenance_since,
            self.sessions_total if sessions_total is KEEP else sessions_total,
            self.claims if claims is KEEP else claims,
            self.flag_since if flag_since is KEEP else flag_since,
            self.flag_ack if flag_ack is KEEP else flag_ack,
            self.loading_since if loading_since is KEEP else loading_since,
            self.watched_on if watched_on is KEEP else watched_on,
        )


def _check_evolve_lists_every_field() -> None:
    """`evolve` passes every field by position: fail at import if one is added, moved or renamed."""
    code = ProgramState.evolve.__code__
    params = code.co_varnames[1 : 1 + code.co_kwonlyargcount]
    if list(params) != [f.name for f in fields(ProgramState)]:
        raise TypeError("ProgramState.evolve must list every field, in order")


_check_evolve_lists_every_field()
