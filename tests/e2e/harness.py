"""A runner (and coach) talking to the real bot over real HTTP, with a clock the test moves."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from telegram import Update
from telegram.ext import TypeHandler

from bot.program.loader import Rules
from bot.program.state import ProgramState
from bot.services import coaches as csvc
from bot.services.deps import Deps
from bot.standin.server import BotApiStandIn
from bot.store import repo
from bot.store.db import make_engine, make_sessionmaker
from bot.store.models import Agenda, Answer, ProcessedUpdate
from bot.store.peek import next_due
from bot.telegram.app import DONE_GROUP, build_application, serving
from bot.timer.cache import TimerCache

RUNNER = 1001
COACH = 2002
OTHER_COACH = 3003


@dataclass
class Clock:
    at: datetime

    def now(self) -> datetime:
        return self.at


@dataclass
class Harness:
    standin: BotApiStandIn
    app: Any
    deps: Deps
    clock: Clock
    done: set[int] = field(default_factory=set)
    done_cond: asyncio.Condition = field(default_factory=asyncio.Condition)

    async def mark(self, update: Update, context: Any) -> None:
        async with self.done_cond:
            self.done.add(update.update_id)
            self.done_cond.notify_all()

    @property
    def dispatcher(self) -> Any:
        return self.app.bot_data["dispatcher"]

    def messages(self, chat: int = RUNNER) -> list[Any]:
        return [m for m in self.standin.messages_to(chat) if not m.deleted]

    def message(self, message_id: int, chat: int = RUNNER) -> Any:
        """One message as it looks now (after edits)."""
        return next(m for m in self.standin.messages_to(chat) if m.message_id == message_id)

    def last(self, chat: int = RUNNER) -> Any:
        """The newest message that answers the runner (or coach), not a habit prompt.

        Habit prompts ("Fuel within about 30 minutes...") are sent by the agenda's ticker the
        moment a session is reported, concurrently with the handler's own reply: which of the two
        arrives last is a race, so the reply is the newest message that is not one of them.
        Tests about habits read `messages()`."""
        habits = tuple(h.text for h in self.deps.rules.habits.habits)
        msgs = [m for m in self.messages(chat) if not (m.text or "").startswith(habits)]
        assert msgs, f"nothing sent to {chat}"
        return msgs[-1]

    async def wait_processed(self, update_id: int) -> None:
        """Until the bot has run every handler group for this update (a marker in the last),
        and the agenda has sent what the update scheduled for now (a notice, a coach's alert:
        they go out at once, beside the handler's reply)."""
        async with self.done_cond:
            await asyncio.wait_for(
                self.done_cond.wait_for(lambda: update_id in self.done), timeout=10
            )
        await asyncio.wait_for(self.dispatcher.join(), timeout=10)

    async def say(self, text: str, user: int = RUNNER, **kw: Any) -> None:
        await self.wait_processed(self.standin.push_text(user, text, **kw))

    async def press(self, label: str, user: int = RUNNER, message: Any = None) -> str | None:
        """Press a button by its label; returns the text the bot answered the press with."""
        msg = message or self.last_with_buttons(user)
        data = next((b[1] for row in msg.buttons for b in row if b[0] == label), None)
        assert data is not None, f"no button {label!r} in {msg.buttons}"
        return await self.press_data(data, msg.message_id, user)

    async def press_data(self, data: str, message_id: int, user: int = RUNNER) -> str | None:
        """Press raw callback data; returns the callback answer's text (None: answered silently
        or not at all)."""
        before = len(self.standin.answered_callbacks)
        await self.wait_processed(self.standin.press(user, message_id, data))
        new = [
            a
            for a in self.standin.answered_callbacks[before:]
            if a.user_id == user and a.message_id == message_id and a.data == data
        ]
        return new[-1].text if new else None

    def last_with_buttons(self, chat: int = RUNNER) -> Any:
        for m in reversed(self.messages(chat)):
            if m.buttons:
                return m
        raise AssertionError(f"no message with buttons to {chat}")

    async def tick(self) -> Any:
        """One dispatcher pass at the current clock, after any tick a handler kicked has ended
        (a tick asked for while another runs would return at once, before anything is sent)."""
        await self.dispatcher.join()
        stats = await self.dispatcher.tick()
        await self.dispatcher.join()
        return stats

    # --- looking at the stored state (read-only) -----------------------------------------

    async def runner_id(self, user: int = RUNNER) -> int | None:
        async with self.deps.sessionmaker() as s:
            r = await repo.get_runner_by_telegram(s, user)
            return r.id if r is not None else None

    async def program(self, user: int = RUNNER) -> tuple[ProgramState, int]:
        """The runner's program state and its version column."""
        rid = await self.runner_id(user)
        assert rid is not None, f"user {user} is not enrolled"
        async with self.deps.sessionmaker() as s:
            loaded = await repo.load_program(s, rid)
        assert loaded is not None
        return loaded

    async def agenda(self, kind: str | None = None, user: int = RUNNER) -> list[Agenda]:
        """The runner's agenda rows (all statuses), by due time."""
        rid = await self.runner_id(user)
        async with self.deps.sessionmaker() as s:
            q = select(Agenda).where(Agenda.runner_id == rid).order_by(Agenda.due_at, Agenda.id)
            if kind is not None:
                q = q.where(Agenda.kind == kind)
            return list((await s.execute(q)).scalars())

    async def answers(self, user: int = RUNNER, stage: str | None = None) -> list[Answer]:
        rid = await self.runner_id(user)
        async with self.deps.sessionmaker() as s:
            q = select(Answer).where(Answer.runner_id == rid).order_by(Answer.id)
            if stage is not None:
                q = q.where(Answer.stage == stage)
            return list((await s.execute(q)).scalars())

    def texts(self, chat: int = RUNNER) -> list[str]:
        """The text (or caption) of every message to `chat`, as it looks now."""
        return [m.text or m.caption or "" for m in self.messages(chat)]

    def sent_since(self, n: int, chat: int = RUNNER) -> list[str]:
        """Texts of the messages after the first `n` (take `n = len(h.messages())` before)."""
        return self.texts(chat)[n:]

    async def advance(self, delta: timedelta) -> None:
        """Move the clock, stopping at each due agenda row so they are sent in order."""
        target = self.clock.at + delta
        while True:
            async with self.deps.sessionmaker() as s:
                due = await next_due(s)
            if due is None or due > target:
                break
            self.clock.at = max(self.clock.at, due)
            await self.tick()
        self.clock.at = target
        await self.tick()


@asynccontextmanager
async def running_bot(
    rules: Rules,
    db_url: str,
    start: datetime,
    *,
    with_coaches: bool = True,
    timer: TimerCache | None = None,
) -> AsyncIterator[Harness]:
    standin = BotApiStandIn()
    await standin.start()
    engine = make_engine(db_url)
    async with engine.connect() as conn:
        seen = await conn.scalar(select(func.max(ProcessedUpdate.update_id)))
    # Telegram's update ids keep growing across restarts of the bot; a fresh stand-in would
    # start again at 1, and the bot would rightly drop those ids as already processed.
    standin._last_update_id = max(standin._last_update_id, int(seen or 0))
    clock = Clock(start.astimezone(UTC))
    deps = Deps(rules=rules, sessionmaker=make_sessionmaker(engine), clock=clock.now)
    app = build_application(
        token="123456:test",
        deps=deps,
        base_url=standin.base_url,
        base_file_url=standin.base_file_url,
        send_rate=1000,
        start_ticker=False,
        owner="e2e",
        timer=timer,
    )
    if with_coaches:
        await csvc.add_coach(deps, COACH, "Coach Sam")
        await csvc.add_coach(deps, OTHER_COACH, "Coach Kim")
    try:
        async with serving(app):  # as `boneload run` and `boneload try` start it
            await app.updater.start_polling(poll_interval=0.0, timeout=1)
            h = Harness(standin, app, deps, clock)
            # After the bot's own last group (`_done`: the turn's commit and the agenda's wake-up).
            app.add_handler(TypeHandler(Update, h.mark), group=DONE_GROUP + 1)
            yield h
    finally:
        await standin.stop()
        await engine.dispose()


LOW_RISK_SITE = "Inner edge of the shin bone (posteromedial tibia)"


async def onboard(
    h: Harness,
    *,
    site: str = LOW_RISK_SITE,
    diagnosed: str = "4 weeks ago",
    days: tuple[str, ...] = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat"),
    at: str = "07:00",
    zone: str = "Berlin",
    gate_yes: bool = True,
    start: str = "/start",
) -> None:
    """Onboard the runner by pressing through every step (typing the time and the zone)."""
    await h.say(start)
    await h.press("I agree")
    await h.press(site)
    await h.press(diagnosed)
    await h.press("Don't know")
    while any(w in h.last().text for w in ("Are you", "Can you", "cleared you")):
        await h.press("Yes" if gate_yes else "No")
    for day in days:
        await h.press(day)
    await h.press("Done")
    await h.say(at)
    await h.say(zone)
    await h.press("Yes")
    assert "All set" in "\n".join(h.texts()[-3:]), h.texts()[-3:]


def local(dt: datetime, zone: str = "Europe/Berlin") -> datetime:
    return dt.astimezone(ZoneInfo(zone))


async def until_text(
    h: Harness, needle: str, *, step: timedelta, limit: int, chat: int = RUNNER
) -> Any:
    """Advance the clock `step` at a time (at most `limit` times) until a message containing
    `needle` arrives; returns that message."""
    n = len(h.messages(chat))
    for _ in range(limit):
        for m in h.messages(chat)[n:]:
            if needle in (m.text or ""):
                return m
        await h.advance(step)
    for m in h.messages(chat)[n:]:
        if needle in (m.text or ""):
            return m
    raise AssertionError(f"no message with {needle!r}; got {h.texts(chat)[n:][-5:]}")


async def into_run_walk(h: Harness) -> None:
    """An onboarded low-risk runner (strength phase) waits out its 14 days, gets the run/walk
    gate check at their reminder time, answers yes to everything, and is in the run/walk phase."""
    gate = await until_text(h, "Ready for the next phase", step=timedelta(days=1), limit=16)
    for _ in range(8):  # one question at a time, edited into the same message
        msg = h.message(gate.message_id)
        if not msg.buttons:
            break
        await h.press("Yes", message=msg)
    await h.tick()  # the phase notice
    state, _ = await h.program()
    assert state.phase_id == "low-run-walk", state.phase_id


async def next_run(h: Harness) -> Any:
    """Advance day by day to the next run/walk reminder; returns it."""
    return await until_text(h, "Today's session: jog", step=timedelta(days=1), limit=5)


async def report(h: Harness, reminder: Any, pain: int = 0, rpe: int = 3) -> None:
    """Press Done on the reminder and answer the post-session questions with buttons."""
    await h.press("Done ✅", message=reminder)
    await h.press(str(pain))
    await h.press(str(rpe))


FOLLOWUP_YES_NO = ("pain_rest", "pain_night", "pain_walking", "bone_tender", "limping", "swelling")


async def answer_followup(
    h: Harness, pain_now: int = 0, yes: tuple[str, ...] = (), *, typed: bool = False
) -> None:
    """Answer the latest 24-hour follow-up: pain now, then No to every yes/no question except
    those named in `yes` (question ids). With buttons, the questions are edited into the same
    message; `typed` sends every answer as text instead (each next question is a new message)."""
    first = next(m for m in reversed(h.messages()) if "24-hour check" in (m.text or ""))
    assert "Pain at the injury site right now?" in first.text, first.text
    questions = {q.id: q.text for q in h.deps.rules.questions.questions}
    if typed:
        await h.say(str(pain_now))
        for _ in range(12):
            qid = next((k for k, t in questions.items() if h.last().text.endswith(t)), None)
            if qid is None:
                break
            await h.say("yes" if qid in yes else "no")
        return
    await h.press(str(pain_now), message=first)
    for _ in range(12):
        msg = h.message(first.message_id)
        if not msg.buttons:
            break
        qid = next(k for k, t in questions.items() if msg.text.endswith(t))
        await h.press("Yes" if qid in yes else "No", message=msg)
