"""Issue 12 over HTTP against the stand-in: /path (the road ahead, a typical range with its
source, never a promise), old reminders losing their buttons when the session slides, "Later
today" on a reminder (never into quiet hours, never tomorrow) and the session-timer switch in
/settings (honoured by the reminder's sender, included in the export)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from bot import texts
from bot.program.decision import MessageKind
from bot.program.loader import Rules
from bot.services import runners as svc
from bot.store.agenda import UNBUTTON
from bot.timer.cache import TimerCache
from tests.e2e.harness import (
    into_run_walk,
    local,
    next_run,
    onboard,
    report,
    running_bot,
    until_text,
)

START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)  # Monday, 09:00 in Berlin


def _data(msg: object, label: str) -> str:
    buttons = msg.buttons
    return next(b[1] for row in buttons for b in row if b[0] == label)


async def test_path_shows_phases_plateaus_and_a_sourced_range(
    shipped_rules: Rules, db_url: str
) -> None:
    async with running_bot(shipped_rules, db_url, START) as h:
        await h.say("/path")
        assert h.last().text == texts.NOT_ENROLLED  # not set up yet: a pointer, not a crash
        await onboard(h)  # posteromedial tibia (low risk), grade not known
        await h.say("/path")
        text = h.last().text
        first, _ = await h.program()
        proto = shipped_rules.protocols[first.protocol_id]
        i = proto.index(first.phase_id)  # 4 weeks in, the onboarding gates passed
        assert text.startswith(texts.PATH_TITLE)
        assert f"Done: {' → '.join(p.name for p in proto.phases[:i])}" in text
        assert f"Now: {proto.phases[i].name}" in text
        assert proto.phases[-1].name in text.split("To come:")[1]
        assert "4–9 weeks" in text and "Hoenig 2023" in text  # the site's range, with its source
        assert "never a promise" in text and "the body is the boss" in text
        assert "4 weeks since your diagnosis" in text
        await into_run_walk(h)
        await h.say("/path")
        text = h.last().text
        state, _ = await h.program()
        i = proto.index(state.phase_id)
        assert f"Done: {' → '.join(p.name for p in proto.phases[:i])}" in text
        assert f"Now: {proto.phases[i].name}" in text
        total = sum(len(p.levels) for p in proto.phases)
        assert f"Plateaus passed: 0 of {total}" in text


async def test_a_missed_session_takes_the_buttons_off_its_old_reminder(
    shipped_rules: Rules, db_url: str
) -> None:
    async with running_bot(shipped_rules, db_url, START) as h:
        await onboard(h)
        reminder = await until_text(h, "Today's session", step=timedelta(hours=2), limit=24)
        done = _data(reminder, texts.BTN_DONE)
        missed_day = local(h.clock.at).date()
        assert h.message(reminder.message_id).buttons
        # Nothing reported; the day ends: the session slides, and the old buttons go.
        await h.advance(timedelta(days=1))
        assert not h.message(reminder.message_id).buttons
        nudges = [m for m in h.messages() if m.text == texts.CHECKIN_NUDGE]
        assert nudges and all(not m.buttons for m in nudges)
        rows = await h.agenda(UNBUTTON)
        assert rows and all(r.status == "sent" for r in rows)
        state, _ = await h.program()
        assert state.next is not None and state.next.day > missed_day
        # Pressing the old (now hidden) button anyway: a polite answer, nothing changes.
        assert await h.press_data(done, reminder.message_id) == texts.STALE
        after, _ = await h.program()
        assert after.next == state.next
        # Many missed days: never more than the one live session's buttons.
        await h.advance(timedelta(days=5))
        live = [m for m in h.messages() if any(texts.BTN_DONE in b for r in m.buttons for b in r)]
        assert len(live) <= 2, [m.text for m in live]  # today's reminder and its nudge at most
        state, _ = await h.program()
        assert all(_data(m, texts.BTN_DONE).split("|")[2] == str(state.next.seq) for m in live)


async def test_later_today_sends_the_reminder_again_outside_quiet_hours(
    shipped_rules: Rules, db_url: str
) -> None:
    async with running_bot(shipped_rules, db_url, START) as h:
        await onboard(h)
        reminder = await until_text(h, "Today's session", step=timedelta(hours=2), limit=24)
        assert local(h.clock.at).hour == 7
        assert await h.press(texts.BTN_LATER, message=reminder) is None
        assert h.last().text == texts.SNOOZED.format(time="09:00")
        assert not h.message(reminder.message_id).buttons  # the new reminder brings them
        # Half an hour later, from /today, once more: the newer repeat replaces the first.
        await h.advance(timedelta(minutes=30))
        await h.say("/today")
        await h.press(texts.BTN_LATER)
        assert h.last().text == texts.SNOOZED.format(time="09:30")
        rows = await h.agenda(MessageKind.SESSION_REMINDER.value)
        snoozes = [r for r in rows if r.key.startswith("snooze:")]
        assert [r.status for r in snoozes] == ["cancelled", "pending"], snoozes
        n = len(h.messages())
        await h.advance(timedelta(hours=2))
        again = [m for m in h.messages()[n:] if (m.text or "").startswith("🏃 Today's session")]
        assert len(again) == 1 and again[0].buttons, h.sent_since(n)
        await report(h, again[0])
        assert texts.SESSION_THANKS in h.texts()[-3:]
        # The old snooze button after the report: closed, nothing scheduled.
        later = _data(again[0], texts.BTN_LATER)
        assert await h.press_data(later, again[0].message_id) == texts.STALE
        assert await h.press_data("v1|s|abc|later", again[0].message_id) == texts.STALE


async def test_later_today_with_no_slot_left_says_so_and_keeps_the_buttons(
    shipped_rules: Rules, db_url: str
) -> None:
    async with running_bot(shipped_rules, db_url, START) as h:
        await onboard(h, at="21:00")  # +2 h is in the quiet hours (21:30-07:00), then tomorrow
        reminder = await until_text(h, "Today's session", step=timedelta(hours=2), limit=24)
        assert await h.press(texts.BTN_LATER, message=reminder) == texts.NO_SLOT_TODAY
        assert h.message(reminder.message_id).buttons
        rows = await h.agenda(MessageKind.SESSION_REMINDER.value)
        assert not any(r.key.startswith("snooze:") for r in rows)


async def test_the_session_timer_switch_in_settings(shipped_rules: Rules, db_url: str) -> None:
    async with running_bot(shipped_rules, db_url, START, timer=TimerCache()) as h:
        await onboard(h)
        await h.say("/settings")
        assert "Session timer with run reminders: on" in h.last().text
        assert await h.press_data("v1|st|timer|maybe", h.last().message_id) == texts.STALE
        await h.press(texts.BTN_TIMER_OFF)
        assert h.last().text == texts.TIMER_NOW_OFF
        await into_run_walk(h)
        n = len(h.messages())
        await next_run(h)
        assert all(m.voice is None for m in h.messages()[n:]), "timer off: no voice"
        rid = await h.runner_id()
        assert rid is not None
        exported, _ = await svc.export_files(h.deps, rid)
        assert json.loads(exported)["runner"]["session_timer"] is False
        await h.say("/settings")
        assert "Session timer with run reminders: off" in h.last().text
        await h.press(texts.BTN_TIMER_ON)
        assert h.last().text == texts.TIMER_NOW_ON
        n = len(h.messages())
        await h.advance(timedelta(days=2))
        await until_text(h, "Today's session: jog", step=timedelta(hours=6), limit=12)
        assert any(m.voice is not None for m in h.messages()[n:]), h.sent_since(n)


async def test_an_old_reminder_the_runner_deleted_is_no_failure(
    shipped_rules: Rules, db_url: str
) -> None:
    async with running_bot(shipped_rules, db_url, START) as h:
        await onboard(h)
        reminder = await until_text(h, "Today's session", step=timedelta(hours=2), limit=24)
        await h.app.bot.delete_message(reminder.chat_id, reminder.message_id)  # gone
        await h.advance(timedelta(days=1))
        rows = await h.agenda(UNBUTTON)
        assert rows and all(r.status == "sent" for r in rows), [
            (r.status, r.last_error) for r in rows
        ]
        edits = h.standin.calls_to("editMessageReplyMarkup")
        mine = [
            c
            for c in edits
            if c.params.get("message_id") in (reminder.message_id, str(reminder.message_id))
        ]
        assert mine and not mine[0].ok  # Telegram said "not found": nothing left to do
