"""`boneload coach add/list/remove`: the operator registers, lists and removes coaches."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from typer.testing import CliRunner

from bot.cli import app
from bot.program.calendar import zone
from bot.program.decision import MessageKind
from bot.store import repo
from bot.store.db import make_engine, make_sessionmaker
from bot.store.models import Agenda, AgendaStatus
from bot.store.testing import sqlite_url

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[CliRunner, str]:
    url = sqlite_url(tmp_path / "cli.db")
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("RULES_DIR", str(ROOT / "rules"))
    monkeypatch.chdir(tmp_path)  # no stray .env from the working directory
    return CliRunner(), url


def listed(runner: CliRunner) -> list[dict[str, object]]:
    res = runner.invoke(app, ["coach", "list", "--json"])
    assert res.exit_code == 0, res.output
    rows: list[dict[str, object]] = json.loads(res.stdout)
    return rows


T = TypeVar("T")


def db(url: str, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run `work` in one transaction on the CLI's database (outside any event loop)."""

    async def go() -> T:
        engine = make_engine(url)
        try:
            async with make_sessionmaker(engine).begin() as s:
                return await work(s)
        finally:
            await engine.dispose()

    return asyncio.run(go())


def test_coach_add_list_remove(cli: tuple[CliRunner, str]) -> None:
    runner, url = cli
    add = ["coach", "add", "777", "--name", "Coach Lee"]
    res = runner.invoke(app, [*add, "--tz", "Europe/Berlin"])
    assert res.exit_code == 0, res.output
    assert "Coach Lee" in res.stdout and "registered" in res.stdout
    (row,) = listed(runner)
    coach_id = int(str(row["id"]))
    assert {k: row[k] for k in ("telegram_user_id", "name", "active", "runners")} == {
        "telegram_user_id": 777,
        "name": "Coach Lee",
        "active": True,
        "runners": 0,
    }
    table = runner.invoke(app, ["coach", "list"])
    assert table.exit_code == 0 and "Coach Lee" in table.stdout and "777" in table.stdout

    # Registration put the coach's first weekly digest on the agenda (Monday 08:00 Berlin).
    async def digest_rows(s: AsyncSession) -> list[tuple[int | None, str, datetime]]:
        rows = await s.execute(select(Agenda).where(Agenda.kind == MessageKind.DIGEST.value))
        return [(r.coach_id, r.status, r.due_at) for r in rows.scalars()]

    ((owner, status, due),) = db(url, digest_rows)
    assert (owner, status) == (coach_id, AgendaStatus.PENDING.value)
    assert f"{due.astimezone(zone('Europe/Berlin')):%a %H:%M}" == "Mon 08:00"

    # A runner linked to Lee.
    async def link(s: AsyncSession) -> int:
        r = await repo.create_runner(
            s,
            telegram_user_id=1,
            chat_id=1,
            timezone="UTC",
            now=datetime.now(UTC),
            display_name="Ada",
            coach_id=coach_id,
        )
        return r.id

    ada = db(url, link)
    assert listed(runner)[0]["runners"] == 1

    # Refusals: bad zone, empty name, unknown coach.
    bad = runner.invoke(app, ["coach", "add", "778", "--name", "X", "--tz", "Mars/Olympus"])
    assert bad.exit_code == 1 and "Mars/Olympus" in bad.output
    empty = runner.invoke(app, ["coach", "add", "778", "--name", "  "])
    assert empty.exit_code == 1
    unknown = runner.invoke(app, ["coach", "remove", "999"])
    assert unknown.exit_code == 1 and "999" in unknown.output
    assert len(listed(runner)) == 1

    # Remove: deactivated (kept for the audit trail), runners unlinked, not a coach any more.
    res = runner.invoke(app, ["coach", "remove", "777"])
    assert res.exit_code == 0, res.output
    assert "deactivated" in res.stdout
    (row,) = listed(runner)
    assert (row["active"], row["runners"]) == (False, 0)

    async def runner_coach(s: AsyncSession) -> int | None:
        r = await repo.get_runner(s, ada)
        assert r is not None
        return r.coach_id

    assert db(url, runner_coach) is None

    # Added again: active again, with the new time zone.
    res = runner.invoke(app, [*add, "--tz", "Asia/Tokyo"])
    assert res.exit_code == 0, res.output
    (row,) = listed(runner)
    assert row["active"] is True

    async def tz(s: AsyncSession) -> str | None:
        c = await repo.get_coach_by_telegram(s, 777)
        return c.timezone if c else None

    assert db(url, tz) == "Asia/Tokyo"
