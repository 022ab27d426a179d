"""The CLI as an operator runs it (a subprocess, a folder of their own): a configuration or
connection problem is one clear line on stderr and a non-zero exit, never a traceback; `doctor`
creates nothing; commands that need no rules work outside the checkout."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.store.fixtures import require_pg

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "7012345678:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw9"


def boneload(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    full = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DATABASE_", "TELEGRAM_", "WEBHOOK_", "RULES_"))
    }
    # COLUMNS=80: a narrow terminal's width must not wrap an error line that is not on one.
    full.update({"COLUMNS": "80", "LOG_LEVEL": "WARNING", "RULES_DIR": str(ROOT / "rules")})
    full.update(env)
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        env=full,
        capture_output=True,
        text=True,
        timeout=90,
    )


def one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode != 0, result
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: "), lines
    return lines[0]


UNREACHABLE = {
    "sqlite-missing-folder": "sqlite+aiosqlite:////nonexistent-boneload-folder/sub/boneload.db",
    "postgres-refused": "postgresql+asyncpg://postgres:pw-secret-1@127.0.0.1:1/boneload",
    "postgres-unknown-host": "postgresql+asyncpg://postgres@no-such-host.invalid:5432/boneload",
}


@pytest.mark.parametrize("case", sorted(UNREACHABLE))
@pytest.mark.parametrize("command", [("run",), ("migrate",)])
def test_run_and_migrate_with_an_unusable_database_say_one_line(
    case: str, command: tuple[str, ...], tmp_path: Path
) -> None:
    url = UNREACHABLE[case]
    result = boneload(*command, cwd=tmp_path, DATABASE_URL=url, TELEGRAM_BOT_TOKEN=TOKEN)
    line = one_error_line(result)
    assert "DATABASE_URL" in line, line
    assert len(line) > 80  # long enough that an 80-column console would have wrapped it
    assert "pw-secret-1" not in result.stderr + result.stdout


@pytest.mark.postgres
@pytest.mark.parametrize("command", ["run", "migrate"])
def test_a_missing_postgres_database_is_one_line(command: str, tmp_path: Path) -> None:
    require_pg()
    base = os.environ["BONELOAD_TEST_PG_URL"].rsplit("/", 1)[0]
    result = boneload(
        command,
        cwd=tmp_path,
        DATABASE_URL=f"{base}/boneload_no_such_database",
        TELEGRAM_BOT_TOKEN=TOKEN,
    )
    line = one_error_line(result)
    assert "boneload_no_such_database" in line and "does not exist" in line, line


def test_agenda_on_an_unmigrated_database_points_to_migrate(tmp_path: Path) -> None:
    db = tmp_path / "empty.db"
    db.touch()
    result = boneload("agenda", cwd=tmp_path, DATABASE_URL=f"sqlite+aiosqlite:///{db}")
    assert "boneload migrate" in one_error_line(result)


def test_doctor_creates_no_database_and_points_to_migrate(tmp_path: Path) -> None:
    result = boneload("doctor", cwd=tmp_path)  # the default: boneload.db here
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "boneload migrate" in result.stderr
    assert not (tmp_path / "boneload.db").exists()
    result = boneload("doctor", "--json", cwd=tmp_path)
    assert result.returncode == 1 and json.loads(result.stdout)["ok"] is False
    assert not (tmp_path / "boneload.db").exists()


def test_doctor_on_an_empty_database_points_to_migrate(tmp_path: Path) -> None:
    db = tmp_path / "empty.db"
    db.touch()
    result = boneload("doctor", cwd=tmp_path, DATABASE_URL=f"sqlite+aiosqlite:///{db}")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "boneload migrate" in result.stderr


def test_database_commands_need_no_rules_directory(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'boneload.db'}"
    nowhere = {"DATABASE_URL": url, "RULES_DIR": str(tmp_path / "no-rules-here")}
    assert boneload("migrate", cwd=tmp_path, **nowhere).returncode == 0
    added = boneload("coach", "add", "2002", "--name", "Sam", cwd=tmp_path, **nowhere)
    assert added.returncode == 0, added.stderr
    listed = boneload("coach", "list", "--json", cwd=tmp_path, **nowhere)
    assert listed.returncode == 0, listed.stderr
    assert [c["name"] for c in json.loads(listed.stdout)] == ["Sam"]
    removed = boneload("coach", "remove", "2002", cwd=tmp_path, **nowhere)
    assert removed.returncode == 0, removed.stderr
    exported = boneload("export", "1", cwd=tmp_path, **nowhere)
    assert one_error_line(exported) == "error: no runner #1"
    assert "rules" not in exported.stderr


def test_version(tmp_path: Path) -> None:
    result = boneload("--version", cwd=tmp_path)
    assert result.returncode == 0
    assert result.stdout.startswith("boneload ")
