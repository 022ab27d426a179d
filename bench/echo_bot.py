"""The floor for `bench/e2e_throughput.py`: a bare PTB bot, polling like `boneload run` does.

It answers what the benchmark's runners do with the fewest calls that show the same turn to a
user: a typed message is echoed back; a button press is answered (the spinner) and its message
edited to the pressed callback data, as boneload answers a press and edits in the next question.
PTB's defaults throughout (updates handled one at a time, as `build_application` does), no
database, no rate limiter.

    ECHO_TOKEN=123:abc ECHO_BASE_URL=http://127.0.0.1:8081/bot python bench/echo_bot.py

Stops on SIGTERM (PTB's `run_polling` handles it).
"""

from __future__ import annotations

import os

from telegram import Update
from telegram.ext import (
    ApplicationBuilder,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    filters,
)


async def echo_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.message is not None and update.message.text is not None
    await update.message.reply_text(update.message.text)


async def echo_press(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None and query.data is not None
    await query.answer()
    await query.edit_message_text(query.data)


def main() -> None:
    app = ApplicationBuilder().token(os.environ["ECHO_TOKEN"]).base_url(os.environ["ECHO_BASE_URL"])
    application = app.build()
    application.add_handler(MessageHandler(filters.TEXT, echo_text))
    application.add_handler(CallbackQueryHandler(echo_press))
    application.run_polling(allowed_updates=Update.ALL_TYPES)


if __name__ == "__main__":
    main()
