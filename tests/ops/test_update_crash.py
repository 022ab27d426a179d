"""A real `boneload run` killed (SIGKILL) in the middle of handling a runner's button press.
Telegram delivers the update again to the restarted bot. Killed before the answer was stored,
the redelivery is handled as new (the update id used to be claimed in its own committed
transaction before the handler ran, so the redelivery was ignored and the answer lost). Killed
after it was stored, the update's id was stored with it, in one transaction: the redelivery is a
duplicate and the answer is not taken twice."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from bot import texts
from bot.standin import BotApiStandIn, RecordedCall, faults

pytestmark = [pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "7012345678:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw9"
RUNNER = 4545
SITE = "Inner edge of the shin bone (posteromedial tibia)"


def _polls(calls: Sequence[RecordedCall]) -> int:
    return sum(1 for c in calls if c.method == "getUpdates")


async def _spawn(db_url: str, standin: BotApiStandIn, tmp: Path) -> asyncio.subprocess.Process:
    env = {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE_URL": standin.base_url,
        "DATABASE_URL": db_url,
        "RULES_DIR": str(ROOT / "rules"),
        "LOG_LEVEL": "WARNING",
    }
    env.pop("WEBHOOK_URL", None)
    before = _polls(standin.calls)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", env=env, cwd=tmp, stderr=asyncio.subprocess.DEVNULL
    )
    # Ready once it long-polls (a bounded wait on a real process, no sleeping).
    await standin.wait_for(lambda calls: _polls(calls) > before or None, timeout=60)
    return proc


def _button(standin: BotApiStandIn, label: str) -> tuple[int, str] | None:
    for m in reversed(standin.messages_to(RUNNER)):
        for row in m.buttons:
            for text, data in row:
                if text == label and data:
                    return m.message_id, data
    return None


def _asked(standin: BotApiStandIn, needle: str) -> bool:
    return any(needle in (m.text or "") for m in standin.messages_to(RUNNER))


async def _killed_at_the_site_press(
    db_url: str, standin: BotApiStandIn, tmp: Path, hangs: str
) -> tuple[asyncio.subprocess.Process, dict[str, Any]]:
    """Onboard up to the site question, press the site with the Bot API call `hangs` hanging
    (as on a slow network), SIGKILL the bot right there and start it again. Returns the new
    process and the press, for the test to deliver again."""
    proc = await _spawn(db_url, standin, tmp)
    try:
        standin.push_text(RUNNER, "/start")
        agree = await standin.wait_for(lambda _: _button(standin, "I agree"), timeout=30)
        standin.press(RUNNER, *agree)
        site = await standin.wait_for(lambda _: _button(standin, SITE), timeout=30)
        standin.inject(hangs, faults.Timeout(seconds=30))
        update: dict[str, Any] = standin.callback_update(RUNNER, *site)
        standin.push_update(update)

        def hanging(calls: Sequence[RecordedCall]) -> bool:
            return any(c.method == hangs and c.fault for c in calls)

        await standin.wait_for(hanging, timeout=30)
    finally:
        proc.send_signal(signal.SIGKILL)
        await proc.wait()
    standin.clear_faults()
    return await _spawn(db_url, standin, tmp), update


async def test_sigkill_between_claim_and_effect_keeps_the_answer(
    db_url: str, tmp_path: Path
) -> None:
    """Killed while the spinner's answer hangs, before the answer was stored: the redelivery is
    handled as new, and a third delivery is recognised as a duplicate."""
    standin = BotApiStandIn()
    await standin.start()
    proc = None
    try:
        proc, update = await _killed_at_the_site_press(
            db_url, standin, tmp_path, "answerCallbackQuery"
        )
        assert not _asked(standin, texts.ASK_DIAGNOSIS)
        standin.push_update(update)  # Telegram redelivers what was not acknowledged
        await standin.wait_for(lambda _: _asked(standin, texts.ASK_DIAGNOSIS) or None, timeout=30)
        standin.push_update(update)
        standin.push_text(RUNNER, "/help")
        await standin.wait_for(
            lambda _: any("/today" in (m.text or "") for m in standin.messages_to(RUNNER)) or None,
            timeout=30,
        )
        # Handled once: the third delivery was recognised (a second handling would have answered
        # the press as a stale button).
        assert texts.STALE not in [a.text for a in standin.answered_callbacks]
    finally:
        if proc is not None and proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
            await asyncio.wait_for(proc.wait(), timeout=30)
        await standin.stop()


async def test_sigkill_after_the_commit_keeps_the_answer_once(db_url: str, tmp_path: Path) -> None:
    """Killed while the reply is on its way (the next question replaces the site question in
    place: that edit hangs, after the answer and the update's claim were committed together):
    the redelivery is a duplicate, the answer is stored once, and the runner's next /start
    resumes at the following question."""
    standin = BotApiStandIn()
    await standin.start()
    proc = None
    try:
        proc, update = await _killed_at_the_site_press(db_url, standin, tmp_path, "editMessageText")
        standin.push_update(update)  # the redelivery: already handled, dropped
        standin.push_text(RUNNER, "/start")
        await standin.wait_for(
            lambda _: (
                (_asked(standin, texts.ONBOARDING_RESUME) and _asked(standin, texts.ASK_DIAGNOSIS))
                or None
            ),
            timeout=30,
        )
        assert texts.STALE not in [a.text for a in standin.answered_callbacks]
        # Resumed after the stored site answer, not asked the site again.
        assert texts.ASK_DIAGNOSIS in (standin.messages_to(RUNNER)[-1].text or "")
    finally:
        if proc is not None and proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
            await asyncio.wait_for(proc.wait(), timeout=30)
        await standin.stop()
