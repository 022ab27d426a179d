"""WEBHOOK_URL is exactly what Telegram calls: setWebhook gets it unchanged and the listener
serves its path (it used to append /telegram to the documented .../telegram). https only, plain
http for 127.0.0.1/localhost."""

from __future__ import annotations

import asyncio
import socket

import aiohttp
import pytest

from bot.program.loader import Rules
from bot.runtime import _main
from bot.settings import ConfigError, load_settings
from bot.standin.server import BotApiStandIn

TOKEN = "7012345678:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw9"
SECRET = "s3cret-Token_1"
RUNNER = 4343


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize(
    "url",
    [
        "http://bot.example.org/telegram",
        "ftp://bot.example.org/telegram",
        "https:///telegram",
        "https://bot.example.org/healthz",
        "https://bot.example.org/metrics",
        "https://bot.example.org/telegram?x=1",
    ],
)
def test_webhook_url_must_be_https_with_a_path_of_its_own(
    url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WEBHOOK_URL", url)
    monkeypatch.setenv("WEBHOOK_SECRET", SECRET)
    with pytest.raises(ConfigError, match="WEBHOOK_URL"):
        load_settings(env_file=None)


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("https://bot.example.org/telegram", "/telegram"),
        ("https://bot.example.org/hooks/boneload", "/hooks/boneload"),
        ("https://bot.example.org", "/"),
        ("http://127.0.0.1:8443/telegram", "/telegram"),
        ("http://localhost:8443/tg", "/tg"),
    ],
)
def test_webhook_path_is_the_urls_own(url: str, path: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEBHOOK_URL", url)
    monkeypatch.setenv("WEBHOOK_SECRET", SECRET)
    settings = load_settings(env_file=None)
    assert settings.webhook_url == url
    assert settings.webhook_path == path


async def test_run_in_webhook_mode_registers_the_url_and_serves_it(
    shipped_rules: Rules, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    standin = BotApiStandIn(token=TOKEN)
    await standin.start()
    port = _free_port()
    url = f"http://127.0.0.1:{port}/telegram"  # as .env.example documents, on a local port
    for key, value in {
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE_URL": standin.base_url,
        "DATABASE_URL": db_url,
        "WEBHOOK_URL": url,
        "WEBHOOK_SECRET": SECRET,
        "WEBHOOK_LISTEN": "127.0.0.1",
        "WEBHOOK_PORT": str(port),
    }.items():
        monkeypatch.setenv(key, value)
    settings = load_settings(env_file=None)
    stop = asyncio.Event()
    task = asyncio.create_task(_main(settings, shipped_rules, TOKEN, stop))
    try:
        await standin.wait_for_call("setWebhook", timeout=15)
        assert standin.webhook_url == url  # nothing appended
        assert standin.webhook_secret == SECRET
        update = standin.text_update(RUNNER, "/help")
        status = await standin.post_update_to_webhook(standin.webhook_url, update, SECRET)
        assert status == 200
        msgs = await standin.wait_for_messages(RUNNER, 1, timeout=15)
        assert "/today" in (msgs[0].text or "")
        async with (
            aiohttp.ClientSession() as http,
            http.post(
                url + "/telegram", json=update, headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}
            ) as resp,
        ):
            assert resp.status == 404  # the doubled path of old is not served
        async with (
            aiohttp.ClientSession() as http,
            http.get(f"http://127.0.0.1:{port}/metrics") as resp,
        ):
            assert resp.status == 200  # the webhook port also serves the Prometheus metrics
            assert 'boneload_updates_handled_total{outcome="handled"}' in await resp.text()
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=15)
        await standin.stop()
