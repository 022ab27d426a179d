"""Every coach alert says why in words beside its rule id (issue 12: "the trigger is always
shown"): the clearance request (with the runner's claim), a discharge, a review request, a
protocol switch or fallback and the screening alert, not rule ids alone."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from bot.program.loader import Rules
from bot.services import coaches as csvc
from tests.e2e.harness import COACH, Harness, running_bot
from tests.e2e.test_coach_support import (
    HIGH_SITE,
    INVITE_RE,
    START,
    invite,
    onboard,
    runner_id,
    settle,
)

NIA = 1501
WES = 1502


async def _view(h: Harness, runner: int, **payload: Any) -> str:
    """The alert as the coach would read it, for a payload the engine sends."""
    view = await csvc.alert_view(h.deps, SimpleNamespace(runner_id=runner, payload=payload), None)
    assert view is not None
    return view.text


async def test_a_clearance_request_says_why_beside_each_rule_id(
    shipped_rules: Rules, db_url: str
) -> None:
    async with running_bot(shipped_rules, db_url, START) as h:
        await onboard(
            h, NIA, name="Nia", code=await invite(h), site=HIGH_SITE, not_cleared=("running",)
        )
        await settle(h)
        claim = h.last_with_buttons(COACH).text or ""
        assert "reports that a clinician has cleared them" in claim, claim
        assert "(rules:" not in claim, claim
        assert (
            "Why: this site needs a clinician's clearance at every phase "
            "(clinician-clearance-required); "
        ) in claim, claim
        claim_words = "a runner's word is a request: only a clinician clears"
        assert f"{claim_words} (runner-claim-is-a-request)" in claim, claim
        assert "the gate into “" in claim, claim

        nia = await runner_id(h, NIA)
        review = await _view(
            h,
            nia,
            reason="review_requested",
            rules=["runner-resume-after-review", "runner-claim-is-a-request"],
            stopped="red_flag",
        )
        assert "(rules:" not in review
        assert (
            "Why: only a clinician's review lifts a stop (runner-resume-after-review); a "
            "runner's word is a request: only a clinician clears (runner-claim-is-a-request)"
        ) in review, review
        screen = await _view(h, nia, reason="screening", rules=[shipped_rules.habits.screening.id])
        assert "(rules:" not in screen and f"({shipped_rules.habits.screening.id})" in screen
        assert "Why: the energy-availability screen" in screen, screen


async def test_a_discharge_alert_says_why_beside_its_rule_id(
    shipped_rules: Rules, db_url: str
) -> None:
    async with running_bot(shipped_rules, db_url, START) as h:
        await h.say("/invite wm-cannon", user=COACH)
        m = INVITE_RE.search(h.last(COACH).text or "")
        assert m is not None, h.last(COACH).text
        await onboard(h, WES, name="Wes", code=m.group(2))
        wes = await runner_id(h, WES)
        # The payload the engine sends at discharge (tests/program/test_stages_and_discharge.py).
        text = await _view(
            h,
            wes,
            reason="discharged",
            rules=["wm-discharge"],
            site="posteromedial-tibia",
            phase="wm-continuous",
            level="wm-cont-45",
        )
        assert "is discharged" in text and "(rules:" not in text, text
        assert (
            "Why: the last level of the protocol is passed: the program ends here (wm-discharge)"
        ) in text, text
        switched = await _view(
            h,
            wes,
            reason="protocol_switched",
            rules=["coach-protocol-switch"],
            from_protocol="army-rct-low-risk",
            protocol="wm-cannon",
            by="Dr Who",
        )
        assert "(rules:" not in switched
        assert "Why: a clinician's recorded choice of protocol (coach-protocol-switch)" in switched
        fallback = await _view(
            h,
            wes,
            reason="protocol_fallback",
            rules=["invite-protocol-not-allowed"],
            asked="wm-cannon",
            protocol="army-rct-low-risk",
        )
        assert "(rules:" not in fallback
        assert (
            "Why: a protocol is chosen by the site's risk (invite-protocol-not-allowed)"
        ) in fallback, fallback
