"""A runner's journey through the real bot over HTTP: onboarding to sessions and follow-ups."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.program.loader import Rules
from tests.e2e.harness import running_bot

# Monday 2026-03-02 09:00 in Berlin.
START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


async def onboard(h, site_label: str = "Inner edge of the shin bone (posteromedial tibia)") -> None:
    await h.say("/start")
    await h.press("I agree")
    await h.press(site_label)
    await h.press("4 weeks ago")
    await h.press("Don't know")
    while (
        "Are you" in h.last().text or "Can you" in h.last().text or "cleared you" in h.last().text
    ):
        await h.press("Yes")
    for day in ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat"):
        await h.press(day)
    await h.press("Done")
    await h.say("07:00")
    await h.say("Berlin")
    await h.press("Yes")


async def test_onboarding_then_first_sessions(shipped_rules: Rules, db_url: str) -> None:
    async with running_bot(shipped_rules, db_url, START) as h:
        await onboard(h)
        texts = [m.text for m in h.messages()]
        assert any("All set" in t for t in texts), texts[-3:]
        # Tuesday 07:00 local: the first reminder.
        await h.advance(timedelta(hours=23))
        reminder = h.last_with_buttons()
        assert "Today's session" in reminder.text, reminder.text
        await h.press("Done ✅", message=reminder)
        assert "Pain at the injury site during the session" in h.last().text
        await h.press("0")
        await h.press("3")
        assert "Thanks" in h.messages()[-1].text or "Thanks" in h.messages()[-2].text
