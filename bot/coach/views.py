"""What the coach-side building blocks read: small immutable rows the handlers fill from the store.

Plain values only (no ORM objects, no Telegram objects), so roster, digest and chart stay pure and
are tested without a database. Names are what the runner chose to show; never Telegram usernames.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime


@dataclass(frozen=True, slots=True)
class SessionPoint:
    """One calendar session as the coach sees it."""

    day: date
    kind: str  # "run" | "cross_train" | "strength"
    outcome: str  # "done" | "partial" | "skipped" | "missed"
    pain_during: int | None  # 0-10
    pain_24h: int | None  # 0-10, from the 24-hour follow-up
    run_s_total: int  # seconds of running actually done; 0 for non-runs


@dataclass(frozen=True, slots=True)
class PhaseMark:
    """The day a runner entered a phase (`name` is the display name)."""

    day: date
    name: str


@dataclass(frozen=True, slots=True)
class DecisionLine:
    """One entry of the decision trail: what changed, by which rule, decided by whom."""

    at: datetime  # shown as given: convert to the coach's time zone before passing it in
    action: str
    rule: str  # rule id
    actor: str  # "engine" | "coach" | "runner" (a suffix such as "coach:42" is allowed)
    detail: str  # short, machine-made; never the runner's free text


@dataclass(frozen=True, slots=True)
class RosterEntry:
    """One runner's line on the coach's roster and digest."""

    runner_id: int
    name: str
    site: str  # a short display name of the injury site
    high_risk: bool
    phase: str  # display name
    level: str | None  # display label, None outside levelled phases
    status: str  # "active" | "paused" | "escalated" | "red_flag"
    last_session: date | None
    last_pain_during: int | None
    last_pain_24h: int | None
    open_flags: int
    awaiting_clearance: bool
    unreachable: bool
    done_14d: int
    prescribed_14d: int
    missed_followups_7d: int
    # A red flag or an escalation: since when, and who acknowledged it when (coach's time zone).
    stop_since: datetime | None = None
    stop_ack_by: str | None = None  # in words: "Coach Sam", "operator Dr Jones"
    stop_ack_at: datetime | None = None

    @property
    def adherence(self) -> float | None:
        """Sessions done / prescribed over the last 14 days; None when nothing was prescribed."""
        if self.prescribed_14d <= 0:
            return None
        return self.done_14d / self.prescribed_14d
