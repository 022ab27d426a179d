"""Coach commands and alert buttons. Every one checks that the user is a registered coach and
that the runner is theirs; callback data carries no authority of its own."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from typing import Any

from telegram import InputFile, Update
from telegram.error import BadRequest
from telegram.ext import ContextTypes

from bot import texts_coach as tc
from bot.coach.chart import runner_chart
from bot.coach.digest import detail_text
from bot.coach.roster import order_roster, roster_text
from bot.program.calendar import local_date
from bot.program.events import CoachVerb
from bot.services import coaches as csvc
from bot.telegram.callbacks import BadCallback, Kind, decode
from bot.telegram.handlers_onboarding import deps_of

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
BUTTON_VERBS = {
    "hold": CoachVerb.HOLD,
    "regress": CoachVerb.REGRESS,
    "clear": CoachVerb.CLEAR,
    "pause": CoachVerb.PAUSE,
}


async def _coach(update: Update, context: ContextTypes.DEFAULT_TYPE) -> csvc.CoachCtx | None:
    user = update.effective_user
    if user is None:
        return None
    coach = await csvc.find_coach(deps_of(context), user.id)
    if coach is None:
        if update.callback_query is not None:
            await update.callback_query.answer(tc.NOT_A_COACH, show_alert=True)
        elif update.message is not None:
            await update.message.reply_text(tc.NOT_A_COACH)
    return coach


async def cmd_invite(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    coach = await _coach(update, context)
    if coach is None or update.message is None:
        return
    code, link = await csvc.create_invite(deps_of(context), coach, context.bot.username)
    await update.message.reply_text(
        tc.INVITE.format(code=code, link=link, days=csvc.INVITE_TTL.days)
    )


async def cmd_runners(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    coach = await _coach(update, context)
    if coach is None or update.message is None:
        return
    d = deps_of(context)
    entries = order_roster(await csvc.roster(d, coach))
    for part in roster_text(entries, local_date(d.clock(), coach.timezone)):
        await update.message.reply_text(part)


async def _runner_arg(
    update: Update, context: ContextTypes.DEFAULT_TYPE, coach: csvc.CoachCtx, usage: str
) -> int | None:
    assert update.message is not None
    if not context.args:
        await update.message.reply_text(usage)
        return None
    try:
        return await csvc.resolve(deps_of(context), coach, context.args[0])
    except csvc.NotYourRunner:
        await update.message.reply_text(tc.NO_SUCH_RUNNER)
        return None


async def cmd_runner(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    coach = await _coach(update, context)
    if coach is None or update.message is None:
        return
    runner_id = await _runner_arg(update, context, coach, tc.USAGE_RUNNER)
    if runner_id is None:
        return
    d = deps_of(context)
    entry, trail, points, marks = await csvc.detail(d, coach, runner_id)
    today = local_date(d.clock(), coach.timezone)
    await update.message.reply_text(detail_text(entry, trail, points, today))
    # ~0.2 s of matplotlib: off the event loop, so other chats are not held up meanwhile.
    png = await asyncio.to_thread(runner_chart, entry.name, points, marks, today=today)
    await update.message.reply_photo(InputFile(png, filename=f"runner-{runner_id}.png"))


def _verb_command(verb: CoachVerb) -> Any:
    async def handler(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        coach = await _coach(update, context)
        if coach is None or update.message is None:
            return
        runner_id = await _runner_arg(update, context, coach, tc.USAGE_VERB.format(verb=verb.value))
        if runner_id is None:
            return
        decision = await csvc.act(deps_of(context), coach, runner_id, verb)
        await update.message.reply_text(
            tc.DONE_VERB.format(
                verb=verb.value, id=runner_id, rules=", ".join(decision.rules) if decision else ""
            )
        )

    return handler


async def cmd_release(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    coach = await _coach(update, context)
    if coach is None or update.message is None:
        return
    runner_id = await _runner_arg(update, context, coach, tc.USAGE_RELEASE)
    if runner_id is None:
        return
    await csvc.release(deps_of(context), coach, runner_id)
    await update.message.reply_text(tc.RELEASED.format(id=runner_id))


async def cmd_reply(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    coach = await _coach(update, context)
    if coach is None or update.message is None:
        return
    if not context.args or len(context.args) < 2:
        await update.message.reply_text(tc.USAGE_REPLY)
        return
    runner_id = await _runner_arg(update, context, coach, tc.USAGE_REPLY)
    if runner_id is None:
        return
    text = (update.message.text or "").split(maxsplit=2)[2]
    await csvc.message_runner(deps_of(context), coach, runner_id, text)
    await update.message.reply_text(tc.MESSAGE_QUEUED.format(id=runner_id))


async def on_callback(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Alert buttons: `v1|k|<runner>.<version>|<verb>` and `v1|kc|<runner>.<version>|y|n`.

    The data is only a request: who pressed, whether the runner is theirs and whether the alert
    is still current are checked here and in `csvc.act`, whatever the data says.
    """
    query = update.callback_query
    if query is None:
        return
    coach = await _coach(update, context)
    if coach is None:
        return
    try:
        cbk = decode(query.data)
        ref = _REF.fullmatch(cbk.ref)
        if ref is None:
            raise BadCallback("no runner.version reference")
        runner_id, version = int(ref[1]), int(ref[2])
    except BadCallback:
        await query.answer(tc.ALREADY_HANDLED)
        return
    d = deps_of(context)
    try:
        if cbk.kind is Kind.CLEARANCE:
            if cbk.value == "n":
                # "Not yet" changes nothing and keeps the buttons: "Cleared" stays one tap away.
                if not await csvc.is_current(d, coach, runner_id, version):
                    await query.answer(tc.ALREADY_HANDLED, show_alert=True)
                    return
                await query.answer(tc.NOT_YET_NOTED.format(id=runner_id))
                return
            maybe = CoachVerb.CLEAR if cbk.value == "y" else None
        elif cbk.value == "ack":
            await csvc.is_current(d, coach, runner_id, version)  # ownership check only
            await query.answer(tc.ACKNOWLEDGED)
            return
        else:
            maybe = BUTTON_VERBS.get(cbk.value)
        if maybe is None:
            await csvc.is_current(d, coach, runner_id, version)  # ownership first
            await query.answer(tc.ALREADY_HANDLED)
            return
        verb = maybe
        decision = await csvc.act(d, coach, runner_id, verb, expected_version=version)
    except csvc.NotYourRunner:
        await query.answer(tc.NO_SUCH_RUNNER, show_alert=True)
        return
    if decision is None:
        await query.answer(tc.ALREADY_HANDLED, show_alert=True)
        return
    await query.answer(tc.DONE_BUTTON.format(verb=verb.value))
    with contextlib.suppress(BadRequest):  # e.g. too old to edit: the change is made anyway
        await query.edit_message_reply_markup(None)
    await context.bot.send_message(
        coach.telegram_user_id,
        tc.DONE_VERB.format(verb=verb.value, id=runner_id, rules=", ".join(decision.rules)),
    )


COMMANDS: dict[str, Any] = {
    "invite": cmd_invite,
    "runners": cmd_runners,
    "runner": cmd_runner,
    "release": cmd_release,
    "reply": cmd_reply,
    **{
        name: _verb_command(verb)
        for name, verb in VERB_COMMANDS.items()
        if name not in ("pause", "resume")
    },
    "cpause": _verb_command(CoachVerb.PAUSE),
    "cresume": _verb_command(CoachVerb.RESUME),
}
