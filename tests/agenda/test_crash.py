"""Crash: a dispatcher process killed with SIGKILL at random points, many times, on SQLite and
PostgreSQL. Whatever the kills hit (a claim, a send, a commit), nothing is lost and each kill
can cost at most one duplicate (the send Telegram accepted just before the commit)."""

from __future__ import annotations

import asyncio
import os
import random
import re
import signal
import sys
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from telegram import Bot
from telegram.request import HTTPXRequest

from bot.agenda import Dispatcher, PlainSender
from bot.program.loader import Rules
from bot.standin import BotApiStandIn, RecordedCall
from bot.store import agenda, repo
from bot.store.db import make_engine, make_sessionmaker
from bot.store.models import Agenda

pytestmark = [pytest.mark.slow]

WORKER = Path(__file__).with_name("crash_worker.py")
ROOT = Path(__file__).resolve().parents[2]
RUNNERS = 20
PER_RUNNER = 12
KILLS = 6


@pytest.fixture
async def standin() -> AsyncIterator[BotApiStandIn]:
    server = BotApiStandIn(latency=0.003)
    await server.start()
    yield server
    await server.stop()


def _ok_sends(calls: Sequence[RecordedCall]) -> int:
    return sum(1 for c in calls if c.method == "sendMessage" and c.ok)


async def _spawn(url: str, standin: BotApiStandIn, owner: str) -> asyncio.subprocess.Process:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        str(WORKER),
        url,
        standin.base_url,
        owner,
        stdout=asyncio.subprocess.PIPE,
        env=env,
        cwd=ROOT,
    )
    assert proc.stdout is not None
    line = await asyncio.wait_for(proc.stdout.readline(), 30)
    assert line.strip() == b"ready", line
    return proc


async def test_sigkill_loses_nothing(db_url: str, rules: Rules, standin: BotApiStandIn) -> None:
    rng = random.Random(os.environ.get("BONELOAD_CRASH_SEED", "7"))
    now = datetime.now(UTC)
    engine = make_engine(db_url)
    sm = make_sessionmaker(engine)
    try:
        chats = list(range(5000, 5000 + RUNNERS))
        async with sm.begin() as s:
            for chat in chats:
                r = await repo.create_runner(
                    s, telegram_user_id=chat, chat_id=chat, timezone="UTC", now=now
                )
                await agenda.schedule(
                    s,
                    [
                        agenda.NewItem(
                            agenda.runner_scope(r.id), "runner_notice", f"n:{i}", now, {}, r.id
                        )
                        for i in range(PER_RUNNER)
                    ],
                    now=now,
                )
        total = RUNNERS * PER_RUNNER

        kills = 0
        for cycle in range(KILLS):
            done = _ok_sends(standin.calls)
            if done >= total:
                break
            proc = await _spawn(db_url, standin, owner=f"worker-{cycle}")
            target = min(total, done + rng.randint(1, 30))
            try:
                await standin.wait_for(
                    lambda calls, n=target: _ok_sends(calls) >= n,  # type: ignore[misc]
                    timeout=30,
                )
                # A random extra moment, so the kill lands anywhere in the worker's loop.
                await asyncio.sleep(rng.random() * 0.05)
            finally:
                proc.send_signal(signal.SIGKILL)
                await proc.wait()
            kills += 1

        # A survivor finishes the job once the dead workers' leases have run out.
        async with Bot(
            "123:ABC", base_url=standin.base_url, request=HTTPXRequest(connection_pool_size=4)
        ) as bot:
            final = Dispatcher(
                sm,
                rules,
                PlainSender(bot),
                owner="survivor",
                clock=lambda: datetime.now(UTC) + timedelta(minutes=5),
                rate_per_second=1000,
            )
            await final.tick()

        async with sm() as s:
            statuses = Counter((await s.execute(select(Agenda.status))).scalars())
            ids = set((await s.execute(select(Agenda.id))).scalars())
        assert statuses == {"sent": total}, statuses

        seen: Counter[int] = Counter()
        for chat in chats:
            for m in standin.messages_to(chat):
                match = re.search(r"#(\d+)$", m.text or "")
                assert match
                seen[int(match.group(1))] += 1
        assert set(seen) == ids  # 0 lost
        duplicates = sum(seen.values()) - len(seen)
        print(f"crash: {kills} kills, {duplicates} duplicates, {total} messages")
        assert kills >= 3
        assert duplicates <= kills, (duplicates, kills)
    finally:
        await engine.dispose()
