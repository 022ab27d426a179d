"""Digits from other scripts ("²", "①", "٣") wherever a user types or a button carries a number:
`str.isdigit()` accepts them and `int()` rejects them (or reads "٣" as 3), which used to crash
the handler, leaving a pressed button's spinner unanswered. Now: a clear answer, never a crash."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot import texts
from bot import texts_coach as tc
from bot.conversation.callbacks import Kind, cb
from bot.conversation.numbers import parse_int
from bot.program.loader import Rules
from tests.e2e.harness import COACH, LOW_RISK_SITE, RUNNER, onboard, running_bot, until_text
from tests.e2e.test_coach_support import invite, runner_id
from tests.e2e.test_coach_support import onboard as onboard_with_coach

START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
ODD_DIGITS = ("²", "①", "٣", "12³")
PAIN_Q = "Pain at the injury site during the session?"


@pytest.mark.parametrize(
    ("text", "kw", "want"),
    [
        ("7", {}, 7),
        (" 42 ", {}, 42),
        ("-3", {"signed": True}, -3),
        ("-3", {}, None),
        ("11", {"hi": 10}, None),
        ("1234567", {"max_digits": 4}, None),
        ("²", {}, None),
        ("①", {}, None),
        ("٣", {}, None),
        ("3.5", {}, None),
        ("", {}, None),
    ],
)
def test_parse_int_reads_ascii_digits_only(text: str, kw: dict[str, int], want: int | None) -> None:
    assert parse_int(text, **kw) == want  # type: ignore[arg-type]


async def test_onboarding_diagnosis_and_day_buttons(shipped_rules: Rules, db_url: str) -> None:
    async with running_bot(shipped_rules, db_url, START) as h:
        await h.say("/start")
        await h.press("I agree")
        await h.press(LOW_RISK_SITE)
        for odd in ODD_DIGITS:
            await h.say(odd)
            assert h.texts()[-2:] == [texts.BAD_DATE, texts.ASK_DIAGNOSIS], odd
        await h.say("20")  # ASCII digits: days ago
        await h.press("Don't know")
        while "Are you" in h.last().text or "Can you" in h.last().text:
            await h.press("Yes")
        days = h.last_with_buttons()
        for odd in ODD_DIGITS:  # a forged day button: answered, nothing chosen
            assert await h.press_data(cb(Kind.ONBOARD, "days", odd), days.message_id) == (
                texts.USE_BUTTONS
            )
        await h.press("Wed")
        await h.press("Done")
        await h.say("07:00")
        await h.say("Berlin")
        await h.press("Yes")
        state, _ = await h.program()
        assert state.profile.available_days == {2}
        assert state.profile.diagnosis_date == (START - timedelta(days=20)).date()


async def test_typed_pain_and_session_button(shipped_rules: Rules, db_url: str) -> None:
    async with running_bot(shipped_rules, db_url, START) as h:
        await onboard(h)
        reminder = await until_text(h, "Today's session", step=timedelta(hours=23), limit=2)
        for odd in ODD_DIGITS:  # a session button whose reference is not an ASCII number
            assert await h.press_data(cb(Kind.SESSION, odd, "done"), reminder.message_id) == (
                texts.STALE
            )
        await h.press("Done ✅", message=reminder)
        bad = texts.BAD_NUMBER.format(lo=0, hi=10)
        for odd in ODD_DIGITS:
            await h.say(odd)
            assert h.texts()[-2] == bad, (odd, h.texts()[-2:])
            assert PAIN_Q in h.texts()[-1]
        assert await h.answers(stage="post") == []
        await h.say("3")
        assert [(a.question_id, a.value) for a in await h.answers(stage="post")] == [
            ("pain_during", 3)
        ]


async def test_coach_commands_with_odd_digits(shipped_rules: Rules, db_url: str) -> None:
    async with running_bot(shipped_rules, db_url, START) as h:
        await onboard_with_coach(h, 1301, name="Anna", code=await invite(h, COACH))
        rid = await runner_id(h, 1301)
        for odd in ODD_DIGITS:
            for command in ("/hold", "/runner", "/reply"):
                await h.say(f"{command} {odd} hi", user=COACH)
                assert h.last(COACH).text == tc.NO_SUCH_RUNNER, (command, odd)
        await h.say(f"/hold {rid}", user=COACH)
        assert f"#{rid}" in (h.last(COACH).text or "")
        assert RUNNER != 1301
