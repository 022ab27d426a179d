"""Dispatch throughput: N due messages through the real dispatcher, PTB and HTTP to the local
Bot API stand-in with a fixed per-call latency. Reports the achieved send rate as a share of
SEND_RATE_PER_SECOND (target >= 0.97 for one instance, >= 0.95 of the summed budget for two
instances on PostgreSQL), at each latency given, side by side.

    python bench/dispatch.py                      # 10,000 messages, SQLite + PostgreSQL + 2x PG
    python bench/dispatch.py --messages 1000      # a quick run
    python bench/dispatch.py --latency-ms 100 300 600 --only sqlite
    BONELOAD_TEST_PG_URL=postgresql+asyncpg://postgres@127.0.0.1:5432/test python bench/dispatch.py

The rate is measured where Telegram would see it: from the first to the last accepted
sendMessage at the stand-in, (N - 1) / span. "window" is the in-flight window each dispatcher
had reached at the end (bot.agenda.window), "dup"/"lost" count messages delivered twice/never.
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
    latency: float
    windows: list[int]

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
                latency=latency,
                windows=[d.in_flight_window for d in dispatchers],
            )
        finally:
            for engine in engines:
                await engine.dispose()
            await standin.stop()


async def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--messages", type=int, default=10_000)
    p.add_argument("--rate", type=float, default=float(os.environ.get("SEND_RATE_PER_SECOND", 25)))
    p.add_argument(
        "--latency-ms",
        type=float,
        nargs="+",
        default=[100.0, 300.0, 600.0],
        help="stand-in milliseconds per call; one set of runs for each",
    )
    p.add_argument("--only", choices=["sqlite", "postgresql", "postgresql2"], action="append")
    args = p.parse_args()
    plan = args.only or ["sqlite", "postgresql", "postgresql2"]
    if not pg_base():
        plan = [x for x in plan if x == "sqlite"]
        print("(no BONELOAD_TEST_PG_URL: PostgreSQL runs skipped)")
    results: dict[tuple[str, float], Result] = {}
    for latency_ms in args.latency_ms:
        for name in plan:
            kind = "postgresql" if name.startswith("postgresql") else "sqlite"
            instances = 2 if name == "postgresql2" else 1
            print(
                f"running {name}: {args.messages} messages at {args.rate}/s per instance, "
                f"{latency_ms:g} ms per call ...",
                flush=True,
            )
            results[name, latency_ms] = await run(
                kind, instances, args.messages, args.rate, latency_ms / 1000
            )
    print()
    print(f"SEND_RATE_PER_SECOND {args.rate:g}")
    head = f"{'run':<15}{'latency':>8}{'messages':>9}{'budget/s':>10}{'achieved/s':>12}{'share':>8}"
    print(head + f"{'target':>8}{'wall s':>9}{'window':>8}{'dup':>5}{'lost':>6}")
    for r in results.values():
        target = 0.95 if r.label.endswith("x2") else 0.97
        ok = "ok" if r.share >= target else "LOW"
        windows = "+".join(str(w) for w in r.windows)
        print(
            f"{r.label:<15}{r.latency * 1000:>6.0f}ms{r.messages:>9}{r.budget:>10.1f}"
            f"{r.achieved:>12.2f}{r.share:>8.3f}{target:>6.2f} {ok:<2}{r.wall:>8.1f}"
            f"{windows:>8}{r.duplicates:>5}{r.lost:>6}"
        )
    print()
    print("share of budget by latency")
    print(f"{'run':<15}" + "".join(f"{f'{ms:g} ms':>10}" for ms in args.latency_ms))
    for name in plan:
        label = results[name, args.latency_ms[0]].label
        row = "".join(f"{results[name, ms].share:>10.3f}" for ms in args.latency_ms)
        print(f"{label:<15}{row}")


if __name__ == "__main__":
    asyncio.run(main())
