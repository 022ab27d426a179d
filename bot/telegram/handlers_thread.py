"""Two-way messages between a runner and their coach.

Runner: free text outside an open question is offered "Send this to your coach?" (the pending
text waits in the runner's dialog, so a restart keeps it; the buttons carry only a token), and
`/coach <text>` sends at once. Coach: "Message runner" on an alert (or "Reply" under a runner's
message) opens a short dialog, saved like every other: the coach's next text goes to that
runner, with the coach's name. Who may write to whom is checked at every step.
"""

from __future__ import annotations

import contextlib
import secrets

from telegram import CallbackQuery, Update
from telegram.error import BadRequest
from telegram.ext import ContextTypes

from bot.conversation.callbacks import Kind, cb
from bot.conversation.numbers import parse_int
from bot.conversation.prompts import Button, Prompt
from bot.i18n import day_month_time
from bot.localised import texts
from bot.localised import texts_coach as tc
from bot.program.calendar import zone
from bot.services import coaches, messages, runners
from bot.store.thread import Direction
from bot.telegram.coach_lookup import coach_of, known_coach
from bot.telegram.context import deps_of
from bot.telegram.ui import markup, pressed_or_stale

TO_RUNNER = "to_runner"  # the coach's dialog: {"runner": id}
TO_COACH = "to_coach"  # the runner's dialog: {"text": ..., "token": ...}
CALLBACK_PATTERN = f"^v1\\|({Kind.THREAD.value}|{Kind.TO_COACH.value})\\|"


# --- the runner's side ----------------------------------------------------------------------


async def offer(
    update: Update, context: ContextTypes.DEFAULT_TYPE, runner: runners.RunnerCtx
) -> None:
    """Free text that answers no question: offer to send it to the coach (or say why not)."""
    msg = update.message
    assert msg is not None and msg.text is not None and update.effective_user is not None
    if runner.coach_id is None:
        await msg.reply_text(texts.NO_COACH_TO_WRITE)
        return
    token = secrets.token_hex(4)
    text = msg.text[: messages.TEXT_MAX]
    deps = deps_of(context)
    await runners.save_flow(
        deps, update.effective_user.id, runner.id, TO_COACH, {"text": text, "token": token}
    )
    prompt = Prompt(
        texts.OFFER_TO_COACH.format(text=text),
        (
            (
                Button(texts.BTN_SEND_TO_COACH, cb(Kind.TO_COACH, token, "y")),
                Button(texts.BTN_DONT_SEND, cb(Kind.TO_COACH, token, "n")),
            ),
        ),
    )
    await msg.reply_text(prompt.text, reply_markup=markup(prompt))


async def cmd_coach(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/coach <text>: straight to the runner's coach."""
    msg, user = update.message, update.effective_user
    if msg is None or user is None:
        return
    deps = deps_of(context)
    runner = await runners.find_runner(deps, user.id)
    if runner is None:
        await msg.reply_text(texts.NOT_ENROLLED)
        return
    parts = (msg.text or "").split(maxsplit=1)
    if len(parts) < 2 or not parts[1].strip():
        await msg.reply_text(texts.USAGE_COACH)
        return
    sent = await messages.runner_to_coach(deps, runner.id, parts[1].strip())
    await msg.reply_text(
        texts.NO_COACH_TO_WRITE if sent is None else texts.SENT_TO_COACH.format(coach=sent.to_name)
    )


async def _on_send(
    update: Update, context: ContextTypes.DEFAULT_TYPE, token: str, yes: bool
) -> None:
    query = update.callback_query
    assert query is not None
    deps = deps_of(context)
    user_id = query.from_user.id
    runner = await runners.find_runner(deps, user_id)
    dialog = await runners.load_dialog(deps, user_id)
    pending = dialog.flows.get(TO_COACH, {})
    if runner is None or pending.get("token") != token:
        # An older offer (a newer text replaced it), already sent, or not this user's.
        await query.answer(texts.STALE)
        await _drop_buttons(query)
        return
    await runners.clear_flow(deps, user_id, TO_COACH)
    if not yes:
        await query.answer(texts.NOT_SENT)
        await _drop_buttons(query)
        return
    sent = await messages.runner_to_coach(deps, runner.id, str(pending.get("text", "")))
    await query.answer()
    with contextlib.suppress(BadRequest):
        await query.edit_message_text(
            texts.NO_COACH_TO_WRITE
            if sent is None
            else texts.SENT_TO_COACH.format(coach=sent.to_name)
        )


# --- the coach's side -----------------------------------------------------------------------


async def on_coach_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    """A coach's text while "Message runner" is open: it goes to that runner. False: no such
    dialog (the text is someone else's to handle)."""
    msg, user = update.message, update.effective_user
    if msg is None or msg.text is None or user is None:
        return False
    deps = deps_of(context)
    dialog = await runners.load_dialog(deps, user.id)
    open_ = dialog.flows.get(TO_RUNNER)
    if open_ is None:
        return False
    await runners.clear_flow(deps, user.id, TO_RUNNER)
    coach = await coach_of(update, context)
    if coach is None:  # removed meanwhile (and told so)
        return True
    try:
        sent = await messages.coach_to_runner(
            deps, coach.id, coach.name, int(open_.get("runner", 0)), msg.text
        )
    except messages.NotTheirRunner:
        await msg.reply_text(tc.NO_SUCH_RUNNER)
        return True
    await msg.reply_text(tc.SENT_TO_RUNNER.format(name=sent.to_name, id=open_.get("runner")))
    return True


async def coach_hint(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    """A coach (not a runner) typed with no message open: how to write to a runner."""
    msg, user = update.message, update.effective_user
    if msg is None or user is None:
        return False
    if await known_coach(context, user.id) is None:
        return False
    await msg.reply_text(tc.COACH_FREE_TEXT)
    return True


async def _on_thread(
    update: Update, context: ContextTypes.DEFAULT_TYPE, ref: str, value: str
) -> None:
    query = update.callback_query
    assert query is not None
    deps = deps_of(context)
    coach = await coach_of(update, context)
    if coach is None:
        return
    runner_id = parse_int(ref)
    if runner_id is None or value not in ("m", "x", "d"):
        await query.answer(tc.ALREADY_HANDLED)
        return
    try:
        name = await messages.runner_name(deps, coach.id, runner_id)
    except messages.NotTheirRunner:
        await query.answer(tc.NO_SUCH_RUNNER, show_alert=True)
        return
    user_id = query.from_user.id
    if value == "d":  # /alerts: a notice (nothing to decide) marked as dealt with
        await messages.notices_seen(deps, coach.id, runner_id)
        await query.answer(tc.TOAST_NOTICE_SEEN)
        await _drop_buttons(query)
        return
    if value == "x":
        dialog = await runners.load_dialog(deps, user_id)
        if dialog.flows.get(TO_RUNNER, {}).get("runner") == runner_id:
            await runners.clear_flow(deps, user_id, TO_RUNNER)
        await query.answer(tc.MESSAGE_CANCELLED)
        await _drop_buttons(query)
        return
    await runners.save_flow(deps, user_id, None, TO_RUNNER, {"runner": runner_id})
    await query.answer()
    prompt = Prompt(
        tc.WRITE_TO_RUNNER.format(name=tc.clean(name, tc.NAME_MAX), id=runner_id),
        ((Button(tc.BTN_CANCEL, cb(Kind.THREAD, runner_id, "x")),),),
    )
    await context.bot.send_message(coach.telegram_user_id, prompt.text, reply_markup=markup(prompt))


async def on_callback(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    if query is None:
        return
    pressed = await pressed_or_stale(query)
    if pressed is None:
        return
    if pressed.kind is Kind.TO_COACH:
        if pressed.value not in ("y", "n"):
            await query.answer(texts.STALE)
            return
        await _on_send(update, context, pressed.ref, pressed.value == "y")
        return
    await _on_thread(update, context, pressed.ref, pressed.value)


async def _drop_buttons(query: CallbackQuery) -> None:
    with contextlib.suppress(BadRequest):
        await query.edit_message_reply_markup(None)


async def thread_text(
    context: ContextTypes.DEFAULT_TYPE, coach: coaches.CoachCtx, runner_id: int
) -> str | None:
    """The last messages with this runner, for `/runner <id>` (None: they never wrote)."""
    lines = await messages.recent_thread(deps_of(context), runner_id)
    if not lines:
        return None
    tz = zone(coach.timezone)
    out = [tc.THREAD_HEADER]
    for line in lines:
        who = tc.THREAD_RUNNER if line.direction is Direction.TO_COACH else tc.THREAD_COACH
        at = day_month_time(line.at.astimezone(tz))
        out.append(tc.THREAD_LINE.format(at=at, who=who, text=line.text))
    return texts.split_long("\n".join(out))[0]
