"""An escalate rule's `then: notify` as the coach meets it: an alert without buttons, and the runner
keeps going at the lower level (the zero-pain protocol, picked for low-risk sites here)."""

from __future__ import annotations

from dataclasses import replace

from bot import texts_coach as tc
from bot.program.loader import Rules
from bot.program.rules import Risk
from bot.program.state import Status
from tests.e2e.harness import COACH, running_bot
from tests.e2e.test_coach_support import (
    START,
    into_run_walk,
    invite,
    onboard,
    program,
    report_sessions,
    runner_id,
    sent,
    settle,
)

ANNA = 1301


async def test_a_step_back_under_the_zero_pain_rule_tells_the_coach_and_stops_nothing(
    shipped_rules: Rules, db_url: str
) -> None:
    by_risk = {Risk.HIGH: "high-risk", Risk.LOW: "zero-pain-low-risk"}
    rules = replace(
        shipped_rules, sites=shipped_rules.sites.model_copy(update={"protocol_by_risk": by_risk})
    )
    async with running_bot(rules, db_url, START) as h:
        await onboard(h, ANNA, name="Anna", code=await invite(h))
        anna = await runner_id(h, ANNA)
        assert (await program(h, anna))[0].protocol_id == "zero-pain-low-risk"
        await into_run_walk(h, anna)
        await report_sessions(h, anna, 1, [1], tick=True)  # 1/10 during: a step back
        await settle(h)
        state, _ = await program(h, anna)
        assert state.status is Status.ACTIVE and state.next is not None
        notices = [t for t in sent(h, COACH) if t.startswith("🔔 Anna")]
        assert len(notices) == 1, sent(h, COACH)
        assert "zp-tell-clinician" in notices[0] and "zp-regress" in notices[0]
        assert "keep running at the lower level" in " ".join(notices[0].split())
        assert "Why: a step back within 14 days (zp-tell-clinician)" in notices[0], notices[0]
        assert tc.STEP_BACK_NOTICE.split("{")[0] in notices[0]
        notice = next(m for m in h.messages(COACH) if (m.text or "").startswith("🔔 Anna"))
        assert notice.button_texts == [tc.BTN_MESSAGE_RUNNER], "nothing to decide: only writing"
