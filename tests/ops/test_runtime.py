"""`boneload run` for real (polling against the stand-in): menus set, the ticker delivers, and
SIGTERM-style shutdown is clean."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from bot.program.decision import MessageKind
from bot.program.loader import Rules
from bot.runtime import _main
from bot.settings import load_settings
from bot.standin.server import BotApiStandIn
from bot.store import agenda, repo
from bot.store.db import make_engine, make_sessionmaker, migrate

TOKEN = "7012345678:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw9"


async def test_run_sets_menus_dispatches_due_messages_and_stops_cleanly(
    shipped_rules: Rules, db_url: str, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    standin = BotApiStandIn(token=TOKEN)
    await standin.start()
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("TELEGRAM_API_BASE_URL", standin.base_url)
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("DISPATCH_INTERVAL_SECONDS", "1")
    settings = load_settings(env_file=None)
    await migrate(db_url)
    engine = make_engine(db_url)
    now = datetime.now(UTC)
    async with make_sessionmaker(engine).begin() as s:
        coach = await repo.add_coach(s, telegram_user_id=2002, name="Sam", timezone="UTC", now=now)
        runner = await repo.create_runner(
            s, telegram_user_id=1001, chat_id=1001, timezone="UTC", now=now, coach_id=coach.id
        )
        await agenda.schedule(
            s,
            [
                agenda.NewItem(
                    scope=agenda.runner_scope(runner.id),
                    runner_id=runner.id,
                    kind=MessageKind.RUNNER_NOTICE.value,
                    key="notice:test",
                    due_at=now,
                    payload={"code": "coach_message", "coach": "Sam", "text": "hello"},
                )
            ],
            now=now,
        )
    await engine.dispose()
    stop = asyncio.Event()
    task = asyncio.create_task(_main(settings, shipped_rules, TOKEN, stop))
    try:
        msgs = await standin.wait_for_messages(1001, 1, timeout=15)
        assert "hello" in msgs[0].text
        assert standin.my_commands()  # the runner menu
        assert any(
            c == "runners" for c, _ in standin.my_commands(scope={"type": "chat", "chat_id": 2002})
        )
        standin.push_text(1001, "/help")
        msgs = await standin.wait_for_messages(1001, 2, timeout=15)
        assert "/today" in msgs[1].text
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=15)
        await standin.stop()
