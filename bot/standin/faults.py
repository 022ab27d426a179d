"""Faults the stand-in can inject into the bot's next API calls, to test delivery and retries.

Each fault is consumed by exactly one call. The call is still recorded (with ``fault`` set),
so tests can count attempts, but it has no effect: a faulted send is not a delivered message.
The one exception is ``Timeout(deliver=True)``, which models the nastiest real case: Telegram
did the work but the answer never reached the bot.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Fault:
    """Base of all faults: an HTTP status and the Telegram error body that goes with it."""

    @property
    def status(self) -> int:
        raise NotImplementedError

    @property
    def description(self) -> str:
        raise NotImplementedError

    def body(self) -> dict[str, Any]:
        return {"ok": False, "error_code": self.status, "description": self.description}


@dataclass(frozen=True)
class RetryAfter(Fault):
    """Flood control: HTTP 429, which PTB raises as ``telegram.error.RetryAfter``."""

    seconds: int

    @property
    def status(self) -> int:
        return 429

    @property
    def description(self) -> str:
        return f"Too Many Requests: retry after {self.seconds}"

    def body(self) -> dict[str, Any]:
        return {**super().body(), "parameters": {"retry_after": self.seconds}}


@dataclass(frozen=True)
class ServerError(Fault):
    """A Telegram-side failure (500 by default, or 502 from the front proxy)."""

    code: int = 500

    @property
    def status(self) -> int:
        return self.code

    @property
    def description(self) -> str:
        return "Bad Gateway" if self.code == 502 else "Internal Server Error"


@dataclass(frozen=True)
class BadRequest(Fault):
    """HTTP 400 with the given reason; PTB strips the "Bad Request: " prefix again."""

    reason: str = "Bad Request"

    @property
    def status(self) -> int:
        return 400

    @property
    def description(self) -> str:
        if self.reason.startswith("Bad Request"):
            return self.reason
        return f"Bad Request: {self.reason}"


@dataclass(frozen=True)
class Forbidden(Fault):
    """HTTP 403, by default the answer for a user who blocked the bot."""

    reason: str = "Forbidden: bot was blocked by the user"

    @property
    def status(self) -> int:
        return 403

    @property
    def description(self) -> str:
        return self.reason


@dataclass(frozen=True)
class Timeout(Fault):
    """A network stall: the answer comes only after ``seconds``, past the client's timeout.

    With ``deliver=True`` the call takes effect before the stall (the message *is* sent), which
    is what makes blind retries send duplicates.
    """

    seconds: float = 30.0
    deliver: bool = False

    @property
    def status(self) -> int:
        return 504

    @property
    def description(self) -> str:
        return "Gateway Timeout"
