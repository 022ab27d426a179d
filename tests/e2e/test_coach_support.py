"""Helpers for the coach-side end-to-end tests (no tests here).

Runners are driven over HTTP through the stand-in exactly as a person would: /start, buttons,
typed answers. Time only moves through `Harness.advance`, which ticks the dispatcher at each due
agenda row; `settle` waits for the ticks a handler kicked and runs one more.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta
from typing import Any

from sqlalchemy import select

from bot.program.calendar import local_instant
from bot.program.events import FollowupAnswered, SessionReported
from bot.program.rules import SessionKind
from bot.program.state import Outcome, ProgramState
from bot.services import runners as rsvc
from bot.store import repo
from bot.store.models import Agenda, DecisionRecord
from bot.store.peek import next_due
from tests.e2e.harness import COACH, Harness

# Monday 2026-03-02, 09:00 in Berlin (08:00 UTC): also the coaches' registration time.
START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
LOW_SITE = "Inner edge of the shin bone (posteromedial tibia)"
HIGH_SITE = "Navicular (midfoot)"
TZ = "Europe/Berlin"  # where the runners live
INVITE_RE = re.compile(r"https://t\.me/([A-Za-z0-9_]+)\?start=([A-Za-z0-9_-]+)")


async def settle(h: Harness) -> None:
    """Let the ticks kicked by handlers finish, then tick once more (no sleeping)."""
    await h.dispatcher.join()
    await h.tick()
    await h.dispatcher.join()


async def invite(h: Harness, coach: int = COACH) -> str:
    """The coach's /invite; returns the code from the deep link."""
    await h.say("/invite", user=coach)
    m = INVITE_RE.search(h.last(coach).text or "")
    assert m is not None, h.last(coach).text
    return m.group(2)


def _buttons(msg: Any) -> list[tuple[str, str]]:
    return [(label, data) for row in msg.buttons for label, data in row if data]


async def onboard(
    h: Harness,
    user: int,
    *,
    name: str = "Alex",
    code: str | None = None,
    site: str = LOW_SITE,
    weeks: str = "12 weeks ago",
    not_cleared: tuple[str, ...] = (),
) -> None:
    """Onboard over Telegram: every clearance 'Yes' except `not_cleared`, ability 'Yes',
    Mon-Sat at 07:00 Berlin."""
    await h.say(f"/start {code}" if code else "/start", user=user, first_name=name)
    await h.press("I agree", user=user)
    await h.press(site, user=user)
    await h.press(weeks, user=user)
    await h.press("Don't know", user=user)
    while True:
        msg = h.last_with_buttons(user)
        data = _buttons(msg)[0][1]
        step = data.split("|")[2]
        if step.startswith("clear:"):
            yes = step.removeprefix("clear:") not in not_cleared
            await h.press("Yes" if yes else "No", user=user, message=msg)
        elif step.startswith("ask:"):
            await h.press("Yes", user=user, message=msg)
        else:
            break
    for day in ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat"):
        await h.press(day, user=user)
    await h.press("Done", user=user)
    await h.say("07:00", user=user, first_name=name)
    await h.say("Berlin", user=user, first_name=name)
    await h.press("Yes", user=user)
    assert any("All set" in (m.text or "") for m in h.messages(user)), sent(h, user)[-3:]


def sent(h: Harness, chat: int) -> list[str]:
    """Every text (or caption) the bot has sent to `chat`, oldest first."""
    return [m.text or m.caption or "" for m in h.messages(chat)]


async def runner_id(h: Harness, user: int) -> int:
    r = await rsvc.find_runner(h.deps, user)
    assert r is not None, f"user {user} is not a runner"
    return r.id


async def program(h: Harness, rid: int) -> tuple[ProgramState, int]:
    async with h.deps.sessionmaker() as s:
        loaded = await repo.load_program(s, rid)
    assert loaded is not None
    return loaded


async def coach_of(h: Harness, rid: int) -> int | None:
    async with h.deps.sessionmaker() as s:
        r = await repo.get_runner(s, rid)
    assert r is not None
    return r.coach_id


async def decisions(h: Harness, rid: int) -> list[DecisionRecord]:
    async with h.deps.sessionmaker() as s:
        return await repo.list_decisions(s, rid, limit=500)


async def agenda_rows(h: Harness, **where: Any) -> list[Agenda]:
    async with h.deps.sessionmaker() as s:
        stmt = select(Agenda).order_by(Agenda.id)
        for k, v in where.items():
            stmt = stmt.where(getattr(Agenda, k) == v)
        return list((await s.execute(stmt)).scalars())


async def advance_until(
    h: Harness, found: Any, *, limit: timedelta, step: timedelta | None = None
) -> None:
    """Move the clock row by row (or by `step`) until `found()` holds; fail after `limit`."""
    end = h.clock.at + limit
    while not found():
        assert h.clock.at < end, "gave up waiting"
        if step is None:
            async with h.deps.sessionmaker() as s:
                due = await next_due(s)
            to = min(due, end) if due is not None and due > h.clock.at else end
            if due is not None and due <= h.clock.at:
                to = h.clock.at
            await h.advance(to - h.clock.at)
        else:
            await h.advance(min(step, end - h.clock.at))
        await h.dispatcher.join()


def question_kind(msg: Any) -> tuple[str, str, str] | None:
    """(kind, ref, question id) of a question message's buttons, e.g. ('f', '3', 'pain_now')."""
    btns = _buttons(msg)
    if not btns:
        return None
    parts = btns[0][1].split("|")
    if len(parts) != 4:
        return None
    ref, _, qid = parts[2].rpartition(":")
    return parts[1], ref, qid


def open_question(h: Harness, user: int, kind: str) -> Any:
    """The newest message to `user` with question buttons of `kind`, if any."""
    for m in reversed(h.messages(user)):
        q = question_kind(m)
        if q is not None and q[0] == kind:
            return m
    return None


async def answer_questions(
    h: Harness, user: int, kind: str, answers: dict[str, str] | None = None, *, default: str = ""
) -> list[str]:
    """Answer the open question flow of `kind` ('p', 'f', 'g') with button values; scales
    default to 0, yes/no to `default` or 'n'. Returns the question ids asked."""
    answers = answers or {}
    asked: list[str] = []
    while (msg := open_question(h, user, kind)) is not None:
        q = question_kind(msg)
        assert q is not None
        _, ref, qid = q
        if qid in asked:
            break
        values = [d.split("|")[3] for _, d in _buttons(msg)]
        value = answers.get(qid) or ("0" if "0" in values else default or "n")
        asked.append(qid)
        await h.press_data(f"v1|{kind}|{ref}:{qid}|{value}", msg.message_id, user)
    return asked


async def do_session(h: Harness, user: int, *, pain: str = "0", rpe: str = "3") -> None:
    """Wait for the next session reminder, press Done, answer the post-session questions."""
    before = {m.message_id for m in h.messages(user) if m.buttons}

    def reminder() -> Any:
        for m in reversed(h.messages(user)):
            if m.message_id not in before and "Today's session" in (m.text or "") and m.buttons:
                return m
        return None

    await advance_until(h, lambda: reminder() is not None, limit=timedelta(days=8))
    await h.press("Done ✅", user=user, message=reminder())
    await answer_questions(h, user, "p", {"pain_during": pain, "rpe": rpe})


async def wait_followup(h: Harness, user: int) -> None:
    await advance_until(h, lambda: open_question(h, user, "f") is not None, limit=timedelta(days=2))


async def into_run_walk(h: Harness, rid: int, coach: int = COACH) -> None:
    """The coach moves a runner on from the strength phase into run/walk (/advance)."""
    await h.say(f"/advance {rid}", user=coach)
    assert (await program(h, rid))[0].phase_id.endswith("run-walk")
    await settle(h)


async def report_sessions(
    h: Harness,
    rid: int,
    until_day: int,
    pains: list[int],
    *,
    followups: bool = True,
    tick: bool = False,
) -> int:
    """The runner reports every planned session up to START + `until_day` days on its day
    (10:00 Berlin), and answers each run's 24-hour check symptom-free (20:00), through the same
    services the handlers call; returns how many. Without `tick` the clock jumps (the agenda
    catches up at the next tick); with it, time moves through `advance`."""
    n = 0
    end = START.date() + timedelta(days=until_day)
    while True:
        st, _ = await program(h, rid)
        nxt = st.next
        if nxt is None or nxt.day > end:
            return n
        await _move_to(h, local_instant(nxt.day, time(10, 0), TZ), tick)
        pain = pains[n % len(pains)]
        n += 1
        report = (nxt.seq, Outcome.DONE, pain, 3)
        await rsvc.apply_event(h.deps, rid, SessionReported(*report), actor="runner", report=report)
        if followups and nxt.prescription.kind is SessionKind.RUN:
            await _move_to(h, local_instant(nxt.day, time(20, 0), TZ), tick)
            answers: dict[str, int | bool] = {"pain_now": 0, "pain_rest": False}
            await rsvc.record_answers(h.deps, rid, "followup", nxt.seq, answers)
            await rsvc.apply_event(h.deps, rid, FollowupAnswered(nxt.seq, answers), actor="runner")


async def _move_to(h: Harness, at: datetime, tick: bool) -> None:
    await h.dispatcher.join()  # never move the clock under a running tick
    if at <= h.clock.at:
        return
    if tick:
        await h.advance(at - h.clock.at)
        await h.dispatcher.join()
    else:
        h.clock.at = at
