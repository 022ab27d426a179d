"""What one update costs the database, counted where the bot runs it (SQLAlchemy's own events on
the bot's engine, over the real HTTP path): one read transaction and at most one write
transaction per update, the write one also claiming the update, and a pure read (/status) that
takes no write transaction at all (on SQLite: never the write lock). The statement counts are
ceilings a change must not push up unnoticed."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import event
from telegram import Update
from telegram.ext import TypeHandler

from bot import texts
from bot.program.loader import Rules
from bot.store.db import READ_ONLY
from tests.e2e.harness import Harness, into_run_walk, next_run, onboard, running_bot, until_text

START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)  # Monday, 09:00 in Berlin
_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")


@dataclass
class Cost:
    reads: int = 0
    writes: int = 0
    statements: int = 0


@dataclass
class Meter:
    """Counts transactions and statements per update, by the task that handles the update (the
    agenda's ticks run in tasks of their own and are not counted)."""

    current: dict[Any, int] = field(default_factory=dict)
    costs: dict[int, Cost] = field(default_factory=dict)

    async def enter(self, update: Update, _context: Any) -> None:
        self.current[asyncio.current_task()] = update.update_id
        self.costs[update.update_id] = Cost()

    def _cost(self) -> Cost | None:
        try:
            task = asyncio.current_task()
        except RuntimeError:
            return None
        update_id = self.current.get(task)
        return self.costs.get(update_id) if update_id is not None else None

    def on_begin(self, conn: Any) -> None:
        cost = self._cost()
        if cost is not None:
            if conn.get_execution_options().get(READ_ONLY, False):
                cost.reads += 1
            else:
                cost.writes += 1

    def on_statement(self, _conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        cost = self._cost()
        if cost is not None and not statement.lstrip().upper().startswith(_CONTROL):
            cost.statements += 1


@contextmanager
def metered(h: Harness) -> Iterator[Meter]:
    meter = Meter()
    engine = h.deps.sessionmaker.kw["bind"].sync_engine
    h.app.add_handler(TypeHandler(Update, meter.enter), group=-2)
    event.listen(engine, "begin", meter.on_begin)
    event.listen(engine, "before_cursor_execute", meter.on_statement)
    try:
        yield meter
    finally:
        event.remove(engine, "begin", meter.on_begin)
        event.remove(engine, "before_cursor_execute", meter.on_statement)


def last_cost(meter: Meter) -> Cost:
    return meter.costs[max(meter.costs)]


# Ceilings per update type: (read transactions, write transactions, statements).
CEILINGS = {
    "/status": (1, 0, 4),
    "press Done": (1, 1, 4),
    "press an answer mid-flow": (1, 1, 4),
    "press the last answer (a decision)": (1, 1, 10),
    "type an answer": (1, 1, 4),
    "press the follow-up's last answer (a decision)": (1, 1, 10),
}


async def test_each_update_reads_once_and_writes_in_one_transaction(
    shipped_rules: Rules, db_url: str
) -> None:
    async with running_bot(shipped_rules, db_url, START) as h:
        await onboard(h)
        await into_run_walk(h)
        reminder = await next_run(h)
        seen: dict[str, Cost] = {}
        with metered(h) as meter:
            await h.say("/status")
            seen["/status"] = last_cost(meter)
            await h.press("Done ✅", message=reminder)
            seen["press Done"] = last_cost(meter)
            await h.press("0")
            seen["press an answer mid-flow"] = last_cost(meter)
            await h.press("3")
            seen["press the last answer (a decision)"] = last_cost(meter)
            await h.tick()
            first = await until_text(h, "24-hour check", step=timedelta(hours=2), limit=16)
            await h.say("0")
            seen["type an answer"] = last_cost(meter)
            for _ in range(12):
                msg = h.last_with_buttons()
                if msg.message_id < first.message_id or "No" not in str(msg.buttons):
                    break
                await h.press("No", message=msg)
            seen["press the follow-up's last answer (a decision)"] = last_cost(meter)
        followup = await h.answers(stage="followup")
        assert len(followup) >= 2, "the follow-up was answered to the end"
        assert texts.SESSION_THANKS in h.texts()[-3:]
        counted = {kind: (cost.reads, cost.writes, cost.statements) for kind, cost in seen.items()}
        over = {
            kind: found
            for kind, found in counted.items()
            if any(n > ceiling for n, ceiling in zip(found, CEILINGS[kind], strict=True))
        }
        assert not over, f"over the ceiling (reads, writes, statements): {over}; all: {counted}"
        assert Counter(c.writes for c in seen.values())[0] == 1  # only /status writes nothing
