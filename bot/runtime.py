"""`boneload run`: migrations, then the bot in long-polling or webhook mode, until SIGTERM.

Webhook mode uses our own small aiohttp server rather than PTB's (so PTB's tornado extra is not
installed), serving exactly the path of WEBHOOK_URL, the URL given to setWebhook unchanged. The
same port serves `/healthz` (ok/fail; details with HEALTHZ_TOKEN) and `/metrics` (Prometheus);
in polling mode METRICS_PORT serves those two. The secret token check is ours and tested: a
request without the right `X-Telegram-Bot-Api-Secret-Token` gets 403 and is never processed; a
body that is not a JSON object gets 400. Several instances may run behind a reverse proxy on one
PostgreSQL: the agenda's leases keep them from doubling messages.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import signal
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram import Update

from bot import metrics
from bot.logs import configure_logging
from bot.program.loader import Rules
from bot.services import coaches as csvc
from bot.services.deps import Deps
from bot.store.db import make_engine, make_sessionmaker, migrate
from bot.timer.cache import TimerCache

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# The default path for tests; `boneload run` serves the path of WEBHOOK_URL itself.
WEBHOOK_PATH = "/telegram"
HEALTHZ_TOKEN_HEADER = "X-Healthz-Token"


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
        send_in_flight=settings.send_in_flight,
        dispatch_interval=settings.dispatch_interval_seconds,
        owner=settings.instance_name,
        keep_updates=timedelta(days=settings.processed_updates_keep_days),
        timer=TimerCache(settings.timer_cache_dir) if settings.session_timer else None,
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
                # Exactly the configured URL: it is what Telegram calls, and the listener
                # serves its path (`settings.webhook_path`).
                await app.bot.set_webhook(
                    settings.webhook_url,
                    secret_token=settings.webhook_secret.get_secret_value(),
                    allowed_updates=Update.ALL_TYPES,
                )
                log.info(
                    "webhook mode",
                    extra={"port": settings.webhook_port, "path": settings.webhook_path},
                )
            else:
                runner = None
                if settings.metrics_port is not None:
                    runner = await _serve(
                        ops_app(deps, settings), settings.metrics_listen, settings.metrics_port
                    )
                    log.info("metrics listener", extra={"port": settings.metrics_port})
                assert app.updater is not None
                await app.updater.start_polling(allowed_updates=Update.ALL_TYPES)
                log.info("polling mode")
            await stop.wait()
            log.info("shutting down: no new updates, finishing in-flight sends")
            if runner is not None:
                await runner.cleanup()
    finally:
        await engine.dispose()


@dataclass(frozen=True)
class HealthLimits:
    """When the health check fails: the agenda ticker silent, or the agenda falling behind."""

    max_tick_age_s: float = 120.0
    max_agenda_lag_s: float = 900.0

    @classmethod
    def of(cls, settings: Any) -> HealthLimits:
        return cls(settings.health_max_tick_age_seconds, settings.health_max_agenda_lag_seconds)


async def health(
    sessionmaker: async_sessionmaker[AsyncSession],
    limits: HealthLimits | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """What `/healthz` and `boneload doctor` report: database, agenda backlog, last send, the
    agenda ticker's last run and the oldest overdue row; `ok` false past the limits."""
    from bot.store.ops import health_figures
    from bot.store.peek import agenda_counts

    limits = limits or HealthLimits()
    now = now or datetime.now(UTC)
    out: dict[str, Any] = {"database": "ok"}
    problems: list[str] = []
    try:
        async with sessionmaker() as s:
            out.update(await agenda_counts(s))
            out.update(await health_figures(s, now))
    except Exception as exc:  # reported, not raised: a health check must answer
        out["database"] = f"error: {type(exc).__name__} (unreachable or not migrated)"
        problems.append("database unreachable or not migrated: run `boneload migrate`")
    else:
        age = out["last_tick_age_s"]
        if age is None:
            problems.append("the agenda ticker has never run (is `boneload run` running?)")
        elif age > limits.max_tick_age_s:
            problems.append(f"the agenda ticker last ran {age:.0f} s ago")
        if out["agenda_lag_s"] > limits.max_agenda_lag_s:
            problems.append(f"the oldest due message has waited {out['agenda_lag_s']:.0f} s")
    out["problems"] = problems
    out["ok"] = not problems
    return out


def _token_ok(request: web.Request, token: str | None) -> bool:
    if not token:
        return False
    given = request.headers.get(HEALTHZ_TOKEN_HEADER) or request.query.get("token", "")
    return hmac.compare_digest(given.encode(), token.encode())


def _ops_routes(web_app: web.Application, deps: Deps, settings: Any) -> None:
    """`/healthz` (ok/fail; details with the token) and `/metrics` (Prometheus)."""
    limits = HealthLimits.of(settings) if settings is not None else HealthLimits()
    token = (
        settings.healthz_token.get_secret_value()
        if getattr(settings, "healthz_token", None)
        else None
    )

    async def healthz(request: web.Request) -> web.Response:
        report = await health(deps.sessionmaker, limits, deps.clock())
        status = 200 if report["ok"] else 503
        if _token_ok(request, token):
            return web.json_response(report, status=status)
        return web.json_response({"ok": report["ok"]}, status=status)

    async def metrics_view(request: web.Request) -> web.Response:
        body = await metrics.render(deps.sessionmaker, deps.clock())
        return web.Response(body=body, headers={"Content-Type": metrics.CONTENT_TYPE})

    web_app.router.add_get("/healthz", healthz)
    web_app.router.add_get("/metrics", metrics_view)


def ops_app(deps: Deps, settings: Any = None) -> web.Application:
    """The polling mode's METRICS_PORT listener: `/healthz` and `/metrics` only."""
    web_app = web.Application()
    _ops_routes(web_app, deps, settings)
    return web_app


def webhook_app(
    app: Any, deps: Deps, secret: str, path: str = WEBHOOK_PATH, settings: Any = None
) -> web.Application:
    async def telegram(request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), secret.encode()):
            log.warning("webhook request with a missing or wrong secret refused")
            return web.Response(status=403)
        try:
            data = await request.json()
            if not isinstance(data, dict):
                raise ValueError("not a JSON object")
            update = Update.de_json(data, app.bot)
        except (ValueError, TypeError, KeyError, UnicodeDecodeError) as exc:
            # json.JSONDecodeError is a ValueError. One line, never the body (it is user text).
            log.warning(
                "webhook request is not a Telegram update", extra={"error": type(exc).__name__}
            )
            return web.Response(status=400)
        if update is None:
            return web.Response(status=400)
        await app.update_queue.put(update)
        return web.Response(status=200)

    web_app = web.Application(client_max_size=2**20)
    web_app.router.add_post(path, telegram)
    _ops_routes(web_app, deps, settings)
    return web_app


async def _serve(web_app: web.Application, host: str, port: int) -> web.AppRunner:
    runner = web.AppRunner(web_app)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    return runner


async def start_webhook_server(app: Any, deps: Deps, settings: Any) -> web.AppRunner:
    web_app = webhook_app(
        app, deps, settings.webhook_secret.get_secret_value(), settings.webhook_path, settings
    )
    return await _serve(web_app, settings.webhook_listen, settings.webhook_port)
