"""The energy-availability screen: consent first; the coach hears only when the runner agreed."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from bot.program.loader import Rules
from tests.e2e.harness import COACH, running_bot
from tests.e2e.test_journey import START, onboard


async def linked_runner(h) -> None:  # type: ignore[no-untyped-def]
    await h.say("/invite", user=COACH)
    code = re.search(r"start=(\S+)", h.last(COACH).text)
    assert code, h.last(COACH).text
    await h.say(f"/start {code.group(1)}")
    await onboard(h, site_label="Sacrum")
    # The sacrum waits for a clinician's clearance: let that notice (with its own button)
    # arrive before the screen's questions, so presses go to the screen.
    await h.tick()


@pytest.mark.parametrize("share", [True, False])
async def test_screen_shares_with_the_coach_only_with_consent(
    shipped_rules: Rules, db_url: str, share: bool
) -> None:
    async with running_bot(shipped_rules, db_url, START) as h:
        await linked_runner(h)
        before = len(h.messages(COACH))
        await h.say("/screen")
        assert "energy" in h.last().text
        await h.press("Yes")
        await h.press("Share with my coach" if share else "Keep it private")
        await h.press("Skip it")  # no menstrual question
        await h.press("Yes")  # skips meals
        for _ in range(2):
            await h.press("No")
        assert "dietitian" in h.last().text
        await h.advance(timedelta(minutes=1))
        coach_msgs = [m.text for m in h.messages(COACH)[before:]]
        alerts = [t for t in coach_msgs if "energy-availability" in t]
        assert len(alerts) == (1 if share else 0), coach_msgs
        if share:
            assert "energy-screen-escalate" in alerts[0]
            assert "skip" not in alerts[0].lower()  # the answers themselves stay private


async def test_declining_the_screen_stores_nothing(shipped_rules: Rules, db_url: str) -> None:
    async with running_bot(shipped_rules, db_url, START) as h:
        await onboard(h)
        await h.say("/screen")
        await h.press("No")
        assert "/screen" in h.last().text
        await h.press_data("v1|sc|share|y", h.last().message_id)
        assert (
            h.standin.answered_callbacks[-1].text
            == "This question has closed; nothing was changed."
        )


async def test_a_trabecular_site_is_offered_the_screen_at_enrolment(
    shipped_rules: Rules, db_url: str
) -> None:
    async with running_bot(shipped_rules, db_url, START) as h:
        await onboard(h, site_label="Sacrum")
        offer = next(m for m in reversed(h.messages()) if "energy" in (m.text or ""))
        await h.press("No", message=offer)
        # Said in place of the offer (the sacrum's clearance notice may arrive after it).
        assert "/screen" in h.message(offer.message_id).text


async def test_unlink_and_non_text_messages(shipped_rules: Rules, db_url: str) -> None:
    async with running_bot(shipped_rules, db_url, START) as h:
        await linked_runner(h)
        await h.say("/unlink")
        assert "no longer linked" in h.last().text
        await h.say("/unlink")
        assert "not linked" in h.last().text
        upd = h.standin.text_update(1001, "x")
        del upd["message"]["text"]
        upd["message"]["sticker"] = {
            "file_id": "s1",
            "file_unique_id": "s1",
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
        }
        await h.wait_processed(h.standin.push_update(upd))
        assert "only read text" in h.last().text
