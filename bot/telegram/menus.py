"""The command menus Telegram shows: the runners' (default scope) and each coach's own (chat
scope), set at start-up and when a coach is added (an agenda row the running bot sends)."""

from __future__ import annotations

from telegram import BotCommand

from bot import texts, texts_coach


def runner_menu() -> list[BotCommand]:
    return [BotCommand(name, about) for name, about in texts.COMMANDS]


def coach_menu() -> list[BotCommand]:
    extra = [texts_coach.ALERTS_COMMAND, *texts_coach.COMMANDS]
    return runner_menu() + [BotCommand(name, about) for name, about in extra]
