"""Operations: webhook secret checking, the health endpoint, and logs that keep secrets out."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import select

from bot.logs import configure_logging
from bot.program.loader import Rules
from bot.runtime import WEBHOOK_PATH, webhook_app
from bot.services.deps import Deps
from bot.settings import load_settings
from bot.standin.server import BotApiStandIn
from bot.store.db import make_engine, make_sessionmaker
from bot.store.models import Answer
from bot.telegram.app import build_application
from tests.e2e.harness import COACH, running_bot
from tests.e2e.test_coach_support import do_session, invite, onboard, runner_id, sent, settle

TOKEN = "7012345678:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw9"  # shape of a real token, not one
SECRET = "s3cret-Token_1"
NOW = datetime(2026, 3, 2, 8, tzinfo=UTC)
RUNNER = 4242


@dataclass
class MovableClock:
    at: datetime

    def __call__(self) -> datetime:
        return self.at


@asynccontextmanager
async def webhook_bot(
    rules: Rules, db_url: str, settings: Any = None, clock: MovableClock | None = None
) -> AsyncIterator[tuple[BotApiStandIn, str, Any]]:
    standin = BotApiStandIn()
    await standin.start()
    engine = make_engine(db_url)
    deps = Deps(rules, make_sessionmaker(engine), clock=clock or MovableClock(NOW))
    app = build_application(
        token=TOKEN,
        deps=deps,
        base_url=standin.base_url,
        base_file_url=standin.base_file_url,
        start_ticker=False,
    )
    runner = web.AppRunner(webhook_app(app, deps, SECRET, settings=settings))
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


async def test_health_endpoint_is_ok_or_fail_and_details_need_the_token(
    shipped_rules: Rules, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HEALTHZ_TOKEN", "health-token-123")
    settings = load_settings(env_file=None)
    clock = MovableClock(NOW)
    async with (
        webhook_bot(shipped_rules, db_url, settings, clock) as (_standin, base, app),
        aiohttp.ClientSession() as http,
    ):

        async def get(**kw: Any) -> tuple[int, dict[str, Any]]:
            async with http.get(base + "/healthz", **kw) as resp:
                return resp.status, await resp.json()

        # The ticker never ran: a dispatcher that is not ticking is not healthy.
        assert await get() == (503, {"ok": False})
        status, report = await get(headers={"X-Healthz-Token": "health-token-123"})
        assert status == 503 and report["database"] == "ok"
        assert report["last_tick_age_s"] is None and report["problems"]
        await app.bot_data["dispatcher"].tick()
        assert await get() == (200, {"ok": True})  # no counts without the token
        assert await get(params={"token": "wrong-token"}) == (200, {"ok": True})
        status, report = await get(params={"token": "health-token-123"})
        assert status == 200 and report["pending"] == 0 and report["failed"] == 0
        assert report["last_tick_age_s"] == 0
        clock.at = NOW + timedelta(minutes=3)  # the ticker stopped: 180 s > 120 s
        assert await get() == (503, {"ok": False})
        status, report = await get(params={"token": "health-token-123"})
        assert any("agenda ticker last ran 180 s ago" in p for p in report["problems"])


@pytest.mark.parametrize(
    "body", [b"[]", b'[{"update_id": 1}]', b'"text"', b"42", b"{not json", b"\xff\xfe"]
)
async def test_webhook_answers_400_to_anything_but_an_update_object(
    shipped_rules: Rules, db_url: str, body: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    async with (
        webhook_bot(shipped_rules, db_url) as (_standin, base, _app),
        aiohttp.ClientSession() as http,
        http.post(
            base + WEBHOOK_PATH,
            data=body,
            headers={"X-Telegram-Bot-Api-Secret-Token": SECRET, "Content-Type": "application/json"},
        ) as resp,
    ):
        assert resp.status == 400
    records = [r for r in caplog.records if r.name.startswith("bot.")]
    assert [r.getMessage() for r in records] == ["webhook request is not a Telegram update"]
    assert all(r.exc_info is None for r in caplog.records)


NAME = "Zelphine"
FREE_TEXT = "zzq private words about my shin"
COACH_TEXT = "Qwertyblue, ease off this week"
PAIN = 7  # typed; a value no log line may carry next to its question id


async def test_debug_logs_of_a_whole_conversation_hold_no_health_data_or_secret(
    shipped_rules: Rules, db_url: str
) -> None:
    """Everything a runner and a coach do, at LOG_LEVEL=DEBUG: no line may carry the runner's
    name, what they typed, their answers, the coach's message, the invite code or the token."""
    stream = io.StringIO()
    configure_logging("DEBUG", "json", stream=stream, secrets=["123456:test"])
    try:
        async with running_bot(shipped_rules, db_url, NOW) as h:
            code = await invite(h, COACH)
            await onboard(h, RUNNER, name=NAME, code=code)
            await h.say(FREE_TEXT, user=RUNNER, first_name=NAME)
            await do_session(h, RUNNER, pain=str(PAIN), rpe="6")
            rid = await runner_id(h, RUNNER)
            await h.say(f"/reply {rid} {COACH_TEXT}", user=COACH)
            await settle(h)
            assert any(COACH_TEXT in t for t in sent(h, RUNNER))
            async with h.deps.sessionmaker() as s:
                stored = {
                    (a.question_id, a.value)
                    for a in (await s.execute(select(Answer))).scalars()
                    if isinstance(a.value, int | str) and not isinstance(a.value, bool)
                }
    finally:
        logging.getLogger().handlers.clear()
    assert ("pain_during", PAIN) in stored  # the answers did reach the database
    logs = stream.getvalue()
    assert "agenda message sent" in logs  # the conversation was logged (ids only)
    for needle in (NAME, FREE_TEXT, "zzq", COACH_TEXT, "Qwertyblue", code, "123456:test"):
        assert needle not in logs, needle
    # Answer values next to their question ids, the way parameters and JSON columns show them.
    for qid, value in stored:
        assert not re.search(rf"{re.escape(str(qid))}\W{{1,6}}{re.escape(str(value))}\b", logs), qid
    assert "posteromedial" not in logs  # the injury site the runner chose
    for line in logs.splitlines():
        json.loads(line)  # one JSON object per line
