#!/usr/bin/env python3
"""Set up and run boneload with nothing but Python installed.

    python3 dev.py start   # create .venv, install, then run the bot (token set) or the sandbox
    python3 dev.py test    # create .venv, install with test tools, run the whole test suite
    python3 dev.py check   # lint, format check and type check (what CI runs besides the tests)

Extra arguments after the command are passed on (e.g. `python3 dev.py test -k engine`).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
STAMP = VENV / ".installed"


LOCK = ROOT / "requirements.lock"


def _ensure_env() -> None:
    """(Re)install when pyproject.toml or the lock changed since the last install, so a pull is
    enough. The runtime dependencies come from requirements.lock, hash-checked (the versions the
    Docker image runs); then boneload itself and its test tools from pyproject.toml's ranges."""
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes())
    if LOCK.exists():
        digest.update(LOCK.read_bytes())
    want = digest.hexdigest()
    if STAMP.exists() and STAMP.read_text() == want:
        return
    if not (BIN / "python").exists():
        print("• creating .venv", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    print("• installing boneload and its test tools (first run takes a minute)", flush=True)
    pip = [str(BIN / "python"), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    if LOCK.exists():
        subprocess.run([*pip, "--require-hashes", "--no-deps", "-r", str(LOCK)], check=True)
    subprocess.run([*pip, "-e", f"{ROOT}[dev]"], check=True)
    STAMP.write_text(want)


def _token_configured() -> bool:
    if os.environ.get("TELEGRAM_BOT_TOKEN"):
        return True
    env = ROOT / ".env"
    if env.exists():
        for line in env.read_text().splitlines():
            key, _, value = line.partition("=")
            if key.strip() == "TELEGRAM_BOT_TOKEN" and value.strip():
                return True
    return False


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("start", "test", "check"):
        print(__doc__)
        return 2
    cmd, rest = argv[0], argv[1:]
    _ensure_env()
    os.chdir(ROOT)
    exe = str(BIN / "boneload")
    if cmd == "start":
        args = rest or (["run"] if _token_configured() else ["try"])
        return subprocess.call([exe, *args])
    if cmd == "test":
        return subprocess.call([str(BIN / "python"), "-m", "pytest", *rest])
    ruff, mypy = str(BIN / "ruff"), str(BIN / "mypy")
    for step in ([ruff, "check", "."], [ruff, "format", "--check", "."], [mypy, "bot"]):
        print("•", " ".join(Path(step[0]).name if i == 0 else s for i, s in enumerate(step)))
        if rc := subprocess.call(step):
            return rc
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
