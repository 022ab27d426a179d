"""The per-update context handlers get: PTB's `CallbackContext` with the update's turn.

PTB makes one context per update and hands the same object to every handler group, so the turn
that `app._first_sight` opens (one read: duplicate check, runner, program, dialog) is the one
the handlers work in and `app._done` finishes.
"""

from __future__ import annotations

from typing import Any

from telegram.ext import CallbackContext, ContextTypes, ExtBot

from bot.services.deps import Deps
from bot.services.turn import Turn


class TurnContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    turn: Turn | None = None

    @property
    def deps(self) -> Deps:
        """The services' dependencies, bound to this update's turn when there is one."""
        if self.turn is not None:
            return self.turn.deps
        deps = self.application.bot_data["deps"]
        assert isinstance(deps, Deps)
        return deps


CONTEXT_TYPES = ContextTypes(context=TurnContext)


def deps_of(context: Any) -> Deps:
    """The dependencies for a handler's context (a `TurnContext` in the running bot)."""
    if isinstance(context, TurnContext):
        return context.deps
    deps = context.application.bot_data["deps"]
    assert isinstance(deps, Deps)
    return deps
