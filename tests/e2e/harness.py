"""A runner (and coach) talking to the real bot over real HTTP, with a clock the test moves."""

from __future__ import annotations

import asyncio

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from telegram import Update
from telegram.ext import TypeHandler

from bot.program.loader import Rules
from bot.services import coaches as csvc
from bot.services.deps import Deps
from bot.standin.server import BotApiStandIn
from bot.store.db import make_engine, make_sessionmaker
from bot.store.peek import next_due
from bot.telegram.app import build_application

RUNNER = 1001
COACH = 2002
OTHER_COACH = 3003


@dataclass
class Clock:
    at: datetime

    def now(self) -> datetime:
        return self.at


@dataclass
class Harness:
    standin: BotApiStandIn
    app: Any
    deps: Deps
    clock: Clock
    done: set[int] = field(default_factory=set)
    done_cond: asyncio.Condition = field(default_factory=asyncio.Condition)

    async def mark(self, update: Update, context: Any) -> None:
        async with self.done_cond:
            self.done.add(update.update_id)
            self.done_cond.notify_all()

    @property
    def dispatcher(self) -> Any:
        return self.app.bot_data["dispatcher"]

    def messages(self, chat: int = RUNNER) -> list[Any]:
        return [m for m in self.standin.messages_to(chat) if not m.deleted]

    def last(self, chat: int = RUNNER) -> Any:
        msgs = self.messages(chat)
        assert msgs, f"nothing sent to {chat}"
        return msgs[-1]

    async def wait_processed(self, update_id: int) -> None:
        """Until the bot has run every handler group for this update (a marker in the last)."""
        async with self.done_cond:
            await asyncio.wait_for(
                self.done_cond.wait_for(lambda: update_id in self.done), timeout=10
            )

    async def say(self, text: str, user: int = RUNNER, **kw: Any) -> None:
        await self.wait_processed(self.standin.push_text(user, text, **kw))

    async def press(self, label: str, user: int = RUNNER, message: Any = None) -> None:
        msg = message or self.last_with_buttons(user)
        data = next((b[1] for row in msg.buttons for b in row if b[0] == label), None)
        assert data is not None, f"no button {label!r} in {msg.buttons}"
        await self.press_data(data, msg.message_id, user)

    async def press_data(self, data: str, message_id: int, user: int = RUNNER) -> None:
        await self.wait_processed(self.standin.press(user, message_id, data))

    def last_with_buttons(self, chat: int = RUNNER) -> Any:
        for m in reversed(self.messages(chat)):
            if m.buttons:
                return m
        raise AssertionError(f"no message with buttons to {chat}")

    async def tick(self) -> Any:
        return await self.dispatcher.tick()

    async def advance(self, delta: timedelta) -> None:
        """Move the clock, stopping at each due agenda row so they are sent in order."""
        target = self.clock.at + delta
        while True:
            async with self.deps.sessionmaker() as s:
                due = await next_due(s)
            if due is None or due > target:
                break
            self.clock.at = max(self.clock.at, due)
            await self.tick()
        self.clock.at = target
        await self.tick()


@asynccontextmanager
async def running_bot(
    rules: Rules, db_url: str, start: datetime, *, with_coaches: bool = True
) -> AsyncIterator[Harness]:
    standin = BotApiStandIn()
    await standin.start()
    engine = make_engine(db_url)
    clock = Clock(start.astimezone(UTC))
    deps = Deps(rules=rules, sessionmaker=make_sessionmaker(engine), clock=clock.now)
    app = build_application(
        token="123456:test",
        deps=deps,
        base_url=standin.base_url,
        base_file_url=standin.base_file_url,
        send_rate=1000,
        start_ticker=False,
        owner="e2e",
    )
    if with_coaches:
        await csvc.add_coach(deps, COACH, "Coach Sam")
        await csvc.add_coach(deps, OTHER_COACH, "Coach Kim")
    try:
        async with app:
            await app.start()
            await app.updater.start_polling(poll_interval=0.0, timeout=1)
            h = Harness(standin, app, deps, clock)
            app.add_handler(TypeHandler(Update, h.mark), group=100)
            try:
                yield h
            finally:
                await app.updater.stop()
                await app.stop()
    finally:
        await standin.stop()
        await engine.dispose()
