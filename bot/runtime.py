"""`boneload run`: migrations, then the bot in long-polling or webhook mode, until SIGTERM.

Webhook mode uses our own small aiohttp server rather than PTB's, so the same port also serves
`/healthz` (database reachable, pending and failed agenda rows, last dispatch) and so the secret
token check is ours and tested: a request without the right
`X-Telegram-Bot-Api-Secret-Token` gets 403 and is never processed. Several instances may run
behind a reverse proxy on one PostgreSQL: the agenda's leases keep them from doubling messages.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import signal
from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram import Update

from bot.logs import configure_logging
from bot.program.loader import Rules
from bot.services import coaches as csvc
from bot.services.deps import Deps
from bot.store.db import make_engine, make_sessionmaker, migrate

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
WEBHOOK_PATH = "/telegram"


def run(settings: Any, rules: Rules, token: str) -> None:
    configure_logging(settings.log_level, settings.log_format, secrets=settings.secret_values())
    asyncio.run(_main(settings, rules, token))


async def _main(settings: Any, rules: Rules, token: str, stop: asyncio.Event | None = None) -> None:
    """Run until `stop` is set (by SIGTERM/SIGINT when not given)."""
    from bot.telegram.app import build_application, serving

    await migrate(settings.database_url)
    engine = make_engine(settings.database_url)
    deps = Deps(
        rules=rules, sessionmaker=make_sessionmaker(engine), clock=lambda: datetime.now(UTC)
    )
    app = build_application(
        token=token,
        deps=deps,
        base_url=settings.telegram_api_base_url,
        send_rate=settings.send_rate_per_second,
        dispatch_interval=settings.dispatch_interval_seconds,
        owner=settings.instance_name,
    )
    await csvc.ensure_all_digests(deps)
    if stop is None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
    try:
        async with serving(app):
            if settings.webhook_enabled:
                runner = await start_webhook_server(app, deps, settings)
                await app.bot.set_webhook(
                    settings.webhook_url.rstrip("/") + WEBHOOK_PATH,
                    secret_token=settings.webhook_secret.get_secret_value(),
                    allowed_updates=Update.ALL_TYPES,
                )
                log.info("webhook mode", extra={"port": settings.webhook_port})
            else:
                runner = None
                assert app.updater is not None
                await app.updater.start_polling(allowed_updates=Update.ALL_TYPES)
                log.info("polling mode")
            await stop.wait()
            log.info("shutting down: no new updates, finishing in-flight sends")
            if runner is not None:
                await runner.cleanup()
    finally:
        await engine.dispose()


async def health(sessionmaker: async_sessionmaker[AsyncSession]) -> dict[str, Any]:
    """What `/healthz` and `boneload doctor` report: database, agenda backlog, last send."""
    from bot.store.peek import agenda_counts

    out: dict[str, Any] = {"database": "ok"}
    try:
        async with sessionmaker() as s:
            out.update(await agenda_counts(s))
    except Exception as exc:  # reported, not raised: a health check must answer
        out["database"] = f"error: {type(exc).__name__} (unreachable or not migrated)"
    out["ok"] = out["database"] == "ok"
    return out


def webhook_app(app: Any, deps: Deps, secret: str) -> web.Application:
    async def telegram(request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), secret.encode()):
            log.warning("webhook request with a missing or wrong secret refused")
            return web.Response(status=403)
        try:
            data = await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            return web.Response(status=400)
        update = Update.de_json(data, app.bot)
        if update is None:
            return web.Response(status=400)
        await app.update_queue.put(update)
        return web.Response(status=200)

    async def healthz(request: web.Request) -> web.Response:
        report = await health(deps.sessionmaker)
        return web.json_response(report, status=200 if report["ok"] else 503)

    web_app = web.Application(client_max_size=2**20)
    web_app.router.add_post(WEBHOOK_PATH, telegram)
    web_app.router.add_get("/healthz", healthz)
    return web_app


async def start_webhook_server(app: Any, deps: Deps, settings: Any) -> web.AppRunner:
    runner = web.AppRunner(webhook_app(app, deps, settings.webhook_secret.get_secret_value()))
    await runner.setup()
    site = web.TCPSite(runner, settings.webhook_listen, settings.webhook_port)
    await site.start()
    return runner
