"""`/alerts`: the coach's unresolved alerts (their own runners only), most urgent first, each
with the buttons for what the runner waits on now and a way to write to them."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from bot.conversation.prompts import Prompt
from bot.i18n import day_month_time
from bot.localised import texts_coach as tc
from bot.program.calendar import zone
from bot.services import coaches, messages
from bot.store.alerts import OpenAlert
from bot.telegram import render_coach as rc
from bot.telegram.coach_lookup import coach_of
from bot.telegram.context import deps_of
from bot.telegram.ui import markup

SHOWN = 10  # one message each: more would bury the chat; the digest counts them all


async def cmd_alerts(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    msg, user = update.message, update.effective_user
    if msg is None or user is None:
        return
    deps = deps_of(context)
    coach = await coach_of(update, context)
    if coach is None:
        return
    found = await messages.open_alerts(deps, coach.id, limit=SHOWN)
    if not found:
        await msg.reply_text(tc.ALERTS_NONE)
        return
    total = await messages.count_open_alerts(deps, coach.id)
    await msg.reply_text(tc.ALERTS_HEADER.format(n=total))
    for alert in found:
        try:
            stop = await coaches.runner_stop(deps, coach, alert.runner_id)
        except coaches.NotYourRunner:  # unlinked between the two reads
            continue
        acts = rc.current_rows(stop) if alert.urgency > 0 else rc.seen_rows(alert.runner_id)
        rows = (*acts, *rc.message_rows(alert.runner_id))
        prompt = Prompt(await _line(deps, coach, alert, stop.name), rows)
        await msg.reply_text(prompt.text, reply_markup=markup(prompt))


async def _line(deps: object, coach: coaches.CoachCtx, alert: OpenAlert, name: str) -> str:
    tz = zone(coach.timezone)
    if alert.acked_at is not None and alert.acked_by is not None:
        who = _who(coach, alert.acked_by)
        state = tc.ALERT_STATE_ACKED.format(
            who=who, at=day_month_time(alert.acked_at.astimezone(tz))
        )
    else:
        state = tc.ALERT_STATE_NEW
    return tc.ALERT_LINE.format(
        icon=tc.ALERT_ICON.get(alert.urgency, "🔔"),
        name=name,
        id=alert.runner_id,
        what=tc.ALERT_WHAT.get(alert.reason, alert.reason),
        since=day_month_time(alert.created_at.astimezone(tz)),
        state=state,
    )


def _who(coach: coaches.CoachCtx, actor: str) -> str:
    """'coach:<this coach>' -> their name; 'operator:Dr Jones' -> 'operator Dr Jones'."""
    kind, _, ref = actor.partition(":")
    if actor == f"coach:{coach.id}":
        return coach.name
    if kind == "operator":
        return tc.OPERATOR.format(name=ref)
    return actor  # an earlier coach of this runner: their id
