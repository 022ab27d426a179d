"""Test doubles for the agenda: a settable clock and a recording, scriptable sender."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.agenda.sender import AgendaItem
from bot.program.state import ProgramState

__all__ = ["FakeClock", "FakeSender", "Sent"]


class FakeClock:
    """`clock()` returns `now`; tests move it explicitly. Must be timezone-aware."""

    def __init__(self, now: datetime) -> None:
        if now.tzinfo is None:
            raise ValueError("FakeClock needs an aware datetime")
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> datetime:
        self.now += delta
        return self.now

    def set(self, when: datetime) -> datetime:
        self.now = when
        return self.now


@dataclass(frozen=True, slots=True)
class Sent:
    item: AgendaItem
    at: datetime
    state: ProgramState | None


@dataclass
class FakeSender:
    """Records every send with the clock's time; `fail(exc)` makes the next sends raise.
    With `latency`, every send moves the clock (a `FakeClock`) on by that much, as if the
    Bot API took that long to answer."""

    clock: Callable[[], datetime]
    latency: timedelta = timedelta(0)
    sent: list[Sent] = field(default_factory=list)
    attempts: list[AgendaItem] = field(default_factory=list)
    _failures: deque[BaseException] = field(default_factory=deque)
    _next_id: int = 1

    def fail(self, *errors: BaseException) -> None:
        self._failures.extend(errors)

    async def send(self, item: AgendaItem, state: ProgramState | None) -> int | None:
        self.attempts.append(item)
        if self._failures:
            raise self._failures.popleft()
        if self.latency:
            if not isinstance(self.clock, FakeClock):
                raise TypeError("FakeSender(latency=...) needs a FakeClock to move on")
            self.clock.advance(self.latency)
        self.sent.append(Sent(item, self.clock(), state))
        self._next_id += 1
        return self._next_id

    def keys(self) -> list[str]:
        return [s.item.key for s in self.sent]
