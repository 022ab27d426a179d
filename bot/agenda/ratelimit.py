"""The outbound message budget of one instance: SEND_RATE_PER_SECOND, evenly spaced.

A virtual-time scheduler (GCRA, the "generic cell rate algorithm"): each send reserves the next
slot, one interval after the previous one, and sleeps until it. Slots are computed from the
schedule, not from when a sleeper woke, so timer jitter does not accumulate. A send may go up to
`tolerance` seconds (default 0.2 s) ahead of its evenly spaced time: slots missed while every
sender was busy (a slow commit, a slow answer from Telegram) are made up for instead of lost,
while no window of T seconds ever carries more than rate x (T + tolerance) messages (never a
flood, even in a catch-up).
`pause()` holds every sender after Telegram's flood control answered RetryAfter.

With N instances, give each `SEND_RATE_PER_SECOND = total / N` (Telegram's limit is per bot).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

__all__ = ["RateLimiter"]

# Long waits are slept in slices so that a stopping dispatcher notices within this time.
_SLICE = 0.25


class RateLimiter:
    def __init__(self, rate_per_second: float, *, tolerance: float = 0.2) -> None:
        if rate_per_second <= 0 or tolerance < 0:
            raise ValueError("rate must be positive and tolerance not negative")
        self.interval = 1.0 / rate_per_second
        self._tolerance = tolerance
        self._next = 0.0  # the theoretical time of the next send
        self._paused_until = 0.0

    async def acquire(self, keep_going: Callable[[], bool] = lambda: True) -> bool:
        """Wait for this caller's slot. False if `keep_going()` turned false meanwhile."""
        loop = asyncio.get_running_loop()
        while True:
            now = loop.time()
            tat = max(self._next, now - self._tolerance)
            slot = max(now, tat - self._tolerance, self._paused_until)
            self._next = max(tat, slot) + self.interval
            while (remaining := slot - loop.time()) > 0:
                if not keep_going():
                    return False
                await asyncio.sleep(min(remaining, _SLICE))
            # A pause that began while we slept moves us behind it.
            if loop.time() >= self._paused_until:
                return keep_going()

    def take_now(self) -> bool:
        """Send at once and count it, unless flood control holds every sender (False: wait in
        `acquire` like the rest). What a runner's own update caused does not queue behind the
        bulk; the senders behind it wait one interval longer, so the budget holds."""
        now = asyncio.get_running_loop().time()
        if now < self._paused_until:
            return False
        self._next = max(self._next, now - self._tolerance) + self.interval
        return True

    def pause(self, seconds: float) -> None:
        """Hold every sender for `seconds` (flood control)."""
        until = asyncio.get_running_loop().time() + seconds
        self._paused_until = max(self._paused_until, until)
        self._next = max(self._next, self._paused_until)
