"""A runner's program state: everything the engine needs to decide, and nothing else.

Immutable values; the engine returns a new state rather than changing one. Dates are the runner's
local calendar dates; instants are timezone-aware UTC datetimes. `codec.py` turns a state into JSON
for the database and back.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date, datetime, time
from enum import StrEnum
from typing import TypedDict, Unpack

from bot.program.frozen import quick_init
from bot.program.rules import SessionKind, Severity


class Status(StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"  # by the runner or a coach: no sessions, resumes on request
    ESCALATED = "escalated"  # repeated regressions: running paused until a coach clears
    RED_FLAG = "red_flag"  # stop all impact and seek review; a clinician must clear
    DISCHARGED = "discharged"  # the protocol's ladder is done and it ends there (on_finish)

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
class ExerciseRx:
    """One exercise of a session, as the runner is shown it (from a template's `exercises`)."""

    name: str
    sets: int
    reps: int
    per_side: bool = False
    hold_s: int | None = None


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
    walk_first: bool = False
    warmup_walk_min: int = 0
    cooldown_walk_min: int = 0
    steps: int | None = None  # a walk session's step count
    contacts: int | None = None  # a plyometric session's foot contacts
    exercises: tuple[ExerciseRx, ...] = ()
    progression: str = ""


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


@dataclass(frozen=True, slots=True)
class Overlay:
    """A coach's tailoring of one runner's program (tailoring.yaml sets the bounds). A field left
    None follows the rules as they are; `version` counts the changes, `by` names who made the
    latest ("coach:3", "operator:Dr Jones")."""

    version: int = 0
    by: str = ""
    start_level: str | None = None  # a level id of the protocol's first run phase
    hold_sessions: int | None = None  # symptom-free sessions every level is held for
    hold_days: int | None = None  # days every level is held for at least
    rest_days: int | None = None  # rest days between two runs (1 = every other day)
    weekdays: frozenset[int] | None = None  # training weekdays, 0 = Monday
    pain_threshold: int | None = None  # the highest pain during still counted clear or mild
    maintenance_factor: float | None = None  # maintenance runs' running time scaled by this

    def tailored(self) -> tuple[str, ...]:
        """The names of the fields this overlay sets, in declaration order."""
        return tuple(f for f in OVERLAY_FIELDS if getattr(self, f) is not None)

    def values(self) -> Overlay:
        """The tailored values alone (no version or author), to compare two overlays by."""
        return Overlay(**{f: getattr(self, f) for f in OVERLAY_FIELDS})


OVERLAY_FIELDS = (
    "start_level",
    "hold_sessions",
    "hold_days",
    "rest_days",
    "weekdays",
    "pain_threshold",
    "maintenance_factor",
)


# Not slotted, unlike the values above: a state keeps its fields in its `__dict__`, so `evolve`
# copies that dict in one step instead of storing two dozen fields one by one (a third of the
# cost, and the engine makes a new state a few times per decision).
@dataclass(frozen=True)
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
    # The level the last regression came at, while the runner has not climbed past it (kept only
    # when an escalate rule watches for "still painful after stepping back").
    last_regress_level: str | None = None
    # The first session of the current stage (a level with stage_days); None until one is done.
    # Older than level_since means it belongs to an earlier level and does not count.
    stage_since: date | None = None
    overlay: Overlay | None = None  # the coach's tailoring, if any (None: the rules as they are)

    def session_open(self, seq: int, today: date) -> bool:
        """Can session `seq` be reported now: the runner is active and it is the planned
        session, planned for today. A press on any other session's button is stale."""
        nxt = self.next
        return (
            self.status is Status.ACTIVE and nxt is not None and nxt.seq == seq and nxt.day == today
        )

    def evolve(self, **changes: Unpack[StateChanges]) -> ProgramState:
        """This state with the given fields changed: `dataclasses.replace`, made cheap.

        `replace` re-reads the field list and runs `__init__` (two dozen frozen stores) on every
        call; this copies the fields and lays the changes over them. Unknown names still raise.
        """
        if not _FIELD_NAMES.issuperset(changes):
            unknown = sorted(set(changes) - _FIELD_NAMES)
            raise TypeError(f"ProgramState.evolve() got unexpected fields {unknown}")
        values = self.__dict__.copy()
        values.update(changes)
        evolved = _new(ProgramState)
        _set_attribute(evolved, "__dict__", values)  # frozen: past its own __setattr__
        return evolved


class StateChanges(TypedDict, total=False):
    """The fields `ProgramState.evolve` may change, with their types (every field)."""

    profile: Profile
    protocol_id: str
    phase_id: str
    level: int
    phase_since: date
    level_since: date
    status: Status
    clear_at_level: int
    impact_free_until: date | None
    regressions: tuple[date, ...]
    clearances: frozenset[str]
    next: Planned | None
    open: tuple[OpenSession, ...]
    recent: tuple[tuple[date, SessionKind], ...]
    gate: PendingGate | None
    seq: int
    pause_reason: str | None
    maintenance_since: date | None
    sessions_total: int
    claims: frozenset[str]
    flag_since: datetime | None
    flag_ack: str | None
    loading_since: date | None
    watched_on: date | None
    last_regress_level: str | None
    stage_since: date | None
    overlay: Overlay | None


_FIELD_NAMES = frozenset(f.name for f in fields(ProgramState))
_new = object.__new__
_set_attribute = object.__setattr__


def _check_changes_list_every_field() -> None:
    """`StateChanges` types every field `evolve` may change: fail at import if one is missing."""
    if list(StateChanges.__annotations__) != [f.name for f in fields(ProgramState)]:
        raise TypeError("StateChanges must list every field of ProgramState, in order")


_check_changes_list_every_field()
