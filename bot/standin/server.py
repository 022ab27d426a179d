"""``BotApiStandIn``: a local, in-process stand-in for the Telegram Bot API over real HTTP.

Point PTB at it with ``ApplicationBuilder().base_url(s.base_url).base_file_url(s.base_file_url)``
and the real bot runs unchanged: it long-polls ``getUpdates``, sends messages, edits them,
answers button presses. Tests play the users (``push_text``, ``press``), read what the bot
sent (``messages_to``), wait on it without sleeping (``wait_for``), and break the network on
purpose (``inject``, ``block_user``, ``latency``).

Where the real API is strict in ways that bite bots in production (unparseable HTML or
MarkdownV2, "message is not modified", callback_data over 64 bytes, editing a message drops
its inline keyboard unless the keyboard is sent again), the stand-in is strict the same way.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import mimetypes
import re
import time
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self, TypeVar

import aiohttp
from aiohttp import web

from bot.standin import faults
from bot.standin.params import read_params
from bot.standin.records import (
    AnsweredCallback,
    Button,
    RecordedCall,
    SentFile,
    SentMessage,
    UploadedFile,
)
from bot.standin.textformat import parse_error, to_plain

T = TypeVar("T")
Params = dict[str, Any]
_Handler = Callable[[Params], Awaitable[Any]]

_API_PATH = re.compile(r"/bot([^/]*)/([^/]+)/?")
_FILE_PATH = re.compile(r"/file/bot([^/]*)/(.+)")
_COMMAND = re.compile(r"[a-z0-9_]{1,32}")
_MAX_TEXT = 4096
_MAX_CAPTION = 1024
_MAX_CALLBACK_DATA = 64
# Telegram's own upload cap for bots; aiohttp's 1 MiB default would refuse real documents.
_MAX_UPLOAD = 50 * 1024 * 1024

NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)
QUERY_TOO_OLD = "Bad Request: query is too old and response timeout expired or query ID is invalid"


class _ApiError(Exception):
    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.description = description

    def body(self) -> dict[str, Any]:
        return {"ok": False, "error_code": self.status, "description": self.description}


def _bad(description: str) -> _ApiError:
    return _ApiError(400, f"Bad Request: {description}")


@dataclass
class _Pending:
    update: dict[str, Any]
    delivered: bool = False


@dataclass(frozen=True)
class _Callback:
    user_id: int
    data: str | None
    message_id: int


def _utf16_len(text: str) -> int:
    # Telegram measures entity offsets and lengths in UTF-16 code units.
    return len(text.encode("utf-16-le")) // 2


class BotApiStandIn:
    """A fake Telegram Bot API server for one bot, listening on a local port.

    ``token=None`` accepts any token in the URL; a string makes every other token get 401,
    which PTB raises as ``InvalidToken``. ``clock`` gives the Unix time used for message dates
    (defaults to ``time.time``, so time-machine moves it too). ``latency`` (seconds, may be
    changed at any time) delays the answer to every call except getUpdates, to model the
    round trip to Telegram in benchmarks.

    Unknown methods get 404 "Not Found: method not found", which PTB raises as
    ``InvalidToken`` (it cannot tell a bad token from a bad method): if the bot starts raising
    that, it is calling a method the stand-in does not implement yet.

    Not thread-safe: use it from the event loop it was started in.
    """

    def __init__(
        self,
        *,
        bot_username: str = "boneload_test_bot",
        bot_id: int = 100_000_001,
        bot_first_name: str = "Boneload",
        token: str | None = None,
        latency: float = 0.0,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.bot_username = bot_username
        self.bot_id = bot_id
        self.bot_first_name = bot_first_name
        self.latency = latency
        self._token = token
        self._clock = clock
        self._runner: web.AppRunner | None = None
        self._base = ""

        self._calls: list[RecordedCall] = []
        self._calls_changed = asyncio.Condition()
        self._updates_signal = asyncio.Event()
        self._closing = asyncio.Event()

        self._pending: list[_Pending] = []
        self._last_update_id = 0
        self._next_message_ids: dict[int, int] = defaultdict(lambda: 1)
        self._user_message_ids: dict[int, set[int]] = defaultdict(set)
        self._sent: dict[int, list[SentMessage]] = defaultdict(list)
        self._users: dict[int, dict[str, Any]] = {}
        self._callbacks: dict[str, _Callback] = {}
        self._callback_seq = 0
        self._answered: list[AnsweredCallback] = []
        self._files: dict[str, SentFile] = {}
        self._file_paths: dict[str, SentFile] = {}
        self._file_seq = 0
        self._commands: dict[tuple[str, str], list[dict[str, str]]] = {}
        # setMyDescription / setMyShortDescription, by language_code ("" = every language).
        self._descriptions: dict[str, str] = {}
        self._short_descriptions: dict[str, str] = {}
        self._webhook: dict[str, Any] = {}
        self._faults: dict[str, deque[faults.Fault]] = defaultdict(deque)
        self._blocked: set[int] = set()

        methods: list[tuple[str, _Handler]] = [
            ("getMe", self._get_me),
            ("getUpdates", self._get_updates),
            ("sendMessage", self._send_message),
            ("sendVoice", self._send_voice),
            ("editMessageText", self._edit_message_text),
            ("editMessageReplyMarkup", self._edit_message_reply_markup),
            ("editMessageCaption", self._edit_message_caption),
            ("deleteMessage", self._delete_message),
            ("answerCallbackQuery", self._answer_callback_query),
            ("sendDocument", self._send_document),
            ("sendPhoto", self._send_photo),
            ("sendChatAction", self._send_chat_action),
            ("setMyCommands", self._set_my_commands),
            ("getMyCommands", self._get_my_commands),
            ("deleteMyCommands", self._delete_my_commands),
            ("setMyDescription", self._set_my_description),
            ("getMyDescription", self._get_my_description),
            ("setMyShortDescription", self._set_my_short_description),
            ("getMyShortDescription", self._get_my_short_description),
            ("setWebhook", self._set_webhook),
            ("deleteWebhook", self._delete_webhook),
            ("getWebhookInfo", self._get_webhook_info),
            ("getFile", self._get_file),
            ("close", self._true),
            ("logOut", self._true),
        ]
        self._methods: dict[str, tuple[str, _Handler]] = {
            name.lower(): (name, handler) for name, handler in methods
        }

    # ------------------------------------------------------------------ lifecycle

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        if self._runner is not None:
            raise RuntimeError("the stand-in is already running")
        # Fresh primitives: a stand-in may be restarted under another event loop.
        self._calls_changed = asyncio.Condition()
        self._updates_signal = asyncio.Event()
        self._closing = asyncio.Event()
        app = web.Application(client_max_size=_MAX_UPLOAD)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        # handler_cancellation: a client that gives up (timeout, stopped poller) cancels the
        # handler, as a dropped connection would; a short shutdown_timeout keeps stop() quick.
        runner = web.AppRunner(
            app,
            handle_signals=False,
            access_log=None,
            shutdown_timeout=0.5,
            handler_cancellation=True,
        )
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        await site.start()
        bound_host, bound_port = runner.addresses[0][:2]
        self._runner = runner
        self._base = f"http://{bound_host}:{bound_port}"

    async def stop(self) -> None:
        if self._runner is None:
            return
        self._closing.set()
        self._signal_updates()
        runner, self._runner = self._runner, None
        await runner.cleanup()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def url(self) -> str:
        """``http://host:port`` of the running server."""
        if not self._base:
            raise RuntimeError("the stand-in is not started")
        return self._base

    @property
    def base_url(self) -> str:
        """The value for ``ApplicationBuilder().base_url(...)``: PTB appends the token."""
        return f"{self.url}/bot"

    @property
    def base_file_url(self) -> str:
        """The value for ``ApplicationBuilder().base_file_url(...)``."""
        return f"{self.url}/file/bot"

    @property
    def token(self) -> str | None:
        """The only token accepted, or None when any token is."""
        return self._token

    @property
    def bot_user(self) -> dict[str, Any]:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_first_name,
            "username": self.bot_username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    # ------------------------------------------------------------------ recorded state

    @property
    def calls(self) -> list[RecordedCall]:
        return list(self._calls)

    def calls_to(self, method: str) -> list[RecordedCall]:
        """Every recorded call of ``method`` (any case), failed ones included."""
        wanted = method.lower()
        return [c for c in self._calls if c.method.lower() == wanted]

    def messages_to(self, chat_id: int) -> list[SentMessage]:
        """What the bot delivered to ``chat_id``, oldest first, as it looks now.

        Deleted messages stay in the list with ``deleted=True`` so that counts never go down;
        failed sends (faults, blocked user, 4xx) are not here.
        """
        return [copy.deepcopy(m) for m in self._sent.get(chat_id, [])]

    def reply_keyboard_of(self, chat_id: int) -> list[list[str]]:
        """The reply keyboard the chat shows now: the last one sent (a reply keyboard belongs to
        the chat, not to a message), or none after ``remove_keyboard``."""
        for m in reversed(self._sent.get(chat_id, [])):
            markup = m.reply_markup or {}
            if markup.get("remove_keyboard"):
                return []
            if m.reply_keyboard:
                return [list(row) for row in m.reply_keyboard]
        return []

    def last_message_to(self, chat_id: int) -> SentMessage | None:
        sent = self._sent.get(chat_id)
        return copy.deepcopy(sent[-1]) if sent else None

    @property
    def answered_callbacks(self) -> list[AnsweredCallback]:
        return list(self._answered)

    def my_commands(
        self, scope: dict[str, Any] | None = None, language_code: str = ""
    ) -> list[tuple[str, str]]:
        """The command menu set by setMyCommands for a scope and language."""
        stored = self._commands.get(self._commands_key(scope, language_code), [])
        return [(c["command"], c["description"]) for c in stored]

    def my_description(self, language_code: str = "") -> str:
        """The description set by setMyDescription for a language ("" if none)."""
        return self._descriptions.get(language_code, "")

    def my_short_description(self, language_code: str = "") -> str:
        return self._short_descriptions.get(language_code, "")

    @property
    def webhook_url(self) -> str:
        return str(self._webhook.get("url", ""))

    @property
    def webhook_secret(self) -> str | None:
        secret = self._webhook.get("secret_token")
        return None if secret is None else str(secret)

    @property
    def pending_updates(self) -> list[dict[str, Any]]:
        """Updates pushed but not yet confirmed by a getUpdates offset."""
        return [copy.deepcopy(p.update) for p in self._pending]

    # ------------------------------------------------------------------ waiting

    # A plain ``timeout`` argument (ASYNC109) keeps test code short; asyncio.timeout is used inside.
    async def wait_for(
        self,
        predicate: Callable[[Sequence[RecordedCall]], T | None],
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> T:
        """Wait until ``predicate(calls)`` is truthy and return its value.

        Re-checked each time a call arrives or is answered; raises TimeoutError listing the
        recent calls otherwise.
        """
        calls = self._calls
        try:
            async with asyncio.timeout(timeout), self._calls_changed:
                while not (result := predicate(calls)):
                    await self._calls_changed.wait()
                return result
        except TimeoutError:
            raise TimeoutError(
                f"condition not met within {timeout}s; recent calls:\n{self.describe_calls()}"
            ) from None

    async def wait_for_messages(
        self,
        chat_id: int,
        count: int,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> list[SentMessage]:
        """Wait until the bot has sent at least ``count`` messages to ``chat_id`` in all."""
        try:
            await self.wait_for(lambda _: len(self._sent.get(chat_id, ())) >= count, timeout)
        except TimeoutError:
            sent = self._sent.get(chat_id, [])
            shown = "\n".join(
                f"  #{m.message_id}: {m.plain_text!r} {m.button_texts or ''}" for m in sent
            )
            raise TimeoutError(
                f"expected at least {count} message(s) to chat {chat_id} within {timeout}s, "
                f"got {len(sent)}:\n{shown or '  (none)'}\n"
                f"recent calls:\n{self.describe_calls()}"
            ) from None
        return self.messages_to(chat_id)

    async def wait_for_call(
        self,
        method: str,
        count: int = 1,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> list[RecordedCall]:
        """Wait until ``method`` has been answered ``count`` times (in any way)."""
        wanted = method.lower()

        def answered(calls: Sequence[RecordedCall]) -> list[RecordedCall] | None:
            done = [c for c in calls if c.method.lower() == wanted and c.done]
            return done if len(done) >= count else None

        return await self.wait_for(answered, timeout)

    def describe_calls(self, limit: int = 12) -> str:
        """The last calls except getUpdates, one a line, for failure messages."""
        lines = []
        for call in [c for c in self._calls if c.method != "getUpdates"][-limit:]:
            shown = {k: v for k, v in call.params.items() if k != "reply_markup"}
            outcome = "pending" if call.status is None else str(call.status)
            if call.response is not None and not call.response.get("ok"):
                outcome += f" {call.response.get('description')}"
            lines.append(f"  {call.method} {shown} -> {outcome}")
        return "\n".join(lines) or "  (none)"

    async def _notify(self) -> None:
        async with self._calls_changed:
            self._calls_changed.notify_all()

    # ------------------------------------------------------------------ simulated users

    def text_update(
        self,
        user_id: int,
        text: str,
        *,
        first_name: str = "Alex",
        username: str | None = None,
        language_code: str | None = "en",
        chat_id: int | None = None,
    ) -> dict[str, Any]:
        """Build (without queueing) the update for ``user_id`` typing ``text``.

        Allocates the update and message ids, so it is what webhook tests post.
        """
        user = self._remember_user(user_id, first_name, username, language_code)
        chat = user_id if chat_id is None else chat_id
        message_id = self._allocate_message_id(chat)
        self._user_message_ids[chat].add(message_id)
        message: dict[str, Any] = {
            "message_id": message_id,
            "from": user,
            "chat": self._chat_json(chat),
            "date": self._now(),
            "text": text,
        }
        if text.startswith("/"):
            command = text.split(maxsplit=1)[0]
            message["entities"] = [
                {"type": "bot_command", "offset": 0, "length": _utf16_len(command)}
            ]
        return {"update_id": self._allocate_update_id(), "message": message}

    def callback_update(
        self,
        user_id: int,
        message_id: int,
        callback_data: str | None,
        *,
        chat_id: int | None = None,
    ) -> dict[str, Any]:
        """Build (without queueing) the update for ``user_id`` pressing a button."""
        chat = user_id if chat_id is None else chat_id
        message = self._find_message(chat, message_id)
        if message is None:
            raise LookupError(f"the bot sent no message {message_id} to chat {chat}")
        self._callback_seq += 1
        query_id = str(4_000_000_000_000 + self._callback_seq)
        self._callbacks[query_id] = _Callback(user_id, callback_data, message_id)
        query: dict[str, Any] = {
            "id": query_id,
            "from": self._users.get(user_id) or self._remember_user(user_id, "Alex", None, "en"),
            "message": self._message_json(message),
            "chat_instance": f"{self.bot_id}{abs(chat)}",
        }
        if callback_data is not None:
            query["data"] = callback_data
        return {"update_id": self._allocate_update_id(), "callback_query": query}

    def push_update(self, update: dict[str, Any]) -> int:
        """Queue a raw update for getUpdates. Keeps its ``update_id`` if it has one.

        Unlike Telegram, an update is delivered once even if its id is below the offset the
        bot already confirmed, so a test can replay an old update id to check idempotency.
        """
        update = copy.deepcopy(update)
        if "update_id" in update:
            update_id = int(update["update_id"])
            self._last_update_id = max(self._last_update_id, update_id)
        else:
            update_id = update["update_id"] = self._allocate_update_id()
        self._pending.append(_Pending(update))
        self._signal_updates()
        return update_id

    def push_text(
        self,
        user_id: int,
        text: str,
        *,
        first_name: str = "Alex",
        username: str | None = None,
        language_code: str | None = "en",
        chat_id: int | None = None,
    ) -> int:
        """``user_id`` sends ``text`` (in their private chat unless ``chat_id`` is given)."""
        return self.push_update(
            self.text_update(
                user_id,
                text,
                first_name=first_name,
                username=username,
                language_code=language_code,
                chat_id=chat_id,
            )
        )

    def press(
        self,
        user_id: int,
        message_id: int,
        callback_data: str | None,
        *,
        chat_id: int | None = None,
    ) -> int:
        """``user_id`` presses a button with ``callback_data`` under the bot's ``message_id``."""
        return self.push_update(
            self.callback_update(user_id, message_id, callback_data, chat_id=chat_id)
        )

    def press_button(self, user_id: int, message_id: int, text: str) -> int:
        """Press the button labelled ``text`` on the bot's message, as a person would."""
        message = self._find_message(user_id, message_id)
        if message is None:
            raise LookupError(f"the bot sent no message {message_id} to chat {user_id}")
        for row in message.buttons:
            for label, data in row:
                if label == text:
                    return self.press(user_id, message_id, data)
        raise LookupError(f"message {message_id} has no button {text!r}: {message.buttons}")

    async def post_update_to_webhook(
        self, url: str, update: dict[str, Any], secret_token: str | None = None
    ) -> int:
        """POST ``update`` to the bot's webhook as Telegram would; returns the HTTP status."""
        headers = {}
        if secret_token is not None:
            headers["X-Telegram-Bot-Api-Secret-Token"] = secret_token
        async with (
            aiohttp.ClientSession() as session,
            session.post(url, json=update, headers=headers) as response,
        ):
            await response.read()
            return response.status

    # ------------------------------------------------------------------ faults

    def inject(self, method: str, fault: faults.Fault, *, times: int = 1) -> None:
        """Make the next ``times`` calls of ``method`` (any case) fail with ``fault``."""
        self._faults[method.lower()].extend([fault] * times)

    def clear_faults(self) -> None:
        self._faults.clear()

    def block_user(self, user_id: int) -> None:
        """Until unblocked, anything the bot sends to this user's chat gets 403."""
        self._blocked.add(user_id)

    def unblock_user(self, user_id: int) -> None:
        self._blocked.discard(user_id)

    async def _pause(self, seconds: float) -> None:
        # A simulated network delay that stop() can cut short.
        if seconds > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closing.wait(), seconds)

    # ------------------------------------------------------------------ HTTP

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        api = _API_PATH.fullmatch(request.path)
        if api is None:
            file = _FILE_PATH.fullmatch(request.path)
            if file is not None and request.method in ("GET", "HEAD"):
                return self._serve_file(file.group(1), file.group(2))
            return web.json_response(
                {"ok": False, "error_code": 404, "description": "Not Found"}, status=404
            )
        token, method = api.groups()
        try:
            params = await read_params(request)
        except (ValueError, web.HTTPBadRequest):
            return web.json_response(_bad("can't parse request body").body(), status=400)
        name, handler = self._methods.get(method.lower(), (method, None))
        call = RecordedCall(
            method=name,
            params=params,
            time=time.monotonic(),
            http_method=request.method,
            token=token,
        )
        self._calls.append(call)
        await self._notify()
        status: int | None = None
        body: dict[str, Any] | None = None
        try:
            if self._token is not None and token != self._token:
                status, body = 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}
            elif handler is None:
                status, body = (
                    404,
                    {
                        "ok": False,
                        "error_code": 404,
                        "description": "Not Found: method not found",
                    },
                )
            else:
                status, body = await self._dispatch(call, handler)
        finally:
            call.status, call.response = status, body
            if status is not None:
                await self._notify()
        return web.json_response(body, status=status)

    async def _dispatch(self, call: RecordedCall, handler: _Handler) -> tuple[int, dict[str, Any]]:
        polling = call.method == "getUpdates"
        if not polling:
            await self._pause(self.latency)
        queue = self._faults.get(call.method.lower())
        if queue:
            fault = call.fault = queue.popleft()
            if isinstance(fault, faults.Timeout):
                if fault.deliver:
                    await self._run(handler, call.params)
                await self._pause(fault.seconds)
            return fault.status, fault.body()
        chat_id = call.params.get("chat_id")
        if isinstance(chat_id, int | str) and str(chat_id) in {str(u) for u in self._blocked}:
            blocked = faults.Forbidden()
            return blocked.status, blocked.body()
        return await self._run(handler, call.params)

    async def _run(self, handler: _Handler, params: Params) -> tuple[int, dict[str, Any]]:
        try:
            result = await handler(params)
        except _ApiError as error:
            return error.status, error.body()
        return 200, {"ok": True, "result": result}

    def _serve_file(self, token: str, path: str) -> web.StreamResponse:
        file = self._file_paths.get(path)
        if file is None or (self._token is not None and token != self._token):
            return web.json_response(
                {"ok": False, "error_code": 404, "description": "Not Found"}, status=404
            )
        return web.Response(
            body=file.content, content_type=file.mime_type or "application/octet-stream"
        )

    # ------------------------------------------------------------------ helpers

    def _now(self) -> int:
        return int(self._clock() if self._clock is not None else time.time())

    def _allocate_update_id(self) -> int:
        self._last_update_id += 1
        return self._last_update_id

    def _allocate_message_id(self, chat_id: int) -> int:
        message_id = self._next_message_ids[chat_id]
        self._next_message_ids[chat_id] = message_id + 1
        return message_id

    def _signal_updates(self) -> None:
        # Wake every waiting getUpdates at once; each new wait takes the fresh event.
        self._updates_signal.set()
        self._updates_signal = asyncio.Event()

    def _remember_user(
        self, user_id: int, first_name: str, username: str | None, language_code: str | None
    ) -> dict[str, Any]:
        user: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name}
        if username is not None:
            user["username"] = username
        if language_code is not None:
            user["language_code"] = language_code
        self._users[user_id] = user
        return user

    def _chat_json(self, chat_id: int) -> dict[str, Any]:
        if chat_id > 0:
            user = self._users.get(chat_id, {})
            chat: dict[str, Any] = {
                "id": chat_id,
                "type": "private",
                "first_name": user.get("first_name", "User"),
            }
            if "username" in user:
                chat["username"] = user["username"]
            return chat
        kind = "supergroup" if str(chat_id).startswith("-100") else "group"
        return {"id": chat_id, "type": kind, "title": f"Chat {chat_id}"}

    def _message_json(self, message: SentMessage) -> dict[str, Any]:
        # Real Telegram hands back the displayed text, formatting stripped into entities.
        data: dict[str, Any] = {
            "message_id": message.message_id,
            "from": self.bot_user,
            "chat": self._chat_json(message.chat_id),
            "date": message.date,
        }
        if message.text is not None:
            data["text"] = to_plain(message.text, message.parse_mode)
        if message.caption is not None:
            data["caption"] = to_plain(message.caption, message.parse_mode)
        inline = self._inline_only(message.reply_markup)
        if inline is not None:
            data["reply_markup"] = inline
        if message.document is not None:
            data["document"] = self._file_json(message.document, with_name=True)
        if message.photo is not None:
            data["photo"] = [
                {**self._file_json(message.photo, with_name=False), "width": 1, "height": 1}
            ]
        if message.voice is not None:
            data["voice"] = {
                **self._file_json(message.voice, with_name=False),
                "duration": message.voice_duration or 0,
                "mime_type": message.voice.mime_type or "audio/ogg",
            }
        if message.edit_date is not None:
            data["edit_date"] = message.edit_date
        return data

    @staticmethod
    def _file_json(file: SentFile, *, with_name: bool) -> dict[str, Any]:
        data: dict[str, Any] = {
            "file_id": file.file_id,
            "file_unique_id": file.file_unique_id,
            "file_size": len(file.content),
        }
        if with_name:
            data["file_name"] = file.filename
            if file.mime_type:
                data["mime_type"] = file.mime_type
        return data

    def _find_message(self, chat_id: int, message_id: int) -> SentMessage | None:
        for message in self._sent.get(chat_id, ()):
            if message.message_id == message_id:
                return message
        return None

    @staticmethod
    def _chat_id(params: Params) -> int:
        value = params.get("chat_id")
        if value is None or value == "":
            raise _bad("chat_id is empty")
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise _bad("chat not found")
        try:
            return int(value)
        except ValueError:
            raise _bad("chat not found") from None

    @staticmethod
    def _int(params: Params, name: str) -> int:
        value = params.get(name)
        if isinstance(value, bool):
            raise _bad(f"{name} is invalid")
        try:
            return int(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise _bad(f"{name} is empty" if value is None else f"{name} is invalid") from None

    def _editable(self, params: Params, action: str) -> SentMessage:
        if "inline_message_id" in params:
            raise _bad("inline messages are not supported by the stand-in")
        chat_id = self._chat_id(params)
        message = self._find_message(chat_id, self._int(params, "message_id"))
        if message is None or message.deleted:
            raise _bad(f"message to {action} not found")
        return message

    @staticmethod
    def _check_text(text: Any, parse_mode: Any, *, caption: bool) -> str | None:
        if caption and (text is None or text == ""):
            return None
        if not isinstance(text, str) or not text.strip():
            raise _bad("message text is empty")
        mode = parse_mode if isinstance(parse_mode, str) else None
        error = parse_error(text, mode)
        if error is not None:
            raise _bad(f"can't parse entities: {error}")
        # Telegram measures the displayed text, markup stripped, in UTF-16 units.
        length = _utf16_len(to_plain(text, mode))
        if caption and length > _MAX_CAPTION:
            raise _bad("message caption is too long")
        if not caption and length > _MAX_TEXT:
            raise _bad("message is too long")
        return text

    @staticmethod
    def _markup(
        params: Params,
    ) -> tuple[dict[str, Any] | None, list[list[Button]], list[list[str]]]:
        """The reply_markup as sent, its inline buttons, and its reply-keyboard labels."""
        markup = params.get("reply_markup")
        if isinstance(markup, str):
            try:
                markup = json.loads(markup)
            except ValueError:
                raise _bad("can't parse reply keyboard markup JSON object") from None
        if markup is None:
            return None, [], []
        if not isinstance(markup, dict):
            raise _bad("can't parse reply keyboard markup JSON object")
        rows = markup.get("inline_keyboard")
        if rows is None:
            keyboard = markup.get("keyboard")
            if not isinstance(keyboard, list):
                return markup, [], []
            labels = [
                [b["text"] if isinstance(b, dict) else str(b) for b in row]
                for row in keyboard
                if isinstance(row, list)
            ]
            return markup, [], labels
        if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
            raise _bad('field "inline_keyboard" of the InlineKeyboardMarkup should be an Array')
        buttons: list[list[Button]] = []
        for row in rows:
            out: list[Button] = []
            for button in row:
                if not isinstance(button, dict) or not isinstance(button.get("text"), str):
                    raise _bad('can\'t find field "text"')
                data = button.get("callback_data")
                if data is not None:
                    size = len(str(data).encode("utf-8"))
                    if not 1 <= size <= _MAX_CALLBACK_DATA:
                        raise _bad("BUTTON_DATA_INVALID")
                elif not any(k in button for k in ("url", "web_app", "login_url", "pay")) and not (
                    any(k.startswith("switch_inline") or k == "copy_text" for k in button)
                ):
                    raise _bad("text buttons are unallowed in the inline keyboard")
                out.append((button["text"], None if data is None else str(data)))
            buttons.append(out)
        return markup, buttons, []

    def _edit_markup(self, params: Params) -> tuple[dict[str, Any] | None, list[list[Button]]]:
        markup, buttons, _ = self._markup(params)
        if markup is not None and "inline_keyboard" not in markup:
            raise _bad("inline keyboard expected")
        return markup, buttons

    @staticmethod
    def _inline_only(markup: dict[str, Any] | None) -> dict[str, Any] | None:
        # Only inline keyboards stick to a message; reply keyboards belong to the chat.
        return markup if markup is not None and "inline_keyboard" in markup else None

    def _deliver(self, chat_id: int, message: SentMessage) -> dict[str, Any]:
        self._sent[chat_id].append(message)
        return self._message_json(message)

    def _store_file(self, kind: str, upload: Any) -> SentFile:
        if isinstance(upload, UploadedFile):
            if not upload.content:
                raise _bad("file must be non-empty")
            self._file_seq += 1
            mime = upload.content_type
            if mime in (None, "application/octet-stream"):
                mime = mimetypes.guess_type(upload.filename)[0] or mime
            file = SentFile(
                file_id=f"{kind}-{self._file_seq:06d}-standin",
                file_unique_id=f"u{self._file_seq:06d}",
                filename=upload.filename,
                content=upload.content,
                mime_type=mime,
            )
            self._files[file.file_id] = file
            self._file_paths[f"{kind}s/{file.file_id}_{file.filename}"] = file
            return file
        if isinstance(upload, str) and upload in self._files:
            return self._files[upload]
        if isinstance(upload, str) and upload.startswith(("http://", "https://")):
            # The stand-in cannot fetch URLs; it records the reference with no content.
            self._file_seq += 1
            return SentFile(
                file_id=f"{kind}-{self._file_seq:06d}-url",
                file_unique_id=f"u{self._file_seq:06d}",
                filename=upload.rsplit("/", 1)[-1] or "file",
                content=b"",
            )
        if upload is None or upload == "":
            raise _bad(f"there is no {kind} in the request")
        raise _bad("wrong file identifier/HTTP URL specified")

    @staticmethod
    def _commands_key(scope: Any, language_code: Any) -> tuple[str, str]:
        scope = scope or {"type": "default"}
        return json.dumps(scope, sort_keys=True), str(language_code or "")

    # ------------------------------------------------------------------ API methods

    async def _true(self, params: Params) -> bool:
        return True

    async def _get_me(self, params: Params) -> dict[str, Any]:
        return self.bot_user

    async def _get_updates(self, params: Params) -> list[dict[str, Any]]:
        if self.webhook_url:
            raise _ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = params.get("offset")
        limit = max(1, min(100, int(params.get("limit") or 100)))
        timeout = float(params.get("timeout") or 0)
        if isinstance(offset, int):
            if offset < 0:
                self._pending = self._pending[offset:]
            else:
                self._pending = [
                    p for p in self._pending if not (p.delivered and p.update["update_id"] < offset)
                ]
        deadline = asyncio.get_running_loop().time() + timeout
        while not self._pending and not self._closing.is_set():
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                return []
            signal = self._updates_signal
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(signal.wait(), remaining)
        batch = self._pending[:limit]
        for pending in batch:
            pending.delivered = True
        return [copy.deepcopy(p.update) for p in batch]

    async def _send_message(self, params: Params) -> dict[str, Any]:
        chat_id = self._chat_id(params)
        parse_mode = params.get("parse_mode")
        text = self._check_text(params.get("text"), parse_mode, caption=False)
        markup, buttons, keyboard = self._markup(params)
        message = SentMessage(
            message_id=self._allocate_message_id(chat_id),
            chat_id=chat_id,
            date=self._now(),
            text=text,
            parse_mode=parse_mode,
            buttons=buttons,
            reply_keyboard=keyboard,
            reply_markup=markup,
        )
        return self._deliver(chat_id, message)

    async def _send_file(self, params: Params, kind: str) -> dict[str, Any]:
        chat_id = self._chat_id(params)
        parse_mode = params.get("parse_mode")
        caption = self._check_text(params.get("caption"), parse_mode, caption=True)
        markup, buttons, keyboard = self._markup(params)
        file = self._store_file(kind, params.get(kind))
        message = SentMessage(
            message_id=self._allocate_message_id(chat_id),
            chat_id=chat_id,
            date=self._now(),
            caption=caption,
            parse_mode=parse_mode,
            buttons=buttons,
            reply_keyboard=keyboard,
            reply_markup=markup,
            document=file if kind == "document" else None,
            photo=file if kind == "photo" else None,
            voice=file if kind == "voice" else None,
            voice_duration=int(params.get("duration") or 0) if kind == "voice" else None,
        )
        return self._deliver(chat_id, message)

    async def _send_document(self, params: Params) -> dict[str, Any]:
        return await self._send_file(params, "document")

    async def _send_voice(self, params: Params) -> dict[str, Any]:
        return await self._send_file(params, "voice")

    async def _send_photo(self, params: Params) -> dict[str, Any]:
        return await self._send_file(params, "photo")

    async def _edit_message_text(self, params: Params) -> dict[str, Any]:
        message = self._editable(params, "edit")
        if message.text is None:
            raise _bad("there is no text in the message to edit")
        parse_mode = params.get("parse_mode")
        text = self._check_text(params.get("text"), parse_mode, caption=False)
        # Like Telegram: an edit without reply_markup drops the inline keyboard.
        markup, buttons = self._edit_markup(params)
        same_markup = markup == self._inline_only(message.reply_markup)
        if text == message.text and parse_mode == message.parse_mode and same_markup:
            raise _ApiError(400, NOT_MODIFIED)
        message.previous_texts.append(message.text)
        message.text, message.parse_mode = text, parse_mode
        message.reply_markup, message.buttons = markup, buttons
        message.edit_date = self._now()
        return self._message_json(message)

    async def _edit_message_caption(self, params: Params) -> dict[str, Any]:
        message = self._editable(params, "edit")
        if message.document is None and message.photo is None:
            raise _bad("there is no caption in the message to edit")
        parse_mode = params.get("parse_mode")
        caption = self._check_text(params.get("caption"), parse_mode, caption=True)
        markup, buttons = self._edit_markup(params)
        if caption == message.caption and markup == self._inline_only(message.reply_markup):
            raise _ApiError(400, NOT_MODIFIED)
        message.previous_texts.append(message.caption)
        message.caption, message.parse_mode = caption, parse_mode
        message.reply_markup, message.buttons = markup, buttons
        message.edit_date = self._now()
        return self._message_json(message)

    async def _edit_message_reply_markup(self, params: Params) -> dict[str, Any]:
        message = self._editable(params, "edit")
        markup, buttons = self._edit_markup(params)
        if markup == self._inline_only(message.reply_markup):
            raise _ApiError(400, NOT_MODIFIED)
        message.reply_markup, message.buttons = markup, buttons
        message.edit_date = self._now()
        return self._message_json(message)

    async def _delete_message(self, params: Params) -> bool:
        chat_id = self._chat_id(params)
        message_id = self._int(params, "message_id")
        if message_id in self._user_message_ids[chat_id]:
            self._user_message_ids[chat_id].discard(message_id)
            return True
        message = self._find_message(chat_id, message_id)
        if message is None or message.deleted:
            raise _bad("message to delete not found")
        message.deleted = True
        return True

    async def _answer_callback_query(self, params: Params) -> bool:
        query_id = params.get("callback_query_id")
        callback = self._callbacks.get(str(query_id))
        if callback is None:
            raise _ApiError(400, QUERY_TOO_OLD)
        text = params.get("text")
        self._answered.append(
            AnsweredCallback(
                callback_query_id=str(query_id),
                text=None if text is None else str(text),
                show_alert=bool(params.get("show_alert", False)),
                user_id=callback.user_id,
                data=callback.data,
                message_id=callback.message_id,
            )
        )
        return True

    async def _send_chat_action(self, params: Params) -> bool:
        self._chat_id(params)
        if not params.get("action"):
            raise _bad("action is empty")
        return True

    async def _set_my_commands(self, params: Params) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise _bad("commands must be an array")
        stored: list[dict[str, str]] = []
        for command in commands:
            name = command.get("command") if isinstance(command, dict) else None
            description = command.get("description") if isinstance(command, dict) else None
            if not isinstance(name, str) or not _COMMAND.fullmatch(name):
                raise _bad("BOT_COMMAND_INVALID")
            if not isinstance(description, str) or not 1 <= len(description) <= 256:
                raise _bad("command description is invalid")
            stored.append({"command": name, "description": description})
        key = self._commands_key(params.get("scope"), params.get("language_code"))
        self._commands[key] = stored
        return True

    async def _get_my_commands(self, params: Params) -> list[dict[str, str]]:
        key = self._commands_key(params.get("scope"), params.get("language_code"))
        return list(self._commands.get(key, []))

    async def _delete_my_commands(self, params: Params) -> bool:
        key = self._commands_key(params.get("scope"), params.get("language_code"))
        self._commands.pop(key, None)
        return True

    @staticmethod
    def _set_text(store: dict[str, str], params: Params, field: str, limit: int) -> bool:
        """Telegram's rule for both descriptions: up to `limit` characters, empty removes it
        (the bot then shows the one for every language)."""
        text = params.get(field)
        if text is None:
            text = ""
        if not isinstance(text, str) or len(text) > limit:
            raise _bad(f"{field} is too long or not a string")
        code = str(params.get("language_code") or "")
        if text:
            store[code] = text
        else:
            store.pop(code, None)
        return True

    def _get_text(self, store: dict[str, str], params: Params) -> str:
        code = str(params.get("language_code") or "")
        return store.get(code, store.get("", ""))

    async def _set_my_description(self, params: Params) -> bool:
        return self._set_text(self._descriptions, params, "description", 512)

    async def _get_my_description(self, params: Params) -> dict[str, str]:
        return {"description": self._get_text(self._descriptions, params)}

    async def _set_my_short_description(self, params: Params) -> bool:
        return self._set_text(self._short_descriptions, params, "short_description", 120)

    async def _get_my_short_description(self, params: Params) -> dict[str, str]:
        return {"short_description": self._get_text(self._short_descriptions, params)}

    async def _set_webhook(self, params: Params) -> bool:
        url = params.get("url")
        if not isinstance(url, str):
            raise _bad("url is empty")
        if params.get("drop_pending_updates"):
            self._pending.clear()
        if not url:
            self._webhook = {}
            return True
        self._webhook = {
            "url": url,
            "secret_token": params.get("secret_token"),
            "allowed_updates": params.get("allowed_updates"),
            "max_connections": params.get("max_connections", 40),
        }
        return True

    async def _delete_webhook(self, params: Params) -> bool:
        if params.get("drop_pending_updates"):
            self._pending.clear()
        self._webhook = {}
        return True

    async def _get_webhook_info(self, params: Params) -> dict[str, Any]:
        info: dict[str, Any] = {
            "url": self.webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(self._pending),
        }
        if self.webhook_url:
            info["max_connections"] = self._webhook.get("max_connections", 40)
            if self._webhook.get("allowed_updates") is not None:
                info["allowed_updates"] = self._webhook["allowed_updates"]
        return info

    async def _get_file(self, params: Params) -> dict[str, Any]:
        file_id = params.get("file_id")
        file = self._files.get(str(file_id))
        if file is None:
            raise _bad("invalid file_id")
        path = next(p for p, f in self._file_paths.items() if f.file_id == file.file_id)
        return {
            "file_id": file.file_id,
            "file_unique_id": file.file_unique_id,
            "file_size": len(file.content),
            "file_path": path,
        }
