"""The coach's tailoring over Telegram: `/tailor <id>` or the Tailor button under `/runner`
opens a short button dialog (choose a field, then a value within tailoring.yaml's bounds). Where
it stands is kept in the coach's dialog row (flow "tailor"), so a press on an older menu, or on
another runner's, is stale. Each value pressed is one OverlaySet turn (`services.tailoring`):
the runner is told what changed, the coach sees the new version.

Like every coach handler: the user must be a registered coach and the runner theirs; the
callback data carries no authority."""

from __future__ import annotations

import contextlib
from typing import Any

from telegram import CallbackQuery, Update
from telegram.error import BadRequest
from telegram.ext import ContextTypes

from bot.conversation.callbacks import BadCallback, Kind, decode
from bot.conversation.prompts import Prompt
from bot.localised import texts_coach as tc
from bot.services import runners as runner_flows
from bot.services import tailoring
from bot.services.deps import Deps
from bot.telegram import render_tailor as rt
from bot.telegram.coach_lookup import coach_of, runner_arg
from bot.telegram.context import deps_of
from bot.telegram.ui import markup

FLOW = "tailor"
CALLBACK_PATTERN = f"^v1\\|{Kind.TAILOR.value}\\|"


async def cmd_tailor(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    coach = await coach_of(update, context)
    if coach is None or update.message is None:
        return
    runner_id = await runner_arg(update, context, coach, tc.USAGE_TAILOR)
    if runner_id is None:
        return
    deps = deps_of(context)
    try:
        seen = await tailoring.view(deps, coach.id, runner_id)
    except tailoring.TailorRefused as exc:
        await update.message.reply_text(_refusal(exc))
        return
    await _save(deps, coach.telegram_user_id, runner_id, None)
    prompt = rt.menu(seen.name, runner_id, seen.state, deps.rules)
    await update.message.reply_text(prompt.text, reply_markup=markup(prompt))


def _refusal(exc: tailoring.TailorRefused) -> str:
    if isinstance(exc, tailoring.NotTheirRunner):
        return tc.NO_SUCH_RUNNER
    return tc.TAILOR_REFUSED.format(reason=exc)


async def _save(
    deps: Deps, user_id: int, runner_id: int, field: str | None, days: list[int] | None = None
) -> None:
    data: dict[str, Any] = {"runner": runner_id, "field": field}
    if days is not None:
        data["days"] = sorted(days)
    await runner_flows.save_flow(deps, user_id, None, FLOW, data)


async def on_callback(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    if query is None:
        return
    coach = await coach_of(update, context)
    if coach is None:
        return
    deps = deps_of(context)
    try:
        pressed = decode(query.data)
        runner_id = int(pressed.ref) if pressed.ref.isascii() and pressed.ref.isdigit() else -1
    except BadCallback:
        await query.answer(tc.TAILOR_STALE, show_alert=True)
        return
    try:
        seen = await tailoring.view(deps, coach.id, runner_id)
    except tailoring.TailorRefused as exc:
        await query.answer(_refusal(exc), show_alert=True)
        return
    value = pressed.value
    flow = (await runner_flows.load_dialog(deps, coach.telegram_user_id)).flows.get(FLOW)
    user = coach.telegram_user_id
    rules = deps.rules
    if value == "m":  # (re)open the menu: from /runner's button, or Back
        await _save(deps, user, runner_id, None)
        await query.answer()
        await _show(query, rt.menu(seen.name, runner_id, seen.state, rules))
        return
    if flow is None or flow.get("runner") != runner_id:  # an older menu, or another runner's
        await query.answer(tc.TAILOR_STALE, show_alert=True)
        return
    if value == "x":
        await runner_flows.clear_flow(deps, user, FLOW)
        await query.answer()
        await _show(query, Prompt(tc.TAILOR_CLOSED))
        return
    kind, _, rest = value.partition(".")
    if kind == "f" and rest in rt.CODES:
        field = rt.CODES[rest]
        await query.answer()
        if field == "weekdays":
            now = _days_now(seen)
            await _save(deps, user, runner_id, field, now)
            await _show(query, rt.days(seen.name, runner_id, set(now)))
            return
        await _save(deps, user, runner_id, field)
        await _show(query, rt.pick(seen.name, runner_id, field, seen.state, rules))
        return
    if kind == "w" and flow.get("field") == "weekdays":
        chosen: set[int] = {int(x) for x in flow.get("days", [])}
        if rest == "save":
            await _apply(query, deps, coach.id, seen, "weekdays", frozenset(chosen))
            return
        if rest.isascii() and rest.isdigit() and int(rest) < 7:
            chosen ^= {int(rest)}
            await _save(deps, user, runner_id, "weekdays", list(chosen))
            await query.answer()
            await _show(query, rt.days(seen.name, runner_id, chosen))
            return
    if kind == "v":
        code, _, raw = rest.partition(".")
        named = rt.CODES.get(code)
        if named is not None and flow.get("field") == named:
            field = named
            try:
                new = rt.value_of(field, raw, seen.state, rules)
            except ValueError:
                await query.answer(tc.TAILOR_REFUSED.format(reason=raw), show_alert=True)
                return
            await _apply(query, deps, coach.id, seen, field, new)
            return
    await query.answer(tc.TAILOR_STALE, show_alert=True)


def _days_now(seen: tailoring.RunnerView) -> list[int]:
    ov = seen.state.overlay
    days = ov.weekdays if ov is not None and ov.weekdays is not None else None
    return sorted(days if days is not None else seen.state.profile.available_days)


async def _apply(
    query: CallbackQuery,
    deps: Deps,
    coach_id: int,
    seen: tailoring.RunnerView,
    field: str,
    value: object,
) -> None:
    try:
        done = await tailoring.tailor(
            deps, seen.runner_id, {field: value}, coach_id=coach_id, by=f"coach:{coach_id}"
        )
    except tailoring.TailorRefused as exc:
        await query.answer(_refusal(exc), show_alert=True)
        return
    await _save(deps, query.from_user.id, seen.runner_id, None)
    await query.answer(tc.TAILOR_SAVED.format(version=done.overlay.version))
    await _show(query, rt.menu(seen.name, seen.runner_id, done.decision.state, deps.rules))


async def _show(query: CallbackQuery, prompt: Prompt) -> None:
    with contextlib.suppress(BadRequest):  # "not modified", or too old to edit
        await query.edit_message_text(prompt.text, reply_markup=markup(prompt))


COMMANDS: dict[str, Any] = {"tailor": cmd_tailor}
