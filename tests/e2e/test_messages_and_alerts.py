"""Issue 12 over HTTP: a runner writes to their coach (free text is offered "Send this to your
coach?", or /coach <text>) and the coach replies with a button; the thread is in the runner's
record (/runner, export) and goes with /delete; the coach hears of a runner who joined through
their invite; alerts move new -> acknowledged -> resolved, /alerts lists what is open (own runners
only, most urgent first) and the digest counts it; the coach's /help and command menu."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta

from sqlalchemy import func, select

from bot import texts
from bot import texts_coach as tc
from bot.conversation.callbacks import Kind, cb
from bot.program.decision import MessageKind
from bot.program.loader import Rules
from bot.program.rules import Risk
from bot.program.state import Status
from bot.services import coaches as csvc
from bot.services import runners as rsvc
from bot.store.models import Alert, AlertState, ThreadMessage
from tests.e2e.harness import COACH, OTHER_COACH, Harness, running_bot
from tests.e2e.test_coach_support import (
    START,
    agenda_rows,
    answer_questions,
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

ANNA, BEN = 1401, 1402
ASK = "Can I go swimming on Sunday instead?"


def offer_of(h: Harness, user: int) -> object:
    return next(m for m in reversed(h.messages(user)) if texts.BTN_SEND_TO_COACH in m.button_texts)


async def alerts_of(h: Harness, rid: int) -> list[Alert]:
    async with h.deps.sessionmaker() as s:
        q = select(Alert).where(Alert.runner_id == rid).order_by(Alert.id)
        return list((await s.execute(q)).scalars())


async def thread_rows(h: Harness, rid: int | None = None) -> int:
    async with h.deps.sessionmaker() as s:
        q = select(func.count()).select_from(ThreadMessage)
        if rid is not None:
            q = q.where(ThreadMessage.runner_id == rid)
        return int(await s.scalar(q) or 0)


async def test_a_runner_writes_to_their_coach_and_the_coach_replies(
    shipped_rules: Rules, db_url: str
) -> None:
    async with running_bot(shipped_rules, db_url, START) as h:
        before = len(h.messages(COACH))
        await onboard(h, ANNA, name="Anna", code=await invite(h))
        anna = await runner_id(h, ANNA)
        await settle(h)
        # The coach is told in the same turn as the link, with a way to write to the runner.
        joined = [m for m in h.messages(COACH)[before:] if (m.text or "").startswith("👋")]
        assert len(joined) == 1, sent(h, COACH)[before:]
        assert f"Anna (#{anna})" in joined[0].text
        assert joined[0].button_texts == [tc.BTN_MESSAGE_RUNNER]

        # Free text outside any question: offered to the coach, sent only on the button.
        await h.say(ASK, user=ANNA)
        offer = h.last(ANNA)
        assert offer.text == texts.OFFER_TO_COACH.format(text=ASK)
        assert offer.button_texts == [texts.BTN_SEND_TO_COACH, texts.BTN_DONT_SEND]
        assert await thread_rows(h, anna) == 0
        n_coach = len(h.messages(COACH))
        await h.press(texts.BTN_SEND_TO_COACH, user=ANNA, message=offer)
        assert h.message(offer.message_id, ANNA).text == texts.SENT_TO_COACH.format(
            coach="Coach Sam"
        )
        await settle(h)
        (got,) = h.messages(COACH)[n_coach:]
        state, _ = await program(h, anna)
        phase = shipped_rules.protocols[state.protocol_id].phase(state.phase_id).name
        assert f"Anna (#{anna})" in got.text and ASK in got.text and phase in got.text
        assert got.button_texts == [tc.BTN_REPLY]
        # A second press on the same offer sends nothing more.
        assert await h.press_data(offer.buttons[0][0][1], offer.message_id, ANNA) == texts.STALE
        assert await thread_rows(h, anna) == 1

        # Reply: the coach's next text goes to Anna, with the coach's name.
        await h.press(tc.BTN_REPLY, user=COACH, message=got)
        assert h.last(COACH).text == tc.WRITE_TO_RUNNER.format(name="Anna", id=anna)
        await h.say("Yes, an easy swim is fine.", user=COACH)
        assert h.last(COACH).text == tc.SENT_TO_RUNNER.format(name="Anna", id=anna)
        await settle(h)
        assert "💬 From your coach Coach Sam: Yes, an easy swim is fine." in sent(h, ANNA)
        # The dialog is over: the coach's next text is not sent anywhere.
        await h.say("hello?", user=COACH)
        assert "hello?" not in " ".join(sent(h, ANNA))
        assert h.last(COACH).text == tc.COACH_FREE_TEXT

        # /coach <text> sends at once; the runner's answer goes back into the thread.
        await h.say("/coach Thanks!", user=ANNA)
        assert h.last(ANNA).text == texts.SENT_TO_COACH.format(coach="Coach Sam")
        await settle(h)
        assert "Thanks!" in h.last(COACH).text
        assert await thread_rows(h, anna) == 3

        # The thread is part of the record: /runner and the export.
        await h.say(f"/runner {anna}", user=COACH)
        thread = next(t for t in reversed(sent(h, COACH)) if t.startswith(tc.THREAD_HEADER))
        assert ASK in thread and "Yes, an easy swim is fine." in thread and "Thanks!" in thread
        js, _csv = await rsvc.export_files(h.deps, anna)
        record = json.loads(js)
        assert [m["direction"] for m in record["messages"]] == ["to_coach", "to_runner", "to_coach"]

        # /delete erases it with the runner.
        await h.say("/delete", user=ANNA)
        await h.press("Yes", user=ANNA)
        assert await thread_rows(h) == 0


async def test_stale_offers_no_coach_and_presses_that_are_not_yours(
    shipped_rules: Rules, db_url: str
) -> None:
    async with running_bot(shipped_rules, db_url, START) as h:
        await onboard(h, ANNA, name="Anna", code=await invite(h))
        anna = await runner_id(h, ANNA)
        await h.say("first thought", user=ANNA)
        first = offer_of(h, ANNA)
        await h.say("second thought", user=ANNA)
        second = offer_of(h, ANNA)
        assert first.message_id != second.message_id  # type: ignore[attr-defined]
        n_coach = len(h.messages(COACH))
        # The older offer was replaced: its button is stale and sends nothing.
        data = first.buttons[0][0][1]  # type: ignore[attr-defined]
        assert await h.press_data(data, first.message_id, ANNA) == texts.STALE  # type: ignore[attr-defined]
        assert await h.press(texts.BTN_DONT_SEND, user=ANNA, message=second) == texts.NOT_SENT
        assert (
            await h.press_data(
                second.buttons[0][0][1],
                second.message_id,
                ANNA,  # type: ignore[attr-defined]
            )
            == texts.STALE
        )
        await settle(h)
        assert len(h.messages(COACH)) == n_coach
        assert await thread_rows(h, anna) == 0
        # Forged data and another coach's press on Sam's runner.
        bogus = await h.press_data("v1|tc|zz|q", second.message_id, ANNA)  # type: ignore[attr-defined]
        assert bogus == texts.STALE
        m = h.last(COACH)
        await h.say("/alerts", user=OTHER_COACH)
        other = h.last(OTHER_COACH)
        assert await h.press_data(cb(Kind.THREAD, anna, "m"), other.message_id, OTHER_COACH) == (
            tc.NO_SUCH_RUNNER
        )
        assert await h.press_data("v1|kt|abc|m", m.message_id, COACH) == tc.ALREADY_HANDLED
        await h.say("to nobody", user=OTHER_COACH)
        assert "to nobody" not in " ".join(sent(h, ANNA))
        # A runner (Ben) who only pressed Message: not a coach.
        await onboard(h, BEN, name="Ben")
        ben_last = h.last(BEN).message_id
        assert await h.press_data(cb(Kind.THREAD, anna, "m"), ben_last, BEN) == tc.NOT_A_COACH
        # Without a coach: a clear answer, both ways.
        await h.say("hello there", user=BEN)
        assert h.last(BEN).text == texts.NO_COACH_TO_WRITE
        await h.say("/coach hi", user=BEN)
        assert h.last(BEN).text == texts.NO_COACH_TO_WRITE
        await h.say("/coach", user=BEN)
        assert h.last(BEN).text == texts.USAGE_COACH


async def test_the_pending_text_survives_a_restart(shipped_rules: Rules, db_url: str) -> None:
    async with running_bot(shipped_rules, db_url, START) as h:
        await onboard(h, ANNA, name="Anna", code=await invite(h))
        await h.say(ASK, user=ANNA)
        offer = offer_of(h, ANNA)
        data = offer.buttons[0][0][1]  # type: ignore[attr-defined]
    async with running_bot(shipped_rules, db_url, START + timedelta(minutes=3)) as h:
        await h.say("/help", user=ANNA)  # a message of this stand-in to press under
        await h.press_data(data, h.last(ANNA).message_id, ANNA)
        await settle(h)
        assert any(ASK in t for t in sent(h, COACH)), sent(h, COACH)


async def test_alert_life_cycle_and_the_alerts_list(shipped_rules: Rules, db_url: str) -> None:
    async with running_bot(shipped_rules, db_url, START) as h:
        await onboard(h, ANNA, name="Anna", code=await invite(h))
        anna = await runner_id(h, ANNA)
        sam = await csvc.find_coach(h.deps, COACH)
        assert sam is not None
        await h.say("/alerts", user=COACH)
        assert h.last(COACH).text == tc.ALERTS_NONE
        await into_run_walk(h, anna)
        await do_session(h, ANNA, pain="0", rpe="3")
        await wait_followup(h, ANNA)
        await answer_questions(h, ANNA, "f", {"pain_night": "y"})
        await settle(h)
        (alert,) = await alerts_of(h, anna)
        assert (alert.reason, alert.urgency, alert.state) == ("red_flag", 3, AlertState.NEW)
        assert alert.coach_id == sam.id and alert.acked_at is None

        pushed = next(m for m in reversed(h.messages(COACH)) if "RED FLAG" in (m.text or ""))
        assert pushed.button_texts[-1] == tc.BTN_MESSAGE_RUNNER
        # Another coach sees none of it.
        await h.say("/alerts", user=OTHER_COACH)
        assert h.last(OTHER_COACH).text == tc.ALERTS_NONE
        await h.say("/alerts", user=COACH)
        listed = h.last(COACH)
        assert f"Anna (#{anna})" in listed.text and "red flag" in listed.text
        assert tc.ALERT_STATE_NEW in listed.text
        assert listed.button_texts[:2] == [tc.BTN_ACK, tc.BTN_KEEP_STOPPED]
        assert listed.button_texts[-1] == tc.BTN_MESSAGE_RUNNER

        # Acknowledge (from the list) records who and when.
        await h.press(tc.BTN_ACK, user=COACH, message=listed)
        (alert,) = await alerts_of(h, anna)
        assert alert.state == AlertState.ACKNOWLEDGED
        assert alert.acked_by == f"coach:{sam.id}" and alert.acked_at == h.clock.at
        await h.say("/alerts", user=COACH)
        assert "acknowledged by Coach Sam" in h.last(COACH).text
        # A stale Acknowledge (the old push) changes nothing.
        await h.press(tc.BTN_ACK, user=COACH, message=pushed)
        (alert,) = await alerts_of(h, anna)
        assert alert.state == AlertState.ACKNOWLEDGED

        # Clear to continue asks first; Cancel lifts nothing; Confirm resolves the alert.
        listed = h.last(COACH)
        resume = next(b for b in listed.button_texts if b.startswith("Cleared"))
        await h.press(resume, user=COACH, message=listed)
        confirm = h.last(COACH)
        assert confirm.button_texts == [tc.BTN_CONFIRM, tc.BTN_CANCEL]
        await h.press(tc.BTN_CANCEL, user=COACH, message=confirm)
        assert (await program(h, anna))[0].status is Status.RED_FLAG
        assert (await alerts_of(h, anna))[0].state == AlertState.ACKNOWLEDGED
        await h.press(resume, user=COACH, message=listed)
        await h.press(tc.BTN_CONFIRM, user=COACH, message=h.last(COACH))
        assert (await program(h, anna))[0].status is not Status.RED_FLAG
        (alert,) = await alerts_of(h, anna)
        assert alert.state == AlertState.RESOLVED
        assert alert.resolved_by == f"coach:{sam.id}" and alert.resolved_at == h.clock.at
        assert alert.resolved_by_action
        await h.say("/alerts", user=COACH)
        assert h.last(COACH).text == tc.ALERTS_NONE


async def test_digest_counts_open_alerts(shipped_rules: Rules, db_url: str) -> None:
    async with running_bot(shipped_rules, db_url, START) as h:
        await onboard(h, ANNA, name="Anna", code=await invite(h))
        anna = await runner_id(h, ANNA)
        sam = await csvc.find_coach(h.deps, COACH)
        assert sam is not None
        await into_run_walk(h, anna)
        await do_session(h, ANNA, pain="0", rpe="3")
        await wait_followup(h, ANNA)
        await answer_questions(h, ANNA, "f", {"pain_night": "y"})
        await settle(h)
        digest = "\n".join(await csvc.digest_texts(h.deps, sam.id))
        assert tc.DIGEST_OPEN_ALERTS.format(n=1) in digest


async def test_coach_help_and_the_menu_set_when_a_coach_is_added(
    shipped_rules: Rules, db_url: str
) -> None:
    async with running_bot(shipped_rules, db_url, START) as h:
        await h.say("/help", user=COACH)
        assert h.last(COACH).text == tc.HELP_COACH
        new_coach = 4004
        # As `boneload coach add` does: the database only; the running bot sets the menu.
        await csvc.add_coach(h.deps, new_coach, "Coach Lee")
        rows = [r for r in await agenda_rows(h, kind=MessageKind.COACH_MENU.value)]
        assert rows
        await h.tick()
        scope = {"type": "chat", "chat_id": new_coach}
        menu = [name for name, _ in h.standin.my_commands(scope)]
        assert "alerts" in menu and "invite" in menu and "today" in menu


async def test_an_enrolled_runner_linking_later_is_announced_to_the_coach(
    shipped_rules: Rules, db_url: str
) -> None:
    async with running_bot(shipped_rules, db_url, START) as h:
        await onboard(h, BEN, name="Ben")
        ben = await runner_id(h, BEN)
        code = await invite(h)
        before = len(h.messages(COACH))
        await h.say(f"/start {code}", user=BEN, first_name="Ben")
        await settle(h)
        joined = [m for m in h.messages(COACH)[before:] if (m.text or "").startswith("👋")]
        assert len(joined) == 1 and f"Ben (#{ben})" in joined[0].text, sent(h, COACH)[before:]
        # Now Ben's free text is offered to the coach.
        await h.say("hello coach", user=BEN)
        assert h.last(BEN).text == texts.OFFER_TO_COACH.format(text="hello coach")


async def test_a_notice_is_listed_and_marked_seen(shipped_rules: Rules, db_url: str) -> None:
    """A step back under the zero-pain rule tells the coach (nothing to decide): it is an open
    alert until the coach marks it seen (or writes to the runner)."""
    by_risk = {Risk.HIGH: "high-risk", Risk.LOW: "zero-pain-low-risk"}
    rules = replace(
        shipped_rules, sites=shipped_rules.sites.model_copy(update={"protocol_by_risk": by_risk})
    )
    async with running_bot(rules, db_url, START) as h:
        await onboard(h, ANNA, name="Anna", code=await invite(h))
        anna = await runner_id(h, ANNA)
        await into_run_walk(h, anna)
        await report_sessions(h, anna, 1, [1], tick=True)
        await settle(h)
        (alert,) = await alerts_of(h, anna)
        assert (alert.reason, alert.urgency, alert.state) == ("step_back_notice", 0, "new")
        await h.say("/alerts", user=COACH)
        listed = h.last(COACH)
        assert listed.button_texts == [tc.BTN_NOTICE_SEEN, tc.BTN_MESSAGE_RUNNER]
        await h.say("/alerts", user=OTHER_COACH)
        other = h.last(OTHER_COACH).message_id
        seen = listed.buttons[0][0][1]
        assert await h.press_data(seen, other, OTHER_COACH) == tc.NO_SUCH_RUNNER
        assert (await alerts_of(h, anna))[0].state == AlertState.NEW
        assert await h.press(tc.BTN_NOTICE_SEEN, user=COACH, message=listed) == (
            tc.TOAST_NOTICE_SEEN
        )
        (alert,) = await alerts_of(h, anna)
        assert alert.state == AlertState.RESOLVED and alert.resolved_by_action == "seen"
        await h.say("/alerts", user=COACH)
        assert h.last(COACH).text == tc.ALERTS_NONE
