"""Operations: webhook secret checking, the health endpoint, and logs that keep secrets out."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import aiohttp
from aiohttp import web

from bot.logs import configure_logging
from bot.program.loader import Rules
from bot.runtime import WEBHOOK_PATH, webhook_app
from bot.services.deps import Deps
from bot.standin.server import BotApiStandIn
from bot.store.db import make_engine, make_sessionmaker
from bot.telegram.app import build_application

TOKEN = "7012345678:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw9"  # shape of a real token, not one
SECRET = "s3cret-Token_1"
RUNNER = 4242


@asynccontextmanager
async def webhook_bot(rules: Rules, db_url: str) -> AsyncIterator[tuple[BotApiStandIn, str, Any]]:
    standin = BotApiStandIn()
    await standin.start()
    engine = make_engine(db_url)
    deps = Deps(rules, make_sessionmaker(engine), clock=lambda: datetime(2026, 3, 2, 8, tzinfo=UTC))
    app = build_application(
        token=TOKEN,
        deps=deps,
        base_url=standin.base_url,
        base_file_url=standin.base_file_url,
        start_ticker=False,
    )
    runner = web.AppRunner(webhook_app(app, deps, SECRET))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        async with app:
            await app.start()
            yield standin, f"http://127.0.0.1:{port}", app
            await app.stop()
    finally:
        await runner.cleanup()
        await standin.stop()
        await engine.dispose()


async def test_webhook_refuses_missing_or_wrong_secret_and_processes_the_right_one(
    shipped_rules: Rules, db_url: str
) -> None:
    async with webhook_bot(shipped_rules, db_url) as (standin, base, _app):
        url = base + WEBHOOK_PATH
        update = standin.text_update(RUNNER, "/help")
        assert await standin.post_update_to_webhook(url, update) == 403
        assert await standin.post_update_to_webhook(url, update, secret_token="wrong") == 403
        assert standin.messages_to(RUNNER) == []
        assert await standin.post_update_to_webhook(url, update, secret_token=SECRET) == 200
        msgs = await standin.wait_for_messages(RUNNER, 1)
        assert "/today" in msgs[0].text


async def test_health_endpoint_reports_database_and_agenda(
    shipped_rules: Rules, db_url: str
) -> None:
    async with (
        webhook_bot(shipped_rules, db_url) as (_standin, base, _app),
        aiohttp.ClientSession() as http,
        http.get(base + "/healthz") as resp,
    ):
        assert resp.status == 200
        report = await resp.json()
    assert report["ok"] is True
    assert report["database"] == "ok"
    assert report["pending"] == 0 and report["failed"] == 0


async def test_logs_of_a_whole_conversation_hold_no_token_and_no_answers(
    shipped_rules: Rules, db_url: str
) -> None:
    stream = io.StringIO()
    configure_logging("DEBUG", "json", stream=stream, secrets=[TOKEN])
    try:
        async with webhook_bot(shipped_rules, db_url) as (standin, base, app):
            url = base + WEBHOOK_PATH
            steps = ["/start", "zzq private words about my shin", "/status", "Springfieldzzq"]
            for i, text in enumerate(steps):
                upd = standin.text_update(RUNNER, text)
                assert await standin.post_update_to_webhook(url, upd, secret_token=SECRET) == 200
                await standin.wait_for(lambda c, n=i: len(standin.messages_to(RUNNER)) > n or None)
            # Press "I agree" and the site, so health answers flow through the handlers too.
            first = standin.messages_to(RUNNER)[0]
            for label in ("I agree",):
                data = next(d for row in first.buttons for t, d in row if t == label)
                upd = standin.callback_update(RUNNER, first.message_id, data)
                await standin.post_update_to_webhook(url, upd, secret_token=SECRET)
            await standin.wait_for_call("answerCallbackQuery")
            app.bot_data["deps"].kick()
    finally:
        logging.getLogger().handlers.clear()
    logs = stream.getvalue()
    assert logs, "the conversation should have logged something"
    assert TOKEN not in logs
    assert TOKEN.split(":")[1] not in logs
    assert "zzq" not in logs
    for line in logs.splitlines():
        json.loads(line)  # one JSON object per line
