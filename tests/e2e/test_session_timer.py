"""The session timer over HTTP: a run/walk reminder arrives with a voice message of beeps, a
strength reminder without one, and a failed voice upload does not lose or repeat the reminder."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.program.decision import MessageKind
from bot.program.loader import Rules
from bot.standin import faults
from bot.timer.cache import TimerCache
from tests.e2e.harness import into_run_walk, next_run, onboard, running_bot

START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


async def test_run_walk_reminder_comes_with_a_timer_and_strength_without(
    shipped_rules: Rules, db_url: str
) -> None:
    cache = TimerCache()
    async with running_bot(shipped_rules, db_url, START, timer=cache) as h:
        await onboard(h)
        await into_run_walk(h)
        strength_reminders = [
            m for m in h.messages() if m.text and m.text.startswith("🏃 Today's session:")
        ]
        assert strength_reminders  # the strength phase had its reminders, none with a voice
        assert all(
            m.voice is None for m in h.messages()[: h.messages().index(strength_reminders[-1]) + 1]
        )
        reminder = await next_run(h)
        after = h.messages()[h.messages().index(reminder) + 1 :]
        voices = [m for m in after if m.voice is not None]
        assert len(voices) == 1, after
        voice = voices[0]
        # jog 1:00, walk 5:00, ×5 = 30 minutes, plus the lead-in and the end cue.
        assert 30 * 60 <= voice.voice_duration <= 30 * 60 + 10
        assert voice.voice.mime_type == "audio/ogg"
        assert voice.voice.content.startswith(b"OggS")
        assert "two rising beeps = run" in voice.plain_text
        assert cache.renders == 1
        # Each run reminder had its timer; uploaded once, then resent by Telegram's file id.
        sends = [c for c in h.standin.calls_to("sendVoice") if c.ok]
        assert len(sends) == len([m for m in h.messages() if m.voice is not None])
        assert all(c.params["voice"] == voice.voice.file_id for c in sends[1:])


async def test_a_failed_voice_upload_keeps_the_reminder_sent_once(
    shipped_rules: Rules, db_url: str
) -> None:
    async with running_bot(shipped_rules, db_url, START, timer=TimerCache()) as h:
        await onboard(h)
        h.standin.inject("sendVoice", faults.ServerError(), times=50)
        await into_run_walk(h)
        await next_run(h)
        assert all(m.voice is None for m in h.messages())
        assert h.standin.calls_to("sendVoice")  # it was tried
        # Every reminder row that counts as sent reached the runner exactly once.
        rows = await h.agenda(MessageKind.SESSION_REMINDER.value)
        sent_rows = [r for r in rows if r.sent_at]
        reminders = [m for m in h.messages() if (m.text or "").startswith("🏃 Today's session:")]
        assert len(reminders) == len(sent_rows) >= 2
