"""How many agenda sends one instance keeps on the wire: the in-flight window.

Sending `rate` messages a second when each send keeps its slot for `t` seconds (Telegram's round
trip, plus the commit that records it) needs `rate x t` sends on the wire at once (Little's law).
A fixed window of 4 carries 4 / 0.3 s = 13 of 25 messages a second when the Bot API answers in
300 ms. A window wider than needed buys nothing and costs: every send on the wire is a message a
crash may deliver twice (docs/delivery.md). So the window follows the round trip it observes:

    limit = clamp(ceil(rate x latency x HEADROOM) + 1, floor, ceiling)

`latency` is an exponentially weighted mean of recent successful sends (the first one counts in
full, so a slow Bot API opens the window after one answer, not after dozens). HEADROOM covers
what the mean leaves out: the commit after each send, latency scattered around its mean, and the
rate limiter making up for slots missed during a stall. `ceiling` (`SEND_IN_FLIGHT`) is the
hard bound, hence the most duplicates a crash can cause; `floor` is where the window starts,
before anything was observed (the old fixed window: enough for 25/s at ~150 ms).
"""

from __future__ import annotations

import asyncio
import math
from collections import deque
from contextlib import suppress
from types import TracebackType

__all__ = ["DEFAULT_FLOOR", "HEADROOM", "SendWindow", "default_ceiling"]

DEFAULT_FLOOR = 4
HEADROOM = 1.5
# Weight of the newest round trip in the mean: at 25/s the window follows a change within a
# fraction of a second, and one very slow answer moves it by a tenth of the difference only.
_SMOOTHING = 0.1


def default_ceiling(rate_per_second: float) -> int:
    """`SEND_IN_FLIGHT` when unset: one second of the budget (25 at 25/s), i.e. round trips up
    to ~0.6 s are covered with full headroom and a crash costs at most a second's sends."""
    return max(DEFAULT_FLOOR, math.ceil(rate_per_second))


class SendWindow:
    """An async semaphore (`async with window:`) whose size follows `observe()`d latencies.

    Slots are handed out first come, first served. When the limit shrinks below the sends
    already on the wire, nobody new enters until enough of them have left."""

    def __init__(
        self,
        rate_per_second: float,
        *,
        ceiling: int,
        floor: int = DEFAULT_FLOOR,
        headroom: float = HEADROOM,
    ) -> None:
        if rate_per_second <= 0 or ceiling < 1 or floor < 1 or headroom < 1:
            raise ValueError("rate must be positive, ceiling and floor at least 1, headroom >= 1")
        self._rate = rate_per_second
        self.ceiling = ceiling
        self.floor = min(floor, ceiling)
        self._headroom = headroom
        self.latency: float | None = None  # the weighted mean, seconds; None before any send
        self.limit = self.floor
        self.in_flight = 0
        self._waiters: deque[asyncio.Future[None]] = deque()

    def observe(self, seconds: float) -> None:
        """Record one successful send's round trip and resize the window."""
        seconds = max(0.0, seconds)  # a wall clock stepped back must not shrink it below zero
        if self.latency is None:
            self.latency = seconds
        else:
            self.latency += _SMOOTHING * (seconds - self.latency)
        needed = math.ceil(self._rate * self.latency * self._headroom) + 1
        self.limit = max(self.floor, min(self.ceiling, needed))
        self._wake()

    async def __aenter__(self) -> None:
        if self.in_flight < self.limit and not self._waiters:
            self.in_flight += 1
            return
        slot = asyncio.get_running_loop().create_future()
        self._waiters.append(slot)
        try:
            await slot
        except asyncio.CancelledError:
            if slot.done() and not slot.cancelled():
                self._leave()  # handed a slot just as we were cancelled: give it on
            else:
                with suppress(ValueError):
                    self._waiters.remove(slot)
                self._wake()
            raise

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._leave()

    def _leave(self) -> None:
        self.in_flight -= 1
        self._wake()

    def _wake(self) -> None:
        while self._waiters and self.in_flight < self.limit:
            slot = self._waiters.popleft()
            if not slot.done():
                self.in_flight += 1  # taken on the waiter's behalf, so nobody overtakes it
                slot.set_result(None)
