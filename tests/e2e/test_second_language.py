"""A runner whose Telegram speaks German, over HTTP against the stand-in: onboarding, a session
reminder, the check-in after it, the 24-hour follow-up and a red flag, all in German; their
coach reads the alert in the coach's own language (English). The language is stored, changed
in /settings, and a scheduled message is rendered in the language of the moment it is sent.
The bot's command menus and descriptions are set per language at start-up."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bot import texts_coach
from bot.i18n import translations
from bot.program.loader import Rules
from bot.program.state import Status
from bot.services import coaches as csvc
from bot.store import repo
from tests.e2e.harness import COACH, Harness, running_bot
from tests.e2e.test_coach_support import (
    START,
    advance_until,
    answer_questions,
    into_run_walk,
    invite,
    open_question,
    program,
    runner_id,
    sent,
    wait_followup,
)

ANNA = 1301
# Words that only an English text would contain (the German catalog translates them all).
ENGLISH = (" the ", " your ", "You ", "session", "Pain", "Today", "coach has been told")


async def onboard_de(h: Harness, user: int, code: str) -> None:
    """The whole onboarding with the German buttons, Telegram set to Austrian German."""
    de = {"first_name": "Anna", "language_code": "de-AT"}
    await h.say(f"/start {code}", user=user, **de)
    assert "Ich bin boneload" in h.last(user).text
    await h.press("Einverstanden", user=user)
    assert h.last(user).text == "Wo ist deine Knochenstressverletzung?"
    await h.press("Innenkante des Schienbeins (posteromediale Tibia)", user=user)
    await h.press("vor 12 Wochen", user=user)
    await h.press("Weiß ich nicht", user=user)
    for _ in range(10):  # clearances and ability questions: all yes
        msg = h.last_with_buttons(user)
        if not any(label == "Ja" for row in msg.buttons for label, _ in row):
            break
        await h.press("Ja", user=user, message=msg)
    for day in ("Mo", "Di", "Mi", "Do", "Fr", "Sa"):
        await h.press(day, user=user)
    await h.press("Fertig", user=user)
    await h.say("07:00", user=user, **de)
    await h.say("Berlin", user=user, **de)
    await h.press("Ja", user=user)
    assert any("✅ Alles bereit" in t for t in sent(h, user)), sent(h, user)[-3:]


def reminder(h: Harness, user: int, needle: str, before: set[int]) -> Any:
    for m in reversed(h.messages(user)):
        if m.message_id not in before and needle in (m.text or "") and m.buttons:
            return m
    return None


def english_in(texts: list[str]) -> list[str]:
    return [t for t in texts if any(w in t for w in ENGLISH)]


async def test_the_whole_conversation_in_german_with_an_english_coach(
    shipped_rules: Rules, db_url: str
) -> None:
    async with running_bot(shipped_rules, db_url, START) as h:
        # Start-up: menus and profile texts for every language (English for all, then German).
        assert ("today", "Heutige Einheit") in h.standin.my_commands(language_code="de")
        assert ("today", "Today's session") in h.standin.my_commands()
        assert h.standin.my_description("de").startswith("boneload begleitet")
        assert h.standin.my_description().startswith("boneload guides")
        assert h.standin.my_short_description("de").startswith("Zurück zum Laufen")

        code = await invite(h)  # the coach's first contact: Telegram in English
        sam = await csvc.find_coach(h.deps, COACH)
        assert sam is not None and sam.language == "en"

        await onboard_de(h, ANNA, code)
        anna = await runner_id(h, ANNA)
        async with h.deps.sessionmaker() as s:
            stored = await repo.get_runner(s, anna)
        assert stored is not None and stored.language == "de"
        await into_run_walk(h, anna)

        # The reminder (scheduled, rendered at send time), in German, with German buttons.
        before = {m.message_id for m in h.messages(ANNA) if m.buttons}
        await advance_until(
            h,
            lambda: reminder(h, ANNA, "Heutige Einheit", before) is not None,
            limit=timedelta(days=8),
        )
        rem = reminder(h, ANNA, "Heutige Einheit", before)
        assert "joggen" in rem.text and "locker, flach, weicher Untergrund" in rem.text
        labels = [label for row in rem.buttons for label, _ in row]
        assert "Erledigt ✅" in labels and "Auslassen" in labels
        await h.press("Erledigt ✅", user=ANNA, message=rem)
        question = open_question(h, ANNA, "p")
        assert "Schmerzen an der verletzten Stelle während der Einheit?" in question.text
        assert "0 = keine · 10 = stärkste" in question.text
        await answer_questions(h, ANNA, "p", {"pain_during": "0", "rpe": "3"})
        assert any("Danke, gespeichert." in t for t in sent(h, ANNA))

        # The 24-hour follow-up, then a red flag: the runner hears it in German...
        await wait_followup(h, ANNA)
        followup = open_question(h, ANNA, "f")
        assert followup.text.startswith("24-Stunden-Check zur gestrigen Einheit"), followup.text
        coach_before = len(h.messages(COACH))
        await answer_questions(h, ANNA, "f", {"pain_night": "y"})
        state, _ = await program(h, anna)
        assert state.status is Status.RED_FLAG
        await advance_until(
            h, lambda: any("Hör sofort" in t for t in sent(h, ANNA)), limit=timedelta(hours=1)
        )
        stop = next(t for t in sent(h, ANNA) if "Hör sofort" in t)
        assert "Schmerzen, die dich nachts geweckt haben" in stop, stop  # the rules' reason
        assert "Dein Coach wurde informiert" in stop

        # ... and the coach reads the alert in the coach's own language.
        await advance_until(
            h, lambda: len(h.messages(COACH)) > coach_before, limit=timedelta(hours=1)
        )
        alert = "\n".join(sent(h, COACH)[coach_before:])
        assert "🛑 RED FLAG: Anna" in alert, alert
        assert "Inner edge of the shin bone" in alert

        # The runner's own views, in German too.
        for command, needle in (
            ("/status", "Letzte Entscheidungen"),
            ("/plan", "Das Laufen ist gestoppt"),  # stopped: the plan says so
            ("/history", "Lauf · erledigt"),
            ("/help", "/today — heutige Einheit"),
        ):
            await h.say(command, user=ANNA, language_code="de")
            assert needle in h.last(ANNA).text, (command, h.last(ANNA).text)

        # Everything the runner was sent after the language was known is German.
        leaks = english_in(sent(h, ANNA))
        assert not leaks, leaks


async def test_the_language_is_changed_in_settings_and_scheduled_messages_follow(
    shipped_rules: Rules, db_url: str
) -> None:
    async with running_bot(shipped_rules, db_url, START) as h:
        code = await invite(h)
        await onboard_de(h, ANNA, code)
        anna = await runner_id(h, ANNA)
        await into_run_walk(h, anna)

        await h.say("/settings", user=ANNA, language_code="de")
        assert "Sprache: Deutsch" in h.last(ANNA).text  # the language in use is shown
        await h.press("Sprache", user=ANNA)
        assert h.last(ANNA).text == "In welcher Sprache soll ich schreiben?"
        await h.press("English", user=ANNA)
        assert h.last(ANNA).text == "Saved: I'll write in English from now on."
        # The runner's own command menu follows the choice, not the phone's language.
        chat_menu = h.standin.my_commands(scope={"type": "chat", "chat_id": ANNA})
        assert ("today", "Today's session") in chat_menu
        async with h.deps.sessionmaker() as s:
            stored = await repo.get_runner(s, anna)
        assert stored is not None and stored.language == "en"

        # The reminder was scheduled while the runner read German; it is sent in English.
        before = {m.message_id for m in h.messages(ANNA) if m.buttons}
        await advance_until(
            h,
            lambda: reminder(h, ANNA, "Today's session", before) is not None,
            limit=timedelta(days=8),
        )
        # Telegram still says German; the stored choice wins for replies too.
        await h.say("/today", user=ANNA, language_code="de")
        assert "Heutige Einheit" not in h.last(ANNA).text


async def test_a_coach_chooses_their_own_language(shipped_rules: Rules, db_url: str) -> None:
    async with running_bot(shipped_rules, db_url, START) as h:
        await h.say("/language fr", user=COACH)
        assert h.last(COACH).text.startswith("Usage: /language <code>, one of: en (English)")
        await h.say("/language de", user=COACH)
        assert h.last(COACH).text == "Gespeichert: Ab jetzt schreibe ich dir auf Deutsch."
        sam = await csvc.find_coach(h.deps, COACH)
        assert sam is not None and sam.language == "de"
        # Telegram says English; the stored choice wins.
        await h.say("/runners", user=COACH, language_code="en")
        assert h.last(COACH).text.startswith("Du hast noch keine Läufer/innen")
        # Every coach command answers in it, not only those of the coach's main module.
        await h.say("/alerts", user=COACH, language_code="en")
        assert h.last(COACH).text == "Keine offenen Meldungen: Nichts wartet auf dich."
        await h.say("/help", user=COACH, language_code="en")
        assert h.last(COACH).text == translations("de").gettext(texts_coach.HELP_COACH)
