"""Build the PTB Application: every handler, the rate limiter and the agenda ticker, in one place.

Used by `boneload run` (real Telegram), `boneload try` (the local stand-in) and the end-to-end
tests (the stand-in over real HTTP). Time comes from `deps.clock`, so tests and the sandbox can
move it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

from telegram import BotCommandScopeChat, Update
from telegram.error import Forbidden, RetryAfter, TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    TypeHandler,
    filters,
)
from telegram.request import BaseRequest, HTTPXRequest

from bot import metrics
from bot import texts as _texts
from bot.agenda.dispatcher import JOB_KWARGS, Dispatcher, run_dispatcher
from bot.agenda.errors import retry_after_seconds
from bot.conversation.callbacks import Kind
from bot.i18n import DEFAULT, SUPPORTED, in_every_language, negotiate, set_language, use_language
from bot.localised import texts
from bot.services import coaches, runners
from bot.services.deps import Deps
from bot.services.turn import CURRENT, Turn
from bot.settings import bot_id_of
from bot.store import ops
from bot.telegram import (
    handlers_alerts,
    handlers_coach,
    handlers_onboarding,
    handlers_protocol,
    handlers_runner,
    handlers_screening,
    handlers_tailor,
    handlers_thread,
    menus,
)
from bot.telegram.context import CONTEXT_TYPES, TurnContext
from bot.telegram.request import CommitFirst
from bot.telegram.sender import TelegramSender
from bot.timer.cache import TimerCache

log = logging.getLogger(__name__)

# After every other handler group (test harness markers included: they see an update as handled
# before its id is recorded, as they did when the id was recorded first).
DONE_GROUP = 1000
PRUNE_EVERY = timedelta(hours=1)
KEEP_UPDATES = timedelta(days=7)

RUNNER_COMMANDS: dict[str, Any] = {
    "today": handlers_runner.cmd_today,
    "plan": handlers_runner.cmd_plan,
    "status": handlers_runner.cmd_status,
    "history": handlers_runner.cmd_history,
    "path": handlers_runner.cmd_path,
    "settings": handlers_runner.cmd_settings,
    "pause": handlers_runner.cmd_pause,
    "resume": handlers_runner.cmd_resume,
    "pain": handlers_runner.cmd_pain,
    "export": handlers_runner.cmd_export,
    "delete": handlers_runner.cmd_delete,
    "help": handlers_runner.cmd_help,
    "screen": handlers_screening.cmd_screen,
    "unlink": handlers_runner.cmd_unlink,
    "coach": handlers_thread.cmd_coach,
}


async def _first_sight(update: Update, context: TurnContext) -> None:
    """Runs before every handler: open the update's turn with its one read; drop a duplicate
    update; notice a runner who came back.

    A duplicate is an update this bot already *committed*: the turn claims its id in the same
    transaction as its effects. A process killed before that commit has stored neither, so
    Telegram's redelivery is handled as new and the runner's answer is not lost
    (docs/delivery.md).
    """
    data = context.application.bot_data
    user = update.effective_user
    dispatcher: Dispatcher = data["dispatcher"]
    turn = Turn(
        data["deps"],
        bot_id=data["bot_id"],
        update_id=update.update_id,
        user_id=user.id if user is not None else None,
        # `wake_agenda=False` (benchmarks of the update path alone): no sends after the turn.
        wake_agenda=dispatcher.kick if data["wake_agenda"] else _no_wake,
    )
    context.turn = turn
    CURRENT.set(turn)
    rows = await turn.load()
    if rows.seen:
        log.info("duplicate update ignored", extra={"update_id": update.update_id})
        metrics.UPDATES.labels("duplicate").inc()
        await turn.rollback()  # nothing was written; this gives the read's connection back
        raise ApplicationHandlerStop
    data["started"][update.update_id] = time.monotonic()
    runner = rows.runner
    # Replies in the sender's language: a runner's stored one; anyone else's Telegram language
    # (a coach's stored language is set where the coach is looked up, handlers_coach).
    set_language(
        runner.language
        if runner is not None
        else negotiate(user.language_code if user is not None else None)
    )
    if runner is not None and runner.unreachable and await runners.came_back(turn.deps, runner.id):
        await context.bot.send_message(runner.chat_id, texts.UNREACHABLE_BACK)


def _no_wake(_urgent: frozenset[int]) -> None:
    return None


async def _done(update: Update, context: TurnContext) -> None:
    """Runs after every handler: commit the turn (its writes and the update's claim) unless the
    update failed."""
    data = context.application.bot_data
    started = data["started"].pop(update.update_id, None)
    if started is not None:
        metrics.UPDATE_SECONDS.observe(time.monotonic() - started)
    turn = context.turn
    if update.update_id in data["failed"]:
        data["failed"].discard(update.update_id)
        metrics.UPDATES.labels("failed").inc()
        return  # not claimed: a redelivery gets another chance
    if turn is not None:
        await turn.commit()
        turn.finish()
    metrics.UPDATES.labels("handled").inc()


async def _on_error(update: object, context: TurnContext) -> None:
    err = context.error
    uid = update.update_id if isinstance(update, Update) else None
    if uid is not None:
        context.application.bot_data["failed"].add(uid)
    if context.turn is not None:
        # Undo what the failed update wrote, before the apology can commit it.
        await context.turn.rollback()
    if isinstance(err, RetryAfter):
        # Flood control: one line, no traceback (the runner's next message is answered).
        log.warning(
            "update answer refused by flood control",
            extra={"update_id": uid, "retry_after_s": retry_after_seconds(err)},
        )
        return
    # Never the message text or the traceback's locals: ids and the error class only.
    log.error(
        "update failed",
        extra={"update_id": uid, "error": type(err).__name__},
        exc_info=(type(err), err, err.__traceback__) if err else None,
    )
    if isinstance(err, Forbidden) or not isinstance(update, Update):
        return
    chat = update.effective_chat
    if chat is not None:
        try:
            await context.bot.send_message(chat.id, texts.SOMETHING_WRONG)
        except Exception:  # the apology is best effort; the error is already logged
            log.warning("could not send the error notice", extra={"update_id": uid})


async def _prune(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Forget processed update ids (and old heartbeats) past the window; hourly."""
    deps: Deps = context.application.bot_data["deps"]
    keep = context.application.bot_data.get("keep_updates", KEEP_UPDATES)
    try:
        async with deps.sessionmaker.begin() as s:
            n = await ops.prune(s, now=deps.clock(), keep=keep)
        log.info("processed updates pruned", extra={"rows": n})
    except Exception as exc:  # tried again next hour
        log.warning("pruning processed updates failed", extra={"error": type(exc).__name__})


def build_application(
    *,
    token: str,
    deps: Deps,
    base_url: str = "https://api.telegram.org/bot",
    base_file_url: str | None = None,
    send_rate: float = 25.0,
    send_in_flight: int | None = None,
    dispatch_interval: float = 5.0,
    owner: str = "boneload",
    request: BaseRequest | None = None,
    start_ticker: bool = True,
    wake_agenda: bool = True,
    keep_updates: timedelta = KEEP_UPDATES,
    timer: TimerCache | None = None,
) -> Application[Any, Any, Any, Any, Any, Any]:
    # No PTB rate limiter: the agenda's own (bot.agenda.ratelimit) is the one budget for the
    # messages the bot starts; replies to updates go out at once (docs/delivery.md).
    builder = ApplicationBuilder().token(token).base_url(base_url).context_types(CONTEXT_TYPES)
    if base_file_url:
        builder = builder.base_file_url(base_file_url)
    # Every Bot API call of a handler first commits its update's turn (`CommitFirst`).
    builder = builder.request(CommitFirst(request or HTTPXRequest(connection_pool_size=256)))
    app = builder.build()
    app.bot_data["deps"] = deps
    app.bot_data["bot_id"] = bot_id_of(token)
    app.bot_data["started"] = {}
    app.bot_data["failed"] = set()
    app.bot_data["keep_updates"] = keep_updates
    app.bot_data["wake_agenda"] = wake_agenda

    sender = TelegramSender(app.bot, deps, timer=timer)
    dispatcher = Dispatcher(
        deps.sessionmaker,
        deps.rules,
        sender,
        owner=owner,
        clock=deps.clock,
        rate_per_second=send_rate,
        max_in_flight=send_in_flight,
    )
    app.bot_data["dispatcher"] = dispatcher

    app.add_handler(TypeHandler(Update, _first_sight), group=-1)
    app.add_handler(CommandHandler("start", handlers_onboarding.on_start))
    for name, fn in RUNNER_COMMANDS.items():
        app.add_handler(CommandHandler(name, fn))
    for name, fn in handlers_coach.COMMANDS.items():
        app.add_handler(CommandHandler(name, fn))
    app.add_handler(
        CallbackQueryHandler(handlers_coach.on_callback, pattern=handlers_coach.CALLBACK_PATTERN)
    )
    for name, fn in handlers_tailor.COMMANDS.items():
        app.add_handler(CommandHandler(name, fn))
    app.add_handler(
        CallbackQueryHandler(handlers_tailor.on_callback, pattern=handlers_tailor.CALLBACK_PATTERN)
    )
    protocol_kind = handlers_protocol.CALLBACK_PATTERN  # the coach's Protocol button
    app.add_handler(CallbackQueryHandler(handlers_protocol.on_callback, pattern=protocol_kind))
    app.add_handler(CommandHandler("alerts", handlers_alerts.cmd_alerts))
    # Message runner / Reply (coach) and Send to my coach (runner): before the runner catch-all.
    app.add_handler(
        CallbackQueryHandler(handlers_thread.on_callback, pattern=handlers_thread.CALLBACK_PATTERN)
    )
    screen_kind = f"^v1\\|{Kind.SCREEN.value}\\|"
    app.add_handler(CallbackQueryHandler(handlers_screening.on_callback, pattern=screen_kind))
    app.add_handler(CallbackQueryHandler(handlers_runner.on_callback))
    app.add_handler(MessageHandler(filters.COMMAND, handlers_runner.cmd_unknown))
    # The persistent "🩹 Report pain" keyboard button sends its label: the same check as /pain.
    # Its label in every language: a runner may have changed language since it was shown.
    report_button = filters.Text(in_every_language(_texts.BTN_REPORT_PAIN))
    app.add_handler(MessageHandler(report_button, handlers_runner.cmd_pain))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, handlers_runner.on_text))
    app.add_handler(MessageHandler(~filters.TEXT & ~filters.COMMAND, handlers_runner.on_other))
    app.add_handler(TypeHandler(Update, _done), group=DONE_GROUP)
    app.add_error_handler(_on_error)

    async def post_init(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
        await application.bot.get_me()  # fails fast on a wrong token; PTB keeps the username
        await _set_profile(application.bot)
        for coach in await coaches.list_coaches(deps):
            scope = BotCommandScopeChat(coach["telegram_user_id"])
            with use_language(coach["language"]):  # the coach's own language
                coach_menu = menus.coach_menu()
            try:
                if coach["active"]:
                    await application.bot.set_my_commands(coach_menu, scope=scope)
                else:
                    # A removed coach keeps no coach menu from an earlier start.
                    await application.bot.delete_my_commands(scope=scope)
            except TelegramError:  # a coach who never opened the bot has no chat yet
                log.info("coach menu not updated", extra={"coach_id": coach["id"]})
        if start_ticker:
            run_dispatcher(application, dispatcher, dispatch_interval)
            assert application.job_queue is not None
            application.job_queue.run_repeating(
                _prune, interval=PRUNE_EVERY, first=0, name="prune", job_kwargs=JOB_KWARGS
            )

    async def post_stop(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
        # Finish in-flight sends and give claimed rows back before the process goes.
        await dispatcher.stop()

    # PTB calls these only inside run_polling/run_webhook; `serving()` calls them itself.
    app.post_init = post_init
    app.post_stop = post_stop
    return app


async def _set_profile(bot: Any) -> None:
    """The command menu, description and short description in each language: English for
    every language (no language_code), then each other language for users whose Telegram
    is set to it."""
    for lang in SUPPORTED:
        code = None if lang == DEFAULT else lang
        with use_language(lang):
            await bot.set_my_commands(menus.runner_menu(), language_code=code)
            await bot.set_my_description(texts.BOT_DESCRIPTION, language_code=code)
            await bot.set_my_short_description(texts.BOT_SHORT_DESCRIPTION, language_code=code)


@asynccontextmanager
async def serving(app: Application[Any, Any, Any, Any, Any, Any]) -> AsyncIterator[None]:
    """Initialise, prepare (bot name, command menus, agenda ticker) and start the application;
    on exit stop taking updates, let in-flight sends finish and give claimed rows back."""
    async with app:
        assert app.post_init is not None and app.post_stop is not None
        await app.post_init(app)
        await app.start()
        try:
            yield
        finally:
            if app.updater is not None and app.updater.running:
                await app.updater.stop()
            await app.stop()
            await app.post_stop(app)
