"""Per-update cost of the full stack against the bare PTB echo handler, in the same run.

Both sides run a real PTB `Application` fed with `application.process_update(Update.de_json(...))`
and talk to the Bot API through the same in-process `BaseRequest` (no sockets, no HTTP): what is
measured is PTB's dispatch plus, on the full side, everything boneload does for an update.

- echo: a `MessageHandler` that replies with the text it got (the floor: PTB alone).
- full: `build_application(...)` on a migrated SQLite file (WAL), then on PostgreSQL when
  BONELOAD_TEST_PG_URL is set. Each runner, on its run day, presses Done, answers pain and RPE
  (the session is reported: engine + agenda rows + commit), then answers the 24-hour follow-up,
  one button per question (the engine decides again): the "button press" figures. Then each
  opens /pain and types its first answer ("typed answer", mid-flow) and asks /status (a pure
  read). The agenda ticker is not run: sending scheduled messages is the dispatch benchmark's
  work, not the cost of an update.

Per update type it prints the time against the echo, the SQL statements and the read and write
transactions (SQLAlchemy's events on the engine; the target is one read and at most one write).

    python bench/update_cost.py               # 100 runners (1,200 updates)
    python bench/update_cost.py --runners 20  # quick look
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import statistics
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import event, func, select
from telegram import Update
from telegram.ext import Application, ApplicationBuilder, ContextTypes, MessageHandler, filters
from telegram.request import BaseRequest, RequestData

from bench._common import database, pg_base
from bot.conversation.callbacks import Kind, cb
from bot.program.events import CoachAction, CoachVerb
from bot.program.loader import Rules, load_rules
from bot.program.rules import QuestionStage
from bot.services import runners as svc
from bot.services.deps import Deps
from bot.store.db import READ_ONLY, make_engine, make_sessionmaker
from bot.store.models import DecisionRecord
from bot.telegram.app import build_application

TARGET_RATIO = 10.0
BOT_ID = 100_000_001
TOKEN = "123456:bench"
START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)  # a Monday


class InProcessRequest(BaseRequest):
    """Answers Bot API calls in-process: enough of the API for both handlers, no I/O."""

    def __init__(self) -> None:
        self.calls = 0
        self._message_id = 0

    @property
    def read_timeout(self) -> float | None:
        return None

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = None,
        write_timeout: Any = None,
        connect_timeout: Any = None,
        pool_timeout: Any = None,
    ) -> tuple[int, bytes]:
        self.calls += 1
        api = url.rsplit("/", 1)[-1]
        params = request_data.parameters if request_data is not None else {}
        result: Any = True
        if api == "getMe":
            result = {
                "id": BOT_ID,
                "is_bot": True,
                "first_name": "Boneload",
                "username": "boneload_bench_bot",
            }
        elif api in ("sendMessage", "sendDocument", "editMessageText", "editMessageReplyMarkup"):
            if api.startswith("send"):
                self._message_id += 1
                message_id = self._message_id
            else:
                message_id = int(str(params.get("message_id", 1)))
            chat_id = int(str(params.get("chat_id", 0)))
            result = {
                "message_id": message_id,
                "date": int(START.timestamp()),
                "chat": {"id": chat_id, "type": "private"},
                "text": str(params.get("text", "")),
            }
        return 200, json.dumps({"ok": True, "result": result}).encode()


@dataclass
class Clock:
    at: datetime

    def now(self) -> datetime:
        return self.at


def _user(uid: int) -> dict[str, Any]:
    return {"id": uid, "is_bot": False, "first_name": "Runner"}


def text_update(update_id: int, uid: int, text: str) -> dict[str, Any]:
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "from": _user(uid),
            "chat": {"id": uid, "type": "private"},
            "date": int(START.timestamp()),
            "text": text,
            **(
                {"entities": [{"type": "bot_command", "offset": 0, "length": len(text)}]}
                if text.startswith("/")
                else {}
            ),
        },
    }


def press_update(update_id: int, uid: int, data: str) -> dict[str, Any]:
    return {
        "update_id": update_id,
        "callback_query": {
            "id": str(update_id),
            "from": _user(uid),
            "chat_instance": str(uid),
            "data": data,
            "message": {
                "message_id": 1,
                "from": {"id": BOT_ID, "is_bot": True, "first_name": "Boneload"},
                "chat": {"id": uid, "type": "private"},
                "date": int(START.timestamp()),
                "text": "a question",
            },
        },
    }


async def feed(
    app: Application[Any, Any, Any, Any, Any, Any], updates: list[dict[str, Any]]
) -> list[float]:
    """Process each update in turn; the seconds each one took."""
    took = []
    for data in updates:
        update = Update.de_json(data, app.bot)
        t0 = time.perf_counter()
        await app.process_update(update)
        took.append(time.perf_counter() - t0)
    return took


async def echo_side(request: InProcessRequest, n: int) -> list[float]:
    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None and update.message.text is not None
        await update.message.reply_text(update.message.text)

    app = ApplicationBuilder().token(TOKEN).request(request).build()
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    async with app:
        await feed(app, [text_update(i, 5000 + i % 50, "warm-up") for i in range(1, 51)])
        return await feed(
            app, [text_update(i, 5000 + i % 50, f"hello {i}") for i in range(51, 51 + n)]
        )


def onboarding_data(rules: Rules) -> dict[str, Any]:
    return {
        "consent": True,
        "site": "posteromedial-tibia",
        "diagnosis": (START.date() - timedelta(days=28)).isoformat(),
        "imaging": None,
        "ask:rest_pain_free": True,
        "ask:daily_pain_free": True,
        "days": list(range(7)),
        "days_done": True,
        "time": "07:00",
        "tz": "UTC",
        "tz_ok": True,
    }


@dataclass
class Group:
    """One update type: the seconds each took, and what each cost the database."""

    name: str
    took: list[float]
    statements: int = 0
    reads: int = 0
    writes: int = 0


class Meter:
    """SQL statements and transactions, counted on the engine while a group is fed."""

    def __init__(self) -> None:
        self.statements = self.reads = self.writes = 0

    def on_begin(self, conn: Any) -> None:
        if conn.get_execution_options().get(READ_ONLY, False):
            self.reads += 1
        else:
            self.writes += 1

    def on_statement(self, _conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if not statement.lstrip().upper().startswith(_CONTROL):
            self.statements += 1


_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")


async def full_side(
    request: InProcessRequest, rules: Rules, runners: int, url: str
) -> tuple[list[Group], int]:
    engine = make_engine(url)
    clock = Clock(START)
    deps = Deps(rules=rules, sessionmaker=make_sessionmaker(engine), clock=clock.now)
    # Runners in the run/walk phase (a coach moved them on), each with a run planned.
    seqs: dict[int, int] = {}
    day = None
    for i in range(runners):
        uid = 10_000 + i
        enrolled = await svc.enrol(deps, uid, uid, "Runner", onboarding_data(rules))
        d = await svc.apply_event(
            deps, enrolled.runner_id, CoachAction(CoachVerb.ADVANCE, coach_id=0), actor="bench"
        )
        assert d.state.phase_id == "low-run-walk" and d.state.next is not None
        seqs[uid] = d.state.next.seq
        day = d.state.next.day
    assert day is not None
    clock.at = datetime.combine(day, START.time(), UTC)  # 08:00 UTC on the run day

    followup = rules.questions_for(QuestionStage.FOLLOWUP, rules.site("posteromedial-tibia"))
    update_ids = itertools.count(1_000_000)
    presses: list[dict[str, Any]] = []
    for uid, seq in seqs.items():
        datas = [
            cb(Kind.SESSION, seq, "done"),
            cb(Kind.POST, f"{seq}:pain_during", 0),
            cb(Kind.POST, f"{seq}:rpe", 3),
        ] + [
            cb(Kind.FOLLOWUP, f"{seq}:{q.id}", "0" if q.kind == "scale" else "n") for q in followup
        ]
        presses += [press_update(next(update_ids), uid, data) for data in datas]
    # Typed: the symptom check opened with /pain, its first answer typed (mid-flow).
    opening = [text_update(next(update_ids), uid, "/pain") for uid in seqs]
    typed = [text_update(next(update_ids), uid, "0") for uid in seqs]
    status = [text_update(next(update_ids), uid, "/status") for uid in seqs]

    app = build_application(
        token=TOKEN,
        deps=deps,
        send_rate=1e6,
        request=request,
        start_ticker=False,
        wake_agenda=False,
    )
    groups = []
    async with app:
        for name, updates in (
            ("button press", presses),
            (None, opening),
            ("typed answer", typed),
            ("/status", status),
        ):
            meter = Meter()
            event.listen(engine.sync_engine, "begin", meter.on_begin)
            event.listen(engine.sync_engine, "before_cursor_execute", meter.on_statement)
            took = await feed(app, updates)
            event.remove(engine.sync_engine, "begin", meter.on_begin)
            event.remove(engine.sync_engine, "before_cursor_execute", meter.on_statement)
            if name is not None:
                groups.append(Group(name, took, meter.statements, meter.reads, meter.writes))
    # Every runner's session was reported and its follow-up decided.
    async with deps.sessionmaker() as session:
        decided = await session.scalar(
            select(func.count()).where(
                DecisionRecord.event == "FollowupAnswered", DecisionRecord.stale.is_(False)
            )
        )
    await engine.dispose()
    return groups, int(decided or 0)


def micros(xs: list[float]) -> tuple[float, float, float]:
    """Mean, median and 95th percentile in microseconds."""
    s = sorted(xs)
    return (
        statistics.fmean(s) * 1e6,
        statistics.median(s) * 1e6,
        s[min(len(s) - 1, int(len(s) * 0.95))] * 1e6,
    )


async def main_async(rules: Rules, runners: int) -> int:
    request = InProcessRequest()  # one object, every side
    kinds = ["sqlite"] + (["postgresql"] if pg_base() else [])
    sides: dict[str, list[Group]] = {}
    for kind in kinds:
        async with database(kind) as url:
            groups, decided = await full_side(request, rules, runners, url)
        assert decided == runners, f"only {decided} of {runners} follow-ups were decided"
        sides[kind] = groups
    echo = await echo_side(request, sum(len(g.took) for g in sides["sqlite"]))
    e_mean, e_med, e_p95 = micros(echo)
    print(f"{runners} runners; per update: mean / median / p95 µs, SQL statements, transactions")
    print(f"{'bare PTB echo':<32}{e_mean:>8.0f}{e_med:>8.0f}{e_p95:>8.0f}")
    worst = 0.0
    for kind, groups in sides.items():
        for g in groups:
            mean, med, p95 = micros(g.took)
            n = len(g.took)
            ratio = mean / e_mean
            if kind == "sqlite":
                worst = max(worst, ratio)
            print(
                f"{kind + ' ' + g.name:<32}{mean:>8.0f}{med:>8.0f}{p95:>8.0f}"
                f"   {ratio:>5.1f}x echo   {g.statements / n:>4.1f} stmts"
                f"   {g.reads / n:.2f} read + {g.writes / n:.2f} write tx"
            )
    print(f"worst SQLite ratio (means) {worst:.1f}x   target <= {TARGET_RATIO:.0f}x")
    return 0 if worst <= TARGET_RATIO else 1


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runners", type=int, default=100)
    a = ap.parse_args()
    rules = load_rules(Path(__file__).resolve().parents[1] / "rules")
    sys.exit(asyncio.run(main_async(rules, a.runners)))


if __name__ == "__main__":
    main()
