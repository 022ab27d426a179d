"""The session calendar: which day the next session falls on, and when "07:00 local" is in UTC.

Pure functions over dates; no clock reads. Constraints (all numbers from scheduling.yaml and the
level being run):
- runs at least `min_days_between_runs` apart (2 = never on consecutive days);
- cross-training only on days without a run (one session a day), so it falls between runs;
- no more than `max_training_days_in_7` training days in any 7 consecutive days (a rest day);
- no more runs in 7 days than the level's `max_per_week`;
- only on the runner's available weekdays; no run while `impact_free_until` lasts;
- in maintenance, an off week (no running) every Nth week and a deload every Mth week.

Time: a local wall-clock time is turned into UTC with zoneinfo. On the spring-forward day a time
that does not exist (02:30 in Europe/Berlin) is taken with the offset before the change, which
moves it forward by the gap (to 03:30); on the fall-back day an ambiguous time is the first one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from bot.program.rules import Level, Phase, PhaseKind, QuietHours, SchedulingFile, SessionKind
from bot.program.state import Prescription

SEARCH_DAYS = 21


@lru_cache(maxsize=512)
def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def local_instant(day: date, at: time, tz: str) -> datetime:
    """The UTC instant of wall-clock `at` on `day` in `tz` (see the module note on DST)."""
    return datetime.combine(day, at, tzinfo=zone(tz)).astimezone(UTC)


def local_date(instant: datetime, tz: str) -> date:
    return instant.astimezone(zone(tz)).date()


def out_of_quiet_hours(due: datetime, tz: str, quiet: QuietHours) -> datetime:
    """Move an instant that falls in the runner's quiet hours to the end of them."""
    local = due.astimezone(zone(tz))
    t = local.time().replace(tzinfo=None)
    start, end = quiet.start, quiet.end
    if start == end:
        return due
    wraps = start > end  # e.g. 21:30 -> 07:00
    inside = (t >= start or t < end) if wraps else (start <= t < end)
    if not inside:
        return due
    day = local.date()
    if wraps and t >= start:
        day += timedelta(days=1)
    return max(due, local_instant(day, end, tz))


@dataclass(frozen=True, slots=True)
class Slot:
    day: date
    kind: SessionKind


@dataclass(frozen=True, slots=True)
class WeekType:
    deload: bool = False
    off: bool = False


def maintenance_week(day: date, since: date | None, sch: SchedulingFile) -> WeekType:
    if since is None:
        return WeekType()
    n = (day - since).days // 7 + 1  # 1-based week number in maintenance
    m = sch.maintenance
    if n % m.off_week_every_weeks == 0:
        return WeekType(off=True)
    if n % m.deload_every_weeks == 0:
        return WeekType(deload=True)
    return WeekType()


def next_slot(
    *,
    phase: Phase,
    level: Level | None,
    start: date,
    recent: tuple[tuple[date, SessionKind], ...],
    available_days: frozenset[int],
    impact_free_until: date | None,
    maintenance_since: date | None,
    sch: SchedulingFile,
) -> Slot | None:
    """The first day on or after `start` that may hold a session, and which kind it holds."""
    days = [d for d, _ in recent]
    last_impact = max((d for d, k in recent if k is not SessionKind.CROSS_TRAIN), default=None)
    run_days = [d for d, k in recent if k is SessionKind.RUN]
    gap = sch.min_days_between_runs
    for offset in range(SEARCH_DAYS):
        d = start + timedelta(days=offset)
        if d.weekday() not in available_days:
            continue
        window_start = d - timedelta(days=6)
        trained = sum(1 for x in days if window_start <= x < d)
        if trained + 1 > sch.max_training_days_in_7 or d in days:
            continue
        impact_kind = _impact_kind(phase, d, maintenance_since, sch)
        if impact_kind is not None and (impact_free_until is None or d > impact_free_until):
            far_enough = last_impact is None or (d - last_impact).days >= gap
            weekly_cap = level.max_per_week if level is not None else 7
            runs_in_week = sum(1 for x in run_days if window_start <= x < d)
            if far_enough and (impact_kind is not SessionKind.RUN or runs_in_week < weekly_cap):
                return Slot(d, impact_kind)
        if phase.cross is not None:
            return Slot(d, SessionKind.CROSS_TRAIN)
    return None


def _impact_kind(
    phase: Phase, d: date, maintenance_since: date | None, sch: SchedulingFile
) -> SessionKind | None:
    if phase.runs:
        if phase.kind is PhaseKind.MAINTENANCE and maintenance_week(d, maintenance_since, sch).off:
            return None
        return SessionKind.RUN
    return phase.impact.kind if phase.impact is not None else None


def prescribe(
    slot: Slot,
    phase: Phase,
    level_index: int,
    maintenance_since: date | None,
    sch: SchedulingFile,
) -> Prescription:
    if slot.kind is SessionKind.RUN:
        lv = phase.levels[level_index]
        deload = (
            phase.kind is PhaseKind.MAINTENANCE
            and maintenance_week(slot.day, maintenance_since, sch).deload
        )
        run_s, repeats = lv.run_s, lv.repeats
        if deload:
            factor = sch.maintenance.deload_volume_factor
            if repeats > 1:
                repeats = max(1, math.floor(repeats * factor))
            else:
                run_s = max(60, int(run_s * factor) // 60 * 60)
        minutes = math.ceil((run_s + lv.walk_s) * repeats / 60)
        desc = phase.impact.description if phase.impact else phase.name
        return Prescription(
            kind=SessionKind.RUN,
            phase_id=phase.id,
            level_id=lv.id,
            description=desc,
            minutes=minutes,
            run_s=run_s,
            walk_s=lv.walk_s,
            repeats=repeats,
            deload=deload,
            intensity=lv.intensity and not deload,
        )
    tpl = phase.cross if slot.kind is SessionKind.CROSS_TRAIN else phase.impact
    assert tpl is not None
    return Prescription(
        kind=slot.kind,
        phase_id=phase.id,
        level_id=None,
        description=tpl.description,
        minutes=tpl.minutes,
    )
