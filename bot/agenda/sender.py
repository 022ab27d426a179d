"""What the dispatcher hands to whoever renders and sends a message, and a minimal sender.

The dispatcher resolves the recipient and passes an `AgendaItem` plus the runner's current
program state; a `Sender` turns that into one Telegram call and returns the message id. The
real texts and keyboards live in `bot/telegram/` (one module, ready for a second language);
`PlainSender` here sends only the kind and the agenda id, for tests, benchmarks and as a
fallback.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from telegram import Bot

from bot.program.decision import MessageKind
from bot.program.state import ProgramState

__all__ = ["AgendaItem", "PlainSender", "Sender"]


@dataclass(frozen=True, slots=True)
class AgendaItem:
    """One due message, ready to render. Never log `payload`: it may hold health answers."""

    id: int
    kind: str  # a MessageKind value, or an agenda-only kind such as a coach digest
    key: str
    runner_id: int | None  # whom it is about (None for coach-level rows such as digests)
    coach_id: int | None  # set when the recipient is a coach
    chat_id: int  # the recipient: the runner's chat, or the coach's Telegram user id
    due_at: datetime
    payload: dict[str, Any]
    attempts: int  # 1 on the first try
    language: str = "en"  # the runner's language
    timezone: str = "UTC"  # the recipient's time zone, for showing times
    runner_name: str | None = None  # for messages to a coach about a runner

    @property
    def message_kind(self) -> MessageKind | None:
        try:
            return MessageKind(self.kind)
        except ValueError:
            return None

    @property
    def to_coach(self) -> bool:
        return self.coach_id is not None


class Sender(Protocol):
    async def send(self, item: AgendaItem, state: ProgramState | None) -> int | None:
        """Send the message; return Telegram's message id. Raise telegram.error.* on failure:
        the dispatcher classifies the error (retry, back off, blocked, give up)."""
        ...


class PlainSender:
    """Sends `<kind> #<agenda id>` as plain text; enough for end-to-end delivery tests."""

    def __init__(self, bot: Bot) -> None:
        self._bot = bot

    async def send(self, item: AgendaItem, state: ProgramState | None) -> int | None:
        message = await self._bot.send_message(chat_id=item.chat_id, text=f"{item.kind} #{item.id}")
        return message.message_id
