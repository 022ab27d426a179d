"""Memory and start-up time with 100,000 enrolled runners: the durable agenda against one
APScheduler job per runner.

Both variants start a real bot process (PTB Application with its JobQueue, against the local
Bot API stand-in) on the same database of 100,000 runners, each enrolled through the engine with
its program state, planned session and four scheduled messages (400,000 agenda rows):

- agenda: migrate (a no-op at head), load the rules, start the application with the dispatcher's
  ticker and run its first tick. Nothing is loaded per runner: the database is the clock.
- one job per runner: the same, then read every runner's next reminder and add one JobQueue
  (`run_once`) job each, the naive design the agenda replaces; those jobs live only in memory
  and are gone after a restart.

Start-up is the wall time from spawning the process to "ready" (interpreter and imports
included); RSS is the peak resident set size of that process. Targets for the agenda variant:
RSS < 150 MB, start-up < 2 s.

    python bench/memory_startup.py [--runners 100000]
    BONELOAD_TEST_PG_URL=... python bench/memory_startup.py --db postgresql
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from datetime import UTC, datetime, timedelta
from datetime import time as dtime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _rss_peak_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


async def child(mode: str, url: str, base_url: str) -> None:
    """The bot process being measured."""
    from sqlalchemy import select
    from telegram.ext import ApplicationBuilder, CallbackContext

    from bot.agenda import Dispatcher, PlainSender, run_dispatcher
    from bot.program.loader import load_rules
    from bot.store.db import make_engine, make_sessionmaker, migrate
    from bot.store.models import Agenda

    await migrate(url)
    rules = load_rules(ROOT / "rules")
    engine = make_engine(url)
    sm = make_sessionmaker(engine)
    app = ApplicationBuilder().token("123:ABC").base_url(base_url).build()
    dispatcher = Dispatcher(sm, rules, PlainSender(app.bot), owner=f"mem-{mode}")
    run_dispatcher(app, dispatcher, interval=5, first=5)
    await app.initialize()
    await app.start()
    stats = await dispatcher.tick()
    jobs = 0
    if mode == "jobs":
        assert app.job_queue is not None

        async def remind(context: CallbackContext) -> None:  # type: ignore[type-arg]
            pass

        async with sm() as s:
            result = await s.stream(
                select(Agenda.runner_id, Agenda.due_at).where(Agenda.kind == "session_reminder")
            )
            async for runner_id, due in result:
                app.job_queue.run_once(remind, when=due, data=runner_id, name=f"r{runner_id}")
                jobs += 1
    print(f"ready {_rss_peak_mb():.1f} {stats.claimed} {jobs}", flush=True)
    await app.stop()
    await app.shutdown()
    await engine.dispose()


async def populate(url: str, runners: int) -> None:
    from sqlalchemy import insert

    from bot.program.codec import state_to_dict
    from bot.program.engine import decide
    from bot.program.events import Enrolled
    from bot.program.loader import load_rules
    from bot.store import agenda
    from bot.store.db import make_engine, make_sessionmaker
    from bot.store.models import Agenda, Program, Runner, SessionRecord

    now = datetime.now(UTC).replace(microsecond=0)
    rules = load_rules(ROOT / "rules")
    zones = ["Europe/Berlin", "America/New_York", "UTC", "Asia/Tokyo"]
    templates = []
    for tz in zones:
        ev = Enrolled(
            site_id="second-metatarsal-base",
            diagnosis_date=(now - timedelta(days=60)).date(),
            timezone=tz,
            preferred_time=dtime(7, 0),
            available_days=frozenset(range(7)),
            claimed=frozenset(
                {"weight_bearing", "running"}
            ),  # requests to the coach, as v2 stores them
        )
        d = decide(None, ev, rules, now)
        templates.append((tz, d, state_to_dict(d.state)))
    engine = make_engine(url)
    sm = make_sessionmaker(engine)
    chunk = 2000
    try:
        for start in range(0, runners, chunk):
            ids = range(start + 1, min(runners, start + chunk) + 1)
            runner_rows, programs, sessions, rows = [], [], [], []
            for rid in ids:
                tz, d, state = templates[rid % len(templates)]
                runner_rows.append(
                    {
                        "id": rid,
                        "telegram_user_id": 50_000_000 + rid,
                        "chat_id": 50_000_000 + rid,
                        "timezone": tz,
                        "language": "en",
                        "created_at": now,
                        "unreachable": False,
                    }
                )
                programs.append(
                    {
                        "runner_id": rid,
                        "state": state,
                        "phase_id": d.state.phase_id,
                        "level": d.state.level,
                        "status": d.state.status.value,
                        "version": 1,
                        "updated_at": now,
                    }
                )
                nxt = d.state.next
                assert nxt is not None
                sessions.append(
                    {
                        "runner_id": rid,
                        "seq": nxt.seq,
                        "day": nxt.day,
                        "kind": nxt.prescription.kind.value,
                        "prescription": {"minutes": nxt.prescription.minutes},
                    }
                )
                for m in d.messages:
                    rows.append(
                        {
                            "scope": agenda.runner_scope(rid),
                            "runner_id": rid,
                            "kind": m.kind.value,
                            "key": m.key,
                            "due_at": m.due,
                            "next_attempt_at": m.due,
                            "payload": m.payload,
                            "status": "pending",
                            "attempts": 0,
                            "created_at": now,
                        }
                    )
            async with sm.begin() as s:
                await s.execute(insert(Runner), runner_rows)
                await s.execute(insert(Program), programs)
                await s.execute(insert(SessionRecord), sessions)
                for i in range(0, len(rows), chunk):
                    await s.execute(insert(Agenda), rows[i : i + chunk])
        if url.startswith("postgresql"):
            from sqlalchemy import text

            async with engine.connect() as conn:
                await conn.execute(text("SELECT setval('runners_id_seq', :n)"), {"n": runners})
                await conn.commit()
    finally:
        await engine.dispose()


async def run_child(mode: str, url: str, base_url: str) -> tuple[float, float, int, int]:
    started = time.perf_counter()
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        __file__,
        "--child",
        mode,
        url,
        base_url,
        stdout=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        cwd=ROOT,
    )
    assert proc.stdout is not None
    line = (await proc.stdout.readline()).decode().split()
    elapsed = time.perf_counter() - started
    await proc.wait()
    assert line and line[0] == "ready", line
    return elapsed, float(line[1]), int(line[2]), int(line[3])


async def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runners", type=int, default=100_000)
    p.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    p.add_argument("--repeat", type=int, default=3, help="start-ups per variant (best is kept)")
    args = p.parse_args()

    from bench._common import database
    from bot.standin import BotApiStandIn

    async with database(args.db) as url:
        t = time.perf_counter()
        await populate(url, args.runners)
        print(f"populated {args.runners:,} runners in {time.perf_counter() - t:.0f}s", flush=True)
        standin = BotApiStandIn()
        await standin.start()
        try:
            results = {}
            for mode in ("agenda", "jobs"):
                runs = [await run_child(mode, url, standin.base_url) for _ in range(args.repeat)]
                results[mode] = min(runs)
        finally:
            await standin.stop()
    a, j = results["agenda"], results["jobs"]
    print()
    print(f"{args.runners:,} enrolled runners on {args.db}; best of {args.repeat} start-ups")
    print(f"{'variant':<28}{'start-up s':>11}{'peak RSS MB':>13}{'jobs in memory':>16}")
    print(f"{'agenda (database is clock)':<28}{a[0]:>11.2f}{a[1]:>13.1f}{a[3]:>16,}")
    print(f"{'one APScheduler job/runner':<28}{j[0]:>11.2f}{j[1]:>13.1f}{j[3]:>16,}")
    print(
        f"agenda vs jobs: start-up x{j[0] / a[0]:.1f} faster, RSS {j[1] - a[1]:.0f} MB less "
        f"(the jobs alone); targets RSS < 150 MB: {'ok' if a[1] < 150 else 'HIGH'}, "
        f"start-up < 2 s: {'ok' if a[0] < 2 else 'SLOW'}"
    )


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        asyncio.run(child(sys.argv[2], sys.argv[3], sys.argv[4]))
    else:
        asyncio.run(main())
