"""Dispatch throughput: N due messages through the real dispatcher, PTB and HTTP to the local
Bot API stand-in with a fixed per-call latency. Reports the achieved send rate as a share of
SEND_RATE_PER_SECOND (target >= 0.97 for one instance, >= 0.95 of the summed budget for two
instances on PostgreSQL).

    python bench/dispatch.py                      # 10,000 messages, SQLite + PostgreSQL + 2x PG
    python bench/dispatch.py --messages 1000      # a quick run
    BONELOAD_TEST_PG_URL=postgresql+asyncpg://postgres@127.0.0.1:5432/test python bench/dispatch.py

The rate is measured where Telegram would see it: from the first to the last accepted
sendMessage at the stand-in, (N - 1) / span.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from telegram import Bot
from telegram.request import HTTPXRequest

from bench._common import RULES, database, load_due, pg_base
from bot.agenda import Dispatcher, PlainSender
from bot.program.loader import load_rules
from bot.standin import BotApiStandIn
from bot.store.db import make_engine, make_sessionmaker


@dataclass
class Result:
    label: str
    messages: int
    budget: float
    achieved: float
    wall: float
    duplicates: int
    lost: int

    @property
    def share(self) -> float:
        return self.achieved / self.budget


async def run(kind: str, instances: int, messages: int, rate: float, latency: float) -> Result:
    now = datetime.now(UTC)
    async with database(kind) as url:
        standin = BotApiStandIn(latency=latency)
        await standin.start()
        engines = [make_engine(url) for _ in range(instances)]
        try:
            runners = max(1, messages // 10)
            await load_due(make_sessionmaker(engines[0]), runners=runners, per_runner=10, due=now)
            total = runners * 10
            bots = [
                Bot(
                    "123:ABC",
                    base_url=standin.base_url,
                    request=HTTPXRequest(connection_pool_size=16),
                )
                for _ in range(instances)
            ]
            rules = load_rules(RULES)
            for bot in bots:
                await bot.initialize()
            dispatchers = [
                Dispatcher(
                    make_sessionmaker(engine),
                    rules,
                    PlainSender(bot),
                    owner=f"bench-{i}",
                    rate_per_second=rate,
                )
                for i, (engine, bot) in enumerate(zip(engines, bots, strict=True))
            ]
            started = time.perf_counter()
            await asyncio.gather(*(d.tick() for d in dispatchers))
            wall = time.perf_counter() - started
            sends = [c for c in standin.calls_to("sendMessage") if c.ok]
            texts = [c.params.get("text") for c in sends]
            span = sends[-1].time - sends[0].time
            if os.environ.get("BENCH_GAPS"):
                gaps = sorted(
                    ((b.time - a.time, i) for i, (a, b) in enumerate(itertools.pairwise(sends))),
                    reverse=True,
                )[:8]
                print("largest gaps (s, index):", [(round(g, 3), i) for g, i in gaps])
            achieved = (len(sends) - 1) / span if span > 0 else float("inf")
            for bot in bots:
                await bot.shutdown()
            label = f"{kind} x{instances}"
            return Result(
                label,
                total,
                rate * instances,
                achieved,
                wall,
                duplicates=len(texts) - len(set(texts)),
                lost=total - len(set(texts)),
            )
        finally:
            for engine in engines:
                await engine.dispose()
            await standin.stop()


async def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--messages", type=int, default=10_000)
    p.add_argument("--rate", type=float, default=float(os.environ.get("SEND_RATE_PER_SECOND", 25)))
    p.add_argument("--latency", type=float, default=0.1, help="stand-in seconds per call")
    p.add_argument("--only", choices=["sqlite", "postgresql", "postgresql2"], action="append")
    args = p.parse_args()
    plan = args.only or ["sqlite", "postgresql", "postgresql2"]
    if not pg_base():
        plan = [x for x in plan if x == "sqlite"]
        print("(no BONELOAD_TEST_PG_URL: PostgreSQL runs skipped)")
    results = []
    for name in plan:
        kind = "postgresql" if name.startswith("postgresql") else "sqlite"
        instances = 2 if name == "postgresql2" else 1
        print(
            f"running {name}: {args.messages} messages at {args.rate}/s per instance ...",
            flush=True,
        )
        results.append(await run(kind, instances, args.messages, args.rate, args.latency))
    print()
    print(f"latency per call {args.latency * 1000:.0f} ms, SEND_RATE_PER_SECOND {args.rate:g}")
    head = f"{'run':<15}{'messages':>9}{'budget/s':>10}{'achieved/s':>12}{'share':>8}"
    print(head + f"{'target':>8}{'wall s':>9}{'dup':>5}{'lost':>6}")
    for r in results:
        target = 0.95 if r.label.endswith("x2") else 0.97
        ok = "ok" if r.share >= target else "LOW"
        print(
            f"{r.label:<15}{r.messages:>9}{r.budget:>10.1f}{r.achieved:>12.2f}{r.share:>8.3f}"
            f"{target:>6.2f} {ok:<2}{r.wall:>8.1f}{r.duplicates:>5}{r.lost:>6}"
        )


if __name__ == "__main__":
    asyncio.run(main())
