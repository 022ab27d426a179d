"""Honest, human texts (issue 12), over HTTP against the stand-in: runners read reasons in plain
words and never a rule id; coaches read each reason beside its rule id, answers as the question's
words ("pain during the session: 8/10"), the trigger of every alert, and `/runner` with full site
names, local times with their zone and no "None"; and the contradictions found in the texts are
gone (a step back before running, a step back that escalates, a Regress at the bottom, "1 weeks
ago", the consent message edited away)."""

from __future__ import annotations

import json
from datetime import timedelta

from bot import texts
from bot import texts_coach as tc
from bot.program.loader import Rules
from bot.program.state import Status
from bot.services import coaches as csvc
from tests.e2e.harness import COACH, Harness, running_bot
from tests.e2e.test_coach_support import (
    LOW_SITE,
    START,
    advance_until,
    answer_questions,
    do_session,
    into_run_walk,
    invite,
    onboard,
    open_question,
    program,
    runner_id,
    sent,
    settle,
)

ANNA = 1401


def no_rule_ids(h: Harness, rules: Rules, user: int = ANNA) -> None:
    """Nothing the runner was sent names a rule: not "(rule …)", not an id of the rules."""
    ids = {c.id for c in rules.symptoms.classifications}
    acts = rules.symptoms.actions
    ids |= {acts.regress.id, acts.escalate.id, acts.red_flag.id, acts.coach.id, acts.progress.id}
    for text in sent(h, user):
        assert "(rule" not in text, text
        assert not [i for i in ids if i in text], text


async def test_consent_stays_readable_and_one_week_is_one_week(
    shipped_rules: Rules, db_url: str
) -> None:
    async with running_bot(shipped_rules, db_url, START) as h:
        await h.say("/start", user=ANNA)
        consent = h.last_with_buttons(ANNA)
        await h.press(texts.AGREE, user=ANNA, message=consent)
        kept = h.message(consent.message_id, ANNA)
        assert kept.text == texts.DISCLAIMER + texts.AGREED
        assert not kept.buttons, "answered: its buttons go, its text stays"
        assert h.last(ANNA).text == texts.ASK_SITE and h.last(ANNA).message_id != consent.message_id
        await h.press(LOW_SITE, user=ANNA)
        labels = h.last_with_buttons(ANNA).button_texts
        assert "1 week ago" in labels and "2 weeks ago" in labels, labels
        assert not [label for label in labels if label.startswith("1 weeks")]


async def test_a_step_back_that_escalates_is_one_message_with_its_reason(
    shipped_rules: Rules, db_url: str
) -> None:
    async with running_bot(shipped_rules, db_url, START) as h:
        await onboard(h, ANNA, name="Anna", code=await invite(h))
        anna = await runner_id(h, ANNA)
        await into_run_walk(h, anna)
        await do_session(h, ANNA, pain="4", rpe="3")  # pain above 2/10: a step back
        await settle(h)
        first = [t for t in sent(h, ANNA) if t.startswith("⬇️")]
        assert first == [
            "⬇️ Back to level 1 of 7 (jog 1:00, walk 5:00, ×5) after 2 days without running: "
            "pain above 2/10 during the session."
        ]
        n, c = len(sent(h, ANNA)), len(sent(h, COACH))
        await do_session(h, ANNA, pain="4", rpe="3")  # a second within 14 days: running paused
        await settle(h)
        assert (await program(h, anna))[0].status is Status.ESCALATED
        said = [t for t in sent(h, ANNA)[n:] if t.startswith(("⬇️", "⏸"))]
        assert said == [
            "⏸ Running is paused: you have had to step back more than once lately (this time: "
            "pain above 2/10 during the session). Your coach or clinician will review before "
            "you continue."
        ], said
        await h.say("/status", user=ANNA)
        status = h.last(ANNA).text
        assert "• " in status and "stepped back (pain above 2/10 during the session)" in status
        no_rule_ids(h, shipped_rules)

        (alert,) = [t for t in sent(h, COACH)[c:] if t.startswith("⏸ Repeated step-backs")]
        assert "Answers that flagged: –" not in alert and "level: –" not in alert
        assert (
            "Why: 2 step-backs within 14 days (repeat-regress-escalate); a step back, then 2 "
            "days without running (pain-regress); pain above 2/10 during the session "
            "(regress-pain-during)"
        ) in alert, alert
        assert "cross-training done, pain during 4" in alert, alert
        await h.say(f"/runner {anna}", user=COACH)
        view = next(t for t in reversed(sent(h, COACH)) if t.startswith("🟠 Anna"))
        assert (
            "regress, rule pain-regress, by runner: to level 1 of 7 (jog 1:00, walk 5:00, ×5), "
            "because: pain above 2/10 during the session (regress-pain-during)"
        ) in view, view

        assert "escalate, rule repeat-regress-escalate, by runner: after 2 step-backs" in view
        # The export keeps each rule id the decisions name beside its reason.
        await h.say("/export", user=ANNA)
        doc = next(m for m in h.messages(ANNA) if m.document is not None)
        data = json.loads(doc.document.content)
        assert data["reasons"]["regress-pain-during"] == "pain above 2/10 during the session"
        assert data["reasons"]["repeat-regress-escalate"] == "2 step-backs within 14 days"
        named = {a["rule"] for rec in data["decisions"] for a in rec["actions"]}
        assert "repeat-regress-escalate" in named and "pain-regress" in named


async def test_a_step_back_before_running_says_nothing_of_levels_or_running(
    shipped_rules: Rules, db_url: str
) -> None:
    async with running_bot(shipped_rules, db_url, START) as h:
        await onboard(h, ANNA, name="Anna", code=await invite(h))
        await do_session(h, ANNA)  # the strength phase: the red-flag watch follows next day
        await advance_until(
            h, lambda: open_question(h, ANNA, "f") is not None, limit=timedelta(days=3)
        )
        await answer_questions(h, ANNA, "f", {"pain_now": "2"})  # pain at 24 h: a step back
        await settle(h)
        said = [t for t in sent(h, ANNA) if t.startswith("⬇️")]
        assert said == [
            "⬇️ Easing off: pain still there 24 hours later. Take 2 days without impact (no "
            "hops, jumps or running); the rest of this phase carries on as planned."
        ], said
        assert not [t for t in sent(h, ANNA) if "Back to this phase" in t]
        no_rule_ids(h, shipped_rules)


async def test_a_coach_regress_at_the_bottom_says_it_holds_there(
    shipped_rules: Rules, db_url: str
) -> None:
    async with running_bot(shipped_rules, db_url, START) as h:
        await onboard(h, ANNA, name="Anna", code=await invite(h))
        anna = await runner_id(h, ANNA)
        await h.say(f"/regress {anna}", user=COACH)  # strength: no levels at all
        await settle(h)
        assert sent(h, ANNA)[-1] == (
            "Your coach asked for a step back. This phase has no levels to step back through, "
            "so it carries on as planned."
        )
        assert sent(h, COACH)[-1] == tc.DONE_REGRESS_BOTTOM.format(id=anna, rules="coach-decision")
        await into_run_walk(h, anna)
        h.clock.at += timedelta(minutes=5)
        before = (await program(h, anna))[0]
        await h.say(f"/regress {anna}", user=COACH)  # level 1 of 7: nowhere lower
        await settle(h)
        after = (await program(h, anna))[0]
        assert (after.phase_id, after.level, after.status) == (
            before.phase_id,
            before.level,
            Status.ACTIVE,
        )
        assert sent(h, ANNA)[-1] == (
            "Your coach asked for a step back, but you are already at the first level (level 1 "
            "of 7 (jog 1:00, walk 5:00, ×5)): holding here, and the symptom-free count at this "
            "level starts again."
        )
        assert not [t for t in sent(h, ANNA) if "moved you back" in t]
        assert sent(h, COACH)[-1].startswith("Runner #1 is already at the first level")
        no_rule_ids(h, shipped_rules)


async def test_a_red_flag_alert_and_runner_view_read_as_words(
    shipped_rules: Rules, db_url: str
) -> None:
    async with running_bot(shipped_rules, db_url, START) as h:
        await csvc.add_coach(h.deps, COACH, "Coach Sam", "Europe/Berlin")
        await onboard(h, ANNA, name="Anna", code=await invite(h))
        anna = await runner_id(h, ANNA)
        await into_run_walk(h, anna)
        c = len(sent(h, COACH))
        await do_session(h, ANNA, pain="8", rpe="4")  # severe pain during: a red flag
        await settle(h)
        assert sent(h, ANNA)[-1] == (
            "🛑 Stop running and all impact now, and see a clinician: severe pain during the "
            "session. Your coach has been told."
        )
        no_rule_ids(h, shipped_rules)

        (alert,) = [t for t in sent(h, COACH)[c:] if t.startswith("🛑 RED FLAG")]
        assert "Answers that flagged: pain during the session: 8/10" in alert, alert
        assert "pain_during" not in alert and "rpe" not in alert.lower(), (
            "4/10 effort flagged nothing"
        )
        assert "severe pain during the session (red-severe-pain-during)" in alert
        assert "(red-flag-stop)" in alert

        await h.say(f"/runner {anna}", user=COACH)
        view = next(t for t in reversed(sent(h, COACH)) if t.startswith("🛑 Anna"))
        assert f"Site: {LOW_SITE}" in view, view  # in full, not cut at 40 characters
        assert "None" not in view and "to_level" not in view and "because=" not in view
        assert "Stopped since 03 Mar 07:00 CET; not acknowledged" in view, view
        assert (
            "03 Mar 07:00 CET red flag, rule red-flag-stop, by runner: because: severe pain "
            "during the session (red-severe-pain-during)"
        ) in view, view
