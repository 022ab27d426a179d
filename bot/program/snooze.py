"""When "Later today" re-sends a session reminder: `snooze_after_hours` from now, moved out of
the runner's quiet hours, and only while it is still the same local day (a reminder for today
must not arrive tomorrow). None: no slot is left today.

Part of the engine: pure, no I/O, no clock (`now` comes in)."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.program.calendar import local_date, out_of_quiet_hours
from bot.program.rules import SchedulingFile

__all__ = ["later_today"]


def later_today(now: datetime, tz: str, sch: SchedulingFile) -> datetime | None:
    at = out_of_quiet_hours(now + timedelta(hours=sch.snooze_after_hours), tz, sch.quiet_hours)
    if local_date(at, tz) != local_date(now, tz):
        return None
    return at
