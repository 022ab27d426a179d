"""Coach-facing rendering of agenda rows (alerts with one-tap actions)."""

from __future__ import annotations

from typing import Any

from bot.conversation.prompts import Prompt
from bot.program.state import ProgramState
from bot.services.deps import Deps


async def render_coach(deps: Deps, item: Any, state: ProgramState | None) -> Prompt | None:
    from bot.services import coaches

    return await coaches.alert_prompt(deps, item, state)
