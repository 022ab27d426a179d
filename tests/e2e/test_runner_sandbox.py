"""`boneload try`: the offline sandbox starts, shows the real bot's first messages with
numbered buttons, presses by number, moves its clock, and leaves cleanly."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from bot import texts

ROOT = Path(__file__).resolve().parents[2]


def test_sandbox_chat_in_the_terminal(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "DATABASE_"))}
    done = subprocess.run(
        [sys.executable, "-m", "bot", "try", "--db", str(tmp_path / "try.db")],
        input="/start\n1\n/wait 1h\n/quit\n",
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=60,
        check=False,
    )
    out = done.stdout
    assert done.returncode == 0, done.stderr[-2000:]
    assert "boneload sandbox" in out
    first_line = texts.DISCLAIMER.splitlines()[0]
    assert f"[bot → runner] {first_line}" in out, out
    assert "coaching aid, not a diagnosis" in out
    assert "[1] I agree  [2] No thanks" in out  # buttons, numbered
    assert texts.ASK_SITE in out  # "1" pressed "I agree"
    assert "⏱  now" in out  # the clock moved
    assert (tmp_path / "try.db").exists()  # a named SQLite file is kept
    assert "Traceback" not in done.stderr, done.stderr[-2000:]
