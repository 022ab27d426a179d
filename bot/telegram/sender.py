"""The agenda's sender for Telegram: renders a due row and sends it through the rate-limited bot.

Errors are not caught here: the dispatcher classifies Telegram's errors (retry, back off, mark
unreachable, give up) and records the outcome.
"""

from __future__ import annotations

from typing import Any

from telegram import Bot

from bot import texts
from bot.conversation.prompts import Prompt
from bot.program.decision import MessageKind
from bot.program.state import ProgramState
from bot.services import runners as svc
from bot.services.deps import Deps
from bot.telegram.render import render_runner
from bot.telegram.render_coach import render_coach
from bot.telegram.ui import send_prompt


class TelegramSender:
    def __init__(self, bot: Bot, deps: Deps) -> None:
        self.bot = bot
        self.deps = deps

    async def send(self, item: Any, state: ProgramState | None) -> int | None:
        kind = MessageKind(item.kind)
        payload: dict[str, Any] = dict(item.payload or {})
        if kind is MessageKind.DIGEST:
            from bot.services.coaches import digest_texts

            last = None
            for text in await digest_texts(self.deps, int(item.coach_id)):
                last = await send_prompt(self.bot, int(item.chat_id), Prompt(text))
            return last
        if getattr(item, "coach_id", None) is not None and kind is MessageKind.COACH_ALERT:
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
        return await send_prompt(self.bot, int(item.chat_id), prompt)
