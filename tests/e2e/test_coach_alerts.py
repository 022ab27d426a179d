"""Alerts a coach can act on, over HTTP: red flag → alert → Acknowledge, Keep stopped; a second
press, a racing press or another coach's press changes nothing; clearance at a gate (Cleared /
Not yet); a runner who blocked the bot; escalation after repeated step-backs → Cleared, one level
down after the rules' rest days, confirmed first. (More of issue 9 in test_safety_coach.py.)"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from bot import texts_coach as tc
from bot.program.decision import MessageKind
from bot.program.events import CoachVerb
from bot.program.loader import Rules
from bot.program.state import Status
from bot.services import coaches as csvc
from bot.standin.records import AnsweredCallback
from bot.telegram.render_coach import render_coach
from bot.texts import level_label
from tests.e2e.harness import COACH, OTHER_COACH, Harness, running_bot
from tests.e2e.test_coach_support import (
    HIGH_SITE,
    START,
    advance_until,
    agenda_rows,
    answer_questions,
    decisions,
    do_session,
    into_run_walk,
    invite,
    onboard,
    program,
    report_sessions,
    runner_id,
    sent,
    settle,
    wait_followup,
)

ANNA, NIA = 1201, 1202


def alert_buttons(rules: Rules, protocol_id: str, level: str, options: list[Any]) -> list[str]:
    """Acknowledge, Keep stopped, and one "Cleared: …" per way back the rules allow (a runner on
    the ladder's first level lands on it whatever the levels down)."""
    label = level_label(rules, protocol_id, level)
    return [
        tc.BTN_ACK,
        tc.BTN_KEEP_STOPPED,
        *(tc.BTN_RESUME_AT.format(level=label, rest=tc.rest_days(o.rest_days)) for o in options),
        tc.BTN_MESSAGE_RUNNER,  # every alert: write to the runner
    ]


def answered(h: Harness, user: int) -> list[AnsweredCallback]:
    return [a for a in h.standin.answered_callbacks if a.user_id == user]


async def test_red_flag_alert_hold_and_presses_that_change_nothing(
    shipped_rules: Rules, db_url: str
) -> None:
    async with running_bot(shipped_rules, db_url, START) as h:
        await onboard(h, ANNA, name="Anna", code=await invite(h))
        anna = await runner_id(h, ANNA)
        sam = await csvc.find_coach(h.deps, COACH)
        assert sam is not None
        await into_run_walk(h, anna)
        await do_session(h, ANNA, pain="0", rpe="3")
        await wait_followup(h, ANNA)
        before_alert = len(h.messages(COACH))

        asked = await answer_questions(h, ANNA, "f", {"pain_night": "y"})
        assert "pain_night" in asked
        flagged, flagged_version = await program(h, anna)
        assert flagged.status is Status.RED_FLAG
        level_before = flagged.level

        # Within one dispatcher tick: the alert row is due now and the tick sends it (and its
        # reminder waits 12 hours, called off by any act of the coach on the stop).
        rows = await agenda_rows(h, runner_id=anna, kind=MessageKind.COACH_ALERT.value)
        (row,) = [r for r in rows if not r.key.startswith("alert:again:")]
        assert row.due_at <= h.clock.at
        await settle(h)
        alerts = [m for m in h.messages(COACH)[before_alert:] if m.buttons]
        assert len(alerts) == 1, [m.text for m in h.messages(COACH)]
        alert = alerts[0]
        text = alert.text or ""
        level = level_label(shipped_rules, flagged.protocol_id, "rw-l0")
        for part in (
            "RED FLAG",
            f"Anna (#{anna})",
            "Inner edge of the shin bone (posteromedial tibia)",
            "low risk",
            "Run/walk bone-loading sessions",
            level,
            "pain at night: yes",
            "red-flag-stop",
            "red-night-pain",
            "Last sessions:",
            tc.STOP_NOTE,
        ):
            assert part in text, (part, text)
        options = list(shipped_rules.symptoms.actions.red_flag.resume)
        assert alert.button_texts == alert_buttons(
            shipped_rules, flagged.protocol_id, "rw-l0", options
        )
        for _, data in (b for row in alert.buttons for b in row):
            assert data is not None
            if data.split("|")[1] == "kt":  # Message runner names the runner only
                assert data.split("|")[2] == str(anna)
                continue
            assert data.split("|")[2] == f"{anna}.{flagged_version}"
            assert len(data.encode()) <= 64

        # Acknowledge: recorded through the engine, still stopped; the alert keeps its buttons
        # (at the new version) but Acknowledge.
        await h.press("Acknowledge", user=COACH, message=alert)
        assert answered(h, COACH)[-1].text == tc.TOAST_ACKNOWLEDGED
        acked, acked_version = await program(h, anna)
        assert acked.status is Status.RED_FLAG and acked.flag_ack == f"coach:{sam.id}"
        assert acked_version == flagged_version + 1
        alert = h.message(alert.message_id, COACH)
        assert (
            alert.button_texts
            == alert_buttons(shipped_rules, flagged.protocol_id, "rw-l0", options)[1:]
        )

        # Keep stopped: a coach decision that keeps the red flag, the runner told in a sentence.
        runner_msgs = len(h.messages(ANNA))
        await h.press(tc.BTN_KEEP_STOPPED, user=COACH, message=alert)
        assert answered(h, COACH)[-1].text == tc.TOAST_KEPT
        held, held_version = await program(h, anna)
        assert held.status is Status.RED_FLAG
        assert (held.phase_id, held.level) == (flagged.phase_id, level_before)
        assert held_version == acked_version + 1
        newest = (await decisions(h, anna))[0]
        assert newest.actor == f"coach:{sam.id}"
        assert newest.event == "CoachAction"
        assert any(a["act"] == "record" and a["rule"] == "coach-kept-stop" for a in newest.actions)
        assert "is still stopped (red flag): use /clear" in (h.last(COACH).text or "")
        await settle(h)
        told = [t for t in sent(h, ANNA)[runner_msgs:] if "Your coach" in t]
        assert len(told) == 1 and "kept" in told[0], told

        # Had the alert gone out only now with the stop lifted (say after retries), it would
        # come without buttons.
        lifted = await csvc.alert_view(h.deps, row, None)
        assert lifted is not None and lifted.offer is csvc.Offer.STOP  # still stopped
        await csvc.act(h.deps, sam, anna, CoachVerb.CLEAR, option="rf-same")
        late = await render_coach(h.deps, row, None)
        assert late is not None and [b.label for row in late.rows for b in row] == [
            tc.BTN_MESSAGE_RUNNER  # nothing left to act on; writing to the runner stays
        ]
        assert late.text.endswith(tc.ALERT_SETTLED.format(id=anna))
        cleared, cleared_version = await program(h, anna)
        assert cleared.status is Status.ACTIVE

        # The old alert's buttons, and those of alerts sent before this change: nothing
        # changes, and it says so.
        n_decisions = len(await decisions(h, anna))
        for data in (
            *(f"v1|k|{anna}.{flagged_version}|{v}" for v in ("hold", "regress", "clear", "pause")),
            f"v1|kr|{anna}.{held_version}|rf-down-1",
            f"v1|ky|{anna}.{held_version}|rf-down-1",
        ):
            await h.press_data(data, alert.message_id, COACH)
            last = answered(h, COACH)[-1]
            assert (last.text, last.show_alert) == (tc.ALREADY_HANDLED, True), data
        # Another coach pressing the same data (from a message in their own chat).
        await h.say("/runners", user=OTHER_COACH)
        kim_msg = h.last(OTHER_COACH)
        for verb in ("hold", "regress", "clear", "pause", "ack"):
            await h.press_data(
                f"v1|k|{anna}.{cleared_version}|{verb}", kim_msg.message_id, OTHER_COACH
            )
            last = answered(h, OTHER_COACH)[-1]
            assert (last.text, last.show_alert) == (tc.NO_SUCH_RUNNER, True)
        assert (await program(h, anna))[1] == cleared_version
        assert len(await decisions(h, anna)) == n_decisions
        assert not [m for m in h.messages(OTHER_COACH) if "Anna" in (m.text or "")]

        # The runner blocks the bot: the next send to them fails and the coach is told.
        await settle(h)
        h.standin.block_user(ANNA)

        # Two presses racing on one fresh version: exactly one takes effect.
        results = await asyncio.gather(
            *(
                csvc.act(h.deps, sam, anna, CoachVerb.REGRESS, expected_version=cleared_version)
                for _ in range(2)
            )
        )
        assert sum(r is not None for r in results) == 1, results
        assert (await program(h, anna))[1] == cleared_version + 1

        unreachable = tc.UNREACHABLE.format(name="Anna", id=anna)
        await advance_until(h, lambda: unreachable in sent(h, COACH), limit=timedelta(days=4))
        assert sent(h, COACH).count(unreachable) == 1


async def test_clearance_alert_not_yet_then_cleared(shipped_rules: Rules, db_url: str) -> None:
    async with running_bot(shipped_rules, db_url, START) as h:
        await onboard(
            h, NIA, name="Nia", code=await invite(h), site=HIGH_SITE, not_cleared=("running",)
        )
        nia = await runner_id(h, NIA)
        state, _ = await program(h, nia)
        # Her "yes, a clinician cleared me" at onboarding is a request: the coach is asked.
        assert state.phase_id == "high-protection"
        assert state.gate is not None and state.gate.awaiting_clearance
        await settle(h)
        claim = h.last_with_buttons(COACH)
        assert "reports that a clinician has cleared them" in (claim.text or ""), claim.text
        await h.press("Cleared", user=COACH, message=claim)
        for _ in range(3):  # on to strength, the coach's word at each step
            if (await program(h, nia))[0].phase_id == "high-strength":
                break
            await h.say(f"/advance {nia}", user=COACH)
        state, _ = await program(h, nia)
        assert state.phase_id == "high-strength"
        assert "running" not in state.clearances
        await settle(h)

        def gate_open() -> bool:
            return any("Ready for the next phase" in t for t in sent(h, NIA))

        await advance_until(h, gate_open, limit=timedelta(days=60))
        await answer_questions(h, NIA, "g", default="y")
        await settle(h)
        waiting, version = await program(h, nia)
        assert waiting.phase_id == "high-strength"
        assert waiting.gate is not None and waiting.gate.awaiting_clearance
        alert = h.last_with_buttons(COACH)
        assert alert.button_texts == ["Cleared", "Not yet", tc.BTN_MESSAGE_RUNNER]
        for part in (
            "Nia",
            f"#{nia}",
            "Navicular",
            "high risk",
            "Run/walk bone-loading",
            "clinician-clearance-required",
        ):
            assert part in (alert.text or ""), (part, alert.text)

        await h.press("Not yet", user=COACH, message=alert)
        assert answered(h, COACH)[-1].text == tc.NOT_YET_NOTED.format(id=nia)
        assert await program(h, nia) == (waiting, version)

        await h.press("Cleared", user=COACH, message=alert)
        assert answered(h, COACH)[-1].text == tc.DONE_BUTTON.format(verb="clear")
        cleared, _ = await program(h, nia)
        assert cleared.phase_id == "high-run-walk"
        assert cleared.status is Status.ACTIVE and "running" in cleared.clearances
        await settle(h)
        assert any("Run/walk bone-loading sessions" in t and "New phase" in t for t in sent(h, NIA))

        row = (await agenda_rows(h, runner_id=nia, kind=MessageKind.COACH_ALERT.value))[-1]
        assert row.payload["next_phase"] == "high-run-walk" and row.payload["claimed"] is False
        late = await render_coach(h.deps, row, None)
        assert late is not None and [b.label for row in late.rows for b in row] == [
            tc.BTN_MESSAGE_RUNNER  # nothing left to act on; writing to the runner stays
        ]

        # Pressed again (either button): already handled, nothing changes.
        after = await program(h, nia)
        for value in ("y", "n"):
            await h.press_data(f"v1|kc|{nia}.{version}|{value}", alert.message_id, COACH)
            last = answered(h, COACH)[-1]
            assert (last.text, last.show_alert) == (tc.ALREADY_HANDLED, True)
        assert await program(h, nia) == after


async def test_escalation_alert_cleared_one_level_down_after_confirm(
    shipped_rules: Rules, db_url: str
) -> None:
    async with running_bot(shipped_rules, db_url, START) as h:
        await onboard(h, ANNA, name="Anna", code=await invite(h))
        anna = await runner_id(h, ANNA)
        await into_run_walk(h, anna)
        await report_sessions(h, anna, 3, [0], tick=True)  # up a level first
        climbed, _ = await program(h, anna)
        # Pain above 2/10 in two sessions within 14 days: two regressions, then escalation.
        await report_sessions(h, anna, 12, [4], tick=True)
        escalated, version = await program(h, anna)
        assert escalated.status is Status.ESCALATED
        await settle(h)
        alert = h.last_with_buttons(COACH)
        level_ids = [
            lv.id
            for lv in shipped_rules.protocols[escalated.protocol_id]
            .phase(escalated.phase_id)
            .levels
        ]
        here, down = escalated.level, max(0, escalated.level - 1)
        options = {o.id: o for o in shipped_rules.symptoms.actions.escalate.resume}
        expected = [tc.BTN_ACK, tc.BTN_KEEP_STOPPED]
        for o in options.values():
            lands = level_ids[max(0, here - o.levels_down)]
            label = level_label(shipped_rules, escalated.protocol_id, lands)
            expected.append(tc.BTN_RESUME_AT.format(level=label, rest=tc.rest_days(o.rest_days)))
        expected.append(tc.BTN_MESSAGE_RUNNER)
        assert alert.button_texts == expected
        text = alert.text or ""
        assert text.startswith(f"⏸ Repeated step-backs: Anna (#{anna})"), text
        assert "repeat-regress-escalate" in text and "pain-regress" in text

        # "Cleared: resume one level down after 2 rest days": confirmed first, then done.
        await h.press(expected[2], user=COACH, message=alert)
        assert await program(h, anna) == (escalated, version)
        await h.press(tc.BTN_CONFIRM, user=COACH, message=h.last_with_buttons(COACH))
        after, _ = await program(h, anna)
        assert after.status is Status.ACTIVE
        assert after.level == down
        newest = (await decisions(h, anna))[0]
        assert newest.actor.startswith("coach:") and any(
            a["act"] == "resume" and a["rule"] == "esc-down-1" for a in newest.actions
        )
        await settle(h)
        assert any("Your coach" in t and "run again" in t for t in sent(h, ANNA))
        assert climbed.level >= escalated.level
