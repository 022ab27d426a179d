"""Time: a 07:00 reminder stays 07:00 local across DST; quiet hours hold; sessions land on
allowed days (DOMAIN §7 scheduling; issue 2 'The calendar')."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from program_helpers import Recorder, Runner, messages

from bot.program.calendar import local_date, local_instant, out_of_quiet_hours
from bot.program.decision import MessageKind
from bot.program.loader import Rules
from bot.program.simulate import SimProfile

# 2026 DST changes: (zone, spring forward, fall back)
DST_2026 = [
    ("Europe/Berlin", date(2026, 3, 29), date(2026, 10, 25)),
    ("America/New_York", date(2026, 3, 8), date(2026, 11, 1)),
]


def _around(day: date) -> list[date]:
    return [day + timedelta(days=i) for i in (-2, -1, 0, 1, 2)]


@pytest.mark.parametrize(
    ("tz", "day"),
    [(tz, d) for tz, spring, fall in DST_2026 for d in [*_around(spring), *_around(fall)]],
)
def test_seven_oclock_stays_seven_oclock_local(tz: str, day: date) -> None:
    instant = local_instant(day, time(7, 0), tz)
    assert instant.tzinfo is not None and instant.utcoffset() == timedelta(0)
    local = instant.astimezone(ZoneInfo(tz))
    assert (local.date(), local.time()) == (day, time(7, 0))
    assert local_date(instant, tz) == day


@pytest.mark.parametrize(("tz", "spring", "fall"), DST_2026)
def test_the_utc_instant_shifts_by_an_hour_across_the_change(
    tz: str, spring: date, fall: date
) -> None:
    for change, shift in ((spring, -1), (fall, +1)):
        before = local_instant(change - timedelta(days=1), time(7), tz)
        after = local_instant(change + timedelta(days=1), time(7), tz)
        assert after - before == timedelta(days=2, hours=shift)


@pytest.mark.parametrize(("tz", "spring", "fall"), DST_2026)
def test_nonexistent_local_time_moves_forward(tz: str, spring: date, fall: date) -> None:
    instant = local_instant(spring, time(2, 30), tz)
    local = instant.astimezone(ZoneInfo(tz))
    assert local.date() == spring
    assert local.time() == time(3, 30)
    # Forward, never back: after 01:59 and before 04:00 local that day.
    assert local_instant(spring, time(1, 59), tz) < instant < local_instant(spring, time(4), tz)


@pytest.mark.parametrize(("tz", "spring", "fall"), DST_2026)
def test_ambiguous_local_time_is_the_first_one(tz: str, spring: date, fall: date) -> None:
    instant = local_instant(fall, time(1, 30) if tz.startswith("America") else time(2, 30), tz)
    local = instant.astimezone(ZoneInfo(tz))
    # The first 01:30/02:30 is still summer time: one hour more UTC offset than the second.
    assert local.fold == 0
    assert local.utcoffset() == (
        datetime.combine(fall - timedelta(days=1), time(12), ZoneInfo(tz)).utcoffset()
    )


# --- quiet hours (scheduling.yaml: 21:30 -> 07:00) -----------------------------------------------


@pytest.mark.parametrize("tz", ["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata"])
@pytest.mark.parametrize(
    ("due", "expected", "next_day"),
    [
        (time(23, 0), time(7, 0), True),
        (time(21, 30), time(7, 0), True),
        (time(3, 0), time(7, 0), False),
        (time(6, 59), time(7, 0), False),
        (time(7, 0), time(7, 0), False),
        (time(21, 29), time(21, 29), False),
        (time(12, 0), time(12, 0), False),
    ],
)
def test_quiet_hours(rules: Rules, tz: str, due: time, expected: time, next_day: bool) -> None:
    quiet = rules.scheduling.quiet_hours
    day = date(2026, 6, 10)
    moved = out_of_quiet_hours(local_instant(day, due, tz), tz, quiet)
    assert moved == local_instant(day + timedelta(days=int(next_day)), expected, tz)


@pytest.mark.parametrize(("tz", "spring", "fall"), DST_2026)
def test_quiet_hours_across_dst(rules: Rules, tz: str, spring: date, fall: date) -> None:
    quiet = rules.scheduling.quiet_hours
    for change in (spring, fall):
        eve = change - timedelta(days=1)
        moved = out_of_quiet_hours(local_instant(eve, time(23), tz), tz, quiet)
        assert moved == local_instant(change, time(7), tz)


def test_followup_due_at_23_waits_until_7_next_morning(rules: Rules) -> None:
    r = Runner.at(rules, "posteromedial-tibia", "low-run-walk", 1, pref=time(22, 0))
    r.to_next_run()
    day = r.state.next.day  # type: ignore[union-attr]
    d = r.report()  # at 23:00, so the follow-up falls due at 23:00 the next day
    (fu,) = messages(d, MessageKind.FOLLOWUP)
    assert fu.due == r.local(day + timedelta(days=2), time(7))
    (nudge,) = messages(d, MessageKind.FOLLOWUP_NUDGE)
    assert r.local(day + timedelta(days=2), time(7)) <= nudge.due
    local = nudge.due.astimezone(ZoneInfo(r.tz)).time()
    assert time(7) <= local < time(21, 30)


# --- reminders across a DST change, end to end ----------------------------------------------------


@pytest.mark.parametrize(
    ("tz", "start", "site"),
    [
        ("Europe/Berlin", date(2026, 3, 16), "posteromedial-tibia"),
        ("America/New_York", date(2026, 2, 23), "posteromedial-tibia"),
        ("Europe/Berlin", date(2026, 10, 12), "navicular"),
        ("America/New_York", date(2026, 10, 19), "navicular"),
    ],
)
def test_reminders_stay_at_seven_local_across_dst(
    rules: Rules, tz: str, start: date, site: str
) -> None:
    rec = Recorder(
        rules, SimProfile(site, start=start, days=21, timezone=tz, preferred_time=time(7))
    ).go()
    reminders = [m for m in rec.all_messages() if m.kind is MessageKind.SESSION_REMINDER]
    assert len(reminders) >= 15
    zone = ZoneInfo(tz)
    offsets = set()
    for m in reminders:
        local = m.due.astimezone(zone)
        assert local.time() == time(7, 0), m
        assert local.date().isoformat() == m.payload["day"]
        offsets.add(local.utcoffset())
    assert len(offsets) == 2, "the three weeks span a DST change"
    # Sessions were actually done on the days around the change, at the runner's morning.
    done_days = {d.day for d in rec.done()}
    assert len(done_days) >= 15
    for s in rec.log:
        if s.event.__class__.__name__ == "SessionReported":
            # 08:00, or 08:05 when a gate passed at 07:05 turned that morning's session into a
            # run (a new session whose reminder goes out at once).
            assert time(8, 0) <= s.at.astimezone(zone).time() <= time(8, 5)
    # No follow-up or nudge ever lands in quiet hours.
    for m in rec.all_messages():
        if m.kind in (MessageKind.FOLLOWUP, MessageKind.FOLLOWUP_NUDGE, MessageKind.CHECKIN_NUDGE):
            t = m.due.astimezone(zone).time()
            assert time(7) <= t < time(21, 30), m


def test_reminder_at_a_nonexistent_time_comes_an_hour_later_that_day(rules: Rules) -> None:
    tz = "Europe/Berlin"
    spring = date(2026, 3, 29)
    r = Runner.at(
        rules, "posteromedial-tibia", "low-run-walk", 1, day=spring, tz=tz, pref=time(2, 30)
    )
    assert r.state.next is not None and r.state.next.day == spring
    (rem,) = [m for _, _, d in r.log for m in d.messages if m.kind is MessageKind.SESSION_REMINDER]
    assert rem.due.astimezone(ZoneInfo(tz)) == datetime(2026, 3, 29, 3, 30, tzinfo=ZoneInfo(tz))
    assert rem.due == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    "days",
    [frozenset({0, 2, 4}), frozenset({1, 5}), frozenset({5, 6}), frozenset({0, 1, 2, 3, 4})],
    ids=["mon-wed-fri", "tue-sat", "weekend", "weekdays"],
)
def test_sessions_only_on_available_days(rules: Rules, days: frozenset[int]) -> None:
    rec = Recorder(
        rules,
        SimProfile("posteromedial-tibia", start=date(2026, 3, 2), days=60, available_days=days),
    ).go()
    done = rec.done()
    assert done and rec.runs()
    assert all(d.day.weekday() in days for d in done)
    run_days = [d.day for d in rec.runs()]
    assert all((b - a).days >= 2 for a, b in pairwise(run_days))
