"""Claim cost against the size of the agenda, and the cost of scheduling a message.

For each database and for 1,000 and 1,000,000 pending rows, the median (and p95) time to claim a
batch of 50 due rows, in two shapes of agenda:
- "backlog": every row is due (a catch-up after downtime: the worst case for finding the oldest);
- "future": 100 rows due, the rest spread over the coming 30 days (a normal tick);
and the cost per scheduled message when rows are written the way `apply_decision` writes them
(one transaction per decision of 6 messages). Target: claim at 1,000,000 <= 2x claim at 1,000.

    BONELOAD_TEST_PG_URL=postgresql+asyncpg://postgres@127.0.0.1:5432/test \
        python bench/claim_scale.py
    python bench/claim_scale.py --sizes 1000 100000      # quicker
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bench._common import database, pg_base
from bot.store import agenda
from bot.store.db import make_engine, make_sessionmaker
from bot.store.models import Agenda, Runner

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
PER_RUNNER = 100
BATCH = 50


async def fill(sm: async_sessionmaker[AsyncSession], size: int, due_rows: int) -> None:
    runners = max(1, size // PER_RUNNER)
    async with sm.begin() as s:
        await s.execute(
            insert(Runner),
            [
                {
                    "telegram_user_id": 10_000_000 + i,
                    "chat_id": 10_000_000 + i,
                    "timezone": "UTC",
                    "language": "en",
                    "created_at": NOW,
                    "unreachable": False,
                }
                for i in range(runners)
            ],
        )
    due_every = max(1, size // due_rows)
    chunk = 2000
    rows = []
    n = 0
    for rid in range(1, runners + 1):
        for j in range(PER_RUNNER):
            if n >= size:
                break
            if n % due_every == 0 and n // due_every < due_rows:
                due = NOW - timedelta(seconds=(n * 7919) % 86_400)  # due during the last day
            else:
                due = NOW + timedelta(seconds=1 + (n * 7919) % (30 * 86_400))
            rows.append(
                {
                    "scope": agenda.runner_scope(rid),
                    "runner_id": rid,
                    "kind": "session_reminder",
                    "key": f"reminder:{j}",
                    "due_at": due,
                    "next_attempt_at": due,
                    "payload": {"seq": j, "day": "2025-06-01"},
                    "status": "pending",
                    "attempts": 0,
                    "created_at": NOW,
                }
            )
            n += 1
            if len(rows) == chunk:
                async with sm.begin() as s:
                    await s.execute(insert(Agenda), rows)
                rows = []
    if rows:
        async with sm.begin() as s:
            await s.execute(insert(Agenda), rows)
    async with sm.begin() as s:
        if s.get_bind().dialect.name == "postgresql":
            await s.execute(text("ANALYZE agenda"))
        else:
            await s.execute(text("ANALYZE"))


async def claim_times(sm: async_sessionmaker[AsyncSession], repeat: int) -> list[float]:
    times = []
    for i in range(repeat):
        async with sm() as s:
            await s.begin()
            t = time.perf_counter()
            rows = await agenda.claim(
                s, now=NOW, owner="bench", token=f"t{i}", lease=timedelta(seconds=60), limit=BATCH
            )
            times.append(time.perf_counter() - t)
            assert len(rows) == BATCH, len(rows)
            await s.rollback()  # leave the agenda as it was for the next measurement
    return times


async def insert_cost(sm: async_sessionmaker[AsyncSession], decisions: int) -> float:
    """Seconds per scheduled message, 6 messages per transaction (one engine decision)."""
    rid = 1
    t = time.perf_counter()
    for d in range(decisions):
        items = [
            agenda.NewItem(
                agenda.runner_scope(rid),
                "session_reminder",
                f"bench:{d}:{k}",
                NOW + timedelta(days=1, minutes=k),
                {"seq": d},
                rid,
            )
            for k in range(6)
        ]
        async with sm.begin() as s:
            await agenda.schedule(s, items, now=NOW)
    return (time.perf_counter() - t) / (decisions * 6)


async def measure(kind: str, size: int, shape: str, repeat: int) -> tuple[float, float, float]:
    async with database(kind) as url:
        engine = make_engine(url)
        sm = make_sessionmaker(engine)
        try:
            started = time.perf_counter()
            await fill(sm, size, size if shape == "backlog" else 100)
            print(
                f"  {kind} {shape} {size:,}: filled in {time.perf_counter() - started:.0f}s",
                flush=True,
            )
            await claim_times(sm, 5)  # warm up caches and prepared statements
            times = sorted(await claim_times(sm, repeat))
            per_msg = await insert_cost(sm, 300) if shape == "future" else float("nan")
        finally:
            await engine.dispose()
    return statistics.median(times), times[int(len(times) * 0.95) - 1], per_msg


async def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", type=int, nargs=2, default=[1_000, 1_000_000])
    p.add_argument("--repeat", type=int, default=200)
    p.add_argument("--only", choices=["sqlite", "postgresql"], action="append")
    args = p.parse_args()
    kinds = args.only or ["sqlite", "postgresql"]
    if not pg_base():
        kinds = [k for k in kinds if k == "sqlite"]
        print("(no BONELOAD_TEST_PG_URL: PostgreSQL skipped)")
    small, large = args.sizes
    lines = []
    for kind in kinds:
        for shape in ("backlog", "future"):
            a = await measure(kind, small, shape, args.repeat)
            b = await measure(kind, large, shape, args.repeat)
            lines.append((kind, shape, a, b))
    print()
    print(f"claim of {BATCH} due rows, median (p95) in ms; insert in microseconds per message")
    print(
        f"{'db':<11}{'agenda':<9}{f'{small:,} rows':>17}{f'{large:,} rows':>19}{'ratio':>7}"
        f"{'target':>8}{'insert@small':>14}{'insert@large':>14}"
    )
    for kind, shape, a, b in lines:
        ratio = b[0] / a[0]
        ins = (
            f"{a[2] * 1e6:>14.0f}{b[2] * 1e6:>14.0f}" if shape == "future" else f"{'':>14}{'':>14}"
        )
        print(
            f"{kind:<11}{shape:<9}{a[0] * 1e3:>9.2f} ({a[1] * 1e3:5.2f}){b[0] * 1e3:>11.2f} "
            f"({b[1] * 1e3:5.2f}){ratio:>7.2f}{'<= 2':>6} {'ok' if ratio <= 2 else 'HIGH'}" + ins
        )


if __name__ == "__main__":
    asyncio.run(main())
