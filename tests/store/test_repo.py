"""Repositories on SQLite and PostgreSQL: state + audit + agenda in one transaction,
idempotent scheduling, optimistic concurrency, export and cascading delete."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, time, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.program.decision import Decision, Message, MessageKind
from bot.program.engine import decide
from bot.program.events import RunnerPaused, SessionMissed, SettingsChanged
from bot.program.loader import Rules
from bot.store import repo
from bot.store.models import (
    Agenda,
    Answer,
    DecisionRecord,
    Dialog,
    Invite,
    Program,
    Runner,
    SessionRecord,
)
from bot.store.testing import enrol_runner

Maker = async_sessionmaker[AsyncSession]
T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


async def _agenda(sm: Maker, runner_id: int) -> dict[str, Agenda]:
    async with sm() as s:
        rows = (await s.execute(select(Agenda).where(Agenda.runner_id == runner_id))).scalars()
        return {r.key: r for r in rows}


async def _version(sm: Maker, runner_id: int) -> int:
    async with sm() as s:
        v = await s.scalar(select(Program.version).where(Program.runner_id == runner_id))
        assert v is not None
        return v


async def test_instants_come_back_as_utc(sessionmaker: Maker) -> None:
    berlin_noon = datetime(2025, 7, 1, 12, 0, tzinfo=timezone(timedelta(hours=2)))
    async with sessionmaker.begin() as s:
        r = await repo.create_runner(
            s, telegram_user_id=1, chat_id=1, timezone="Europe/Berlin", now=berlin_noon
        )
        rid = r.id
    async with sessionmaker() as s:
        created = await s.scalar(select(Runner.created_at).where(Runner.id == rid))
    assert created == berlin_noon
    assert created is not None and created.tzinfo is not None
    assert created.utcoffset() == timedelta(0)
    assert created.hour == 10


async def test_naive_instant_is_refused(sessionmaker: Maker) -> None:
    with pytest.raises(Exception, match="naive datetime"):
        async with sessionmaker.begin() as s:
            await repo.create_runner(
                s, telegram_user_id=2, chat_id=2, timezone="UTC", now=datetime(2025, 1, 1)
            )


async def test_enrol_writes_state_audit_sessions_and_agenda(
    sessionmaker: Maker, rules: Rules
) -> None:
    rid = await enrol_runner(
        sessionmaker, rules, telegram_user_id=10, now=T0, timezone="Europe/Berlin"
    )
    async with sessionmaker() as s:
        loaded = await repo.load_program(s, rid)
        assert loaded is not None
        state, version = loaded
        assert version == 1
        assert state.profile.timezone == "Europe/Berlin"
        audit = await repo.list_decisions(s, rid)
        assert [(d.event, d.actor, d.version) for d in audit] == [("Enrolled", "runner", 1)]
        assert "enrol-by-site-risk" in audit[0].rules.split()
        assert audit[0].actions[0]["act"] == "enrol"
        sessions = list((await s.execute(select(SessionRecord))).scalars())
        assert [(x.seq, x.outcome) for x in sessions] == [(1, None)]
    rows = await _agenda(sessionmaker, rid)
    assert {"reminder:1", "checkin:1", "close:1"} <= set(rows)
    reminder = rows["reminder:1"]
    assert reminder.status == "pending"
    assert reminder.scope == f"r:{rid}"
    assert reminder.next_attempt_at == reminder.due_at
    assert reminder.due_at == datetime(2025, 3, 2, 6, 0, tzinfo=UTC)  # 07:00 in Berlin


async def test_rescheduling_updates_pending_and_never_touches_delivered(
    sessionmaker: Maker, rules: Rules
) -> None:
    rid = await enrol_runner(sessionmaker, rules, telegram_user_id=11, now=T0)
    async with sessionmaker.begin() as s:
        # The check-in nudge was already delivered; the reminder is still pending.
        await s.execute(
            update(Agenda)
            .where(Agenda.runner_id == rid, Agenda.key == "checkin:1")
            .values(status="sent", sent_at=T0, telegram_message_id=77)
        )
    # The runner moves their preferred time: the engine re-sends every key of session 1.
    async with sessionmaker.begin() as s:
        loaded = await repo.load_program(s, rid)
        assert loaded is not None
        state, version = loaded
        d = decide(state, SettingsChanged(preferred_time=time(18, 0)), rules, T0)
        keys = {m.key for m in d.messages}
        assert {"reminder:1", "checkin:1"} <= keys
        v2 = await repo.apply_decision(
            s, rid, d, event="SettingsChanged", actor="runner", expected_version=version, at=T0
        )
        # Applying the very same decision again changes nothing in the agenda.
        await repo.apply_decision(
            s, rid, d, event="SettingsChanged", actor="runner", expected_version=v2, at=T0
        )
    rows = await _agenda(sessionmaker, rid)
    assert rows["reminder:1"].status == "pending"
    assert rows["reminder:1"].due_at.hour == 18
    assert rows["reminder:1"].next_attempt_at == rows["reminder:1"].due_at
    assert rows["checkin:1"].status == "sent"  # a key is delivered at most once
    assert rows["checkin:1"].telegram_message_id == 77
    async with sessionmaker() as s:
        n = await s.scalar(select(func.count()).select_from(Agenda).where(Agenda.runner_id == rid))
    assert n == len(rows)  # no duplicate rows


async def test_cancel_and_revive(sessionmaker: Maker, rules: Rules) -> None:
    rid = await enrol_runner(sessionmaker, rules, telegram_user_id=12, now=T0)
    async with sessionmaker.begin() as s:
        loaded = await repo.load_program(s, rid)
        assert loaded is not None
        state, version = loaded
        d = decide(state, RunnerPaused(), rules, T0)
        assert "reminder:1" in d.cancel
        await repo.apply_decision(
            s, rid, d, event="RunnerPaused", actor="runner", expected_version=version, at=T0
        )
    rows = await _agenda(sessionmaker, rid)
    assert rows["reminder:1"].status == "cancelled"
    assert rows["close:1"].status == "cancelled"
    # A later decision scheduling the same key brings a cancelled row back.
    revive = Decision(
        state=state,
        actions=d.actions,
        messages=(Message(MessageKind.SESSION_REMINDER, "reminder:1", T0 + timedelta(days=2)),),
    )
    async with sessionmaker.begin() as s:
        await repo.apply_decision(s, rid, revive, event="x", actor="engine", expected_version=None)
    rows = await _agenda(sessionmaker, rid)
    assert rows["reminder:1"].status == "pending"
    assert rows["reminder:1"].due_at == T0 + timedelta(days=2)


async def test_optimistic_concurrency(sessionmaker: Maker, rules: Rules) -> None:
    rid = await enrol_runner(sessionmaker, rules, telegram_user_id=13, now=T0)
    async with sessionmaker() as s:
        loaded = await repo.load_program(s, rid)
    assert loaded is not None
    state, version = loaded
    d = decide(state, RunnerPaused(), rules, T0)
    async with sessionmaker.begin() as s:
        assert (
            await repo.apply_decision(
                s, rid, d, event="RunnerPaused", actor="runner", expected_version=version
            )
            == version + 1
        )
    with pytest.raises(repo.ConcurrentUpdate) as info:
        async with sessionmaker.begin() as s:
            await repo.apply_decision(
                s, rid, d, event="RunnerPaused", actor="runner", expected_version=version
            )
    assert (info.value.expected, info.value.found) == (version, version + 1)
    # The loser's transaction was rolled back whole: no audit row, no agenda change.
    async with sessionmaker() as s:
        audit = await repo.list_decisions(s, rid)
    assert len(audit) == 2
    assert await _version(sessionmaker, rid) == version + 1


async def test_concurrent_writers_one_wins(sessionmaker: Maker, rules: Rules) -> None:
    rid = await enrol_runner(sessionmaker, rules, telegram_user_id=14, now=T0)
    async with sessionmaker() as s:
        loaded = await repo.load_program(s, rid)
    assert loaded is not None
    state, version = loaded
    d = decide(state, RunnerPaused(), rules, T0)

    async def write() -> str:
        try:
            async with sessionmaker.begin() as s:
                await repo.apply_decision(
                    s, rid, d, event="RunnerPaused", actor="runner", expected_version=version
                )
        except repo.ConcurrentUpdate:
            return "lost"
        return "won"

    results = await asyncio.gather(*(write() for _ in range(4)))
    assert sorted(results) == ["lost", "lost", "lost", "won"]
    assert await _version(sessionmaker, rid) == version + 1


async def test_enrol_twice_is_a_conflict(sessionmaker: Maker, rules: Rules) -> None:
    rid = await enrol_runner(sessionmaker, rules, telegram_user_id=15, now=T0)
    async with sessionmaker() as s:
        loaded = await repo.load_program(s, rid)
    assert loaded is not None
    d = Decision(state=loaded[0], actions=(), messages=())
    with pytest.raises(repo.ConcurrentUpdate):
        async with sessionmaker.begin() as s:
            await repo.apply_decision(
                s, rid, d, event="Enrolled", actor="runner", expected_version=0
            )


async def test_stale_decision_keeps_version(sessionmaker: Maker, rules: Rules) -> None:
    rid = await enrol_runner(sessionmaker, rules, telegram_user_id=16, now=T0)
    async with sessionmaker.begin() as s:
        loaded = await repo.load_program(s, rid)
        assert loaded is not None
        d = decide(loaded[0], SessionMissed(seq=99), rules, T0)
        assert d.stale
        v = await repo.apply_decision(
            s, rid, d, event="SessionMissed", actor="engine", expected_version=loaded[1]
        )
    assert v == loaded[1] == await _version(sessionmaker, rid)
    async with sessionmaker() as s:
        audit = await repo.list_decisions(s, rid)
    assert audit[0].stale is True


async def test_missed_session_is_recorded(sessionmaker: Maker, rules: Rules) -> None:
    rid = await enrol_runner(sessionmaker, rules, telegram_user_id=17, now=T0)
    later = T0 + timedelta(days=2)
    async with sessionmaker.begin() as s:
        loaded = await repo.load_program(s, rid)
        assert loaded is not None
        d = decide(loaded[0], SessionMissed(seq=1), rules, later)
        await repo.apply_decision(
            s, rid, d, event="SessionMissed", actor="engine", expected_version=loaded[1], at=later
        )
    async with sessionmaker() as s:
        sessions = {x.seq: x.outcome for x in (await s.execute(select(SessionRecord))).scalars()}
    assert sessions[1] == "missed"
    assert sessions[2] is None


def _alert(state: Any, key: str) -> Decision:
    msg = Message(MessageKind.COACH_ALERT, key, T0, {"reason": "red_flag"})
    return Decision(state=state, actions=(), messages=(msg,))


async def test_coach_alert_goes_to_the_coach_or_is_dropped(
    sessionmaker: Maker, rules: Rules
) -> None:
    async with sessionmaker.begin() as s:
        coach = await repo.add_coach(s, telegram_user_id=900, name="Coach", now=T0)
        coach_id = coach.id
    with_coach = await enrol_runner(
        sessionmaker, rules, telegram_user_id=18, now=T0, coach_id=coach_id
    )
    alone = await enrol_runner(sessionmaker, rules, telegram_user_id=19, now=T0)
    for rid in (with_coach, alone):
        async with sessionmaker.begin() as s:
            loaded = await repo.load_program(s, rid)
            assert loaded is not None
            await repo.apply_decision(
                s,
                rid,
                _alert(loaded[0], "alert:red:1"),
                event="x",
                actor="engine",
                expected_version=None,
            )
    a = (await _agenda(sessionmaker, with_coach))["alert:red:1"]
    assert (a.status, a.coach_id, a.runner_id) == ("pending", coach_id, with_coach)
    b = (await _agenda(sessionmaker, alone))["alert:red:1"]
    assert (b.status, b.coach_id, b.last_error) == ("dropped", None, "no coach")


async def test_export_and_delete_runner(sessionmaker: Maker, rules: Rules) -> None:
    async with sessionmaker.begin() as s:
        coach = await repo.add_coach(s, telegram_user_id=901, name="Coach", now=T0)
        invite = await repo.create_invite(s, coach.id, now=T0)
        code = invite.code
    rid = await enrol_runner(sessionmaker, rules, telegram_user_id=20, now=T0)
    other = await enrol_runner(sessionmaker, rules, telegram_user_id=21, now=T0)
    async with sessionmaker.begin() as s:
        assert (await repo.redeem_invite(s, code, rid, now=T0)).ok
        await repo.record_answers(s, rid, "followup", {"pain_now": 2, "limp": False}, at=T0, seq=1)
        await repo.record_report(s, rid, 1, outcome="done", pain_during=1, rpe=4, at=T0)
        await repo.save_dialog(s, 20, flow="report", step="pain", data={"seq": 1}, now=T0)
    async with sessionmaker() as s:
        exported = await repo.export_runner(s, rid)
    assert exported is not None
    import json

    json.dumps(exported)  # JSON-ready
    assert exported["runner"]["telegram_user_id"] == 20
    assert exported["coach"]["name"] == "Coach"
    assert exported["program"]["version"] == 1
    assert exported["sessions"][0]["outcome"] == "done"
    assert {a["question_id"] for a in exported["answers"]} == {"pain_now", "limp"}
    assert exported["decisions"] and exported["agenda"] and exported["dialog"]
    assert exported["invites_used"][0]["code"] == code

    async with sessionmaker.begin() as s:
        assert await repo.delete_runner(s, rid)
    async with sessionmaker() as s:
        for model in (Program, SessionRecord, Answer, DecisionRecord, Agenda, Dialog):
            col = model.runner_id
            n = await s.scalar(select(func.count()).select_from(model).where(col == rid))
            assert n == 0, model.__tablename__
        assert await s.scalar(select(Invite.used_by).where(Invite.code == code)) is None
        assert await repo.get_runner(s, other) is not None
        assert await repo.export_runner(s, rid) is None
        assert await repo.load_program(s, other) is not None


async def test_invites(sessionmaker: Maker, rules: Rules) -> None:
    async with sessionmaker.begin() as s:
        coach = await repo.add_coach(s, telegram_user_id=902, name="C", now=T0)
        a = await repo.create_runner(s, telegram_user_id=30, chat_id=30, timezone="UTC", now=T0)
        b = await repo.create_runner(s, telegram_user_id=31, chat_id=31, timezone="UTC", now=T0)
        code = (await repo.create_invite(s, coach.id, now=T0)).code
        old = (await repo.create_invite(s, coach.id, now=T0, ttl=timedelta(hours=1))).code
        ids = (coach.id, a.id, b.id)
    coach_id, a_id, b_id = ids
    later = T0 + timedelta(hours=2)
    async with sessionmaker.begin() as s:
        assert await repo.redeem_invite(s, code, a_id, now=later) == repo.RedeemResult(
            True, "linked", coach_id
        )
        assert (await repo.redeem_invite(s, code, b_id, now=later)).reason == "used"
        assert (await repo.redeem_invite(s, old, b_id, now=later)).reason == "expired"
        assert (await repo.redeem_invite(s, "nope", b_id, now=later)).reason == "unknown"
    async with sessionmaker() as s:
        runners = await repo.list_runners_of_coach(s, coach_id)
    assert [r.id for r in runners] == [a_id]


async def test_coaches(sessionmaker: Maker) -> None:
    async with sessionmaker.begin() as s:
        c = await repo.add_coach(s, telegram_user_id=903, name="A", now=T0)
        await repo.set_coach_active(s, c.id, False)
    async with sessionmaker.begin() as s:
        assert await repo.list_coaches(s, active_only=True) == []
        again = await repo.add_coach(s, telegram_user_id=903, name="B", now=T0)
        assert again.id == c.id
    async with sessionmaker() as s:
        coaches = await repo.list_coaches(s, active_only=True)
    assert [(x.name, x.active) for x in coaches] == [("B", True)]


async def test_dialog_survives_sessions(sessionmaker: Maker) -> None:
    async with sessionmaker.begin() as s:
        await repo.save_dialog(s, 40, flow="onboarding", step="site", data={"a": 1}, now=T0)
    async with sessionmaker.begin() as s:
        d = await repo.load_dialog(s, 40)
        assert d is not None and (d.step, d.data) == ("site", {"a": 1})
        await repo.save_dialog(s, 40, flow="onboarding", step="time", data={"a": 2}, now=T0)
        d = await repo.load_dialog(s, 40)
        assert d is not None and (d.step, d.data) == ("time", {"a": 2})
    async with sessionmaker.begin() as s:
        await repo.clear_dialog(s, 40)
    async with sessionmaker() as s:
        assert await repo.load_dialog(s, 40) is None


async def test_duplicate_updates(sessionmaker: Maker) -> None:
    async with sessionmaker.begin() as s:
        assert await repo.claim_update(s, 5001, now=T0)
        assert not await repo.claim_update(s, 5001, now=T0)
        assert await repo.claim_update(s, 5002, now=T0 + timedelta(days=2))
    async with sessionmaker.begin() as s:
        assert await repo.prune_processed_updates(s, before=T0 + timedelta(days=1)) == 1
        assert await repo.claim_update(s, 5001, now=T0)


async def test_unreachable_flag(sessionmaker: Maker) -> None:
    async with sessionmaker.begin() as s:
        r = await repo.create_runner(s, telegram_user_id=50, chat_id=50, timezone="UTC", now=T0)
        assert await repo.mark_unreachable(s, r.id, now=T0)
        assert not await repo.mark_unreachable(s, r.id, now=T0)
        assert await repo.mark_reachable(s, r.id)
        assert not await repo.mark_reachable(s, r.id)
