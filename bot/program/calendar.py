"""The session calendar: which day the next session falls on, and when "07:00 local" is in UTC.

Pure functions over dates; no clock reads. Constraints (all numbers from scheduling.yaml and the
level being run):
- runs at least `min_days_between_runs` apart (2 = never on consecutive days);
- cross-training only on days without a run (one session a day), so it falls between runs;
- no more than `max_training_days_in_7` training days in any 7 consecutive days (a rest day);
- no more runs in 7 days than the level's `max_per_week`;
- with a level's `per_week`, up to that many runs per calendar week (Mon-Sun), spread out;
- only on the runner's available weekdays; no run while `impact_free_until` lasts;
- in maintenance, an off week (no running) every Nth week and a deload every Mth week.

Time: a local wall-clock time is turned into UTC with zoneinfo. On the spring-forward day a time
that does not exist (02:30 in Europe/Berlin) is taken with the offset before the change, which
moves it forward by the gap (to 03:30); on the fall-back day an ambiguous time is the first one.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from bot.program.frozen import quick_init
from bot.program.rules import Level, Phase, PhaseKind, QuietHours, SchedulingFile, SessionKind
from bot.program.state import ExerciseRx, Prescription

SEARCH_DAYS = 21

# Zone conversions are pure and their inputs repeat endlessly (every runner's 07:00 on the next few
# days, in a handful of zones), so their results are cached; datetimes and dates are immutable.
# Only keys whose equality means "same input" are cached: UTC instants (what the engine passes)
# and plain fold-0 times. Other aware datetimes compare by wall time, ignoring `fold`.
_CONVERSIONS_CACHED = 8192  # entries per cache: a few MB at most


@lru_cache(maxsize=512)
def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def local_instant(day: date, at: time, tz: str) -> datetime:
    """The UTC instant of wall-clock `at` on `day` in `tz` (see the module note on DST)."""
    if at.fold or at.tzinfo is not None or type(day) is not date:
        return _local_instant(day, at, tz)
    return _cached_local_instant(day, at, tz)


def _local_instant(day: date, at: time, tz: str) -> datetime:
    return datetime.combine(day, at, tzinfo=zone(tz)).astimezone(UTC)


_cached_local_instant = lru_cache(maxsize=_CONVERSIONS_CACHED)(_local_instant)


def local_date(instant: datetime, tz: str) -> date:
    if instant.tzinfo is UTC:
        return _cached_local_date(instant, tz)
    return _local_date(instant, tz)


def _local_date(instant: datetime, tz: str) -> date:
    return instant.astimezone(zone(tz)).date()


_cached_local_date = lru_cache(maxsize=_CONVERSIONS_CACHED)(_local_date)


def out_of_quiet_hours(due: datetime, tz: str, quiet: QuietHours) -> datetime:
    """Move an instant that falls in the runner's quiet hours to the end of them."""
    if due.tzinfo is UTC:
        return _cached_out_of_quiet(due, tz, quiet.start, quiet.end)
    return _out_of_quiet(due, tz, quiet.start, quiet.end)


def _out_of_quiet(due: datetime, tz: str, start: time, end: time) -> datetime:
    local = due.astimezone(zone(tz))
    t = local.time().replace(tzinfo=None)
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


_cached_out_of_quiet = lru_cache(maxsize=_CONVERSIONS_CACHED)(_out_of_quiet)


def session_times(
    day: date, at: time, tz: str, nudge_after: timedelta, quiet: QuietHours
) -> tuple[datetime, datetime | None, datetime]:
    """A session day's instants: its reminder (`at` on `day`), the check-in nudge `nudge_after`
    later moved out of the quiet hours (None when that would fall after the day), and the end of
    the day (the next midnight). The engine plans these for every session."""
    if at.fold or at.tzinfo is not None or type(day) is not date:
        return _session_times(day, at, tz, nudge_after, quiet.start, quiet.end)
    return _cached_session_times(day, at, tz, nudge_after, quiet.start, quiet.end)


def _session_times(
    day: date, at: time, tz: str, nudge_after: timedelta, quiet_start: time, quiet_end: time
) -> tuple[datetime, datetime | None, datetime]:
    reminder = local_instant(day, at, tz)
    day_over = local_instant(day + timedelta(days=1), time(0, 0), tz)
    nudge = reminder + nudge_after
    checkin = _out_of_quiet(nudge, tz, quiet_start, quiet_end) if nudge < day_over else None
    return reminder, checkin, day_over


# One lookup for what was three conversions and a comparison, per session planned.
_cached_session_times = lru_cache(maxsize=_CONVERSIONS_CACHED)(_session_times)


def followup_times(
    reported: datetime, after: timedelta, nudge_after: timedelta, tz: str, quiet: QuietHours
) -> tuple[datetime, datetime]:
    """A session's follow-up, `after` its report, and the nudge `nudge_after` later, each moved
    out of the quiet hours. One lookup keyed by the report's instant: the engine has already
    looked up its local date, so its hash is known."""
    if reported.tzinfo is UTC:
        return _cached_followup_times(reported, after, nudge_after, tz, quiet.start, quiet.end)
    return _followup_times(reported, after, nudge_after, tz, quiet.start, quiet.end)


def _followup_times(
    reported: datetime,
    after: timedelta,
    nudge_after: timedelta,
    tz: str,
    quiet_start: time,
    quiet_end: time,
) -> tuple[datetime, datetime]:
    due = _out_of_quiet(reported + after, tz, quiet_start, quiet_end)
    return due, _out_of_quiet(due + nudge_after, tz, quiet_start, quiet_end)


_cached_followup_times = lru_cache(maxsize=_CONVERSIONS_CACHED)(_followup_times)


def weekly_times(
    weekday: int, today: date, at: time, tz: str
) -> tuple[tuple[date, datetime], tuple[date, datetime]]:
    """The next `weekday` on or after `today` with the instant of `at` on it, and the same a week
    later (for when that instant has already passed)."""
    if at.fold or at.tzinfo is not None or type(today) is not date:
        return _weekly_times(weekday, today, at, tz)
    return _cached_weekly_times(weekday, today, at, tz)


def _weekly_times(
    weekday: int, today: date, at: time, tz: str
) -> tuple[tuple[date, datetime], tuple[date, datetime]]:
    day = today + timedelta(days=(weekday - today.weekday()) % 7)
    later = day + timedelta(days=7)
    return (day, local_instant(day, at, tz)), (later, local_instant(later, at, tz))


_cached_weekly_times = lru_cache(maxsize=_CONVERSIONS_CACHED)(_weekly_times)


@quick_init
@dataclass(frozen=True, slots=True)
class Slot:
    day: date
    kind: SessionKind


@dataclass(frozen=True, slots=True)
class WeekType:
    deload: bool = False
    off: bool = False


_NORMAL_WEEK, _DELOAD_WEEK, _OFF_WEEK = WeekType(), WeekType(deload=True), WeekType(off=True)


def maintenance_week(day: date, since: date | None, sch: SchedulingFile) -> WeekType:
    if since is None:
        return _NORMAL_WEEK
    n = (day - since).days // 7 + 1  # 1-based week number in maintenance
    m = sch.maintenance
    if n % m.off_week_every_weeks == 0:
        return _OFF_WEEK
    if n % m.deload_every_weeks == 0:
        return _DELOAD_WEEK
    return _NORMAL_WEEK


def build_deload_week(day: date, loading_since: date | None, sch: SchedulingFile) -> bool:
    """While building back up (before maintenance), every Nth week since the first run is a
    deload week (reference A: a deload every 3-4 weeks when building)."""
    build = sch.build
    if loading_since is None or not build.enabled or day < loading_since:
        return False
    return ((day - loading_since).days // 7 + 1) % build.deload_every_weeks == 0


def week_type(
    day: date,
    phase: Phase,
    maintenance_since: date | None,
    loading_since: date | None,
    sch: SchedulingFile,
) -> tuple[WeekType, date | None]:
    """What kind of week `day` is in for this phase, and the day that week began (or None)."""
    if phase.kind is PhaseKind.MAINTENANCE or maintenance_since is not None:
        week = maintenance_week(day, maintenance_since, sch)
        since = maintenance_since
    elif phase.runs and build_deload_week(day, loading_since, sch):
        week, since = _DELOAD_WEEK, loading_since
    else:
        return _NORMAL_WEEK, None
    if since is None:
        return week, None
    return week, since + timedelta(days=7 * ((day - since).days // 7))


def _off_week(day: int, since: int | None, sch: SchedulingFile) -> bool:
    """`maintenance_week(...).off` for ordinal day numbers (see `next_slot`)."""
    return (
        since is not None and ((day - since) // 7 + 1) % sch.maintenance.off_week_every_weeks == 0
    )


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
    min_days_between_runs: int | None = None,
) -> Slot | None:
    """The first day on or after `start` that may hold a session, and which kind it holds.

    `min_days_between_runs` replaces the scheduling file's (a coach's overlay), never below it.

    Days are ordinal numbers here (`date.toordinal()`): the search is plain int arithmetic, and
    `(day - 1) % 7` is the weekday (ordinal 1 was a Monday).
    """
    run, cross = SessionKind.RUN, SessionKind.CROSS_TRAIN  # local names: cheaper in the loops
    trained: list[int] = []  # one entry per session, as in `recent`
    runs: list[int] = []
    last_impact: int | None = None
    for day, kind in recent:
        d = day.toordinal()
        trained.append(d)
        if kind is run:
            runs.append(d)
        if kind is not cross and (last_impact is None or d > last_impact):
            last_impact = d
    trained.sort()  # sorted, to count the sessions in a window with two bisections
    runs.sort()
    free_after = impact_free_until.toordinal() if impact_free_until is not None else None
    since = maintenance_since.toordinal() if maintenance_since is not None else None
    gap = sch.min_days_between_runs
    if min_days_between_runs is not None and min_days_between_runs > gap:
        gap = min_days_between_runs
    impact_gap = _impact_gap(phase, gap)
    most_in_7 = sch.max_training_days_in_7
    weekly_cap = level.max_per_week if level is not None else 7
    per_week = level.per_week if level is not None else None
    impact = _impact_kind(phase)
    may_rest_in_maintenance = phase.runs and phase.kind is PhaseKind.MAINTENANCE
    first = start.toordinal()
    for d in range(first, first + SEARCH_DAYS):
        if (d - 1) % 7 not in available_days:
            continue
        window_start = d - 6  # the 7 days ending with d
        before_window, before_d = bisect_left(trained, window_start), bisect_left(trained, d)
        already_trained = before_d < len(trained) and trained[before_d] == d
        if already_trained or (before_d - before_window) + 1 > most_in_7:
            continue
        impact_kind = impact
        if may_rest_in_maintenance and _off_week(d, since, sch):
            impact_kind = None  # the off week: no running
        if impact_kind is not None and (free_after is None or d > free_after):
            far_enough = last_impact is None or d - last_impact >= impact_gap
            runs_in_week = bisect_left(runs, d) - bisect_left(runs, window_start)
            if far_enough and (impact_kind is not run or runs_in_week < weekly_cap):
                if impact_kind is not run or per_week is None:
                    return Slot(date.fromordinal(d), impact_kind)
                if _run_toward_target(d, runs, per_week, gap, available_days):
                    return Slot(date.fromordinal(d), impact_kind)
        if phase.cross is not None:
            return Slot(date.fromordinal(d), cross)
    return None


def runs_that_fit(first: int, last: int, gap: int, available_days: frozenset[int]) -> int:
    """How many runs, `gap` days apart, fit on the available days from `first` to `last`."""
    count, next_allowed = 0, first
    for d in range(first, last + 1):
        if d >= next_allowed and (d - 1) % 7 in available_days:
            count, next_allowed = count + 1, d + gap
    return count


def _run_toward_target(
    d: int,
    runs: list[int],
    per_week: int,
    gap: int,
    available_days: frozenset[int],
) -> bool:
    """Whether day `d` (an allowed run day) takes a run under a level's `per_week` target.

    Runs are counted per calendar week (Monday to Sunday, local dates). They are spread: a run
    waits until a 7 / per_week share of the week has passed since the last one (2 a week: Monday
    and Thursday), unless waiting would leave too few days this week to meet the target."""
    monday = d - (d - 1) % 7
    before_d = bisect_left(runs, d)
    done = before_d - bisect_left(runs, monday)
    if done >= per_week:
        return False
    spread = max(gap, 7 // per_week)
    if before_d == 0 or d - runs[before_d - 1] >= spread:
        return True
    return runs_that_fit(d + 1, monday + 6, gap, available_days) < per_week - done


def _impact_gap(phase: Phase, gap: int) -> int:
    """Days between a phase's impact sessions. A plyometric template's `min_hours_apart` is
    honoured in whole days: one session a day at most already keeps bouts of up to 24 hours
    apart, and above 24 hours the bouts fall ceil(hours / 24) days apart (never fewer than the
    scheduling file's `min_days_between_runs`)."""
    hours = phase.impact.min_hours_apart if phase.impact is not None else None
    if hours is None or phase.runs:
        return gap
    return max(gap, math.ceil(hours / 24))


def _impact_kind(phase: Phase) -> SessionKind | None:
    """The impact session a phase holds on an ordinary week: runs, or its impact template."""
    if phase.runs:
        return SessionKind.RUN
    return phase.impact.kind if phase.impact is not None else None


def prescribe(
    slot: Slot,
    phase: Phase,
    level_index: int,
    maintenance_since: date | None,
    sch: SchedulingFile,
    loading_since: date | None = None,
) -> Prescription:
    deload = is_deload(slot, phase, maintenance_since, sch, loading_since)
    return prescription(slot.kind, phase, level_index, deload, sch)


def is_deload(
    slot: Slot,
    phase: Phase,
    maintenance_since: date | None,
    sch: SchedulingFile,
    loading_since: date | None = None,
) -> bool:
    """A run in a deload week (maintenance, or while building) is done at reduced volume."""
    if slot.kind is not SessionKind.RUN:
        return False
    if phase.kind is PhaseKind.MAINTENANCE:
        return maintenance_week(slot.day, maintenance_since, sch).deload
    return phase.runs and build_deload_week(slot.day, loading_since, sch)


def prescription(
    kind: SessionKind, phase: Phase, level_index: int, deload: bool, sch: SchedulingFile
) -> Prescription:
    """What a session of `kind` asks for in this phase, at this level (for runs), in a deload week
    or not. Depends on nothing else, so the engine can keep the values it has made."""
    if kind is SessionKind.RUN:
        lv = phase.levels[level_index]
        run_s, repeats = lv.run_s, lv.repeats
        if deload:
            factor = (
                sch.maintenance.deload_volume_factor
                if phase.kind is PhaseKind.MAINTENANCE
                else sch.build.deload_volume_factor
            )
            if repeats > 1:
                repeats = max(1, math.floor(repeats * factor))
            else:
                run_s = max(60, int(run_s * factor) // 60 * 60)
        minutes = math.ceil((run_s + lv.walk_s) * repeats / 60)
        minutes += lv.warmup_walk_min + lv.cooldown_walk_min
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
            walk_first=lv.walk_first,
            warmup_walk_min=lv.warmup_walk_min,
            cooldown_walk_min=lv.cooldown_walk_min,
        )
    tpl = phase.cross if kind is SessionKind.CROSS_TRAIN else phase.impact
    assert tpl is not None
    return Prescription(
        kind=kind,
        phase_id=phase.id,
        level_id=None,
        description=tpl.description,
        minutes=tpl.minutes,
        steps=tpl.steps,
        contacts=tpl.contacts,
        exercises=tuple(
            ExerciseRx(name=e.name, sets=e.sets, reps=e.reps, per_side=e.per_side, hold_s=e.hold_s)
            for e in tpl.exercises
        ),
        progression=tpl.progression,
    )
