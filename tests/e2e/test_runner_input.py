"""Bad input never crashes and never loses data: stale buttons, free text where a button or a
number was expected, a redelivered update, two presses at once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from bot import texts
from bot.conversation.callbacks import Kind, cb
from bot.program.events import SessionReported
from bot.program.loader import Rules
from bot.program.state import Outcome
from bot.services import runners as svc
from tests.e2e.harness import LOW_RISK_SITE, RUNNER, onboard, running_bot, until_text

START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
PAIN_Q = "Pain at the injury site during the session?"
RPE_Q = "How hard did it feel (RPE)?"


async def test_commands_before_onboarding_say_send_start(shipped_rules: Rules, db_url: str) -> None:
    async with running_bot(shipped_rules, db_url, START) as h:
        for command in ("/today", "/status", "/plan", "/export", "/delete", "/settings"):
            await h.say(command)
            assert h.last().text == texts.NOT_ENROLLED, (command, h.last().text)
            assert "/start" in h.last().text
        await h.say("hello?")
        assert h.last().text == texts.NOT_ENROLLED
        await h.say("/nonsense")
        assert h.last().text == texts.UNKNOWN_COMMAND
        await h.say("/help")
        assert h.last().text == texts.HELP
        assert await h.runner_id() is None


async def test_bad_invite_and_declined_consent(shipped_rules: Rules, db_url: str) -> None:
    async with running_bot(shipped_rules, db_url, START) as h:
        await h.say("/start not-a-real-code")
        assert h.texts() == [texts.INVITE_BAD, texts.DISCLAIMER]
        await h.press("No thanks")
        assert h.last().text == texts.DECLINED
        assert await h.runner_id() is None
        await h.say("3")  # nothing is open: no crash, a pointer to /start
        assert h.last().text == texts.NOT_ENROLLED
        await h.say("/start")
        assert h.last().text == texts.DISCLAIMER  # from the beginning, nothing was kept


async def test_free_text_during_onboarding(shipped_rules: Rules, db_url: str) -> None:
    async with running_bot(shipped_rules, db_url, START) as h:
        await h.say("/start")
        await h.say("whatever")  # consent wants a button (or yes/no)
        assert h.texts()[-2:] == [texts.USE_BUTTONS, texts.DISCLAIMER]
        await h.say("yes")
        await h.press(LOW_RISK_SITE)
        for nonsense in ("last spring", "2026-02-30", "2027-01-01"):
            await h.say(nonsense)
            assert h.texts()[-2:] == [texts.BAD_DATE, texts.ASK_DIAGNOSIS], nonsense
        await h.say("2026-02-01")
        assert texts.ASK_IMAGING in h.last().text
        await h.press("Don't know")
        while "Are you" in h.last().text or "Can you" in h.last().text:
            await h.press("Yes")
        await h.press("Wed")
        await h.press("Done")
        for nonsense in ("soon", "25:00", "7"):
            await h.say(nonsense)
            assert h.texts()[-2:] == [texts.BAD_TIME, texts.ASK_TIME], nonsense
        await h.say("6.45")
        for nonsense, error in (
            ("Atlantis", texts.BAD_TZ.format(text="Atlantis")),
            ("x" * 70, texts.BAD_TZ.format(text="x" * 64)),
        ):
            await h.say(nonsense)
            assert h.texts()[-2:] == [error, texts.ASK_TZ], nonsense
        await h.say("new york")  # a city, any case, with a space
        assert "(America/New_York). Right?" in h.last().text, h.last().text
        await h.press("Change")
        await h.say("Tokyo")
        assert "(Asia/Tokyo). Right?" in h.last().text
        assert "It's 17:00 where you are" in h.last().text  # 08:00 UTC
        await h.press("Yes")
        assert "All set" in h.last().text
        state, _ = await h.program()
        assert (state.profile.timezone, f"{state.profile.preferred_time:%H:%M}") == (
            "Asia/Tokyo",
            "06:45",
        )
        assert state.profile.diagnosis_date.isoformat() == "2026-02-01"


async def test_onboarding_button_from_an_earlier_step_is_closed(
    shipped_rules: Rules, db_url: str
) -> None:
    async with running_bot(shipped_rules, db_url, START) as h:
        await h.say("/start")
        consent = h.last_with_buttons()
        await h.press("I agree")
        site_q = h.last_with_buttons()
        await h.press(LOW_RISK_SITE)
        # Earlier steps' buttons (the data is what those buttons carried).
        for data in (cb(Kind.ONBOARD, "consent", "n"), cb(Kind.ONBOARD, "site", "navicular")):
            assert await h.press_data(data, site_q.message_id) == texts.STALE
        assert await h.press_data("v0|garbage", consent.message_id) == texts.STALE
        await h.say("/start")  # resumes the open step, not the old ones
        assert h.texts()[-2:] == [texts.ONBOARDING_RESUME, texts.ASK_DIAGNOSIS]
        await h.press("4 weeks ago")
        await h.press("Don't know")
        while "Are you" in h.last().text or "Can you" in h.last().text:
            await h.press("Yes")
        for day in ("Mon", "Wed", "Fri"):
            await h.press(day)
        await h.press("Done")
        await h.say("07:00")
        await h.say("Berlin")
        await h.press("Yes")
        state, version = await h.program()
        assert state.profile.site_id == "posteromedial-tibia"  # not the stale navicular press
        # After enrolment, any onboarding button is closed and the program is untouched.
        assert await h.press_data(cb(Kind.ONBOARD, "tz_ok", "n"), site_q.message_id) == texts.STALE
        assert (await h.program())[1] == version


async def _first_reminder(h) -> object:
    await onboard(h)
    return await until_text(h, "Today's session", step=timedelta(hours=23), limit=2)


async def test_free_text_for_session_questions(shipped_rules: Rules, db_url: str) -> None:
    async with running_bot(shipped_rules, db_url, START) as h:
        reminder = await _first_reminder(h)
        await h.press("Done ✅", message=reminder)
        assert PAIN_Q in h.last().text
        bad_number = texts.BAD_NUMBER.format(lo=0, hi=10)
        for typed in ("a bit", "11", "-1", "3.5"):
            await h.say(typed)
            assert h.texts()[-2] == bad_number, (typed, h.texts()[-2:])
            assert PAIN_Q in h.texts()[-1]  # the question again, with its buttons
            assert h.last().buttons
        assert await h.answers(stage="post") == []
        await h.say("3")  # typed instead of tapped
        assert RPE_Q in h.last().text
        n = len(h.texts())
        await h.say("2/10")
        # The thanks, then at once what the answers decided (pain 3 during: a step back).
        said = h.texts()[n:]
        assert said[0] == texts.SESSION_THANKS, said
        assert any(text.startswith("⬇️") for text in said), said
        post = {a.question_id: a.value for a in await h.answers(stage="post")}
        assert post == {"pain_during": 3, "rpe": 2}
        await h.say("and another thing")  # nothing open any more
        assert h.last().text == texts.NO_COACH_TO_WRITE  # no coach linked


async def test_stale_reminder_button_changes_nothing(shipped_rules: Rules, db_url: str) -> None:
    async with running_bot(shipped_rules, db_url, START) as h:
        reminder = await _first_reminder(h)
        state, version = await h.program()
        await h.advance(timedelta(days=1))  # the day ends unreported: the session slides
        state2, version2 = await h.program()
        assert state.next is not None and state2.next is not None
        assert state2.next.day > state.next.day
        for label in ("Done ✅", "Skip", "Couldn't finish"):
            assert await h.press(label, message=reminder) == texts.STALE
        assert (await h.program())[1] == version2
        assert version2 > version


async def test_stale_post_session_buttons_change_nothing(shipped_rules: Rules, db_url: str) -> None:
    async with running_bot(shipped_rules, db_url, START) as h:
        reminder = await _first_reminder(h)
        await h.press("Done ✅", message=reminder)
        question = h.last_with_buttons()
        pain_0 = question.buttons[0][0][1]
        await h.press("1", message=question)
        # The same message now asks RPE; its earlier pain buttons are closed.
        assert await h.press_data(pain_0, question.message_id) == texts.STALE
        await h.press("4")
        _, version = await h.program()
        assert await h.press_data(pain_0, question.message_id) == texts.STALE
        assert await h.press("Done ✅", message=reminder) == texts.STALE
        assert (await h.program())[1] == version
        post = [(a.question_id, a.value) for a in await h.answers(stage="post")]
        assert post == [("pain_during", 1), ("rpe", 4)]


async def test_a_redelivered_update_is_processed_once(shipped_rules: Rules, db_url: str) -> None:
    async with running_bot(shipped_rules, db_url, START) as h:
        reminder = await _first_reminder(h)
        await h.press("Done ✅", message=reminder)
        n = len(h.messages())
        update = h.standin.text_update(RUNNER, "2")
        h.standin.push_update(update)
        h.standin.push_update(update)  # Telegram delivers it again (same update_id)
        await h.wait_processed(update["update_id"])
        await h.say("/help")  # updates are handled in order: the duplicate is behind us
        replies = h.sent_since(n)
        assert replies[-1] == texts.HELP
        assert sum(RPE_Q in t for t in replies) == 1, replies
        assert [a.value for a in await h.answers(stage="post")] == [2]

        # A duplicated button press, too.
        question = h.last_with_buttons()
        press = h.standin.callback_update(RUNNER, question.message_id, question.buttons[0][3][1])
        h.standin.push_update(press)
        h.standin.push_update(press)
        await h.wait_processed(press["update_id"])
        await h.say("/help")
        assert h.texts().count(texts.SESSION_THANKS) == 1
        assert [(a.question_id, a.value) for a in await h.answers(stage="post")] == [
            ("pain_during", 2),
            ("rpe", 3),
        ]


async def test_two_presses_at_once_one_wins(shipped_rules: Rules, db_url: str) -> None:
    async with running_bot(shipped_rules, db_url, START) as h:
        reminder = await _first_reminder(h)
        # Two different answers to one open question, back to back (no wait in between).
        await h.press("Done ✅", message=reminder)
        question = h.last_with_buttons()
        first = h.standin.press(RUNNER, question.message_id, question.buttons[0][0][1])
        second = h.standin.press(RUNNER, question.message_id, question.buttons[0][2][1])
        await h.wait_processed(first)
        await h.wait_processed(second)
        stale = [a for a in h.standin.answered_callbacks if a.text == texts.STALE]
        assert len(stale) == 1
        assert [a.value for a in await h.answers(stage="post")] == [0]

        # Two reports of the same session decided at once (two instances, two tasks).
        state, version = await h.program()
        assert state.next is not None
        rid = await h.runner_id()
        seq = state.next.seq
        decisions = await asyncio.gather(
            svc.apply_event(
                h.deps,
                rid,
                SessionReported(seq, Outcome.DONE, 0, 3),
                actor="runner",
                report=(seq, Outcome.DONE, 0, 3),
            ),
            svc.apply_event(
                h.deps,
                rid,
                SessionReported(seq, Outcome.SKIPPED),
                actor="runner",
                report=(seq, Outcome.SKIPPED, None, None),
            ),
        )
        assert sorted(d.stale for d in decisions) == [False, True]
        state2, version2 = await h.program()
        assert version2 == version + 1
        assert state2.next is not None and state2.next.seq != seq
        # Pressing on after that: the open post-session question has closed.
        assert await h.press("3", message=h.last_with_buttons()) == texts.STALE
        assert (await h.program())[1] == version2


async def test_an_abandoned_question_does_not_swallow_later_messages(
    shipped_rules: Rules, db_url: str
) -> None:
    async with running_bot(shipped_rules, db_url, START) as h:
        first = await _first_reminder(h)
        await h.press("Done ✅", message=first)  # ...and never answers the pain question
        await h.advance(timedelta(days=1))  # the session slides to the next day
        reminder = [m for m in h.messages() if "Today's session" in (m.text or "")][-1]
        assert reminder.message_id != first.message_id and reminder.buttons
        await h.say("hello")
        assert h.last().text == texts.NO_COACH_TO_WRITE  # no coach linked
        await h.press("Done ✅", message=reminder)
        await h.say("1")  # typed answers reach today's questions
        await h.say("2")
        assert h.last().text == texts.SESSION_THANKS
        assert [a.value for a in await h.answers(stage="post")] == [1, 2]
        await h.say("hello again")
        assert h.last().text == texts.NO_COACH_TO_WRITE  # no coach linked
