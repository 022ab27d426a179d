"""What every workflow needs, built once at start and passed in (no globals, clock injected)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.program.loader import Rules


def _no_kick() -> None:
    return None


@dataclass
class Deps:
    rules: Rules
    sessionmaker: async_sessionmaker[AsyncSession]
    clock: Callable[[], datetime]
    # Run a dispatcher tick now, so a just-committed alert or notice goes out without waiting.
    kick: Callable[[], None] = field(default=_no_kick)
    bot_username: str = ""
