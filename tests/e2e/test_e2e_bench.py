"""`bench/e2e_throughput.py` at a tiny size, so that the benchmark keeps working as the bot
changes: three runners press through a session and its 24-hour follow-up against a real
`boneload run` process, and the same presses go to the echo bot. What is asserted is what was
done (every follow-up decided in the database), never how fast."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bench import e2e_throughput as e2e
from bot.store.db import make_engine
from bot.store.models import DecisionRecord

pytestmark = [pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
RUNNERS = 3


async def test_runners_press_through_a_session_and_its_followup(tmp_path: Path) -> None:
    # A 1 s agenda interval: the reminders the runners start from go out sooner (test time).
    settings = await e2e.measure(
        ROOT, RUNNERS, 1, [e2e.LIFTED_RATE], tmp_path, dispatch_interval=1.0
    )

    [(echo, full)] = settings[0].rounds
    plan = json.loads((tmp_path / "plan.json").read_text())
    presses = sum(len(runner["steps"]) for runner in plan["runners"])
    assert presses > RUNNERS * 3  # Done, two post-session answers, and the follow-up's
    assert full.updates == echo.updates == presses
    db_file = e2e.round_dir(tmp_path, e2e.LIFTED_RATE, 0) / "bench.db"
    engine = make_engine(f"sqlite+aiosqlite:///{db_file}")
    try:
        async with engine.connect() as conn:
            decided = await conn.scalar(
                select(func.count()).where(
                    DecisionRecord.event == "FollowupAnswered", DecisionRecord.stale.is_(False)
                )
            )
    finally:
        await engine.dispose()
    assert decided == RUNNERS
