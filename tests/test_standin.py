"""Tests of the Bot API stand-in, driven by a real PTB Application over real HTTP."""

from __future__ import annotations

import asyncio
import datetime as dt
import socket
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from hypothesis import given
from hypothesis import strategies as st
from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    ReplyKeyboardMarkup,
    Update,
)
from telegram import error as tg_error
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.standin import BotApiStandIn, Button, SentFile, SentMessage, faults
from bot.standin.params import decode_form
from bot.standin.terminal import (
    AdvanceClock,
    InputError,
    Nothing,
    PressButton,
    Quit,
    SendText,
    parse_duration,
    parse_input,
    render_message,
)
from bot.standin.textformat import parse_error, to_plain

TOKEN = "123:ABC"
USER = 4242

Context = ContextTypes.DEFAULT_TYPE
App = Application[Any, Any, Any, Any, Any, Any]


@pytest.fixture
async def standin() -> AsyncIterator[BotApiStandIn]:
    server = BotApiStandIn()
    await server.start()
    yield server
    await server.stop()


def _build_app(standin: BotApiStandIn, token: str = TOKEN) -> App:
    return (
        ApplicationBuilder()
        .token(token)
        .base_url(standin.base_url)
        .base_file_url(standin.base_file_url)
        .build()
    )


@pytest.fixture
async def app(standin: BotApiStandIn) -> AsyncIterator[App]:
    """A real, polling PTB application; tests add their handlers while it runs."""
    application = _build_app(standin)
    await application.initialize()
    await application.start()
    assert application.updater is not None
    await application.updater.start_polling(poll_interval=0, timeout=dt.timedelta(seconds=10))
    yield application
    await application.updater.stop()
    await application.stop()
    await application.shutdown()


@pytest.fixture
async def bot_app(
    standin: BotApiStandIn,
) -> AsyncIterator[App]:
    """An initialised application that does not poll: for calling bot methods directly."""
    application = _build_app(standin)
    await application.initialize()
    yield application
    await application.shutdown()


@pytest.fixture
def bot(bot_app: App) -> Bot:
    direct: Bot = bot_app.bot
    return direct


# ---------------------------------------------------------------- the bot, end to end


async def test_echo_handler_answers_pushed_text(app: App, standin: BotApiStandIn) -> None:
    async def echo(update: Update, context: Context) -> None:
        assert update.message is not None
        await update.message.reply_text(f"echo: {update.message.text}")

    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    update_id = standin.push_text(USER, "hello", first_name="Rita")

    [message] = await standin.wait_for_messages(USER, 1)
    assert message.text == "echo: hello"
    assert message.chat_id == USER
    assert message.message_id == 2  # the user's message took id 1 in this chat
    assert update_id == 1
    [send] = standin.calls_to("sendMessage")
    assert send.params["chat_id"] == USER
    assert send.ok


async def test_command_with_argument_reaches_command_handler(
    app: App, standin: BotApiStandIn
) -> None:
    async def start(update: Update, context: Context) -> None:
        assert update.effective_chat is not None
        await context.bot.send_message(update.effective_chat.id, f"args={context.args}")

    app.add_handler(CommandHandler("start", start))
    standin.push_text(USER, "/start abc")
    standin.push_text(USER, "/start@boneload_test_bot deep link")
    standin.push_text(USER, "/start@some_other_bot ignored")
    standin.push_text(USER, "/stop")

    messages = await standin.wait_for_messages(USER, 2)
    assert [m.text for m in messages] == ["args=['abc']", "args=['deep', 'link']"]
    assert app.bot.username == "boneload_test_bot"


async def test_button_press_reaches_callback_handler(app: App, standin: BotApiStandIn) -> None:
    async def menu(update: Update, context: Context) -> None:
        assert update.message is not None
        keyboard = InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton("Done", callback_data="done"),
                    InlineKeyboardButton("Skip", callback_data="skip"),
                ],
                [InlineKeyboardButton("Help", url="https://example.org/help")],
            ]
        )
        await update.message.reply_text("Today: 20 min walk", reply_markup=keyboard)

    async def pressed(update: Update, context: Context) -> None:
        query = update.callback_query
        assert query is not None and isinstance(query.message, Message)
        await query.answer("Noted")
        await query.edit_message_text(f"{query.message.text} ✓ {query.data}")

    app.add_handler(CommandHandler("menu", menu))
    app.add_handler(CallbackQueryHandler(pressed))
    standin.push_text(USER, "/menu")
    [sent] = await standin.wait_for_messages(USER, 1)
    assert sent.buttons == [[("Done", "done"), ("Skip", "skip")], [("Help", None)]]

    standin.press(USER, sent.message_id, "done")
    await standin.wait_for(lambda _: standin.answered_callbacks)
    [answer] = standin.answered_callbacks
    assert (answer.text, answer.data, answer.message_id) == ("Noted", "done", sent.message_id)

    await standin.wait_for_call("editMessageText")
    [edited] = standin.messages_to(USER)
    assert edited.text == "Today: 20 min walk ✓ done"
    assert edited.previous_texts == ["Today: 20 min walk"]
    assert edited.edited
    # Telegram drops the keyboard when an edit does not resend it.
    assert edited.buttons == []


async def test_press_button_by_label(app: App, standin: BotApiStandIn) -> None:
    async def menu(update: Update, context: Context) -> None:
        assert update.message is not None
        markup = InlineKeyboardMarkup([[InlineKeyboardButton("Skip", callback_data="s:1")]])
        await update.message.reply_text("?", reply_markup=markup)

    async def pressed(update: Update, context: Context) -> None:
        assert update.callback_query is not None
        await update.callback_query.answer()

    app.add_handler(CommandHandler("menu", menu))
    app.add_handler(CallbackQueryHandler(pressed))
    standin.push_text(USER, "/menu")
    [sent] = await standin.wait_for_messages(USER, 1)
    standin.press_button(USER, sent.message_id, "Skip")
    answered = await standin.wait_for(lambda _: standin.answered_callbacks)
    assert answered[0].data == "s:1"
    with pytest.raises(LookupError):
        standin.press_button(USER, sent.message_id, "Nope")
    with pytest.raises(LookupError):
        standin.press(USER, 999, "x")


async def test_duplicate_update_id_is_delivered_again(app: App, standin: BotApiStandIn) -> None:
    seen: list[int] = []

    async def record(update: Update, context: Context) -> None:
        seen.append(update.update_id)
        assert update.message is not None
        await update.message.reply_text("ok")

    app.add_handler(MessageHandler(filters.TEXT, record))
    update = standin.text_update(USER, "I ran 3 km")
    first = standin.push_update(update)
    await standin.wait_for_messages(USER, 1)
    again = standin.push_update(update)
    await standin.wait_for_messages(USER, 2)
    assert first == again
    assert seen == [first, first]


async def test_document_upload_is_recorded_with_bytes(bot_app: App, standin: BotApiStandIn) -> None:
    content = b"week,load\n1,10\n"
    message = await bot_app.bot.send_document(
        USER, document=content, filename="plan.csv", caption="Your plan"
    )
    assert message.document is not None
    assert message.document.file_name == "plan.csv"
    assert message.caption == "Your plan"

    [call] = standin.calls_to("sendDocument")
    assert call.params["document"].filename == "plan.csv"
    assert call.params["document"].content == content
    assert call.params["caption"] == "Your plan"
    [sent] = standin.messages_to(USER)
    assert sent.document is not None
    assert (sent.document.filename, sent.document.content) == ("plan.csv", content)
    assert sent.caption == "Your plan"

    # base_file_url is wired too: the bot can download what it sent.
    file = await bot_app.bot.get_file(message.document.file_id)
    assert bytes(await file.download_as_bytearray()) == content


async def test_photo_upload_is_recorded(bot_app: App, standin: BotApiStandIn) -> None:
    png = b"\x89PNG\r\n\x1a\nfake"
    await bot_app.bot.send_photo(USER, photo=png, filename="load.png")
    [sent] = standin.messages_to(USER)
    assert sent.photo is not None
    assert (sent.photo.filename, sent.photo.content) == ("load.png", png)


# ---------------------------------------------------------------- faults


@pytest.mark.parametrize(
    ("fault", "error", "text"),
    [
        (faults.Forbidden(), tg_error.Forbidden, "Forbidden: bot was blocked by the user"),
        (faults.BadRequest("chat not found"), tg_error.BadRequest, "Chat not found"),
        (faults.ServerError(), tg_error.NetworkError, "Internal Server Error"),
        (faults.ServerError(502), tg_error.NetworkError, "Bad Gateway"),
    ],
)
async def test_injected_fault_raises_ptb_error(
    bot_app: App,
    standin: BotApiStandIn,
    fault: faults.Fault,
    error: type[Exception],
    text: str,
) -> None:
    standin.inject("sendMessage", fault)
    with pytest.raises(error) as raised:
        await bot_app.bot.send_message(USER, "hi")
    assert type(raised.value) is error
    assert str(raised.value) == text

    # The attempt is recorded, but nothing was delivered; the next call goes through.
    [failed] = standin.calls_to("sendMessage")
    assert failed.fault == fault
    assert failed.status == fault.status
    assert standin.messages_to(USER) == []
    await bot_app.bot.send_message(USER, "hi")
    assert [m.text for m in standin.messages_to(USER)] == ["hi"]


# PTB itself warns about RetryAfter.retry_after turning into a timedelta in a future major.
@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_injected_429_raises_retry_after(bot_app: App, standin: BotApiStandIn) -> None:
    standin.inject("SENDMESSAGE", faults.RetryAfter(3), times=2)
    for _ in range(2):
        with pytest.raises(tg_error.RetryAfter) as raised:
            await bot_app.bot.send_message(USER, "hi")
        # The private value sidesteps PTB's int-vs-timedelta deprecation switch.
        assert raised.value._retry_after == dt.timedelta(seconds=3)
    calls = standin.calls_to("sendMessage")
    assert [c.status for c in calls] == [429, 429]
    assert calls[0].response == {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 3",
        "parameters": {"retry_after": 3},
    }
    assert standin.messages_to(USER) == []


async def test_blocked_user_gets_forbidden(bot_app: App, standin: BotApiStandIn) -> None:
    standin.block_user(USER)
    with pytest.raises(tg_error.Forbidden, match="blocked by the user"):
        await bot_app.bot.send_message(USER, "hi")
    with pytest.raises(tg_error.Forbidden):
        await bot_app.bot.send_document(USER, document=b"x", filename="x.txt")
    await bot_app.bot.send_message(USER + 1, "others are fine")

    standin.unblock_user(USER)
    await bot_app.bot.send_message(USER, "welcome back")
    assert [m.text for m in standin.messages_to(USER)] == ["welcome back"]
    assert [c.status for c in standin.calls_to("sendMessage")] == [403, 200, 200]


async def test_timeout_fault_times_out_the_client(bot_app: App, standin: BotApiStandIn) -> None:
    standin.inject("sendMessage", faults.Timeout(5))
    with pytest.raises(tg_error.TimedOut):
        await bot_app.bot.send_message(USER, "lost", read_timeout=0.2)
    assert len(standin.calls_to("sendMessage")) == 1
    assert standin.messages_to(USER) == []


async def test_timeout_fault_can_deliver_anyway(bot_app: App, standin: BotApiStandIn) -> None:
    standin.inject("sendMessage", faults.Timeout(5, deliver=True))
    with pytest.raises(tg_error.TimedOut):
        await bot_app.bot.send_message(USER, "sent twice?", read_timeout=0.2)
    await bot_app.bot.send_message(USER, "sent twice?")
    assert [m.text for m in standin.messages_to(USER)] == ["sent twice?", "sent twice?"]


async def test_latency_applies_to_each_call(bot_app: App, standin: BotApiStandIn) -> None:
    standin.latency = 0.2
    started = time.monotonic()
    await bot_app.bot.send_message(USER, "slow")
    assert time.monotonic() - started >= 0.2


async def test_wrong_token_is_unauthorized() -> None:
    async with BotApiStandIn(token=TOKEN) as server:
        # A bare Bot: an Application whose initialize() failed would not close its client.
        bot = Bot("999:WRONG", base_url=server.base_url)
        try:
            with pytest.raises(tg_error.InvalidToken):
                await bot.get_me()
        finally:
            await bot.request.shutdown()
        assert server.calls[0].status == 401


# ---------------------------------------------------------------- Telegram's strictness


async def test_realistic_bad_requests(bot_app: App, standin: BotApiStandIn) -> None:
    bot = bot_app.bot
    with pytest.raises(tg_error.BadRequest, match="Can't parse entities"):
        await bot.send_message(USER, "pace <5 min/km", parse_mode="HTML")
    with pytest.raises(tg_error.BadRequest, match="Can't parse entities"):
        await bot.send_message(USER, "Week 2. Well done!", parse_mode="MarkdownV2")
    with pytest.raises(tg_error.BadRequest, match=r"(?i)button_data_invalid"):
        markup = InlineKeyboardMarkup([[InlineKeyboardButton("x", callback_data="x" * 65)]])
        await bot.send_message(USER, "hi", reply_markup=markup)
    with pytest.raises(tg_error.BadRequest, match="Message text is empty"):
        await bot.send_message(USER, "")

    sent = await bot.send_message(USER, "<b>Week 2</b>", parse_mode="HTML")
    assert sent.text == "Week 2"
    with pytest.raises(tg_error.BadRequest, match="not modified"):
        await bot.edit_message_text("<b>Week 2</b>", USER, sent.message_id, parse_mode="HTML")
    await bot.delete_message(USER, sent.message_id)
    with pytest.raises(tg_error.BadRequest, match="not found"):
        await bot.edit_message_text("again", USER, sent.message_id)
    [deleted] = standin.messages_to(USER)
    assert deleted.deleted
    assert deleted.plain_text == "Week 2"


async def test_edit_reply_markup_and_commands(bot_app: App, standin: BotApiStandIn) -> None:
    bot = bot_app.bot
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("A", callback_data="a")]])
    sent = await bot.send_message(USER, "pick", reply_markup=markup)
    await bot.edit_message_reply_markup(USER, sent.message_id, reply_markup=None)
    assert standin.messages_to(USER)[0].buttons == []

    await bot.set_my_commands([("start", "Begin"), ("today", "Today's session")])
    assert standin.my_commands() == [("start", "Begin"), ("today", "Today's session")]
    assert [c.command for c in await bot.get_my_commands()] == ["start", "today"]
    await bot.delete_my_commands()
    assert await bot.get_my_commands() == ()
    with pytest.raises(tg_error.BadRequest):
        await bot.set_my_commands([("Start!", "bad name")])


async def test_reply_keyboard_and_lengths(bot: Bot, standin: BotApiStandIn) -> None:
    keyboard = ReplyKeyboardMarkup([["Yes", "No"], ["Later"]], one_time_keyboard=True)
    sent = await bot.send_message(USER, "Any pain today?", reply_markup=keyboard)
    assert sent.reply_markup is None  # reply keyboards belong to the chat, not the message
    [stored] = standin.messages_to(USER)
    assert stored.reply_keyboard == [["Yes", "No"], ["Later"]]
    assert stored.buttons == []
    assert render_message(stored) == "Any pain today?\n⌨ [k1] Yes  [k2] No\n⌨ [k3] Later"
    assert standin.reply_keyboard_of(USER) == [["Yes", "No"], ["Later"]]
    assert parse_input("k3", [], standin.reply_keyboard_of(USER)) == SendText("Later")
    assert isinstance(parse_input("k4", [], standin.reply_keyboard_of(USER)), InputError)
    assert parse_input("k1", []) == SendText("k1")  # no keyboard: plain text
    with pytest.raises(tg_error.BadRequest, match=r"(?i)inline keyboard expected"):
        # Deliberately the wrong keyboard type: edits only take inline keyboards.
        await bot.edit_message_text(
            "Any pain?",
            USER,
            sent.message_id,
            reply_markup=keyboard,  # type: ignore[arg-type]
        )

    # Limits count displayed characters: markup is free, 4097 visible ones are not.
    await bot.send_message(USER, "<b>" + "x" * 4096 + "</b>", parse_mode="HTML")
    with pytest.raises(tg_error.BadRequest, match=r"(?i)message is too long"):
        await bot.send_message(USER, "x" * 4097)
    await bot.send_document(USER, document=b"x", filename="x.txt", caption="")


# ---------------------------------------------------------------- raw HTTP


async def test_raw_http_methods_are_case_insensitive_and_unknown_is_404(
    standin: BotApiStandIn,
) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{standin.base_url}{TOKEN}/GETME") as response:
            body = await response.json()
            assert response.status == 200
            assert body["result"]["username"] == "boneload_test_bot"
        async with session.post(
            f"{standin.base_url}{TOKEN}/sendmessage", json={"chat_id": 5, "text": "json body"}
        ) as response:
            assert response.status == 200
            assert (await response.json())["result"]["text"] == "json body"
        async with session.post(f"{standin.base_url}{TOKEN}/fooBar") as response:
            assert response.status == 404
            assert await response.json() == {
                "ok": False,
                "error_code": 404,
                "description": "Not Found: method not found",
            }
    assert [c.method for c in standin.calls] == ["getMe", "sendMessage", "fooBar"]
    assert standin.messages_to(5)[0].text == "json body"


async def _get_updates(
    session: aiohttp.ClientSession, standin: BotApiStandIn, **params: Any
) -> Any:
    form = {k: str(v) for k, v in params.items()}
    async with session.post(f"{standin.base_url}{TOKEN}/getUpdates", data=form) as response:
        body = await response.json()
        assert body["ok"], body
        return body["result"]


async def test_get_updates_long_poll_wakes_on_push(standin: BotApiStandIn) -> None:
    async with aiohttp.ClientSession() as session:
        assert await _get_updates(session, standin, timeout=0) == []
        poll = asyncio.create_task(_get_updates(session, standin, timeout=30))
        await standin.wait_for(lambda calls: calls and calls[-1].method == "getUpdates")
        pushed = standin.push_text(USER, "hi")
        async with asyncio.timeout(2):
            [update] = await poll
        assert update["update_id"] == pushed
        assert update["message"]["text"] == "hi"

        # Not confirmed yet: delivered again; then offset confirms and limit caps.
        assert [u["update_id"] for u in await _get_updates(session, standin)] == [pushed]
        more = [standin.push_text(USER, str(i)) for i in range(3)]
        got = await _get_updates(session, standin, offset=pushed + 1, limit=2)
        assert [u["update_id"] for u in got] == more[:2]
        got = await _get_updates(session, standin, offset=more[1] + 1)
        assert [u["update_id"] for u in got] == more[2:]


async def test_webhook_helper_posts_update_with_secret(standin: BotApiStandIn) -> None:
    received: list[tuple[str | None, dict[str, Any]]] = []

    async def hook(request: web.Request) -> web.Response:
        received.append(
            (request.headers.get("X-Telegram-Bot-Api-Secret-Token"), await request.json())
        )
        return web.Response(status=200)

    hook_app = web.Application()
    hook_app.router.add_post("/hook", hook)
    runner = web.AppRunner(hook_app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    try:
        update = standin.text_update(USER, "/start")
        status = await standin.post_update_to_webhook(
            f"http://{host}:{port}/hook", update, secret_token="s3cret"
        )
        assert status == 200
        assert received == [("s3cret", update)]
        assert await standin.post_update_to_webhook(f"http://{host}:{port}/nope", update) == 404
    finally:
        await runner.cleanup()


def _free_port() -> int:
    # PTB's webhook server cannot report the port it bound, and the URL must name it.
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def test_webhook_mode_end_to_end(standin: BotApiStandIn) -> None:
    """setWebhook, then updates POSTed as Telegram would, through the bot's own webhook server
    (`bot.runtime.webhook_app`; PTB's tornado-based one is not installed)."""
    from bot.runtime import webhook_app

    application = _build_app(standin)

    async def echo(update: Update, context: Context) -> None:
        assert update.message is not None
        await update.message.reply_text(f"hook: {update.message.text}")

    application.add_handler(MessageHandler(filters.TEXT, echo))
    port = _free_port()
    await application.initialize()
    await application.start()
    server = web.AppRunner(webhook_app(application, None, "s3cret", "/hook"))  # type: ignore[arg-type]
    await server.setup()
    await web.TCPSite(server, "127.0.0.1", port).start()
    await application.bot.set_webhook(f"http://127.0.0.1:{port}/hook", secret_token="s3cret")
    try:
        assert standin.webhook_url == f"http://127.0.0.1:{port}/hook"
        update = standin.text_update(USER, "via webhook")
        status = await standin.post_update_to_webhook(
            standin.webhook_url, update, standin.webhook_secret
        )
        assert status == 200
        [reply] = await standin.wait_for_messages(USER, 1)
        assert reply.text == "hook: via webhook"
        wrong = await standin.post_update_to_webhook(
            standin.webhook_url, standin.text_update(USER, "forged"), secret_token="nope"
        )
        assert wrong == 403
    finally:
        await server.cleanup()
        await application.stop()
        await application.shutdown()


async def test_webhook_set_blocks_polling(bot_app: App, standin: BotApiStandIn) -> None:
    bot = bot_app.bot
    await bot.set_webhook("http://127.0.0.1:1/hook", secret_token="abc")
    assert (standin.webhook_url, standin.webhook_secret) == ("http://127.0.0.1:1/hook", "abc")
    assert (await bot.get_webhook_info()).url == "http://127.0.0.1:1/hook"
    with pytest.raises(tg_error.Conflict):
        await bot.get_updates(timeout=0)
    await bot.delete_webhook()
    assert await bot.get_updates(timeout=0) == ()


async def test_wait_for_messages_timeout_says_what_was_sent(
    bot_app: App, standin: BotApiStandIn
) -> None:
    await bot_app.bot.send_message(USER, "only one")
    with pytest.raises(TimeoutError, match="got 1") as raised:
        await standin.wait_for_messages(USER, 2, timeout=0.05)
    assert "only one" in str(raised.value)


# ---------------------------------------------------------------- params and formatting


def test_form_values_are_decoded_but_text_stays_text() -> None:
    decoded = decode_form(
        {
            "chat_id": "42",
            "text": "42",
            "disable_notification": "true",
            "reply_markup": '{"inline_keyboard": [[{"text": "A", "callback_data": "1"}]]}',
            "caption": "[1] not json",
        }
    )
    assert decoded == {
        "chat_id": 42,
        "text": "42",
        "disable_notification": True,
        "reply_markup": {"inline_keyboard": [[{"text": "A", "callback_data": "1"}]]},
        "caption": "[1] not json",
    }


@pytest.mark.parametrize(
    ("text", "mode", "ok"),
    [
        ("<b>bold</b> and <i>it</i>", "HTML", True),
        ("a &lt; b", "HTML", True),
        ("a < b", "HTML", False),
        ("line<br>break", "HTML", False),
        ("<b>open", "HTML", False),
        ("<b><i>x</b></i>", "HTML", False),
        ("Done\\. *Well* _done_\\!", "MarkdownV2", True),
        ("[link](https://example.org/a.b)", "MarkdownV2", True),
        ("`code. is fine`", "MarkdownV2", True),
        ("> quoted", "MarkdownV2", True),
        ("Done.", "MarkdownV2", False),
        ("*unclosed", "MarkdownV2", False),
        ("3 - 2", "MarkdownV2", False),
        ("anything <goes>.", None, True),
        ("anything <goes>.", "Markdown", True),
    ],
)
def test_parse_errors(text: str, mode: str | None, ok: bool) -> None:
    assert (parse_error(text, mode) is None) == ok


def test_to_plain() -> None:
    assert to_plain("<b>Week</b> 2 &amp; 3", "HTML") == "Week 2 & 3"
    assert to_plain("*Week* 2\\. [plan](https://x.org)", "MarkdownV2") == "Week 2. plan"
    assert to_plain("*raw*", None) == "*raw*"


# ---------------------------------------------------------------- terminal


def _message(**kwargs: Any) -> SentMessage:
    return SentMessage(message_id=1, chat_id=USER, date=0, **kwargs)


def test_render_message_numbers_buttons_across_rows() -> None:
    message = _message(
        text="<b>Today</b>: walk",
        parse_mode="HTML",
        buttons=[[("Done", "d"), ("Skip", "s")], [("Pain!", "p")]],
    )
    assert render_message(message) == "Today: walk\n[1] Done  [2] Skip\n[3] Pain!"


def test_render_document_and_edit_marks() -> None:
    document = SentFile("f1", "u1", "plan.pdf", b"%PDF")
    message = _message(document=document, caption="Your plan", edit_date=5)
    assert render_message(message) == "📎 plan.pdf\nYour plan\n(edited)"
    assert render_message(_message(text="gone", deleted=True)) == "gone\n(deleted)"


BUTTONS: list[list[Button]] = [[("Done", "d"), ("Skip", "s")], [("Help", None)]]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("1", PressButton(1, "Done", "d")),
        (" 2 ", PressButton(2, "Skip", "s")),
        ("hello", SendText("hello")),
        ("/start abc", SendText("/start abc")),
        ("/help", SendText("/help")),
        ("\\2", SendText("2")),
        ("\\/wait 1d", SendText("/wait 1d")),
        ("/quit", Quit()),
        ("/QUIT", Quit()),
        ("   ", Nothing()),
        ("/wait 1d", AdvanceClock(dt.timedelta(days=1))),
        ("/wait 24h", AdvanceClock(dt.timedelta(hours=24))),
        ("/wait 30m", AdvanceClock(dt.timedelta(minutes=30))),
        ("/wait 2d6h", AdvanceClock(dt.timedelta(days=2, hours=6))),
        ("/wait 2d 6h", AdvanceClock(dt.timedelta(days=2, hours=6))),
        ("/wait 1.5h", AdvanceClock(dt.timedelta(minutes=90))),
        ("/wait 1w", AdvanceClock(dt.timedelta(weeks=1))),
    ],
)
def test_parse_input(line: str, expected: object) -> None:
    assert parse_input(line, BUTTONS) == expected


def test_number_without_buttons_is_text() -> None:
    assert parse_input("7", []) == SendText("7")


@pytest.mark.parametrize(
    ("line", "hint"),
    [
        ("/wait banana", "Usage: /wait"),
        ("/wait", "Usage: /wait"),
        ("/wait 0m", "longer than zero"),
        ("/wait -1d", "Can't read"),
        ("/wait 1d banana", "Can't read"),
        ("/wait 400d", "more than a year"),
        ("/wait 99999999999999999999w", "far too long"),
        ("4", "buttons 1–3"),
        ("0", "type \\0"),
        ("3", "opens a link"),
    ],
)
def test_bad_input_gives_helpful_error(line: str, hint: str) -> None:
    action = parse_input(line, BUTTONS)
    assert isinstance(action, InputError)
    assert hint in action.message


@given(st.text())
def test_parse_input_never_raises(line: str) -> None:
    parse_input(line, BUTTONS)
    parse_input(line, [])


@given(
    st.integers(min_value=0, max_value=30),
    st.integers(min_value=0, max_value=23),
    st.integers(min_value=0, max_value=59),
)
def test_wait_durations_round_trip(days: int, hours: int, minutes: int) -> None:
    expected = dt.timedelta(days=days, hours=hours, minutes=minutes)
    text = f"{days}d{hours}h{minutes}m"
    assert parse_duration(text) == (expected if expected else parse_duration("0m"))
