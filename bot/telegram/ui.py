"""Turn our Prompt values into PTB objects, and send or edit them safely."""

from __future__ import annotations

import logging

from telegram import (
    Bot,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    MaybeInaccessibleMessage,
    Message,
    ReplyKeyboardMarkup,
)
from telegram.error import BadRequest

from bot.conversation.callbacks import BadCallback, Callback, decode
from bot.conversation.prompts import Prompt
from bot.localised import texts

log = logging.getLogger(__name__)


def markup(prompt: Prompt) -> InlineKeyboardMarkup | None:
    if not prompt.rows:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(b.label, callback_data=b.data) for b in row] for row in prompt.rows]
    )


def report_keyboard() -> ReplyKeyboardMarkup:
    """The persistent "Report pain" button under the text field; pressing it sends its label."""
    return ReplyKeyboardMarkup(
        [[KeyboardButton(texts.BTN_REPORT_PAIN)]], is_persistent=True, resize_keyboard=True
    )


async def edit_or_send(
    message: MaybeInaccessibleMessage | None, chat_id: int, bot: object, prompt: Prompt
) -> int:
    """Replace the question in place when we can; otherwise send a new message."""
    assert isinstance(bot, Bot)
    if isinstance(message, Message):
        try:
            await message.edit_text(prompt.text, reply_markup=markup(prompt))
            return message.message_id
        except BadRequest as exc:
            # "not modified" or an old message: fall back to a fresh one (logged without text).
            log.info("edit failed, sending anew", extra={"error": type(exc).__name__})
    return await send_prompt(bot, chat_id, prompt)


async def send_prompt(bot: Bot, chat_id: int, prompt: Prompt) -> int:
    """Send a prompt, split at Telegram's length limit; the buttons go on the last part."""
    parts = texts.split_long(prompt.text)
    for part in parts[:-1]:
        await bot.send_message(chat_id, part)
    msg = await bot.send_message(chat_id, parts[-1], reply_markup=markup(prompt))
    return msg.message_id


async def pressed_or_stale(query: CallbackQuery) -> Callback | None:
    """What a press carries, or None once a press with data we cannot read (an old bot's,
    a forged one) has been answered politely as stale."""
    try:
        return decode(query.data)
    except BadCallback:
        await query.answer(texts.STALE)
        return None
