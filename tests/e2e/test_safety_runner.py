"""Issue 9, the runner's side, over HTTP: only a clinician clears, a red-flag answer acts the
moment it is given (in every question flow), the symptom check at any time (/pain, the
"Report pain" keyboard button, free text that sounds like a symptom), and a runner with no
coach is never told "your coach has been told"."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bot import texts
from bot.program.decision import MessageKind
from bot.program.loader import Rules
from bot.program.state import Status
from tests.e2e.harness import COACH, RUNNER, Harness, running_bot
from tests.e2e.test_coach_support import (
    HIGH_SITE,
    LOW_SITE,
    START,
    advance_until,
    agenda_rows,
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
    wait_followup,
)

REPORT_PAIN = [[texts.BTN_REPORT_PAIN]]


def buttons(msg: Any) -> list[tuple[str, str]]:
    return [(label, data) for row in msg.buttons for label, data in row if data]


def kind_of(msg: Any) -> str | None:
    """The callback kind of a message's buttons ('s' reminder, 'f' check, 'g' gate, 'c'...)."""
    found = buttons(msg)
    return found[0][1].split("|")[1] if found else None


def ever_shown(h: Harness, user: int) -> list[str]:
    """Every text shown to `user`, including what edits replaced (questions asked in place)."""
    return [t or "" for m in h.messages(user) for t in (*m.previous_texts, m.text or m.caption)]


async def coach_alerts(h: Harness, rid: int, reason: str) -> list[Any]:
    rows = await agenda_rows(h, runner_id=rid, kind=MessageKind.COACH_ALERT.value)
    return [r for r in rows if (r.payload or {}).get("reason") == reason]


async def stopped_notice(h: Harness, user: int) -> str:
    await settle(h)
    stops = [t for t in sent(h, user) if t.startswith("🛑")]
    assert stops, sent(h, user)[-4:]
    return stops[-1]


# --- only a clinician clears -----------------------------------------------------------------


async def test_navicular_runner_who_says_yes_to_everything_never_runs_without_the_coach(
    shipped_rules: Rules, db_url: str
) -> None:
    async with running_bot(shipped_rules, db_url, START) as h:
        await onboard(h, RUNNER, code=await invite(h), site=HIGH_SITE, weeks="8 weeks ago")
        rid = await runner_id(h, RUNNER)
        asked = [t for t in ever_shown(h, RUNNER) if "cleared you for" in t]
        assert asked and all("ask your coach to confirm" in t for t in asked), asked
        state, _ = await program(h, rid)
        assert state.clearances == frozenset()
        assert state.claims  # what she said is a request to the coach, nothing more

        handled: set[int] = set()
        claims = 0
        end = h.clock.at + timedelta(days=35)
        while h.clock.at < end:  # ~5 weeks: every reminder done, every check all clear
            await h.advance(timedelta(hours=6))
            await h.dispatcher.join()
            for msg in h.messages(RUNNER):
                if msg.message_id in handled or not msg.buttons:
                    continue
                handled.add(msg.message_id)
                kind = kind_of(msg)
                if kind == "s" and "Today's session" in (msg.text or ""):
                    await h.press("Done ✅", message=msg)
                    await answer_questions(h, RUNNER, "p")
                elif kind == "f":
                    await answer_questions(h, RUNNER, "f")
                elif kind == "g":
                    await answer_questions(h, RUNNER, "g", default="y")
                elif kind == "c" and texts.BTN_CLAIM_CLEARED in msg.button_texts:
                    await h.press(texts.BTN_CLAIM_CLEARED, message=msg)
                    claims += 1

        reminders = [t for t in sent(h, RUNNER) if t.startswith("🏃 Today's session")]
        assert len(reminders) >= 10, reminders
        assert not [t for t in reminders if "jog" in t or "run " in t], reminders
        state, _ = await program(h, rid)
        assert state.clearances == frozenset()
        assert "run-walk" not in state.phase_id, state.phase_id
        assert state.gate is not None and state.gate.awaiting_clearance
        # The coach was asked; the runner's claim said so.
        asks = await coach_alerts(h, rid, "clearance_needed")
        assert asks and all(r.payload["claimed"] for r in asks), [r.payload for r in asks]
        waiting = [t for t in sent(h, RUNNER) if t.startswith("You're ready for")]
        assert waiting and "your coach has been asked" in waiting[0]
        if claims:
            assert any(
                t.startswith("Thanks. I've asked your coach to confirm") for t in sent(h, RUNNER)
            )


async def test_claim_button_pressed_again_or_when_nothing_waits_changes_nothing(
    shipped_rules: Rules, db_url: str
) -> None:
    async with running_bot(shipped_rules, db_url, START) as h:
        await onboard(h, RUNNER, code=await invite(h))  # low risk: nothing waits for a clinician
        rid = await runner_id(h, RUNNER)
        _, version = await program(h, rid)
        last = h.last(RUNNER)
        said = await h.press_data("v1|c|claim|y", last.message_id)
        assert said == texts.CLAIM_STALE
        assert (await program(h, rid))[1] == version
        assert not await coach_alerts(h, rid, "clearance_needed")


async def test_resume_after_a_red_flag_only_asks_the_coach(
    shipped_rules: Rules, db_url: str
) -> None:
    async with running_bot(shipped_rules, db_url, START) as h:
        await onboard(h, RUNNER, code=await invite(h))
        rid = await runner_id(h, RUNNER)
        await h.say("/pain")
        await answer_questions(h, RUNNER, "r", {"pain_night": "y"})
        assert (await program(h, rid))[0].status is Status.RED_FLAG
        await settle(h)

        await h.say("/resume")
        assert h.last(RUNNER).text == texts.NEED_REVIEW
        coach_before = len(h.messages(COACH))
        await h.press("Yes")
        await settle(h)
        state, _ = await program(h, rid)
        assert state.status is Status.RED_FLAG  # the runner's word lifts nothing
        (row,) = await coach_alerts(h, rid, "review_requested")
        assert row.status == "sent", row.status
        assert len(h.messages(COACH)) > coach_before
        told = sent(h, RUNNER)
        assert texts.REVIEW_NOTED in told
        assert any("Running stays stopped until your coach" in t for t in told), told[-3:]
        assert not any(t.startswith("▶️") for t in told)
        await h.say("/today")
        assert h.last(RUNNER).text == texts.FLAGGED_STATE
        assert "ask your coach to confirm" in texts.FLAGGED_STATE


# --- a red-flag answer acts at once ------------------------------------------------------------


async def test_red_flag_in_the_follow_up_acts_before_the_rest_is_answered(
    shipped_rules: Rules, db_url: str
) -> None:
    async with running_bot(shipped_rules, db_url, START) as h:
        await onboard(h, RUNNER, code=await invite(h))
        rid = await runner_id(h, RUNNER)
        await into_run_walk(h, rid)
        await do_session(h, RUNNER)
        await wait_followup(h, RUNNER)
        coach_before = len(h.messages(COACH))
        check = open_question(h, RUNNER, "f")
        ref = buttons(check)[0][1].split("|")[2].split(":")[0]
        await h.press_data(f"v1|f|{ref}:pain_now|0", check.message_id)
        await h.press_data(f"v1|f|{ref}:pain_rest|n", check.message_id)
        await h.press_data(f"v1|f|{ref}:pain_night|y", check.message_id)  # and stops answering

        state, _ = await program(h, rid)
        assert state.status is Status.RED_FLAG
        assert not h.message(check.message_id).buttons  # no more questions
        await h.tick()  # one dispatcher pass
        (alert,) = [
            r for r in await coach_alerts(h, rid, "red_flag") if r.key.startswith("alert:red")
        ]
        assert alert.status == "sent"
        assert len(h.messages(COACH)) > coach_before
        stop = await stopped_notice(h, RUNNER)
        assert "pain that woke you at night" in stop and "see a clinician" in stop
        answers = {(a.question_id, a.value) for a in await h.answers(stage="followup")}
        assert ("pain_night", True) in answers and ("pain_rest", False) in answers


async def test_severe_pain_during_a_session_acts_before_the_effort_question(
    shipped_rules: Rules, db_url: str
) -> None:
    async with running_bot(shipped_rules, db_url, START) as h:
        await onboard(h, RUNNER, code=await invite(h))
        rid = await runner_id(h, RUNNER)
        await do_session(h, RUNNER, pain="8")
        assert "How hard did it feel" not in h.last(RUNNER).text
        assert (await program(h, rid))[0].status is Status.RED_FLAG
        assert "severe pain during the session" in await stopped_notice(h, RUNNER)
        assert [r.status for r in await coach_alerts(h, rid, "red_flag")][:1] == ["sent"]


async def test_red_flag_in_the_watch_check_after_a_strength_session(
    shipped_rules: Rules, db_url: str
) -> None:
    async with running_bot(shipped_rules, db_url, START) as h:
        await onboard(h, RUNNER, code=await invite(h))
        rid = await runner_id(h, RUNNER)
        state, _ = await program(h, rid)
        assert state.phase_id == "low-strength"
        await do_session(h, RUNNER)  # a strength session, not a run
        await wait_followup(h, RUNNER)
        check = open_question(h, RUNNER, "f")
        assert check.text.startswith("A quick safety check after yesterday's session"), check.text
        coach_before = len(h.messages(COACH))
        asked = await answer_questions(h, RUNNER, "f", {"pain_rest": "y"})
        assert asked[-1] == "pain_rest", asked  # nothing asked after the red flag
        assert (await program(h, rid))[0].status is Status.RED_FLAG
        await h.tick()
        assert len(h.messages(COACH)) > coach_before
        assert "pain at rest" in await stopped_notice(h, RUNNER)


async def test_a_gate_no_that_means_a_red_flag_stops_at_once(
    shipped_rules: Rules, db_url: str
) -> None:
    async with running_bot(shipped_rules, db_url, START) as h:
        await onboard(h, RUNNER, code=await invite(h))
        rid = await runner_id(h, RUNNER)

        def gate_open() -> bool:
            return open_question(h, RUNNER, "g") is not None

        await advance_until(h, gate_open, limit=timedelta(days=20))
        asked = await answer_questions(h, RUNNER, "g", {"no_bone_tenderness": "n"}, default="y")
        assert asked[-1] == "no_bone_tenderness", asked
        assert (await program(h, rid))[0].status is Status.RED_FLAG
        assert "the bone hurting when pressed" in await stopped_notice(h, RUNNER)
        assert [r.status for r in await coach_alerts(h, rid, "red_flag")][:1] == ["sent"]


# --- report pain at any time -------------------------------------------------------------------


async def test_report_pain_button_and_command_open_the_check(
    shipped_rules: Rules, db_url: str
) -> None:
    async with running_bot(shipped_rules, db_url, START) as h:
        await onboard(h, RUNNER, code=await invite(h))
        rid = await runner_id(h, RUNNER)
        assert h.standin.reply_keyboard_of(RUNNER) == REPORT_PAIN
        assert "/pain" in texts.HELP and ("pain", "Report pain or a symptom") in texts.COMMANDS
        await h.say("/help")
        assert h.last(RUNNER).reply_keyboard == REPORT_PAIN

        # All clear through the keyboard button (which sends its label as text), typed answers.
        await h.say(texts.BTN_REPORT_PAIN)
        assert h.last(RUNNER).text.startswith(texts.PAIN_INTRO)
        assert h.last(RUNNER).text.endswith(
            "Pain at the injury site right now?\n0 = none · 10 = worst"
        )
        for bad, error in (("②", texts.BAD_NUMBER), ("a bit", texts.BAD_NUMBER)):
            await h.say(bad)
            assert sent(h, RUNNER)[-2] == error.format(lo=0, hi=10), bad
            assert "Pain at the injury site right now?" in sent(h, RUNNER)[-1]
        await h.say("0")
        await h.say("maybe")
        assert sent(h, RUNNER)[-2] == texts.USE_BUTTONS
        for _ in range(8):
            if not h.last(RUNNER).text.endswith("?"):
                break
            await h.say("no")
        assert texts.SESSION_THANKS in sent(h, RUNNER)[-2:]
        await settle(h)
        assert texts.NOTICES["symptoms_clear"] in sent(h, RUNNER)
        reported = await h.answers(stage="report")
        assert [a.question_id for a in reported][:2] == ["pain_now", "pain_rest"]
        assert all(a.seq is None for a in reported)
        assert (await program(h, rid))[0].status is Status.ACTIVE

        # /pain with buttons: a red flag stops at once; the old buttons are closed after.
        await h.say("/pain")
        check = h.last_with_buttons(RUNNER)
        first = buttons(check)[0][1]
        assert len(first.encode()) <= 64
        coach_before = len(h.messages(COACH))
        ref = first.split("|")[2].split(":")[0]
        for qid, value in (("pain_now", "0"), ("pain_rest", "n"), ("pain_night", "n")):
            await h.press_data(f"v1|r|{ref}:{qid}|{value}", check.message_id)
            assert (await program(h, rid))[0].status is Status.ACTIVE
        await h.press_data(f"v1|r|{ref}:pain_walking|y", check.message_id)
        assert not h.message(check.message_id).buttons  # nothing more is asked
        assert (await program(h, rid))[0].status is Status.RED_FLAG
        await h.tick()
        assert len(h.messages(COACH)) > coach_before
        assert "pain walking or in daily life" in await stopped_notice(h, RUNNER)
        _, flagged_version = await program(h, rid)
        assert await h.press_data(first, check.message_id) == texts.STALE
        assert await h.press_data("v1|r|123:limping|y", check.message_id) == texts.STALE
        assert (await program(h, rid))[1] == flagged_version

        # A duplicated update (Telegram delivers it twice): handled once.
        await h.say("/pain")
        update = h.standin.text_update(RUNNER, "0")
        h.standin.push_update(update)
        h.standin.push_update(update)
        await h.wait_processed(update["update_id"])
        await h.say("/help")
        assert sum("Any pain at rest" in t for t in sent(h, RUNNER)[-3:]) == 1, sent(h, RUNNER)[-3:]


async def test_free_text_that_sounds_like_a_symptom_is_offered_the_check(
    shipped_rules: Rules, db_url: str
) -> None:
    async with running_bot(shipped_rules, db_url, START) as h:
        await onboard(h, RUNNER, code=await invite(h))
        for said in ("my shin hurts at night", "it's sore", "swollen", "limping"):
            await h.say(said)
            assert h.last(RUNNER).text == texts.SYMPTOM_OFFER, said
        await h.say("hello there")  # not a symptom: offered to the coach instead
        assert h.last(RUNNER).text == texts.OFFER_TO_COACH.format(text="hello there")
        await h.say("my shin hurts at night")
        offer = h.last(RUNNER)
        await h.press(texts.BTN_SYMPTOM_CHECK, message=offer)
        assert h.last(RUNNER).text.startswith(texts.PAIN_INTRO)
        assert not h.message(offer.message_id).buttons


# --- a runner with no coach ---------------------------------------------------------------------


async def test_a_runner_with_no_coach_is_told_nobody_was_and_how_to_link(
    shipped_rules: Rules, db_url: str
) -> None:
    async with running_bot(shipped_rules, db_url, START) as h:
        await onboard(h, RUNNER)  # no invite: no coach
        rid = await runner_id(h, RUNNER)
        await h.say("/pain")
        await answer_questions(h, RUNNER, "r", {"pain_rest": "y"})
        stop = await stopped_notice(h, RUNNER)
        assert "coach has been told" not in stop.lower(), stop
        assert "nobody was told" in stop and "see a clinician" in stop
        assert "/invite" in stop and "/start <code>" in stop
        assert [r.status for r in await coach_alerts(h, rid, "red_flag")][:1] == ["dropped"]

        await h.say("/resume")
        await h.press("Yes")
        await settle(h)
        assert any("nobody could be asked" in t for t in sent(h, RUNNER)), sent(h, RUNNER)[-3:]
        assert (await program(h, rid))[0].status is Status.RED_FLAG

        # She gets an invite: /start <code> links an enrolled runner.
        code = await invite(h)
        coach_before = len(h.messages(COACH))
        await h.say(f"/start {code}")
        assert h.last(RUNNER).text == texts.LINKED.format(coach="Coach Sam")
        assert (await program(h, rid))[0].status is Status.RED_FLAG
        # ...and the stop that waited for a clinician reaches the coach now.
        await settle(h)
        linked = [r for r in await coach_alerts(h, rid, "red_flag") if ":linked:" in r.key]
        assert [r.status for r in linked] == ["sent"], [(r.key, r.status) for r in linked]
        assert len(h.messages(COACH)) > coach_before


async def test_a_high_risk_runner_with_no_coach_waiting_for_clearance_is_told_so(
    shipped_rules: Rules, db_url: str
) -> None:
    async with running_bot(shipped_rules, db_url, START) as h:
        await onboard(h, RUNNER, site=HIGH_SITE, weeks="8 weeks ago")
        await settle(h)
        waiting = [t for t in sent(h, RUNNER) if t.startswith("You're ready for")]
        assert waiting, sent(h, RUNNER)[-3:]
        assert "coach has been asked" not in waiting[0]
        assert "nobody has been asked" in waiting[0] and "/invite" in waiting[0]


# --- the imaging grade ------------------------------------------------------------------------


async def test_the_imaging_step_stores_the_grade_and_says_what_it_does(
    shipped_rules: Rules, db_url: str
) -> None:
    async with running_bot(shipped_rules, db_url, START) as h:
        await h.say("/start")
        await h.press("I agree")
        await h.press(LOW_SITE)
        await h.press("4 weeks ago")
        ask = h.last(RUNNER)
        assert "only sets expectations" not in ask.text
        assert "more days before running" in ask.text and "never speeds you up" in ask.text
        grades = ask.button_texts
        assert grades[-1] == "Don't know" and grades[0].startswith("Grade 1"), grades
        assert all(len(d.encode()) <= 64 for _, d in buttons(ask))
        await h.press("Grade 3: marrow oedema on T1", message=ask)
        # Grade 3 needs a clinician even on a low-risk site: the clearance questions follow.
        assert "cleared you for" in h.last(RUNNER).text, h.last(RUNNER).text
        while True:
            msg = h.last_with_buttons(RUNNER)
            step = buttons(msg)[0][1].split("|")[2]
            if not step.startswith(("clear:", "ask:")):
                break
            await h.press("Yes", message=msg)
        for day in ("Mon", "Wed", "Fri"):
            await h.press(day)
        await h.press("Done")
        await h.say("07:00")
        await h.say("Berlin")
        await h.press("Yes")
        state, _ = await program(h, await runner_id(h, RUNNER))
        assert (state.profile.imaging_system, state.profile.imaging_grade) == ("fredericson", "3")
        assert state.clearances == frozenset()
