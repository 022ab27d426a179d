"""A roster entry factory shared by the coach tests: an all-clear active runner."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from typing import Any

from bot.coach.views import RosterEntry

TODAY = date(2026, 7, 14)  # a Tuesday


def entry(runner_id: int = 1, **changes: Any) -> RosterEntry:
    """An all-clear active runner; override what a case is about."""
    base = RosterEntry(
        runner_id=runner_id,
        name=f"Runner {runner_id:03d}",
        site="Tibia (shaft)",
        high_risk=False,
        phase="Return to run",
        level="level 3 of 8",
        status="active",
        last_session=TODAY - timedelta(days=3),
        last_pain_during=1,
        last_pain_24h=0,
        open_flags=0,
        awaiting_clearance=False,
        unreachable=False,
        done_14d=5,
        prescribed_14d=6,
        missed_followups_7d=0,
    )
    return replace(base, **changes)
