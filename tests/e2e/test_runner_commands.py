"""The runner's commands: the menu, /today /plan /status /history, /pause and /resume,
/settings, /export and /delete; and a runner who blocks the bot and comes back."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, time, timedelta

from sqlalchemy import func, select

from bot import texts
from bot.program.decision import MessageKind
from bot.program.loader import Rules
from bot.program.state import Status
from bot.store import repo
from bot.store.models import Agenda, Answer, Dialog, Program, Runner, SessionRecord
from tests.e2e.harness import RUNNER, local, onboard, running_bot, until_text

START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


async def _report_strength(h, pain: int = 0, rpe: int = 3) -> None:
    reminder = await until_text(h, "Today's session", step=timedelta(days=1), limit=3)
    await h.press("Done ✅", message=reminder)
    await h.press(str(pain))
    await h.press(str(rpe))


async def test_command_menu_is_set(shipped_rules: Rules, db_url: str) -> None:
    async with running_bot(shipped_rules, db_url, START) as h:
        menu = h.standin.my_commands()
        names = [c for c, _ in menu]
        assert names == [c for c, _ in texts.COMMANDS]
        for command in ("today", "plan", "status", "history", "settings", "pause", "resume"):
            assert command in names
        assert names[-3:] == ["export", "delete", "help"]
        assert all(description for _, description in menu)
        await h.say("/help")
        for command in ("today", "plan", "status", "history", "settings", "pause", "resume"):
            assert f"/{command}" in h.last().text
        for command in ("export", "delete", "help"):
            assert f"/{command}" in h.last().text


async def test_today_plan_status_history(shipped_rules: Rules, db_url: str) -> None:
    async with running_bot(shipped_rules, db_url, START) as h:
        await onboard(h)
        await h.say("/today")  # Monday: the first session is tomorrow
        assert h.last().text.startswith("No session today"), h.last().text
        assert "tomorrow: Strength" in h.last().text
        await h.say("/plan")
        lines = h.last().text.splitlines()
        assert lines[0] == texts.PLAN_HEADER and len(lines) == 8, lines
        await h.say("/history")
        assert h.last().text == texts.HISTORY_EMPTY
        for _ in range(3):
            await _report_strength(h, pain=1, rpe=4)
        await h.say("/today")  # reported already: nothing more today
        assert h.last().text.startswith("No session today")
        await h.say("/history")
        history = h.last().text.splitlines()
        assert len(history) == 3 and all(" · done · pain 1" in line for line in history), history
        await h.say("/status")
        status = h.last().text
        assert "Phase: Strength and impact readiness" in status
        assert "Status: active" in status
        assert "pain during 1" in status
        assert all(len(t) <= texts.TELEGRAM_LIMIT for t in h.texts())


def test_long_texts_are_split_under_the_limit() -> None:
    lines = [f"Tue {i:03d} · run-walk · done · pain 0/0 at 24 h 🏃" for i in range(400)]
    text = "\n".join(lines)
    parts = texts.split_long(text)
    assert len(parts) > 1
    assert "\n".join(parts) == text  # nothing lost, split only at line breaks
    # Telegram counts UTF-16 code units: an emoji is two of them.
    assert all(len(p.encode("utf-16-le")) // 2 <= texts.TELEGRAM_LIMIT for p in parts)
    one_line = "🦴" * 5000
    parts = texts.split_long(one_line)
    assert "".join(parts) == one_line
    assert all(len(p.encode("utf-16-le")) // 2 <= texts.TELEGRAM_LIMIT for p in parts)
    assert texts.split_long("short") == ["short"]


async def test_pause_and_resume(shipped_rules: Rules, db_url: str) -> None:
    async with running_bot(shipped_rules, db_url, START) as h:
        await onboard(h)
        await h.say("/resume")
        assert h.last().text == texts.ALREADY_ACTIVE
        await h.say("/pause")
        assert h.last().text == texts.PAUSED
        await h.say("/pause")
        assert h.last().text == texts.PAUSED_STATE
        n = len(h.messages())
        await h.advance(timedelta(days=3))
        assert not any("Today's session" in t for t in h.sent_since(n)), h.sent_since(n)
        await h.say("/today")
        assert h.last().text == texts.PAUSED_STATE
        await h.say("/plan")
        assert h.last().text == texts.PAUSED_STATE
        await h.say("/resume")
        assert h.last().text.startswith("▶️ Welcome back. Next: tomorrow"), h.last().text
        state, _ = await h.program()
        assert state.status is Status.ACTIVE
        reminder = await until_text(h, "Today's session", step=timedelta(days=1), limit=2)
        assert local(h.clock.at).date() == state.next.day
        await h.press("Move to next day", message=reminder)
        assert h.last().text.startswith("OK, moved. Your next session: tomorrow"), h.last().text
        moved, _ = await h.program()
        assert moved.next is not None and moved.next.day == state.next.day + timedelta(days=1)


async def test_settings_change_the_reminder_time(shipped_rules: Rules, db_url: str) -> None:
    async with running_bot(shipped_rules, db_url, START) as h:
        await onboard(h)
        await h.say("/settings")
        assert "Reminder time: 07:00" in h.last().text
        await h.press("Time")
        assert texts.ASK_TIME in h.last().text
        await h.say("half past six")
        assert h.texts()[-1] == texts.BAD_TIME, h.texts()[-2:]
        await h.say("18:15")
        assert h.last().text.startswith("Saved. Next: tomorrow"), h.last().text
        state, _ = await h.program()
        assert state.profile.preferred_time == time(18, 15)
        pending = [
            r for r in await h.agenda(MessageKind.SESSION_REMINDER.value) if r.status == "pending"
        ]
        assert len(pending) == 1 and local(pending[0].due_at).time() == time(18, 15)
        n = len(h.messages())
        await h.advance(timedelta(days=1))  # Tuesday 09:00: no reminder at 07:00 any more
        assert not any("Today's session" in t for t in h.sent_since(n))
        reminder = await until_text(h, "Today's session", step=timedelta(hours=1), limit=10)
        assert reminder.buttons
        sent = [r for r in await h.agenda(MessageKind.SESSION_REMINDER.value) if r.sent_at]
        assert [local(r.sent_at).time() for r in sent] == [time(18, 15)]

        # The days and the zone go through the same menu.
        await h.say("/settings")
        await h.press("Time zone")
        await h.say("Lisbon")
        assert h.last().text.startswith("Saved."), h.last().text
        state, _ = await h.program()
        assert state.profile.timezone == "Europe/Lisbon"
        await h.say("/settings")
        assert "Time zone: Europe/Lisbon" in h.last().text
        await h.press("Days")
        assert texts.ASK_DAYS in h.last().text
        for day in ("✓ Mon", "✓ Tue", "✓ Wed", "Sun"):
            await h.press(day)
        await h.press("Done")
        assert h.last().text.startswith("Saved."), h.last().text
        state, _ = await h.program()
        assert state.profile.available_days == {3, 4, 5, 6}
        assert state.next is not None and state.next.day.weekday() in {3, 4, 5, 6}


async def test_export_then_delete(shipped_rules: Rules, db_url: str) -> None:
    async with running_bot(shipped_rules, db_url, START) as h:
        await onboard(h)
        await _report_strength(h, pain=1, rpe=5)
        await h.say("/export")
        docs = [m for m in h.messages() if m.document is not None]
        assert [d.document.filename for d in docs] == [
            "boneload-export.json",
            "boneload-sessions.csv",
        ]
        data = json.loads(docs[0].document.content)
        assert data["runner"]["telegram_user_id"] == RUNNER
        done = [s for s in data["sessions"] if s["outcome"] == "done"]
        assert len(done) == 1 and done[0]["pain_during"] == 1 and done[0]["rpe"] == 5
        rows = list(csv.DictReader(io.StringIO(docs[1].document.content.decode())))
        assert [(r["outcome"], r["pain_during"], r["rpe"]) for r in rows] == [("done", "1", "5")]

        await h.say("/delete")
        assert h.last().text == texts.DELETE_CONFIRM
        await h.press("No")
        assert h.last().text == texts.DELETE_KEPT
        rid = await h.runner_id()
        assert rid is not None
        await h.say("/delete")
        await h.press("Yes")
        assert h.last().text == texts.DELETED
        assert await h.runner_id() is None
        async with h.deps.sessionmaker() as s:
            for model in (Runner, Program, SessionRecord, Answer, Dialog):
                assert await repo.count_rows(s, model) == 0, model.__name__
            left = await s.scalar(select(func.count()).where(Agenda.runner_id == rid))
            assert left == 0  # only the coaches' digests remain in the agenda
        await h.say("/today")
        assert h.last().text == texts.NOT_ENROLLED
        n = len(h.messages())
        await h.advance(timedelta(days=2))
        assert h.sent_since(n) == []


async def test_blocked_runner_is_unreachable_and_welcomed_back(
    shipped_rules: Rules, db_url: str
) -> None:
    async with running_bot(shipped_rules, db_url, START) as h:
        await onboard(h)
        h.standin.block_user(RUNNER)
        await h.advance(timedelta(days=1))  # Tuesday's reminder: 403
        async with h.deps.sessionmaker() as s:
            runner = await repo.get_runner_by_telegram(s, RUNNER)
            assert runner is not None and runner.unreachable
        rows = await h.agenda(MessageKind.SESSION_REMINDER.value)
        assert [r.status for r in rows] == ["failed"]
        calls = len(h.standin.calls_to("sendMessage"))
        await h.advance(timedelta(days=3))
        assert len(h.standin.calls_to("sendMessage")) == calls  # nothing tried while blocked
        assert not [
            r
            for r in await h.agenda()
            if r.status == "pending"
            and r.kind in (MessageKind.SESSION_REMINDER.value, MessageKind.CHECKIN_NUDGE.value)
            and r.due_at <= h.clock.at
        ]

        h.standin.unblock_user(RUNNER)
        await h.say("hi, I'm back")
        assert texts.UNREACHABLE_BACK in h.texts(), h.texts()[-3:]
        async with h.deps.sessionmaker() as s:
            runner = await repo.get_runner_by_telegram(s, RUNNER)
            assert runner is not None and not runner.unreachable
        reminder = await until_text(h, "Today's session", step=timedelta(days=1), limit=3)
        assert reminder.buttons
        await h.press("Done ✅", message=reminder)
        assert "Pain at the injury site" in h.last().text
