"""/start and onboarding: consent, injury, clearances, ability, days, time, zone.

Each answer is saved before the next question is asked, so a restart resumes at the same step.
"""

from __future__ import annotations

import contextlib
from typing import Any

from telegram import Update
from telegram.error import BadRequest
from telegram.ext import ContextTypes

from bot import texts
from bot.conversation import onboarding
from bot.conversation.callbacks import Callback
from bot.program import screening
from bot.program.plan import project
from bot.services import runners
from bot.services.turn import wake_agenda
from bot.telegram.context import deps_of
from bot.telegram.ui import edit_or_send, report_keyboard

FLOW = "onboarding"


async def on_start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    deps = deps_of(context)
    user, chat = update.effective_user, update.effective_chat
    if user is None or chat is None or update.message is None:
        return
    code = context.args[0][:64] if context.args else None
    runner = await runners.find_runner(deps, user.id)
    if runner is not None:
        if code:
            coach = await runners.link_with_invite(deps, runner.id, code)
            await update.message.reply_text(
                texts.LINKED.format(coach=coach) if coach else texts.INVITE_BAD
            )
        else:
            await update.message.reply_text(texts.ALREADY_ENROLLED)
        return
    dialog = await runners.load_dialog(deps, user.id)
    data: dict[str, Any] = dict(dialog.flows.get(FLOW, {}))
    if code:
        coach = await runners.check_invite(deps, code)
        if coach is None:
            await update.message.reply_text(texts.INVITE_BAD)
        else:
            data["invite"] = code
    elif data:
        await update.message.reply_text(texts.ONBOARDING_RESUME)
    await runners.save_flow(deps, user.id, None, FLOW, data)
    await ask_next(update, context, data, None)


async def ask_next(
    update: Update, context: ContextTypes.DEFAULT_TYPE, data: dict[str, Any], message: Any
) -> None:
    deps = deps_of(context)
    chat = update.effective_chat
    assert chat is not None
    step = onboarding.current_step(data, deps.rules)
    if step is None:
        await finish(update, context, data)
        return
    prompt = onboarding.prompt(step, data, deps.rules, deps.clock())
    await edit_or_send(message, chat.id, context.bot, prompt)


async def finish(update: Update, context: ContextTypes.DEFAULT_TYPE, data: dict[str, Any]) -> None:
    deps = deps_of(context)
    user, chat = update.effective_user, update.effective_chat
    assert user is not None and chat is not None
    result = await runners.enrol(deps, user.id, chat.id, user.first_name, data)
    state = result.decision.state
    proto = deps.rules.protocols[state.protocol_id]
    today = runners.local_today(deps, state)
    plan = texts.plan_lines(project(state, deps.rules, today), today)
    if result.coach_name:
        await context.bot.send_message(chat.id, texts.LINKED.format(coach=result.coach_name))
    elif result.invite_lost:  # the code was fine at /start, used or expired since
        await context.bot.send_message(chat.id, texts.INVITE_BAD)
    text = texts.ENROLLED.format(
        protocol=proto.name, phase=proto.phase(state.phase_id).name, plan=plan
    )
    parts = texts.split_long(text)
    for part in parts[:-1]:
        await context.bot.send_message(chat.id, part)
    # The persistent "Report pain" button comes with the first plan and stays.
    await context.bot.send_message(chat.id, parts[-1], reply_markup=report_keyboard())
    if screening.offered_at_enrolment(deps.rules.site(state.profile.site_id), deps.rules):
        # Trabecular sites go with low energy availability: offer the screen, never impose it.
        from bot.telegram.handlers_screening import FLOW as SCREEN_FLOW
        from bot.telegram.handlers_screening import offer

        await runners.save_flow(deps, user.id, result.runner_id, SCREEN_FLOW, {"answers": {}})
        await edit_or_send(None, chat.id, context.bot, offer())
    wake_agenda(deps, result.runner_id)


async def on_answer(
    update: Update, context: ContextTypes.DEFAULT_TYPE, pressed: Callback | None, text: str | None
) -> bool:
    """A button press or typed text during onboarding. False when no onboarding is under way."""
    deps = deps_of(context)
    user = update.effective_user
    assert user is not None
    dialog = await runners.load_dialog(deps, user.id)
    if FLOW not in dialog.flows:
        return False
    data = dict(dialog.flows[FLOW])
    step = onboarding.current_step(data, deps.rules)
    query = update.callback_query
    if step is None or (pressed is not None and pressed.ref != step):
        if query:
            await query.answer(texts.STALE)
        return True
    value = pressed.value if pressed is not None else (text or "")
    result = onboarding.accept(step, value, data, deps.rules, deps.clock())
    if result.error:
        if query:
            await query.answer(result.error)
        elif update.message:
            await update.message.reply_text(result.error)
            prompt = onboarding.prompt(step, data, deps.rules, deps.clock())
            await edit_or_send(None, update.message.chat_id, context.bot, prompt)
        return True
    if query:
        await query.answer()
    if result.done:  # consent declined: forget everything
        await runners.clear_flow(deps, user.id, FLOW)
        if query and query.message:
            await query.edit_message_text(texts.DECLINED)
        elif update.message:
            await update.message.reply_text(texts.DECLINED)
        return True
    await runners.save_flow(deps, user.id, None, FLOW, result.data)
    target = query.message if query and pressed is not None and pressed.ref != "tz_ok" else None
    if query and pressed is not None and pressed.ref == "consent":
        # What the runner agreed to stays readable: only its buttons go, the next step is new.
        with contextlib.suppress(BadRequest):
            await query.edit_message_text(texts.DISCLAIMER + texts.AGREED)
        target = None
    await ask_next(update, context, result.data, target)
    return True
