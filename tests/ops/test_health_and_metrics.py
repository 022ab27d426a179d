"""Health that notices a stopped dispatcher, Prometheus metrics, and the processed-updates table
kept bounded and keyed per bot."""

from __future__ import annotations

import asyncio
import os
import re
import socket
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
from sqlalchemy import func, select

from bot.program.decision import MessageKind
from bot.program.loader import Rules
from bot.runtime import _main
from bot.services.deps import Deps
from bot.settings import load_settings
from bot.standin.server import BotApiStandIn
from bot.store import agenda, ops, repo
from bot.store.db import make_engine, make_sessionmaker
from bot.store.models import ProcessedUpdate
from bot.telegram.app import build_application, serving
from tests.e2e.harness import RUNNER, running_bot

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "7012345678:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw9"
START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def _doctor(db_url: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": db_url, "LOG_LEVEL": "WARNING", "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-m", "bot", "doctor"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=90,
    )


async def test_doctor_fails_when_the_ticker_stopped_or_the_agenda_falls_behind(
    db_url: str, tmp_path: Path
) -> None:
    engine = make_engine(db_url)
    sm = make_sessionmaker(engine)
    now = datetime.now(UTC)
    try:
        result = await asyncio.to_thread(_doctor, db_url, tmp_path)
        assert result.returncode == 1 and "never run" in result.stderr, result.stderr

        async with sm.begin() as s:
            await ops.beat(s, "host-1", now - timedelta(minutes=10))
        result = await asyncio.to_thread(_doctor, db_url, tmp_path)
        assert result.returncode == 1
        assert re.search(r"agenda ticker last ran 6\d\d s ago", result.stderr), result.stderr
        assert "Traceback" not in result.stderr

        async with sm.begin() as s:
            await ops.beat(s, "host-2", now + timedelta(minutes=1))  # another instance ticks
        result = await asyncio.to_thread(_doctor, db_url, tmp_path)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "last_tick_age_s" in result.stdout and "agenda_lag_s" in result.stdout

        async with sm.begin() as s:
            r = await repo.create_runner(
                s, telegram_user_id=77, chat_id=77, timezone="UTC", now=now
            )
            await agenda.schedule(
                s,
                [
                    agenda.NewItem(
                        agenda.runner_scope(r.id),
                        "runner_notice",
                        "n:1",
                        now - timedelta(hours=1),
                        {},
                        r.id,
                    )
                ],
                now=now,
            )
        result = await asyncio.to_thread(_doctor, db_url, tmp_path)
        assert result.returncode == 1
        assert "oldest due message has waited" in result.stderr, result.stderr
    finally:
        await engine.dispose()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_metrics_endpoint_in_polling_mode(
    shipped_rules: Rules, db_url: str, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    standin = BotApiStandIn(token=TOKEN)
    await standin.start()
    port = _free_port()
    for key, value in {
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE_URL": standin.base_url,
        "DATABASE_URL": db_url,
        "DISPATCH_INTERVAL_SECONDS": "1",
        "METRICS_PORT": str(port),
    }.items():
        monkeypatch.setenv(key, value)
    engine = make_engine(db_url)
    now = datetime.now(UTC)
    async with make_sessionmaker(engine).begin() as s:
        runner = await repo.create_runner(
            s, telegram_user_id=1001, chat_id=1001, timezone="UTC", now=now
        )
        await agenda.schedule(
            s,
            [
                agenda.NewItem(
                    agenda.runner_scope(runner.id),
                    MessageKind.RUNNER_NOTICE.value,
                    "notice:m",
                    now,
                    {"code": "coach_message", "coach": "Sam", "text": "hello"},
                    runner.id,
                )
            ],
            now=now,
        )
    await engine.dispose()
    stop = asyncio.Event()
    task = asyncio.create_task(_main(load_settings(env_file=None), shipped_rules, TOKEN, stop))
    try:
        await standin.wait_for_messages(1001, 1, timeout=15)
        standin.push_text(1001, "/help")
        await standin.wait_for_messages(1001, 2, timeout=15)
        async with (
            aiohttp.ClientSession() as http,
            http.get(f"http://127.0.0.1:{port}/metrics") as resp,
        ):
            assert resp.status == 200
            assert resp.headers["Content-Type"].startswith("text/plain")
            body = await resp.text()
        for metric in (
            'boneload_agenda_sends_total{kind="runner_notice"}',
            'boneload_updates_handled_total{outcome="handled"}',
            "boneload_update_seconds_count",
            "boneload_agenda_lag_seconds 0.0",
            "boneload_coach_alerts_unacknowledged 0.0",
            "boneload_coach_alerts_unsent 0.0",
            "boneload_last_tick_age_seconds",
            "boneload_database_up 1.0",
            "boneload_agenda_send_window",
        ):
            assert metric in body, metric
        assert "boneload_agenda_send_failures_total" in body
        async with (
            aiohttp.ClientSession() as http,
            http.get(f"http://127.0.0.1:{port}/healthz") as resp,
        ):
            assert await resp.json() == {"ok": True}
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=15)
        await standin.stop()


async def test_processed_updates_are_pruned_on_the_schedule(
    shipped_rules: Rules, db_url: str
) -> None:
    standin = BotApiStandIn()
    await standin.start()
    engine = make_engine(db_url)
    deps = Deps(shipped_rules, make_sessionmaker(engine), clock=lambda: START)
    app = build_application(
        token=TOKEN, deps=deps, base_url=standin.base_url, keep_updates=timedelta(days=7)
    )
    try:
        async with deps.sessionmaker.begin() as s:
            await repo.claim_update(s, 1, now=START - timedelta(days=7, hours=1), bot_id=5)
            await repo.claim_update(s, 2, now=START - timedelta(days=6), bot_id=5)
        async with serving(app):  # as `boneload run` starts it: the ticker and the pruning
            (job,) = app.job_queue.get_jobs_by_name("prune")
            assert job.job.trigger.interval == timedelta(hours=1)
            await job.run(app)  # one scheduled run, now (not waiting an hour)
        async with deps.sessionmaker() as s:
            left = (await s.execute(select(ProcessedUpdate.update_id))).scalars().all()
        assert left == [2]
    finally:
        await standin.stop()
        await engine.dispose()


async def test_update_ids_of_another_bot_are_not_duplicates(
    shipped_rules: Rules, db_url: str
) -> None:
    async with running_bot(shipped_rules, db_url, START) as h:
        async with h.deps.sessionmaker.begin() as s:  # what a previous bot token handled
            for update_id in range(1, 6):
                await repo.claim_update(s, update_id, now=START, bot_id=999)
        h.standin._last_update_id = 0  # this bot's ids start again at 1
        # /start writes (the onboarding dialog), so its id is claimed with that write. (A pure
        # read such as /help claims nothing: answering its redelivery again changes nothing.)
        await h.say("/start")
        assert h.last(RUNNER).buttons, "the consent question, not dropped as a duplicate"
        async with h.deps.sessionmaker() as s:
            mine = await s.scalar(select(func.count()).where(ProcessedUpdate.bot_id == 123456))
        assert mine == 1
