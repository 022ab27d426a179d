"""Telegram error classification (table-driven) and the send budget."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TimedOut,
)

from bot.agenda.errors import Backoff, Next, classify, retry_after_seconds
from bot.agenda.ratelimit import RateLimiter

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")


@pytest.mark.parametrize(
    ("exc", "next_", "error"),
    [
        (Forbidden("Forbidden: bot was blocked by the user"), Next.BLOCKED, "Forbidden: "),
        (BadRequest("Chat not found"), Next.FAILED, "BadRequest: Chat not found"),
        (TimedOut(), Next.RETRY, "TimedOut: Timed out"),
        (NetworkError("Bad Gateway"), Next.RETRY, "NetworkError: Bad Gateway"),
        (ChatMigrated(42), Next.RETRY, "ChatMigrated"),
        (InvalidToken(), Next.RETRY, "InvalidToken"),
        (ValueError("renderer bug"), Next.RETRY, "ValueError: renderer bug"),
    ],
)
def test_classification(exc: Exception, next_: Next, error: str) -> None:
    c = classify(exc, attempts=1, max_attempts=5)
    assert c.next is next_
    assert c.error.startswith(error)
    assert c.count_attempt


def test_bad_request_is_checked_before_network_error() -> None:
    assert issubclass(BadRequest, NetworkError)
    assert classify(BadRequest("x"), attempts=1, max_attempts=9).next is Next.FAILED


@pytest.mark.parametrize("value", [7, timedelta(seconds=7)])
def test_retry_after_int_or_timedelta(value: int | timedelta) -> None:
    exc = RetryAfter(value)
    assert retry_after_seconds(exc) == 7.0
    c = classify(exc, attempts=99, max_attempts=3)  # flood control never exhausts attempts
    assert (c.next, c.delay, c.pause_sending, c.count_attempt) == (
        Next.RETRY,
        timedelta(seconds=7),
        timedelta(seconds=7),
        False,
    )


def test_gives_up_after_max_attempts() -> None:
    c = classify(TimedOut(), attempts=3, max_attempts=3)
    assert c.next is Next.FAILED
    assert c.error == "gave up after 3 attempts: TimedOut: Timed out"


def test_backoff_doubles_up_to_the_cap() -> None:
    b = Backoff(base=timedelta(seconds=5), cap=timedelta(minutes=1))
    assert [b.delay(n).total_seconds() for n in range(1, 7)] == [5, 10, 20, 40, 60, 60]
    assert b.delay(10_000) == timedelta(minutes=1)


async def test_rate_limiter_spaces_sends() -> None:
    limiter = RateLimiter(200, tolerance=0.0)
    loop = asyncio.get_running_loop()
    times: list[float] = []

    async def one() -> None:
        await limiter.acquire()
        times.append(loop.time())

    await asyncio.gather(*(one() for _ in range(41)))
    span = times[-1] - times[0]
    assert 0.19 <= span < 0.3  # 40 intervals of 5 ms: the rate, never a burst


async def test_rate_limiter_tolerance_bounds_the_burst() -> None:
    limiter = RateLimiter(100, tolerance=0.05)  # up to 5 ahead, then 10 ms apart
    loop = asyncio.get_running_loop()
    times: list[float] = []

    async def one() -> None:
        await limiter.acquire()
        times.append(loop.time())

    await asyncio.gather(*(one() for _ in range(26)))
    start = times[0]
    assert sum(1 for t in times if t - start < 0.004) == 6  # the burst: 1 + tolerance/interval
    assert 0.19 <= times[-1] - start < 0.3  # then the rate: 20 more at 10 ms


async def test_rate_limiter_pause() -> None:
    limiter = RateLimiter(1000)
    loop = asyncio.get_running_loop()
    await limiter.acquire()
    limiter.pause(0.2)
    start = loop.time()
    await limiter.acquire()
    assert loop.time() - start >= 0.19


async def test_rate_limiter_stops_waiting() -> None:
    limiter = RateLimiter(1)
    await limiter.acquire()
    assert await limiter.acquire(lambda: False) is False
