"""A dispatcher process for the crash test: ticks forever until it is killed.

    python tests/agenda/crash_worker.py DATABASE_URL BOT_API_BASE_URL OWNER

Real clock, short leases (so a killed worker's rows come back quickly), one send in flight (so
one kill can cause at most one duplicate). Prints "ready" once it is about to start ticking.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from telegram import Bot
from telegram.request import HTTPXRequest

from bot.agenda import Dispatcher, PlainSender
from bot.program.loader import load_rules
from bot.store.db import make_engine, make_sessionmaker

RULES = Path(__file__).resolve().parents[2] / "rules"


async def main(url: str, base_url: str, owner: str) -> None:
    engine = make_engine(url)
    request = HTTPXRequest(connection_pool_size=2, read_timeout=2.0)
    async with Bot("123:ABC", base_url=base_url, request=request) as bot:
        dispatcher = Dispatcher(
            make_sessionmaker(engine),
            load_rules(RULES),
            PlainSender(bot),
            owner=owner,
            rate_per_second=400,
            batch=20,
            lease_seconds=3.0,
            send_margin_seconds=2.5,
            max_in_flight=1,
        )
        print("ready", flush=True)
        while True:
            stats = await dispatcher.tick()
            if not stats.claimed:
                await asyncio.sleep(0.05)


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:4]))
