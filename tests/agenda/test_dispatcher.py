"""The dispatcher against real databases with a recording sender and an injected clock:
what is sent, dropped, woken and retried, and when."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

from bot.agenda.dispatcher import Dispatcher
from bot.agenda.errors import Backoff
from bot.agenda.testing import FakeClock, FakeSender
from bot.program.decision import Decision, Message, MessageKind
from bot.program.loader import Rules
from bot.program.rules import SessionKind, Severity
from bot.program.state import OpenSession, Status
from bot.store import repo
from bot.store.models import Agenda, Runner, SessionRecord
from bot.store.testing import enrol_runner

Maker = async_sessionmaker[AsyncSession]
T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)  # a Saturday; session 1 is on Sunday 2 March
DAY2_0700 = datetime(2025, 3, 2, 7, 0, tzinfo=UTC)


def _dispatcher(sm: Maker, rules: Rules, clock: FakeClock, sender: Any, **kw: Any) -> Dispatcher:
    kw.setdefault("rate_per_second", 1000.0)
    return Dispatcher(sm, rules, sender, owner="test", clock=clock, **kw)


async def _rows(sm: Maker, **where: Any) -> dict[str, Agenda]:
    async with sm() as s:
        stmt = select(Agenda).filter_by(**where)
        return {r.key: r for r in (await s.execute(stmt)).scalars()}


async def _alert(sm: Maker, rid: int, key: str, due: datetime) -> None:
    async with sm.begin() as s:
        loaded = await repo.load_program(s, rid)
        assert loaded is not None
        msg = Message(MessageKind.COACH_ALERT, key, due, {"reason": "red_flag"})
        d = Decision(state=loaded[0], actions=(), messages=(msg,))
        await repo.apply_decision(
            s, rid, d, event="x", actor="engine", expected_version=None, at=due
        )


async def test_a_session_day(sessionmaker: Maker, rules: Rules) -> None:
    clock = FakeClock(T0)
    sender = FakeSender(clock)
    rid = await enrol_runner(sessionmaker, rules, telegram_user_id=101, now=T0)
    d = _dispatcher(sessionmaker, rules, clock, sender)

    assert (await d.tick()).claimed == 0
    clock.set(DAY2_0700 - timedelta(seconds=1))
    assert (await d.tick()).claimed == 0
    clock.set(DAY2_0700)
    stats = await d.tick()
    assert (stats.claimed, stats.sent) == (1, 1)
    assert sender.keys() == ["reminder:1"]
    assert sender.sent[0].item.chat_id == 101
    assert sender.sent[0].state is not None and sender.sent[0].state.next is not None
    assert (await d.tick()).claimed == 0  # never twice

    clock.set(datetime(2025, 3, 2, 10, 0, tzinfo=UTC))
    await d.tick()
    assert sender.keys() == ["reminder:1", "checkin:1"]

    # Midnight: the session closes unreported; the engine slides it (a new seq).
    clock.set(datetime(2025, 3, 3, 0, 0, tzinfo=UTC))
    stats = await d.tick()
    assert stats.woke == 1
    rows = await _rows(sessionmaker, runner_id=rid)
    assert rows["reminder:1"].status == "sent" and rows["reminder:1"].telegram_message_id
    assert rows["close:1"].status == "dropped"
    assert rows["close:1"].last_error == "engine woken"
    assert rows["reminder:2"].status == "pending"
    async with sessionmaker() as s:
        outcome = await s.scalar(select(SessionRecord.outcome).where(SessionRecord.seq == 1))
        audit = await repo.list_decisions(s, rid)
    assert outcome == "missed"
    assert (audit[0].event, audit[0].actor) == ("SessionMissed", "engine")


async def test_catch_up_after_downtime(sessionmaker: Maker, rules: Rules) -> None:
    """Down for three days: stale reminders are dropped, the missed session slides, the
    follow-up and the coach alert still go out, late."""
    clock = FakeClock(T0)
    sender = FakeSender(clock)
    async with sessionmaker.begin() as s:
        coach_id = (await repo.add_coach(s, telegram_user_id=900, name="C", now=T0)).id
    rid = await enrol_runner(sessionmaker, rules, telegram_user_id=102, now=T0, coach_id=coach_id)
    other = await enrol_runner(sessionmaker, rules, telegram_user_id=103, now=T0)
    # Runner 103 reported an impact session on 2 March: its 24-hour follow-up is open.
    reported = datetime(2025, 3, 2, 8, 0, tzinfo=UTC)
    async with sessionmaker.begin() as s:
        loaded = await repo.load_program(s, other)
        assert loaded is not None
        opened = OpenSession(
            seq=1,
            day=reported.date(),
            kind=SessionKind.RUN,
            reported_at=reported,
            severity=Severity.CLEAR,
            applied=Severity.CLEAR,
        )
        state = replace(loaded[0], open=(opened,))
        followup = Message(
            MessageKind.FOLLOWUP, "followup:1", reported + timedelta(days=1), {"seq": 1}
        )
        dec = Decision(state=state, actions=(), messages=(followup,))
        await repo.apply_decision(
            s, other, dec, event="SessionReported", actor="runner", expected_version=loaded[1]
        )
    await _alert(sessionmaker, rid, "alert:red:1", reported)

    clock.set(datetime(2025, 3, 5, 12, 0, tzinfo=UTC))  # back up three days later
    d = _dispatcher(sessionmaker, rules, clock, sender)
    await d.tick()
    sent = {(s.item.kind, s.item.chat_id) for s in sender.sent}
    assert ("coach_alert", 900) in sent
    assert ("followup", 103) in sent
    assert not any(s.item.kind in ("session_reminder", "checkin_nudge") for s in sender.sent)
    rows = await _rows(sessionmaker, runner_id=rid)
    assert rows["reminder:1"].status == "dropped"
    assert rows["reminder:1"].last_error == "not the session's day any more"
    assert rows["checkin:1"].status == "dropped"
    assert rows["close:1"].last_error == "engine woken"
    # The slid session is planned from today on, and its reminder is not in the past.
    assert rows["reminder:2"].status == "pending"
    assert rows["reminder:2"].due_at >= clock.now
    alert = sender.sent[[s.item.kind for s in sender.sent].index("coach_alert")].item
    assert (alert.runner_id, alert.coach_id) == (rid, coach_id)


async def test_paused_program_drops_reminder(sessionmaker: Maker, rules: Rules) -> None:
    clock = FakeClock(DAY2_0700)
    sender = FakeSender(clock)
    rid = await enrol_runner(sessionmaker, rules, telegram_user_id=104, now=T0)
    async with sessionmaker.begin() as s:
        # Simulate a state change whose cancel never reached the row (e.g. an older version).
        loaded = await repo.load_program(s, rid)
        assert loaded is not None
        paused = replace(loaded[0], status=Status.PAUSED)
        await repo.apply_decision(
            s,
            rid,
            Decision(state=paused, actions=()),
            event="x",
            actor="coach:1",
            expected_version=loaded[1],
        )
    await _dispatcher(sessionmaker, rules, clock, sender).tick()
    assert sender.sent == []
    rows = await _rows(sessionmaker, runner_id=rid)
    assert (rows["reminder:1"].status, rows["reminder:1"].last_error) == (
        "dropped",
        "program paused",
    )


async def test_unreachable_runner_is_not_messaged(sessionmaker: Maker, rules: Rules) -> None:
    clock = FakeClock(DAY2_0700)
    sender = FakeSender(clock)
    rid = await enrol_runner(sessionmaker, rules, telegram_user_id=105, now=T0)
    async with sessionmaker.begin() as s:
        await repo.mark_unreachable(s, rid, now=T0)
    await _dispatcher(sessionmaker, rules, clock, sender).tick()
    assert sender.attempts == []
    assert (await _rows(sessionmaker, runner_id=rid))["reminder:1"].last_error == (
        "runner unreachable"
    )


async def test_forbidden_marks_unreachable_and_tells_the_coach(
    sessionmaker: Maker, rules: Rules
) -> None:
    clock = FakeClock(DAY2_0700)
    sender = FakeSender(clock)
    async with sessionmaker.begin() as s:
        coach_id = (await repo.add_coach(s, telegram_user_id=901, name="C", now=T0)).id
    rid = await enrol_runner(sessionmaker, rules, telegram_user_id=106, now=T0, coach_id=coach_id)
    sender.fail(Forbidden("Forbidden: bot was blocked by the user"))
    stats = await _dispatcher(sessionmaker, rules, clock, sender).tick()
    assert (stats.failed, stats.blocked) == (1, 1)
    rows = await _rows(sessionmaker, runner_id=rid)
    assert rows["reminder:1"].status == "failed"
    assert rows["reminder:1"].last_error == "Forbidden: Forbidden: bot was blocked by the user"
    assert rows["checkin:1"].status == "cancelled"
    assert rows["close:1"].status == "pending"  # internal: the program still moves on
    # The coach heard about it within the same tick.
    assert [(s.item.kind, s.item.chat_id, s.item.payload) for s in sender.sent] == [
        ("coach_alert", 901, {"reason": "unreachable"})
    ]
    async with sessionmaker() as s:
        runner = await s.get(Runner, rid)
        assert runner is not None and runner.unreachable


async def test_bad_request_is_terminal(sessionmaker: Maker, rules: Rules) -> None:
    clock = FakeClock(DAY2_0700)
    sender = FakeSender(clock)
    rid = await enrol_runner(sessionmaker, rules, telegram_user_id=107, now=T0)
    sender.fail(BadRequest("Chat not found"))
    d = _dispatcher(sessionmaker, rules, clock, sender)
    assert (await d.tick()).failed == 1
    clock.advance(timedelta(hours=1))
    await d.tick()
    row = (await _rows(sessionmaker, runner_id=rid))["reminder:1"]
    assert (row.status, row.last_error, row.attempts) == ("failed", "BadRequest: Chat not found", 1)
    assert len([a for a in sender.attempts if a.key == "reminder:1"]) == 1


@pytest.mark.parametrize(
    "error",
    [TimedOut("Timed out"), NetworkError("Bad Gateway"), RuntimeError("renderer bug")],
    ids=["timeout", "network", "other"],
)
async def test_backoff_then_failed(sessionmaker: Maker, rules: Rules, error: Exception) -> None:
    clock = FakeClock(DAY2_0700)
    sender = FakeSender(clock)
    rid = await enrol_runner(sessionmaker, rules, telegram_user_id=108, now=T0)
    backoff = Backoff(base=timedelta(seconds=10), cap=timedelta(seconds=30))
    d = _dispatcher(sessionmaker, rules, clock, sender, max_attempts=4, backoff=backoff)
    sender.fail(error, error, error, error)
    delays = []
    for _ in range(4):
        await d.tick()
        row = (await _rows(sessionmaker, runner_id=rid))["reminder:1"]
        if row.status == "failed":
            break
        delays.append((row.next_attempt_at - clock.now).total_seconds())
        clock.set(row.next_attempt_at)
    assert delays == [10, 20, 30]  # exponential, capped
    row = (await _rows(sessionmaker, runner_id=rid))["reminder:1"]
    assert row.status == "failed" and row.attempts == 4
    assert row.last_error is not None and row.last_error.startswith("gave up after 4 attempts")


# PTB itself warns about int `retry_after` while building the exception.
@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
@pytest.mark.parametrize("retry_after", [3, timedelta(seconds=3)], ids=["int", "timedelta"])
async def test_retry_after(sessionmaker: Maker, rules: Rules, retry_after: Any) -> None:
    clock = FakeClock(DAY2_0700)
    sender = FakeSender(clock)
    rid = await enrol_runner(sessionmaker, rules, telegram_user_id=109, now=T0)
    d = _dispatcher(sessionmaker, rules, clock, sender, max_attempts=1)
    # retry_after=0 for the limiter's real-time pause keeps the test fast; the row's own
    # next attempt follows the 3 s Telegram asked for.
    sender.fail(RetryAfter(retry_after))
    d._limiter.pause = lambda seconds: None  # type: ignore[method-assign]
    assert (await d.tick()).retried == 1
    row = (await _rows(sessionmaker, runner_id=rid))["reminder:1"]
    assert row.status == "pending"
    assert row.next_attempt_at == DAY2_0700 + timedelta(seconds=3)
    assert row.attempts == 0  # flood control does not use up the only attempt
    clock.advance(timedelta(seconds=3))
    assert (await d.tick()).sent == 1


async def test_kick_runs_a_tick(sessionmaker: Maker, rules: Rules) -> None:
    clock = FakeClock(T0)
    sender = FakeSender(clock)
    async with sessionmaker.begin() as s:
        coach_id = (await repo.add_coach(s, telegram_user_id=902, name="C", now=T0)).id
    rid = await enrol_runner(sessionmaker, rules, telegram_user_id=110, now=T0, coach_id=coach_id)
    d = _dispatcher(sessionmaker, rules, clock, sender)
    await _alert(sessionmaker, rid, "alert:escalate:1", T0)
    d.kick()
    d.kick()  # coalesces with the running one
    await d.join()
    assert [s.item.kind for s in sender.sent] == ["coach_alert"]


async def test_lease_too_short_to_send_gives_row_back(sessionmaker: Maker, rules: Rules) -> None:
    clock = FakeClock(DAY2_0700)

    class SlowClockSender(FakeSender):
        pass

    sender = SlowClockSender(clock)
    rid = await enrol_runner(sessionmaker, rules, telegram_user_id=111, now=T0)
    d = _dispatcher(sessionmaker, rules, clock, sender, lease_seconds=30, send_margin_seconds=20)
    real_claim_clock = clock.now
    # The clock jumps between claim and send (e.g. the process stalled): not safe to send.
    orig_acquire = d._limiter.acquire

    async def stall(*a: Any) -> bool:
        clock.set(real_claim_clock + timedelta(seconds=15))
        return await orig_acquire(*a)

    d._limiter.acquire = stall  # type: ignore[method-assign]
    stats = await d.tick()
    assert (stats.sent, stats.released) == (0, 1)
    row = (await _rows(sessionmaker, runner_id=rid))["reminder:1"]
    assert (row.status, row.attempts, row.lease_token) == ("pending", 0, None)


async def test_catch_up_at_night_waits_for_the_end_of_quiet_hours(
    sessionmaker: Maker, rules: Rules
) -> None:
    """A follow-up that fell due during downtime and is caught up at 23:00 waits until 07:00;
    a coach alert does not wait."""
    clock = FakeClock(T0)
    sender = FakeSender(clock)
    async with sessionmaker.begin() as s:
        coach_id = (await repo.add_coach(s, telegram_user_id=903, name="C", now=T0)).id
    rid = await enrol_runner(sessionmaker, rules, telegram_user_id=112, now=T0, coach_id=coach_id)
    reported = datetime(2025, 3, 2, 8, 0, tzinfo=UTC)
    async with sessionmaker.begin() as s:
        loaded = await repo.load_program(s, rid)
        assert loaded is not None
        opened = OpenSession(
            1, reported.date(), SessionKind.RUN, reported, Severity.CLEAR, Severity.CLEAR
        )
        followup = Message(
            MessageKind.FOLLOWUP, "followup:1", reported + timedelta(days=1), {"seq": 1}
        )
        dec = Decision(state=replace(loaded[0], open=(opened,)), actions=(), messages=(followup,))
        await repo.apply_decision(s, rid, dec, event="x", actor="runner", expected_version=None)
    await _alert(sessionmaker, rid, "alert:red:1", reported + timedelta(days=1))

    clock.set(datetime(2025, 3, 3, 23, 0, tzinfo=UTC))  # back up at night (UTC runner)
    d = _dispatcher(sessionmaker, rules, clock, sender)
    stats = await d.tick()
    assert stats.deferred == 1
    assert [s.item.kind for s in sender.sent] == ["coach_alert"]
    row = (await _rows(sessionmaker, runner_id=rid))["followup:1"]
    assert (row.status, row.attempts) == ("pending", 0)
    assert row.next_attempt_at == datetime(2025, 3, 4, 7, 0, tzinfo=UTC)
    clock.set(row.next_attempt_at)
    await d.tick()
    followups = [s for s in sender.sent if s.item.kind == "followup"]
    assert [f.at for f in followups] == [datetime(2025, 3, 4, 7, 0, tzinfo=UTC)]


async def test_an_engine_failure_on_a_wake_up_is_recorded_not_retried(
    sessionmaker: Maker, rules: Rules, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same state would fail the same way again: the row is failed with the engine's own
    error, once, and the program is left as it was."""
    import bot.services.turn as turn_module

    clock = FakeClock(T0)
    sender = FakeSender(clock)
    rid = await enrol_runner(sessionmaker, rules, telegram_user_id=101, now=T0)
    d = _dispatcher(sessionmaker, rules, clock, sender)

    def broken(*_: Any) -> Any:
        raise ValueError("boom")

    monkeypatch.setattr(turn_module, "decide", broken)
    clock.set(datetime(2025, 3, 3, 0, 0, tzinfo=UTC))  # session 1's day has ended
    stats = await d.tick()
    assert stats.failed >= 1 and stats.woke == 0
    close = (await _rows(sessionmaker, runner_id=rid))["close:1"]
    assert (close.status, close.last_error) == ("failed", "ValueError: boom")
