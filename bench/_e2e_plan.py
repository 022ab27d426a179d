"""The database side of `bench/e2e_throughput.py`, run with the measured checkout's own code.

Run as a script with that checkout first on PYTHONPATH (the benchmark does this), so that the
runners are enrolled, and the result checked, by the same code that `boneload run` runs:

    python bench/_e2e_plan.py build DB_FILE RUNNERS RULES_DIR BULK   # prints the plan (JSON)
    python bench/_e2e_plan.py verify DB_FILE                         # what was decided

`build` migrates a fresh SQLite file and enrols RUNNERS runners in the run/walk phase (a coach
moved them on yesterday), each with today's run reminder due a minute ago, so the bot's agenda
sends every reminder as soon as it starts. The plan says, per runner, which buttons to press in
turn (Done, the post-session questions, the 24-hour follow-up: one button per question) and
what the bot's reply to each press looks like.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import bot
from bot import texts
from bot.program.events import CoachAction, CoachVerb
from bot.program.loader import load_rules
from bot.program.rules import QuestionStage
from bot.services import runners as svc
from bot.services.deps import Deps
from bot.store import agenda
from bot.store.db import make_engine, make_sessionmaker, migrate
from bot.store.models import Agenda, AgendaStatus, DecisionRecord

try:
    from bot.conversation.callbacks import Kind, cb
except ImportError:  # a checkout from before the callbacks moved (bench --checkout)
    from bot.telegram.callbacks import Kind, cb  # type: ignore[no-redef]

FIRST_CHAT = 10_000
SITE = "posteromedial-tibia"


def onboarding_answers(today: datetime, reminder: str) -> dict[str, Any]:
    return {
        "consent": True,
        "site": SITE,
        "diagnosis": (today.date() - timedelta(days=28)).isoformat(),
        "imaging": None,
        "ask:rest_pain_free": True,
        "ask:daily_pain_free": True,
        "days": list(range(7)),
        "days_done": True,
        "time": reminder,
        "tz": "UTC",
        "tz_ok": True,
    }


async def build(db_file: Path, runners: int, rules_dir: Path, bulk: int) -> dict[str, Any]:
    url = f"sqlite+aiosqlite:///{db_file}"
    await migrate(url)
    rules = load_rules(rules_dir)
    now = datetime.now(UTC)
    reminder_at = (now - timedelta(minutes=1)).replace(second=0, microsecond=0)
    if reminder_at.date() != now.date():
        raise SystemExit("within a minute of midnight UTC: run again in a minute")
    yesterday = now - timedelta(days=1)
    engine = make_engine(url)
    deps = Deps(rules=rules, sessionmaker=make_sessionmaker(engine), clock=lambda: yesterday)
    followup = rules.questions_for(QuestionStage.FOLLOWUP, rules.site(SITE))
    plan: list[dict[str, Any]] = []
    answers = onboarding_answers(yesterday, reminder_at.strftime("%H:%M"))
    for i in range(runners):
        chat = FIRST_CHAT + i
        enrolled = await svc.enrol(deps, chat, chat, "Runner", answers)
        decision = await svc.apply_event(
            deps, enrolled.runner_id, CoachAction(CoachVerb.ADVANCE, coach_id=0), actor="bench"
        )
        planned = decision.state.next
        assert decision.state.phase_id == "low-run-walk" and planned is not None
        assert planned.day == now.date(), f"the run is planned for {planned.day}, not today"
        seq = planned.seq
        post = [
            cb(Kind.SESSION, seq, "done"),
            cb(Kind.POST, f"{seq}:pain_during", 0),
            cb(Kind.POST, f"{seq}:rpe", 3),
        ]
        checks = [
            cb(Kind.FOLLOWUP, f"{seq}:{q.id}", "0" if q.kind == "scale" else "n") for q in followup
        ]
        steps: list[tuple[str, str, str]] = []
        for flow in (post, checks):
            # Within a flow each press is answered with the next question's buttons; the last
            # one with the thanks that follows the decision.
            for here, after in itertools.pairwise(flow):
                steps.append((here, "button", after))
            steps.append((flow[-1], "text", texts.SESSION_THANKS))
        plan.append({"chat": chat, "steps": steps})
    # Yesterday's phase and coach notices are history: only today's reminders are left due.
    # With `bulk`, each runner's phase notice comes back that many times, due a second after
    # the reminders (claimed after them): agenda traffic through the send budget while the
    # runners press.
    table = Agenda.__table__
    bulk_items = []
    async with deps.sessionmaker.begin() as session:
        for row in (await session.execute(table.select())).mappings():
            if row["kind"] == "runner_notice" and row["status"] == AgendaStatus.PENDING.value:
                await session.execute(
                    table.update()
                    .where(table.c.id == row["id"])
                    .values(status=AgendaStatus.CANCELLED.value)
                )
                if row["key"].startswith("notice:phase:"):
                    bulk_items += [
                        agenda.NewItem(
                            row["scope"],
                            row["kind"],
                            f"{row['key']}:bulk{n}",
                            reminder_at + timedelta(seconds=1),
                            dict(row["payload"] or {}),
                            row["runner_id"],
                        )
                        for n in range(bulk)
                    ]
        await agenda.schedule(session, bulk_items, now=yesterday)
    await engine.dispose()
    return {
        "stale": texts.STALE,
        "runners": plan,
    }


async def verify(db_file: Path) -> dict[str, int]:
    from sqlalchemy import func, select

    engine = make_engine(f"sqlite+aiosqlite:///{db_file}")
    async with engine.connect() as conn:
        counts = {
            event: int(
                await conn.scalar(
                    select(func.count()).where(
                        DecisionRecord.event == event, DecisionRecord.stale.is_(False)
                    )
                )
                or 0
            )
            for event in ("SessionReported", "FollowupAnswered")
        }
    await engine.dispose()
    return counts


def main() -> None:
    command, db_file = sys.argv[1], Path(sys.argv[2])
    if command == "build":
        runners, rules_dir, bulk = int(sys.argv[3]), Path(sys.argv[4]), int(sys.argv[5])
        result: Any = asyncio.run(build(db_file, runners, rules_dir, bulk))
        # Which code enrolled them: the benchmark checks it is the checkout it measures.
        result["bot_package"] = str(Path(bot.__file__).resolve().parent)
    elif command == "verify":
        result = asyncio.run(verify(db_file))
    else:
        raise SystemExit(f"unknown command {command!r}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
