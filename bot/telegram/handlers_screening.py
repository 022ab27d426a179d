"""/screen: the optional energy-availability screen. Consent first, sharing second, the
menstrual item only by opt-in; the coach hears of it only when the runner agreed."""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import ContextTypes

from bot.conversation.callbacks import BadCallback, Kind, decode
from bot.conversation.prompts import Prompt, grid
from bot.conversation.questions import question_prompt
from bot.localised import texts
from bot.program import screening
from bot.services import coaches, runners
from bot.telegram.context import deps_of
from bot.telegram.ui import edit_or_send

FLOW = "screen"


def offer() -> Prompt:
    return Prompt(
        texts.SCREEN_OFFER, grid(Kind.SCREEN, "offer", [(texts.YES, "y"), (texts.NO, "n")], 2)
    )


async def cmd_screen(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    deps = deps_of(context)
    user, msg = update.effective_user, update.message
    if user is None or msg is None:
        return
    runner = await runners.find_runner(deps, user.id)
    if runner is None or runner.state is None:
        await msg.reply_text(texts.NOT_ENROLLED)
        return
    await runners.save_flow(deps, user.id, runner.id, FLOW, {"answers": {}})
    await edit_or_send(None, runner.chat_id, context.bot, offer())


async def on_callback(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    if query is None:
        return
    deps = deps_of(context)
    runner = await runners.find_runner(deps, query.from_user.id)
    dialog = await runners.load_dialog(deps, query.from_user.id)
    try:
        pressed = decode(query.data)
    except BadCallback:
        await query.answer(texts.STALE)
        return
    if runner is None or runner.state is None or FLOW not in dialog.flows:
        await query.answer(texts.STALE)
        return
    data: dict[str, Any] = dict(dialog.flows[FLOW])
    yes = pressed.value == "y"
    step = _step(data, deps.rules)
    if pressed.ref != step:
        await query.answer(texts.STALE)
        return
    await query.answer()
    if step == "offer":
        if not yes:
            await runners.clear_flow(deps, query.from_user.id, FLOW)
            await query.edit_message_text(texts.SCREEN_NOT_NOW)
            return
        data["consent"] = True
    elif step == "share":
        data["share"] = yes
    elif step == "optin":
        data["opt_in"] = yes
    else:
        data["answers"] = {**data.get("answers", {}), step.split(":", 1)[1]: yes}
    nxt = _step(data, deps.rules)
    if nxt is not None:
        await runners.save_flow(deps, query.from_user.id, runner.id, FLOW, data)
        await edit_or_send(query.message, runner.chat_id, context.bot, _prompt(nxt, deps.rules))
        return
    answers: dict[str, bool] = data["answers"]
    await runners.record_answers(deps, runner.id, "screening", None, answers)
    await runners.clear_flow(deps, query.from_user.id, FLOW)
    review = screening.escalates(answers, deps.rules)
    text = texts.SCREEN_REVIEW if review else texts.SCREEN_CLEAR
    if review and data.get("share") and runner.coach_id is not None:
        await coaches.screening_alert(deps, runner.id)
        text += texts.SCREEN_SHARED
    await query.edit_message_text(text)


def _step(data: dict[str, Any], rules: Any) -> str | None:
    if not data.get("consent"):
        return "offer"
    if "share" not in data:
        return "share"
    if "opt_in" not in data:
        return "optin"
    for q in screening.questions(rules, opt_in=bool(data["opt_in"])):
        if q.id not in data.get("answers", {}):
            return f"q:{q.id}"
    return None


def _prompt(step: str, rules: Any) -> Prompt:
    k = Kind.SCREEN
    if step == "share":
        opts = [(texts.SCREEN_SHARE_YES, "y"), (texts.SCREEN_SHARE_NO, "n")]
        return Prompt(texts.SCREEN_SHARE, grid(k, step, opts, 1))
    if step == "optin":
        opts = [(texts.SCREEN_INCLUDE, "y"), (texts.SCREEN_SKIP, "n")]
        return Prompt(texts.SCREEN_OPT_IN, grid(k, step, opts, 2))
    q = rules.question_by_id[step.split(":", 1)[1]]
    p = question_prompt(k, "q", q)
    # question_prompt builds "q:<id>" refs: exactly the step name this handler expects.
    return p
