"""`boneload coach remove ID`: the coach is no coach any more in Telegram. Their commands and
alert buttons are refused, and the coach command menu an earlier start set for their chat is
taken back (it used to stay, so Telegram kept offering them the coach commands)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

from bot import texts_coach as tc
from bot.program.loader import Rules
from bot.runtime import _main
from bot.settings import load_settings
from bot.standin.server import BotApiStandIn

TOKEN = "7012345678:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw9"
COACH = 2002
SCOPE = {"type": "chat", "chat_id": COACH}


async def cli(*args: str, db_url: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """`boneload ARGS` as an operator runs it, in a folder without the checkout's rules/."""
    env = {**os.environ, "DATABASE_URL": db_url, "LOG_LEVEL": "WARNING"}
    return await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "bot", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )


async def _run_once(rules: Rules, standin: BotApiStandIn, script) -> None:  # type: ignore[no-untyped-def]
    stop = asyncio.Event()
    task = asyncio.create_task(_main(load_settings(env_file=None), rules, TOKEN, stop))
    try:
        await script()
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=15)


async def test_a_removed_coach_is_refused_and_loses_the_coach_menu(
    shipped_rules: Rules, db_url: str, tmp_path: Path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    standin = BotApiStandIn(token=TOKEN)
    await standin.start()
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("TELEGRAM_API_BASE_URL", standin.base_url)
    monkeypatch.setenv("DATABASE_URL", db_url)
    try:
        added = await cli("coach", "add", str(COACH), "--name", "Sam", db_url=db_url, cwd=tmp_path)
        assert added.returncode == 0, added.stderr

        async def as_coach() -> None:
            await standin.wait_for_call("setMyCommands", count=3, timeout=15)  # en, de, the coach
            assert any(c == "runners" for c, _ in standin.my_commands(scope=SCOPE))
            standin.push_text(COACH, "/invite")
            msgs = await standin.wait_for_messages(COACH, 1, timeout=15)
            assert "start=" in (msgs[0].text or "")

        await _run_once(shipped_rules, standin, as_coach)

        removed = await cli("coach", "remove", str(COACH), db_url=db_url, cwd=tmp_path)
        assert removed.returncode == 0, removed.stderr
        listed = await cli("coach", "list", "--json", db_url=db_url, cwd=tmp_path)
        assert listed.returncode == 0, listed.stderr
        assert '"active": false' in listed.stdout

        async def removed_coach() -> None:
            await standin.wait_for_call("deleteMyCommands", timeout=15)
            assert standin.my_commands(scope=SCOPE) == []
            for i, command in enumerate(("/invite", "/runners", "/hold 1"), start=2):
                standin.push_text(COACH, command)
                msgs = await standin.wait_for_messages(COACH, i, timeout=15)
                assert msgs[-1].text == tc.NOT_A_COACH, command
            before = len(standin.answered_callbacks)
            for data in ("v1|k|1.1|hold", "v1|k|1.1|ack", "v1|kc|1.1|y"):
                standin.press(COACH, msgs[0].message_id, data)
            await standin.wait_for(
                lambda _: len(standin.answered_callbacks) >= before + 3 or None, timeout=15
            )
            for answer in standin.answered_callbacks[before:]:
                assert answer.text == tc.NOT_A_COACH

        await _run_once(shipped_rules, standin, removed_coach)
    finally:
        await standin.stop()
