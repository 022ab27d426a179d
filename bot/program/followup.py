"""The 24-hour follow-up decision (DOMAIN.md §4.4) as two tables the engine reads.

`FOLLOWUP` says what a session's answers do, from the situation when the follow-up is answered:
the kind of check (a run's, or the red-flag check before running), the runner's status, the worst
severity of the session's answers (at report time and now), whether a regress was already applied
when the session was reported, and whether the session counts toward the plateau of the level the
runner is on now. `CLIMB` then says what a session that counts does: hold until the level's hold is
reached, wait out a deload week, or step up (at the top of the ladder: ask the next gate).

Rows are read top to bottom and the first row that matches decides; a blank (None) matches
anything. Each row names its action and the rule that decides it: a key of `actions` in
symptoms.yaml (or the protocol's `pain_rules.actions`), `watch` (symptoms.yaml watch) or `deload`
(scheduling.yaml build deload). The engine carries the actions out (engine.py `_FOLLOWUP_DO`).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from enum import StrEnum
from functools import lru_cache

from bot.program.rules import Severity


class Check(StrEnum):
    RUN = "run"  # the full 24-hour follow-up after a run
    WATCH = "watch"  # the red-flag check after a session before running (symptoms.yaml watch)


class RunnerStatus(StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"  # by the runner or a coach
    STOPPED = "stopped"  # red flag or escalation: only a clinician lifts it


class Do(StrEnum):
    RED_FLAG = "red_flag"  # stop all impact, urgent clinician alert
    REGRESS = "regress"  # step back (levels, rest days), maybe escalate
    HOLD_MILD = "hold_mild"  # stay at the level, say so
    KEEP = "keep"  # already acted on at report time: nothing more
    NOTE_WATCH = "note_watch"  # the check before running found nothing to act on: recorded
    NOTE_ONLY = "note_only"  # paused or stopped: the answers are kept, nothing moves
    COUNT = "count"  # counts toward the plateau: the CLIMB table decides
    NOT_COUNTED = "not_counted"  # clear, but done at another level: counts toward nothing
    # CLIMB actions
    NO_LADDER = "no_ladder"
    HOLDING = "holding"
    DELOAD_HOLD = "deload_hold"
    STEP_UP = "step_up"
    TOP = "top"  # top of the ladder: ask the next gate


@dataclass(frozen=True, slots=True)
class Situation:
    """What the follow-up decision looks at."""

    check: Check
    runner: RunnerStatus
    severity: Severity  # the worst of the session's answers, at report time and at 24 h
    already_applied: bool  # a regress (or worse) at report time already covers this severity
    counts: bool  # done at the level the runner is on now (not before it changed)


@dataclass(frozen=True, slots=True)
class Climb:
    """What a counted session looks at."""

    ladder: bool  # the phase has run levels
    hold_reached: bool  # with this session, the level's hold (sessions and days) is met
    deload_week: bool  # a build-phase deload week: a plateau on purpose
    top: bool  # the last level of the ladder


@dataclass(frozen=True, slots=True)
class Row:
    name: str
    do: Do
    rule: str  # actions key, `watch` or `deload`
    # The situation; None matches anything. A set matches any of its members.
    check: Check | None = None
    runner: RunnerStatus | frozenset[RunnerStatus] | None = None
    severity: Severity | frozenset[Severity] | None = None
    already_applied: bool | None = None
    counts: bool | None = None
    ladder: bool | None = None
    hold_reached: bool | None = None
    deload_week: bool | None = None
    top: bool | None = None

    def matches(self, seen: Situation | Climb) -> bool:
        for f in fields(seen):
            want = getattr(self, f.name)
            got = getattr(seen, f.name)
            if want is None:
                continue
            if isinstance(want, frozenset) and got not in want:
                return False
            if not isinstance(want, frozenset) and want != got:
                return False
        return True


CLEAR_OR_MILD = frozenset({Severity.CLEAR, Severity.MILD})

WATCH = Check.WATCH
STOPPED, PAUSED = RunnerStatus.STOPPED, RunnerStatus.PAUSED
RED, REGRESS, MILD, CLEAR = Severity.RED_FLAG, Severity.REGRESS, Severity.MILD, Severity.CLEAR

# DOMAIN §4.4. Red flags act in any status and any check; pain at 24 h still steps a paused
# runner back; a stopped runner's answers are recorded only (a clinician already has the case).
# fmt: off
FOLLOWUP: tuple[Row, ...] = (
    #   row                           does            rule        the situation (blank: any)
    Row("red-flag-stops",             Do.RED_FLAG,    "red_flag", severity=RED),
    Row("stopped-noted",              Do.NOTE_ONLY,   "stale",    runner=STOPPED),
    Row("paused-noted",               Do.NOTE_ONLY,   "stale",    runner=PAUSED,
                                                                  severity=CLEAR_OR_MILD),
    Row("already-regressed",          Do.KEEP,        "regress",  already_applied=True),
    Row("watch-pain-steps-back",      Do.REGRESS,     "regress",  check=WATCH, severity=REGRESS),
    Row("watch-noted",                Do.NOTE_WATCH,  "watch",    check=WATCH),
    Row("pain-regresses",             Do.REGRESS,     "regress",  severity=REGRESS),
    Row("mild-holds",                 Do.HOLD_MILD,   "hold",     severity=MILD),
    Row("clear-counts",               Do.COUNT,       "progress", severity=CLEAR, counts=True),
    Row("clear-before-level-changed", Do.NOT_COUNTED, "progress", severity=CLEAR),
)

# DOMAIN §3.3: at most one level per symptom-free 24-h check, after the level's hold.
CLIMB: tuple[Row, ...] = (
    #   row                   does             rule        the situation (blank: any)
    Row("no-ladder-holds",    Do.NO_LADDER,   "progress", ladder=False),
    Row("hold-not-reached",   Do.HOLDING,     "progress", hold_reached=False),
    Row("deload-week-holds",  Do.DELOAD_HOLD, "deload",   deload_week=True),
    Row("top-asks-next-gate", Do.TOP,         "progress", top=True),
    Row("step-up",            Do.STEP_UP,     "progress"),
)
# fmt: on


def decide_followup(seen: Situation) -> Row:
    return followup_row(seen.check, seen.runner, seen.severity, seen.already_applied, seen.counts)


def decide_climb(seen: Climb) -> Row:
    return climb_row(seen.ladder, seen.hold_reached, seen.deload_week, seen.top)


# The engine asks by plain arguments, remembered: a handful of situations recur for every runner,
# and looking one up is then a hash of its arguments, not a walk down the table.
@lru_cache(maxsize=256)
def followup_row(
    check: Check, runner: RunnerStatus, severity: Severity, already_applied: bool, counts: bool
) -> Row:
    return _first(FOLLOWUP, Situation(check, runner, severity, already_applied, counts))


@lru_cache(maxsize=64)
def climb_row(ladder: bool, hold_reached: bool, deload_week: bool, top: bool) -> Row:
    return _first(CLIMB, Climb(ladder, hold_reached, deload_week, top))


def _first(table: tuple[Row, ...], seen: Situation | Climb) -> Row:
    for row in table:
        if row.matches(seen):
            return row
    raise LookupError(f"no row for {seen}")  # the last row of each table matches everything left
