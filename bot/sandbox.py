"""`boneload try`: the real bot, over real HTTP, against a local stand-in of the Bot API.

You chat in the terminal as a runner (and, with `/as coach`, as their coach). Buttons are
numbered; type the number to press one. `/wait 1d` moves the sandbox's clock forward, stopping
at every scheduled message on the way, so reminders, check-ins and 24-hour follow-ups arrive in
order. Runs on SQLite in a temporary file unless `--db` names one.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.program.loader import Rules
from bot.services import coaches as csvc
from bot.services.deps import Deps
from bot.standin.server import BotApiStandIn
from bot.standin.terminal import (
    AdvanceClock,
    InputError,
    Nothing,
    PressButton,
    Quit,
    SendText,
    parse_input,
    render_message,
)
from bot.store.db import make_engine, make_sessionmaker, migrate
from bot.timer.cache import TimerCache

RUNNER_ID = 1001
COACH_ID = 2002
INTRO = """\
boneload sandbox: the real bot on a local stand-in of Telegram, nothing leaves this machine.
You are the runner. Start with /start. Type a button's number to press it.
  k1, k2 ...                       press a keyboard button under the text field (⌨ [k1] ...)
  /wait 1d, /wait 24h, /wait 30m   move the clock (reminders and follow-ups arrive)
  /as coach, /as runner            switch who is typing (the coach is registered already)
  /quit                            leave
"""


@dataclass
class ManualClock:
    at: datetime

    def now(self) -> datetime:
        return self.at


@dataclass
class Screen:
    """Prints what the bot sends to each chat, once, and re-prints edited messages."""

    standin: BotApiStandIn
    seen: dict[tuple[int, int], Any] = field(default_factory=dict)
    last: dict[int, Any] = field(default_factory=dict)

    def flush(self) -> None:
        for chat, label in ((RUNNER_ID, "runner"), (COACH_ID, "coach")):
            for m in self.standin.messages_to(chat):
                key = (chat, m.message_id)
                stamp = (m.edit_date, m.deleted)
                if self.seen.get(key) == stamp:
                    continue
                self.seen[key] = stamp
                if m.deleted:
                    continue
                prefix = f"[bot → {label}] "
                body = render_message(m).replace("\n", "\n" + " " * len(prefix))
                print(prefix + body, flush=True)
                self.last[chat] = m


async def run_sandbox(
    rules: Rules, db: Path | None = None, start: datetime | None = None, language: str = "en"
) -> None:
    """`language`: the Telegram language_code the sandbox's runner and coach send (what the bot
    uses at their first contact)."""
    tmp = None
    if db is None:
        tmp = tempfile.TemporaryDirectory(prefix="boneload-try-")
        db = Path(tmp.name) / "sandbox.db"
    url = f"sqlite+aiosqlite:///{db}"
    await migrate(url)
    engine = make_engine(url)
    clock = ManualClock(start or datetime.now(UTC).replace(microsecond=0))
    deps = Deps(rules=rules, sessionmaker=make_sessionmaker(engine), clock=clock.now)
    standin = BotApiStandIn()
    await standin.start()
    from bot.telegram.app import build_application, serving

    app = build_application(
        token="123456:sandbox",
        deps=deps,
        base_url=standin.base_url,
        base_file_url=standin.base_file_url,
        dispatch_interval=1.0,
        owner="sandbox",
        timer=TimerCache(),
    )
    await csvc.add_coach(deps, COACH_ID, "Sam (sandbox coach)")
    print(INTRO, flush=True)
    screen = Screen(standin)
    try:
        async with serving(app):
            assert app.updater is not None
            await app.updater.start_polling(poll_interval=0.0, timeout=1)
            await _loop(app, standin, screen, clock, deps, language)
    finally:
        await standin.stop()
        await engine.dispose()
        if tmp is not None:
            tmp.cleanup()


def _more_than(n: int) -> Any:
    def check(calls: Any) -> bool | None:
        return len(calls) > n or None

    return check


async def _settle(standin: BotApiStandIn, screen: Screen) -> None:
    """Give the bot a moment to answer, then print what arrived (the bot runs concurrently)."""
    with contextlib.suppress(TimeoutError):
        await standin.wait_for(_more_than(len(standin.calls)), timeout=2.0)
    # Replies often come in a burst: print after a short quiet spell, not mid-burst.
    while True:
        try:
            await standin.wait_for(_more_than(len(standin.calls)), timeout=0.4)
        except TimeoutError:
            break
    screen.flush()


async def _loop(
    app: Any,
    standin: BotApiStandIn,
    screen: Screen,
    clock: ManualClock,
    deps: Deps,
    language: str = "en",
) -> None:
    me = RUNNER_ID
    dispatcher = app.bot_data["dispatcher"]
    while True:
        try:
            line = await asyncio.to_thread(input, f"{'runner' if me == RUNNER_ID else 'coach'}> ")
        except (EOFError, KeyboardInterrupt):
            return
        if line.strip() in ("/as coach", "/as runner"):
            me = COACH_ID if line.strip().endswith("coach") else RUNNER_ID
            continue
        last = screen.last.get(me)
        buttons = [list(row) for row in last.buttons] if last is not None else []
        action = parse_input(line, buttons, standin.reply_keyboard_of(me))
        if isinstance(action, Quit):
            return
        if isinstance(action, Nothing):
            continue
        if isinstance(action, InputError):
            print(action.message, flush=True)
            continue
        if isinstance(action, SendText):
            standin.push_text(
                me,
                action.text,
                first_name="Alex" if me == RUNNER_ID else "Sam",
                language_code=language,
            )
        elif isinstance(action, PressButton):
            assert last is not None
            standin.press(me, last.message_id, action.callback_data)
        elif isinstance(action, AdvanceClock):
            await _advance(clock, dispatcher, deps, action.delta, standin, screen)
            print(f"⏱  now {clock.at.astimezone():%a %d %b %H:%M} (your local time)", flush=True)
            continue
        await _settle(standin, screen)


async def _advance(
    clock: ManualClock,
    dispatcher: Any,
    deps: Deps,
    delta: timedelta,
    standin: BotApiStandIn,
    screen: Screen,
) -> None:
    """Step to each due agenda row in turn, so messages arrive in order and at their times."""
    from bot.store.peek import next_due

    target = clock.at + delta
    while True:
        async with deps.sessionmaker() as s:
            due = await next_due(s)
        if due is None or due > target:
            break
        clock.at = max(clock.at, due)
        await dispatcher.tick()
        await _settle(standin, screen)
    clock.at = target
    await dispatcher.tick()
    await _settle(standin, screen)


def main(rules: Rules, db: Path | None, language: str = "en") -> None:
    try:
        asyncio.run(run_sandbox(rules, db, language=language))
    except KeyboardInterrupt:
        sys.exit(0)
