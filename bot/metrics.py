"""Prometheus metrics: what `/metrics` shows (webhook port, or METRICS_PORT in polling mode).

Counters and the latency histogram are updated where things happen (the agenda dispatcher, the
Telegram layer); gauges that describe the database (agenda lag, last tick's age, coach alerts)
are read from it at scrape time, so any instance reports the whole system's state. Labels are
kinds and error classes only, never ids or content.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST as CONTENT_TYPE
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

__all__ = [
    "CONTENT_TYPE",
    "REGISTRY",
    "SENDS",
    "SEND_FAILURES",
    "SEND_WINDOW",
    "UPDATES",
    "UPDATE_SECONDS",
    "render",
]

REGISTRY = CollectorRegistry(auto_describe=True)

SENDS = Counter(
    "boneload_agenda_sends", "Agenda messages Telegram accepted.", ["kind"], registry=REGISTRY
)
SEND_FAILURES = Counter(
    "boneload_agenda_send_failures",
    "Agenda sends Telegram refused or that failed on the way, by error class.",
    ["error_class"],
    registry=REGISTRY,
)
UPDATES = Counter(
    "boneload_updates_handled",
    "Telegram updates handled, by outcome.",
    ["outcome"],
    registry=REGISTRY,
)
UPDATE_SECONDS = Histogram(
    "boneload_update_seconds",
    "Time from an update's arrival at the handlers to the end of its handling.",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
    registry=REGISTRY,
)
AGENDA_LAG = Gauge(
    "boneload_agenda_lag_seconds",
    "How long the oldest due, unsent agenda row has been waiting (0 when none).",
    registry=REGISTRY,
)
TICK_AGE = Gauge(
    "boneload_last_tick_age_seconds",
    "Seconds since any instance's agenda ticker last ran (-1: never).",
    registry=REGISTRY,
)
ALERTS_OPEN = Gauge(
    "boneload_coach_alerts_unacknowledged",
    "Runners with a coach whose red flag or escalation awaits the coach's decision.",
    registry=REGISTRY,
)
ALERTS_UNSENT = Gauge(
    "boneload_coach_alerts_unsent",
    "Coach alerts on the agenda not yet delivered.",
    registry=REGISTRY,
)
SEND_WINDOW = Gauge(
    "boneload_agenda_send_window",
    "Agenda sends this instance may have on the wire now (follows Bot API latency x rate).",
    registry=REGISTRY,
)
DB_UP = Gauge(
    "boneload_database_up", "1 when the last scrape could read the database.", registry=REGISTRY
)


async def render(sessionmaker: async_sessionmaker[AsyncSession], now: datetime) -> bytes:
    """The exposition text, with the database gauges read now."""
    from bot.store.ops import health_figures

    try:
        async with sessionmaker() as s:
            figures: dict[str, Any] = await health_figures(s, now)
    except Exception:  # a scrape must answer; the database gauge says what happened
        DB_UP.set(0)
    else:
        DB_UP.set(1)
        AGENDA_LAG.set(figures["agenda_lag_s"])
        age = figures["last_tick_age_s"]
        TICK_AGE.set(-1 if age is None else age)
        ALERTS_OPEN.set(figures["alerts_open"])
        ALERTS_UNSENT.set(figures["alerts_unsent"])
    return generate_latest(REGISTRY)
