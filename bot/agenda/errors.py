"""Telegram errors sorted into what the dispatcher does next.

| error                          | outcome                                                     |
|--------------------------------|-------------------------------------------------------------|
| RetryAfter (flood control)     | retry after the given time; all sending pauses that long;   |
|                                | does not use up an attempt                                  |
| Forbidden (blocked, kicked)    | BLOCKED: failed; the runner is marked unreachable           |
| BadRequest (bad chat, text...) | FAILED at once: retrying cannot help                        |
| TimedOut, other NetworkError   | retry with exponential backoff (capped); failed after the   |
| other TelegramError, any other | row's last attempt                                          |

`BadRequest` and `TimedOut` subclass `NetworkError`, so the order of the checks matters.
`last_error` keeps the class name and Telegram's short reason, never the message text.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError
from telegram.warnings import PTBDeprecationWarning

__all__ = [
    "DEFAULT_BACKOFF",
    "Backoff",
    "Classified",
    "Next",
    "classify",
    "describe",
    "retry_after_seconds",
]


class Next(StrEnum):
    RETRY = "retry"
    FAILED = "failed"
    BLOCKED = "blocked"


@dataclass(frozen=True, slots=True)
class Backoff:
    """Delay before retry n (1-based): base * 2**(n-1), at most `cap`."""

    base: timedelta = timedelta(seconds=5)
    cap: timedelta = timedelta(minutes=15)

    def delay(self, attempt: int) -> timedelta:
        factor = 2 ** min(max(attempt - 1, 0), 30)
        delay: timedelta = min(self.base * factor, self.cap)
        return delay


DEFAULT_BACKOFF = Backoff()


@dataclass(frozen=True, slots=True)
class Classified:
    next: Next
    error: str  # for last_error
    delay: timedelta = timedelta(0)  # RETRY: when to try again
    count_attempt: bool = True  # False for flood control
    pause_sending: timedelta = timedelta(0)  # RetryAfter: hold every send this long


def retry_after_seconds(exc: RetryAfter) -> float:
    """`retry_after` is an int or a timedelta in PTB 22, depending on PTB_TIMEDELTA."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = exc.retry_after
    if isinstance(value, timedelta):
        return value.total_seconds()
    return float(value)


def describe(exc: BaseException) -> str:
    """`ClassName: short reason`: Telegram's descriptions name the problem, not the content."""
    reason = exc.message if isinstance(exc, TelegramError) else str(exc)
    text = f"{type(exc).__name__}: {reason}" if reason else type(exc).__name__
    return text[:300]


def classify(
    exc: BaseException, *, attempts: int, max_attempts: int, backoff: Backoff = DEFAULT_BACKOFF
) -> Classified:
    """What to do after `exc` on the row's `attempts`-th try."""
    error = describe(exc)
    if isinstance(exc, RetryAfter):
        wait = timedelta(seconds=max(retry_after_seconds(exc), 0.0))
        return Classified(Next.RETRY, error, wait, count_attempt=False, pause_sending=wait)
    if isinstance(exc, Forbidden):
        return Classified(Next.BLOCKED, error)
    if isinstance(exc, BadRequest):  # before NetworkError: BadRequest subclasses it
        return Classified(Next.FAILED, error)
    if attempts >= max_attempts:
        return Classified(Next.FAILED, f"gave up after {attempts} attempts: {error}"[:300])
    return Classified(Next.RETRY, error, backoff.delay(attempts))
