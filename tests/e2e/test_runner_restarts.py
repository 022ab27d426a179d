"""The bot restarts (a deploy, a crash) while a runner is mid-conversation: nothing is lost.
Each `running_bot` is a new process in all but name: a new Application, stand-in and engine on
the same database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot import texts
from bot.program.decision import MessageKind
from bot.program.loader import Rules
from tests.e2e.harness import (
    LOW_RISK_SITE,
    answer_followup,
    into_run_walk,
    next_run,
    onboard,
    report,
    running_bot,
)

START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


async def test_onboarding_resumes_at_the_same_step_after_a_restart(
    shipped_rules: Rules, db_url: str
) -> None:
    async with running_bot(shipped_rules, db_url, START) as h:
        await h.say("/start")
        await h.press("I agree")
        await h.press(LOW_RISK_SITE)
        assert texts.ASK_DIAGNOSIS in h.last().text

    async with running_bot(shipped_rules, db_url, START + timedelta(minutes=5)) as h:
        await h.say("/start")
        said = h.texts()
        assert said[0] == texts.ONBOARDING_RESUME, said
        assert said[1] == texts.ASK_DIAGNOSIS, said  # not consent, not the site again
        await h.press("4 weeks ago")
        assert texts.ASK_IMAGING in h.last().text
        # A second restart, this time the runner simply types the answer to the open step.
        await h.press("Don't know")

    async with running_bot(shipped_rules, db_url, START + timedelta(minutes=9)) as h:
        await h.say("yes")  # the open step is a yes/no readiness question
        assert "Are you" in h.last().text or "Can you" in h.last().text, h.texts()
        await h.say("yes")
        assert texts.ASK_DAYS in h.last().text, h.texts()
        for day in ("Tue", "Thu", "Sat"):
            await h.press(day)
        await h.press("Done")
        await h.say("07:00")
        await h.say("Europe/Berlin")
        await h.press("Yes")
        assert "All set" in h.texts()[-1], h.texts()
        state, _ = await h.program()
        assert state.profile.site_id == "posteromedial-tibia"
        assert state.profile.available_days == {1, 3, 5}
        assert state.phase_id == "low-strength"  # both readiness answers were kept


async def test_followup_still_arrives_at_24_hours_across_a_restart(
    shipped_rules: Rules, db_url: str
) -> None:
    async with running_bot(shipped_rules, db_url, START) as h:
        await onboard(h)
        await into_run_walk(h)
        await report(h, await next_run(h), pain=0, rpe=3)
        reported_at = h.clock.at
        state, _ = await h.program()
        assert len(state.open) == 1

    # Down for 20 hours; back before the follow-up is due.
    async with running_bot(shipped_rules, db_url, reported_at + timedelta(hours=20)) as h:
        await h.advance(timedelta(hours=3, minutes=59))
        assert not any("24-hour check" in t for t in h.texts())
        await h.advance(timedelta(minutes=1))
        assert any("24-hour check" in t for t in h.texts()), h.texts()
        row = (await h.agenda(MessageKind.FOLLOWUP.value))[-1]
        assert row.sent_at - reported_at == timedelta(hours=24)
        await answer_followup(h, pain_now=0)
        await h.tick()
        assert any(t.startswith("➡️ Staying at level 1") for t in h.texts()), h.texts()
        state, _ = await h.program()
        assert state.open == () and state.clear_at_level == 1
