"""A runner's months in the bot, compressed: onboarding, the strength phase, the run/walk gate,
sessions with their 24-hour follow-ups, and each decision explained in one sentence naming its
rule. Progress after the hold, a mild answer that holds, a painful follow-up that regresses,
and a red flag that stops everything and alerts the coach."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from bot import texts
from bot.program.decision import MessageKind
from bot.program.loader import Rules
from bot.program.state import Status
from tests.e2e.harness import (
    COACH,
    answer_followup,
    into_run_walk,
    local,
    next_run,
    onboard,
    report,
    running_bot,
    until_text,
)

# Monday 2026-03-02, 09:00 in Berlin.
START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def notices(texts_: list[str]) -> list[str]:
    return [t for t in texts_ if t.startswith(("⬆️", "➡️", "⬇️", "🛑", "⏸"))]


async def test_all_clear_sessions_progress_after_the_hold(
    shipped_rules: Rules, db_url: str
) -> None:
    async with running_bot(shipped_rules, db_url, START) as h:
        await onboard(h)
        state, _ = await h.program()
        assert state.phase_id == "low-strength"  # the gate answers at onboarding were yes
        await into_run_walk(h)
        assert any("New phase: “Run/walk" in t for t in h.texts())

        for n in (1, 2):
            reminder = await next_run(h)
            assert "jog 1:00, walk 5:00, ×5 — easy, flat, soft surface" in reminder.text
            await h.advance(timedelta(minutes=30))  # the runner reports at 07:30
            reported_at = h.clock.at
            await report(h, reminder, pain=0, rpe=3)
            await until_text(h, "24-hour check", step=timedelta(hours=1), limit=30)
            followup = (await h.agenda(MessageKind.FOLLOWUP.value))[-1]
            assert followup.sent_at is not None
            assert followup.sent_at - reported_at == timedelta(hours=24)
            before = len(h.messages())
            await answer_followup(h, pain_now=0)
            await h.tick()
            said = notices(h.sent_since(before))
            assert len(said) == 1, h.sent_since(before)
            if n == 1:
                assert said[0].startswith("➡️ Staying at level 1 of 7"), said
                assert "1 of 2 symptom-free sessions" in said[0]
                assert "(rule" not in said[0] and "progress-after-hold" not in said[0]
            else:
                assert said[0].startswith("⬆️ Up to level 2 of 7 (jog 1:00, walk 4:00, ×6)"), said
                assert "(rule" not in said[0] and "progress-after-hold" not in said[0]
            assert said[0].count(". ") == 0  # one sentence

        state, _ = await h.program()
        assert (state.phase_id, state.level) == ("low-run-walk", 1)
        reminder = await next_run(h)
        assert "jog 1:00, walk 4:00, ×6" in reminder.text

        # Every reminder went out at 07:00 on the runner's clock, on its day, except the one
        # for the run that replaced that morning's strength session when the gate passed: it
        # goes out at once (the strength reminder's buttons became stale).
        sent = [r for r in await h.agenda(MessageKind.SESSION_REMINDER.value) if r.sent_at]
        assert len(sent) >= 10
        late = [r for r in sent if local(r.sent_at).time() != time(7, 0)]
        assert len(late) <= 1, [(r.key, local(r.sent_at)) for r in late]
        for r in late:
            assert local(r.sent_at).date().isoformat() == r.payload["day"]
        assert all(len(t) <= texts.TELEGRAM_LIMIT for t in h.texts())


async def test_mild_pain_during_then_all_clear_holds_the_level(
    shipped_rules: Rules, db_url: str
) -> None:
    async with running_bot(shipped_rules, db_url, START) as h:
        await onboard(h)
        await into_run_walk(h)
        await report(h, await next_run(h), pain=2, rpe=4)
        await until_text(h, "24-hour check", step=timedelta(hours=1), limit=30)
        first_question = h.last_with_buttons()
        before = len(h.messages())
        await answer_followup(h, pain_now=0)
        await h.tick()
        said = notices(h.sent_since(before))
        assert len(said) == 1, h.sent_since(before)
        assert said[0].startswith("➡️ Holding level 1 of 7"), said
        assert "mild pain (up to 2/10) during the session" in said[0]
        assert "mild-hold" not in said[0] and "(rule" not in said[0]  # reasons, not rule ids
        state, version = await h.program()
        assert (state.level, state.clear_at_level, state.open) == (0, 0, ())

        # The follow-up's first button, pressed again after it was answered, changes nothing.
        pain_button = first_question.buttons[0][0][1]
        answered = await h.press_data(pain_button, first_question.message_id)
        assert answered == texts.STALE
        assert (await h.program())[1] == version


async def test_pain_at_24_hours_regresses_with_rest_days(shipped_rules: Rules, db_url: str) -> None:
    async with running_bot(shipped_rules, db_url, START) as h:
        await onboard(h)
        await into_run_walk(h)
        await report(h, await next_run(h), pain=0, rpe=3)
        await until_text(h, "24-hour check", step=timedelta(hours=1), limit=30)
        answered_on = local(h.clock.at).date()
        before = len(h.messages())
        await h.say("it hurts a bit")  # free text where the pain number is expected
        assert h.texts()[-2] == texts.BAD_NUMBER.format(lo=0, hi=10)
        assert h.texts()[-1].startswith("Pain at the injury site right now?")
        await answer_followup(h, pain_now=2, typed=True)  # "2", then "no" to each question
        assert h.texts().count(texts.SESSION_THANKS) >= 2, h.sent_since(before)
        await h.tick()
        said = notices(h.sent_since(before))
        assert len(said) == 1, h.sent_since(before)
        assert said[0].startswith(
            "⬇️ Back to level 1 of 7 (jog 1:00, walk 5:00, ×5) after 2 days without running"
        ), said
        assert "pain still there 24 hours later" in said[0]
        assert "pain-regress" not in said[0] and "(rule" not in said[0]
        state, _ = await h.program()
        assert state.impact_free_until == answered_on + timedelta(days=2)
        reminder = await next_run(h)
        run_day = local(h.clock.at).date()
        assert (run_day - answered_on).days >= 3, (answered_on, run_day, reminder.text)


async def test_red_flag_stops_alerts_the_coach_and_silences_reminders(
    shipped_rules: Rules, db_url: str
) -> None:
    async with running_bot(shipped_rules, db_url, START) as h:
        await h.say("/invite", user=COACH)
        invite = h.last(COACH).text
        assert "https://t.me/boneload_test_bot?start=" in invite, invite
        code = invite.split("start=")[1].split()[0].strip(".,)")
        await onboard(h, start=f"/start {code}")
        assert any("linked with coach Coach Sam" in t for t in h.texts())
        await into_run_walk(h)
        await report(h, await next_run(h), pain=1, rpe=3)
        await until_text(h, "24-hour check", step=timedelta(hours=1), limit=30)
        coach_before = len(h.messages(COACH))
        await answer_followup(h, pain_now=0, yes=("pain_night",))
        await h.tick()

        stop = [t for t in h.texts() if t.startswith("🛑")]
        assert len(stop) == 1, h.texts()[-4:]
        assert "Stop running and all impact now, and see a clinician" in stop[0]
        assert "pain that woke you at night" in stop[0]
        state, _ = await h.program()
        assert state.status is Status.RED_FLAG
        alerts = await h.agenda(MessageKind.COACH_ALERT.value)
        assert [a.status for a in alerts if a.key.startswith("alert:red:")] == ["sent"]
        assert len(h.messages(COACH)) > coach_before  # the coach got the alert

        before = len(h.messages())
        await h.advance(timedelta(days=5))
        assert not any("Today's session" in t for t in h.sent_since(before)), h.sent_since(before)
        await h.say("/today")
        assert h.last().text == texts.FLAGGED_STATE
        await h.say("/resume")  # only after a clinician's review
        assert h.last().text == texts.NEED_REVIEW
        await h.press("No")
        assert h.last().text == texts.FLAGGED_STATE
        assert (await h.program())[0].status is Status.RED_FLAG


async def test_reminders_stay_at_seven_local_across_the_clock_change(
    shipped_rules: Rules, db_url: str
) -> None:
    # Thursday 2026-03-26; Berlin moves from UTC+1 to UTC+2 on Sunday the 29th.
    async with running_bot(shipped_rules, db_url, datetime(2026, 3, 26, 12, 0, tzinfo=UTC)) as h:
        await onboard(h, days=("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"))
        await h.advance(timedelta(days=5))
        sent = [r for r in await h.agenda(MessageKind.SESSION_REMINDER.value) if r.sent_at]
        assert len(sent) >= 4, [(r.key, r.status) for r in await h.agenda()]
        assert {local(r.sent_at).time() for r in sent} == {time(7, 0)}
        utc_hours = {local(r.sent_at).date(): r.sent_at.astimezone(UTC).hour for r in sent}
        assert set(utc_hours.values()) == {5, 6}, utc_hours  # 06:00 UTC before, 05:00 after
