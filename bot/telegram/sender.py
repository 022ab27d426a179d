"""The agenda's sender for Telegram: renders a due row and sends it through the rate-limited bot.

Errors are not caught here: the dispatcher classifies Telegram's errors (retry, back off, mark
unreachable, give up) and records the outcome.
"""

from __future__ import annotations

import logging
from typing import Any

from telegram import Bot, BotCommandScopeChat, Message
from telegram.error import BadRequest

from bot import texts
from bot.conversation.prompts import Prompt
from bot.program.decision import MessageKind
from bot.program.state import ProgramState
from bot.services import reminders
from bot.services import runners as svc
from bot.services.deps import Deps
from bot.store import agenda
from bot.telegram.menus import coach_menu
from bot.telegram.render import render_runner
from bot.telegram.render_coach import render_coach
from bot.telegram.ui import send_prompt
from bot.timer.cache import TimerCache
from bot.timer.plan import TimerPlan, timer_plan

log = logging.getLogger(__name__)


class TelegramSender:
    def __init__(self, bot: Bot, deps: Deps, *, timer: TimerCache | None = None) -> None:
        self.bot = bot
        self.deps = deps
        self.timer = timer  # None: no session timer with run reminders

    async def send(self, item: Any, state: ProgramState | None) -> int | None:
        if item.kind == agenda.UNBUTTON:
            await self._unbutton(item)
            return None
        kind = MessageKind(item.kind)
        payload: dict[str, Any] = dict(item.payload or {})
        if kind is MessageKind.DIGEST:
            from bot.services.coaches import digest_texts

            last = None
            for text in await digest_texts(self.deps, int(item.coach_id)):
                last = await send_prompt(self.bot, int(item.chat_id), Prompt(text))
            return last
        if kind is MessageKind.COACH_MENU:
            scope = BotCommandScopeChat(int(item.chat_id))
            await self.bot.set_my_commands(coach_menu(), scope=scope)
            return None
        coach_kinds = (MessageKind.COACH_ALERT, MessageKind.COACH_NOTE)
        if getattr(item, "coach_id", None) is not None and kind in coach_kinds:
            prompt = await render_coach(self.deps, item, state)
        else:
            # Whether "your coach has been told" is true is decided now, not when scheduled.
            coach = True
            if payload.get("code") in texts.NOTICES_NO_COACH and item.runner_id is not None:
                coach = await svc.has_coach(self.deps, int(item.runner_id))
            prompt = render_runner(kind, payload, state, self.deps.rules, has_coach=coach)
        if prompt is None:
            return None
        if kind in (MessageKind.FOLLOWUP, MessageKind.GATE_CHECK) and item.runner_id is not None:
            # So a typed answer ("3") goes to this question; buttons carry their own reference.
            ref = str(payload["seq"]) if kind is MessageKind.FOLLOWUP else str(payload["phase"])
            flow = ("followup:" if kind is MessageKind.FOLLOWUP else "gate:") + ref
            await svc.save_flow(
                self.deps, int(item.chat_id), int(item.runner_id), flow, {"answers": {}}
            )
        message_id = await send_prompt(self.bot, int(item.chat_id), prompt)
        if (
            kind is MessageKind.SESSION_REMINDER
            and state is not None
            and state.next is not None
            and not payload.get("snoozed")  # "Later today": the timer came with the first one
        ):
            plan = timer_plan(state.next.prescription)
            if (
                plan is not None
                and self.timer is not None
                and item.runner_id is not None
                and await reminders.timer_on(self.deps, int(item.runner_id))
            ):
                await self._send_timer(item, plan)
        return message_id

    async def _unbutton(self, item: Any) -> None:
        """Take the buttons off an old message. Already gone (pressed, deleted, too old to
        edit): nothing left to do, and the row counts as done instead of failing."""
        try:
            await self.bot.edit_message_reply_markup(
                int(item.chat_id), int(item.payload["message_id"]), reply_markup=None
            )
        except BadRequest as exc:
            log.info(
                "buttons not removed", extra={"agenda_id": item.id, "error": type(exc).__name__}
            )

    async def _send_timer(self, item: Any, plan: TimerPlan) -> None:
        """The session timer after its reminder, as part of the same agenda row's send.

        The reminder has gone out by now, so a failed upload must not fail the row (that would
        send the reminder again): it is logged, without any text, and the reminder counts.
        """
        assert self.timer is not None
        caption = texts.timer_caption(plan.total_s, walks=plan.walk_s > 0)
        try:
            known = self.timer.file_id(plan)
            voice: Any = known if known is not None else await self.timer.get_async(plan)
            try:
                sent = await self._send_voice(item, voice, plan, caption)
            except Exception:
                if known is None:
                    raise
                # A remembered file id Telegram no longer knows: upload the audio again.
                self.timer.forget_file_id(plan)
                voice = await self.timer.get_async(plan)
                sent = await self._send_voice(item, voice, plan, caption)
        except Exception as exc:
            log.warning(
                "session timer not sent",
                extra={"agenda_id": item.id, "error": type(exc).__name__},
            )
            return
        if sent.voice is not None:
            self.timer.remember_file_id(plan, sent.voice.file_id)

    async def _send_voice(self, item: Any, voice: Any, plan: TimerPlan, caption: str) -> Message:
        return await self.bot.send_voice(
            int(item.chat_id),
            voice,
            duration=plan.total_s,
            caption=caption,
            filename="session-timer.ogg",
        )
