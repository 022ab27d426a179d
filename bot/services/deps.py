"""What every workflow needs, built once at start and passed in (no globals, clock injected)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.program.loader import Rules
from bot.store.db import reading


@dataclass
class Deps:
    rules: Rules
    sessionmaker: async_sessionmaker[AsyncSession]
    clock: Callable[[], datetime]
    # Sessions for transactions that only read (no write lock on SQLite); derived from
    # `sessionmaker` unless given.
    reader: async_sessionmaker[AsyncSession] | None = None
    # The update being handled, when there is one: a `bot.services.turn.Turn`, read through
    # `turn.turn_of` (typed there; this module stays below the turn).
    turn: Any = None

    def __post_init__(self) -> None:
        if self.reader is None:
            bind = self.sessionmaker.kw.get("bind")
            if isinstance(bind, AsyncEngine):
                self.reader = async_sessionmaker(reading(bind), expire_on_commit=False)
            else:
                self.reader = self.sessionmaker

    def read_session(self) -> AsyncSession:
        assert self.reader is not None
        return self.reader()
