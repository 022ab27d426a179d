"""Who a coach is, looked up once per update, and the language their replies are in.

Every coach handler comes through here, so each one answers in the coach's stored language
(their Telegram language is kept at first contact) and a stranger is told they are not a coach."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from bot.i18n import current, set_language
from bot.localised import texts_coach as tc
from bot.services import coaches
from bot.telegram.context import deps_of


async def known_coach(
    context: ContextTypes.DEFAULT_TYPE, telegram_user_id: int
) -> coaches.CoachCtx | None:
    """The coach with this Telegram id, their language set for the rest of the update; None
    (and nothing said) for anyone else."""
    deps = deps_of(context)
    coach = await coaches.find_coach(deps, telegram_user_id)
    if coach is not None:
        if coach.language is None:
            # The coach's first contact: their Telegram language, kept from now on.
            await coaches.set_coach_language(deps, coach.id, current())
        else:
            set_language(coach.language)
    return coach


async def coach_of(update: Update, context: ContextTypes.DEFAULT_TYPE) -> coaches.CoachCtx | None:
    """The coach sending this update; anyone else is told they are not one (None)."""
    user = update.effective_user
    if user is None:
        return None
    coach = await known_coach(context, user.id)
    if coach is None:
        if update.callback_query is not None:
            await update.callback_query.answer(tc.NOT_A_COACH, show_alert=True)
        elif update.message is not None:
            await update.message.reply_text(tc.NOT_A_COACH)
    return coach


async def runner_arg(
    update: Update, context: ContextTypes.DEFAULT_TYPE, coach: coaches.CoachCtx, usage: str
) -> int | None:
    """A command's runner id argument, if it names one of this coach's runners (else said)."""
    assert update.message is not None
    if not context.args:
        await update.message.reply_text(usage)
        return None
    try:
        return await coaches.resolve(deps_of(context), coach, context.args[0])
    except coaches.NotYourRunner:
        await update.message.reply_text(tc.NO_SUCH_RUNNER)
        return None
