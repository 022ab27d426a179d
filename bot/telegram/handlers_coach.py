"""Coach commands and alert buttons. Every one checks that the user is a registered coach and
that the runner is theirs; callback data carries no authority of its own."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from typing import Any

from telegram import CallbackQuery, InputFile, Update
from telegram.error import BadRequest
from telegram.ext import ContextTypes

from bot.coach.chart import runner_chart
from bot.coach.digest import detail_text
from bot.coach.roster import order_roster, roster_text
from bot.conversation.callbacks import BadCallback, Callback, Kind, decode
from bot.conversation.prompts import Prompt
from bot.i18n import NAMES, SUPPORTED, negotiate, set_language
from bot.localised import texts_coach as tc
from bot.program.calendar import local_date
from bot.program.decision import Decision
from bot.program.events import CoachVerb
from bot.services import coaches, tailoring
from bot.services.deps import Deps
from bot.telegram import handlers_protocol, handlers_thread
from bot.telegram import render_coach as rc
from bot.telegram import render_tailor as rt
from bot.telegram.coach_lookup import coach_of, runner_arg
from bot.telegram.context import deps_of
from bot.telegram.ui import markup

log = logging.getLogger(__name__)

# `<runner id>.<program version>`, ASCII digits only (str.isdigit and int() accept any script).
_REF = re.compile(r"([0-9]{1,18})\.([0-9]{1,18})", re.ASCII)

VERB_COMMANDS = {
    "hold": CoachVerb.HOLD,
    "advance": CoachVerb.ADVANCE,
    "regress": CoachVerb.REGRESS,
    "pause": CoachVerb.PAUSE,
    "resume": CoachVerb.RESUME,
    "clear": CoachVerb.CLEAR,
}
# Alert buttons that act at once. None of them lifts a stop: "Cleared…" asks for a
# confirmation first (Kind.RESUME). Regress and Pause come only from alerts sent before that
# change; on a stopped runner the engine keeps them stopped, and the coach is told so.
BUTTON_VERBS = {
    "ack": CoachVerb.ACKNOWLEDGE,
    "hold": CoachVerb.HOLD,
    "regress": CoachVerb.REGRESS,
    "pause": CoachVerb.PAUSE,
}
COACH_CALLBACKS = (
    Kind.COACH,
    Kind.CLEARANCE,
    Kind.RESUME,
    Kind.RESUME_CONFIRM,
    Kind.RESUME_CANCEL,
)
CALLBACK_PATTERN = f"^v1\\|({'|'.join(k.value for k in COACH_CALLBACKS)})\\|"


async def cmd_invite(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    coach = await coach_of(update, context)
    if coach is None or update.message is None:
        return
    await handlers_protocol.invite(update, context, coach)  # `/invite [protocol id]`


async def cmd_runners(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    coach = await coach_of(update, context)
    if coach is None or update.message is None:
        return
    deps = deps_of(context)
    entries = order_roster(await coaches.roster(deps, coach))
    for part in roster_text(entries, local_date(deps.clock(), coach.timezone)):
        await update.message.reply_text(part)


async def cmd_runner(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    coach = await coach_of(update, context)
    if coach is None or update.message is None:
        return
    runner_id = await runner_arg(update, context, coach, tc.USAGE_RUNNER)
    if runner_id is None:
        return
    deps = deps_of(context)
    entry, trail, points, marks = await coaches.detail(deps, coach, runner_id)
    today = local_date(deps.clock(), coach.timezone)
    text = detail_text(entry, trail, points, today)
    tailored = ""
    with contextlib.suppress(tailoring.TailorRefused):  # no program yet: nothing tailored
        seen = await tailoring.view(deps, coach.id, runner_id)
        tailored = rt.overlay_line(seen.state, deps.rules)
    text = f"{text}\n{tailored}" if tailored else text
    protocol_rows = await handlers_protocol.runner_view_rows(deps, coach, runner_id)
    rows = (*rc.message_rows(runner_id), *protocol_rows, *rt.tailor_rows(runner_id))
    await update.message.reply_text(text, reply_markup=markup(Prompt("", rows)))
    thread = await handlers_thread.thread_text(context, coach, runner_id)
    if thread is not None:  # the messages between them are part of the runner's record
        await update.message.reply_text(thread)
    # ~0.2 s of matplotlib: off the event loop, so other chats are not held up meanwhile.
    png = await asyncio.to_thread(runner_chart, entry.name, points, marks, today=today)
    await update.message.reply_photo(InputFile(png, filename=f"runner-{runner_id}.png"))


def _verb_command(verb: CoachVerb) -> Any:
    async def handler(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        coach = await coach_of(update, context)
        if coach is None or update.message is None:
            return
        runner_id = await runner_arg(update, context, coach, tc.USAGE_VERB.format(verb=verb.value))
        if runner_id is None:
            return
        deps = deps_of(context)
        if verb is CoachVerb.CLEAR:
            stop = await coaches.runner_stop(deps, coach, runner_id)
            if stop.status.stopped:
                # Lifting a stop is chosen among the rules' ways back, and confirmed.
                prompt = rc.choose_prompt(stop)
                await update.message.reply_text(prompt.text, reply_markup=markup(prompt))
                return
        decision = await coaches.act(deps, coach, runner_id, verb)
        await update.message.reply_text(await _did(deps, coach, runner_id, verb, decision))

    return handler


async def _did(
    deps: Deps, coach: coaches.CoachCtx, runner_id: int, verb: CoachVerb, decision: Decision | None
) -> str:
    """What an act did, in words: a stopped runner stays stopped whatever the verb said."""
    rules = ", ".join(decision.rules) if decision else ""
    if decision is None or not decision.state.status.stopped:
        if decision is not None and any(
            m.payload.get("code") == "coach_regress_bottom" for m in decision.messages
        ):  # a Regress with nowhere lower to go: said as the hold it is
            return tc.DONE_REGRESS_BOTTOM.format(id=runner_id, rules=rules)
        return tc.DONE_VERB.format(verb=verb.value, id=runner_id, rules=rules)
    stop = await coaches.runner_stop(deps, coach, runner_id)
    status = tc.stop_word(stop.status.value)
    if verb is CoachVerb.ACKNOWLEDGE:
        return tc.DID_ACKNOWLEDGE.format(name=stop.name, id=runner_id, status=status, rules=rules)
    return tc.DID_KEEP_STOPPED.format(
        name=stop.name, id=runner_id, status=status, verb=verb.value, rules=rules
    )


async def cmd_release(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    coach = await coach_of(update, context)
    if coach is None or update.message is None:
        return
    runner_id = await runner_arg(update, context, coach, tc.USAGE_RELEASE)
    if runner_id is None:
        return
    await coaches.release(deps_of(context), coach, runner_id)
    await update.message.reply_text(tc.RELEASED.format(id=runner_id))


async def cmd_language(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """`/language de`: the coach's own language for replies, alerts, the digest and the menu."""
    coach = await coach_of(update, context)
    if coach is None or update.message is None:
        return
    choice = negotiate(context.args[0]) if context.args else None
    if choice is None or (context.args and context.args[0].lower()[:2] != choice):
        options = ", ".join(f"{code} ({NAMES[code]})" for code in SUPPORTED)
        await update.message.reply_text(tc.USAGE_LANGUAGE.format(options=options))
        return
    await coaches.set_coach_language(deps_of(context), coach.id, choice)
    set_language(choice)
    await update.message.reply_text(tc.LANGUAGE_SET.format(language=NAMES[choice]))


async def cmd_reply(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    coach = await coach_of(update, context)
    if coach is None or update.message is None:
        return
    if not context.args or len(context.args) < 2:
        await update.message.reply_text(tc.USAGE_REPLY)
        return
    runner_id = await runner_arg(update, context, coach, tc.USAGE_REPLY)
    if runner_id is None:
        return
    text = (update.message.text or "").split(maxsplit=2)[2]
    await coaches.message_runner(deps_of(context), coach, runner_id, text)
    await update.message.reply_text(tc.MESSAGE_QUEUED.format(id=runner_id))


async def on_callback(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Alert buttons: `v1|<kind>|<runner>.<version>|<value>` (kinds in COACH_CALLBACKS).

    The data is only a request: who pressed, whether the runner is theirs and whether the alert
    is still current are checked here and in `csvc.act`, whatever the data says.
    """
    query = update.callback_query
    if query is None:
        return
    coach = await coach_of(update, context)
    if coach is None:
        return
    try:
        pressed = decode(query.data)
        ref = _REF.fullmatch(pressed.ref)
        if ref is None:
            raise BadCallback("no runner.version reference")
        runner_id, version = int(ref[1]), int(ref[2])
    except BadCallback:
        await query.answer(tc.ALREADY_HANDLED)
        return
    try:
        await _on_press(update, context, coach, pressed, runner_id, version)
    except coaches.NotYourRunner:
        await query.answer(tc.NO_SUCH_RUNNER, show_alert=True)


async def _on_press(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    coach: coaches.CoachCtx,
    pressed: Callback,
    runner_id: int,
    version: int,
) -> None:
    query = update.callback_query
    assert query is not None
    deps = deps_of(context)
    if pressed.kind is Kind.RESUME or (pressed.kind is Kind.COACH and pressed.value == "clear"):
        # "Cleared: resume at …" (or an old alert's "Clear"): ask first, act on Confirm only.
        stop = await coaches.runner_stop(deps, coach, runner_id)
        choice = _choice(stop, version, None if pressed.kind is Kind.COACH else pressed.value)
        if choice is None:
            await _stale(query, deps, coach, runner_id)
            return
        await query.answer(tc.TOAST_CONFIRM)
        prompt = rc.confirm_prompt(stop, choice)
        await context.bot.send_message(
            coach.telegram_user_id, prompt.text, reply_markup=markup(prompt)
        )
        return
    if pressed.kind is Kind.RESUME_CANCEL:
        stop = await coaches.runner_stop(deps, coach, runner_id)
        await _drop_buttons(query)
        if _choice(stop, version, pressed.value) is None:
            await query.answer(tc.ALREADY_HANDLED, show_alert=True)
            return
        await query.answer(tc.TOAST_CANCELLED)
        await context.bot.send_message(
            coach.telegram_user_id,
            tc.DID_CANCEL.format(
                name=stop.name, id=runner_id, status=tc.stop_word(stop.status.value)
            ),
        )
        return
    if pressed.kind is Kind.RESUME_CONFIRM:
        stop = await coaches.runner_stop(deps, coach, runner_id)
        choice = _choice(stop, version, pressed.value)
        decision = None
        if choice is not None:
            decision = await coaches.act(
                deps,
                coach,
                runner_id,
                CoachVerb.CLEAR,
                expected_version=version,
                option=choice.option,
            )
        if choice is None or decision is None:
            await query.answer(tc.ALREADY_HANDLED, show_alert=True)
            return
        await query.answer(tc.TOAST_CLEARED)
        await _drop_buttons(query)
        await context.bot.send_message(
            coach.telegram_user_id, rc.resumed_text(stop, choice, decision.rules)
        )
        return
    if pressed.kind is Kind.CLEARANCE:
        if pressed.value == "n":
            # "Not yet" changes nothing and keeps the buttons: "Cleared" stays one tap away.
            if not await coaches.is_current(deps, coach, runner_id, version):
                await _stale(query, deps, coach, runner_id)
                return
            await query.answer(tc.NOT_YET_NOTED.format(id=runner_id))
            return
        maybe = CoachVerb.CLEAR if pressed.value == "y" else None
    else:
        maybe = BUTTON_VERBS.get(pressed.value)
    if maybe is None:
        await coaches.is_current(deps, coach, runner_id, version)  # ownership first
        await query.answer(tc.ALREADY_HANDLED)
        return
    verb = maybe
    decision = await coaches.act(deps, coach, runner_id, verb, expected_version=version)
    if decision is None:
        await _stale(query, deps, coach, runner_id)
        return
    if decision.state.status.stopped:
        toast = tc.TOAST_ACKNOWLEDGED if verb is CoachVerb.ACKNOWLEDGE else tc.TOAST_KEPT
        await query.answer(toast)
        # The press moved the program on: the alert's buttons, again, at the new version.
        stop = await coaches.runner_stop(deps, coach, runner_id)
        rows = (*rc.current_rows(stop), *rc.message_rows(runner_id))
        with contextlib.suppress(BadRequest):
            await query.edit_message_reply_markup(markup(Prompt("", rows)))
    else:
        await query.answer(tc.DONE_BUTTON.format(verb=verb.value))
        await _drop_buttons(query, keep_message=runner_id)
    await context.bot.send_message(
        coach.telegram_user_id, await _did(deps, coach, runner_id, verb, decision)
    )


def _choice(
    stop: coaches.RunnerStop, version: int, option: str | None
) -> coaches.ResumeChoice | None:
    """The way back a press names, if the stop it was made for is still the current one
    (`option` None: the rules' default, for alerts sent before the ways back were offered)."""
    if stop.version != version or not stop.status.stopped:
        return None
    return next(
        (c for c in stop.choices if c.option == option or (option is None and c.default)), None
    )


async def _stale(query: CallbackQuery, deps: Deps, coach: coaches.CoachCtx, runner_id: int) -> None:
    """A press on an out-of-date alert changes nothing. When the runner still waits for the
    coach (stopped, or at a gate awaiting clearance), the buttons are brought up to date so the
    coach can press again; otherwise they go."""
    stop = await coaches.runner_stop(deps, coach, runner_id)
    rows = rc.current_rows(stop)
    with contextlib.suppress(BadRequest):  # "Message runner" stays whatever happened
        await query.edit_message_reply_markup(
            markup(Prompt("", (*rows, *rc.message_rows(runner_id))))
        )
    await query.answer(tc.REFRESHED if rows else tc.ALREADY_HANDLED, show_alert=True)


async def _drop_buttons(query: CallbackQuery, *, keep_message: int | None = None) -> None:
    """The buttons go (an alert keeps "Message runner": writing to the runner stays open)."""
    rows = rc.message_rows(keep_message) if keep_message is not None else ()
    with contextlib.suppress(BadRequest):  # e.g. too old to edit: the change is made anyway
        await query.edit_message_reply_markup(markup(Prompt("", rows)) if rows else None)


COMMANDS: dict[str, Any] = {
    "invite": cmd_invite,
    "runners": cmd_runners,
    "runner": cmd_runner,
    "release": cmd_release,
    "language": cmd_language,
    "reply": cmd_reply,
    **{
        name: _verb_command(verb)
        for name, verb in VERB_COMMANDS.items()
        if name not in ("pause", "resume")
    },
    "cpause": _verb_command(CoachVerb.PAUSE),
    "cresume": _verb_command(CoachVerb.RESUME),
}
