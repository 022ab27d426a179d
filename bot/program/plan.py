"""The next days as planned now: what `/plan` shows.

A projection, not a promise: it assumes each session is done as prescribed with no symptoms and
no level change (levels only move on 24-hour answers, which nobody can know in advance).
"""

from __future__ import annotations

from datetime import date, timedelta

from bot.program.calendar import next_slot, prescribe
from bot.program.loader import Rules
from bot.program.rules import SessionKind
from bot.program.state import Prescription, ProgramState, Status


def project(
    state: ProgramState, rules: Rules, today: date, days: int = 7
) -> list[tuple[date, Prescription | None]]:
    """One entry per day from `today`: the session planned for it, or None for rest."""
    out: dict[date, Prescription] = {}
    if state.status is Status.ACTIVE and state.next is not None:
        phase = rules.protocols[state.protocol_id].phase(state.phase_id)
        recent: tuple[tuple[date, SessionKind], ...] = state.recent
        day, rx = state.next.day, state.next.prescription
        end = today + timedelta(days=days)
        while day < end:
            out[day] = rx
            recent = (*recent, (day, rx.kind))
            slot = next_slot(
                phase=phase,
                level=phase.levels[state.level] if phase.runs else None,
                start=day + timedelta(days=1),
                recent=recent,
                available_days=state.profile.available_days,
                impact_free_until=state.impact_free_until,
                maintenance_since=state.maintenance_since,
                sch=rules.scheduling,
            )
            if slot is None:
                break
            day = slot.day
            rx = prescribe(
                slot,
                phase,
                state.level,
                state.maintenance_since,
                rules.scheduling,
                state.loading_since,
            )
    return [(today + timedelta(days=i), out.get(today + timedelta(days=i))) for i in range(days)]
