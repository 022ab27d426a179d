"""A runner's protocol, chosen by their coach: `/invite <protocol id>`, and the Protocol button of
`/runner <id>` -> the protocols for the runner's site -> Confirm -> the switch.

Buttons are `v1|<kind>|<runner>.<version>|<protocol id or @index>` and carry no authority: who
pressed, whether the runner is theirs and whether the program is still at that version are
checked on every press (services/protocols.py)."""

from __future__ import annotations

import contextlib
import re

from telegram import CallbackQuery, Update
from telegram.error import BadRequest
from telegram.ext import ContextTypes

from bot.conversation.callbacks import BadCallback, Kind, cb, decode
from bot.conversation.prompts import Button, Prompt
from bot.localised import texts
from bot.localised import texts_coach as tc
from bot.program.decision import Decision
from bot.program.rules import Protocol
from bot.services import coaches, protocols
from bot.services.deps import Deps
from bot.telegram.coach_lookup import coach_of
from bot.telegram.context import deps_of
from bot.telegram.ui import markup

KINDS = (Kind.PROTOCOL, Kind.PROTOCOL_PICK, Kind.PROTOCOL_CONFIRM, Kind.PROTOCOL_CANCEL)
CALLBACK_PATTERN = f"^v1\\|({'|'.join(k.value for k in KINDS)})\\|"
_REF = re.compile(r"([0-9]{1,18})\.([0-9]{1,18})", re.ASCII)
_ID_MAX = 48


async def invite(
    update: Update, context: ContextTypes.DEFAULT_TYPE, coach: coaches.CoachCtx
) -> None:
    """`/invite` (the site's protocol) or `/invite <protocol id>` (carried by the invite)."""
    assert update.message is not None
    deps = deps_of(context)
    chosen: str | None = None
    if context.args:
        given = context.args[0]
        try:
            chosen = protocols.check_protocol_id(deps.rules, given)
        except protocols.ProtocolRefused:
            await update.message.reply_text(
                tc.UNKNOWN_PROTOCOL.format(
                    given=tc.clean(given, _ID_MAX), ids=protocols.valid_ids(deps.rules)
                )
            )
            return
    code, link = await coaches.create_invite(deps, coach, context.bot.username, chosen)
    days = coaches.INVITE_TTL.days
    if chosen is None:
        text = tc.INVITE.format(code=code, link=link, days=days)
    else:
        name = deps.rules.protocols[chosen].name
        text = tc.INVITE_PROTOCOL.format(code=code, link=link, days=days, protocol=name, pid=chosen)
    await update.message.reply_text(text)


async def runner_view_rows(
    deps: Deps, coach: coaches.CoachCtx, runner_id: int
) -> tuple[tuple[Button, ...], ...]:
    """The Protocol button under `/runner <id>`, when the runner has a program and another
    protocol to move to (no rows otherwise)."""
    try:
        found = await protocols.choices(deps, coach, runner_id)
    except coaches.NotYourRunner:
        return ()
    if len(found.protocols) < 2:
        return ()
    ref = f"{runner_id}.{found.version}"
    return ((Button(tc.BTN_PROTOCOL, cb(Kind.PROTOCOL, ref, "list")),),)


def _value(i: int, protocol: Protocol, ref: str) -> str:
    """The protocol id when the button's data fits 64 bytes, else its place in the list."""
    return protocol.id if len(f"v1|kw|{ref}|{protocol.id}".encode()) <= 64 else f"@{i}"


def _picked(found: protocols.Choices, value: str) -> Protocol | None:
    if value.startswith("@"):
        i = value[1:]
        n = int(i) if i.isascii() and i.isdecimal() else -1
        return found.protocols[n] if 0 <= n < len(found.protocols) else None
    return next((p for p in found.protocols if p.id == value), None)


async def on_callback(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    if query is None or update.effective_user is None:
        return
    deps = deps_of(context)
    coach = await coach_of(update, context)
    if coach is None:
        return
    try:
        pressed = decode(query.data)
        ref = _REF.fullmatch(pressed.ref)
        if ref is None:
            raise BadCallback("no runner.version reference")
        runner_id, version = int(ref[1]), int(ref[2])
        found = await protocols.choices(deps, coach, runner_id)
    except BadCallback:
        await query.answer(tc.ALREADY_HANDLED)
        return
    except coaches.NotYourRunner:
        await query.answer(tc.NO_SUCH_RUNNER, show_alert=True)
        return
    name = await _name(deps, coach, runner_id)
    current = deps.rules.protocols[found.state.protocol_id]
    if pressed.kind is Kind.PROTOCOL:  # the list, always at the program as it is now
        others = [p for p in found.protocols if p.id != current.id]
        if not others:
            await query.answer(
                tc.NO_OTHER_PROTOCOL.format(name=name, id=runner_id), show_alert=True
            )
            return
        await query.answer()
        here = f"{runner_id}.{found.version}"
        rows = tuple(
            (
                Button(
                    tc.BTN_PROTOCOL_CHOICE.format(name=p.name)[:60],
                    cb(Kind.PROTOCOL_PICK, here, _value(i, p, here)),
                ),
            )
            for i, p in enumerate(found.protocols)
            if p.id != current.id
        )
        text = tc.CHOOSE_PROTOCOL.format(name=name, id=runner_id, current=current.name)
        await context.bot.send_message(
            coach.telegram_user_id, text, reply_markup=markup(Prompt(text, rows))
        )
        return
    target = _picked(found, pressed.value)
    if found.version != version or target is None:
        await _drop_buttons(query)
        await query.answer(tc.ALREADY_HANDLED, show_alert=True)
        return
    if pressed.kind is Kind.PROTOCOL_CANCEL:
        await _drop_buttons(query)
        await query.answer(tc.TOAST_CANCELLED)
        await context.bot.send_message(
            coach.telegram_user_id,
            tc.PROTOCOL_CANCELLED.format(name=name, id=runner_id, current=current.name),
        )
        return
    if target.id == current.id:
        await _drop_buttons(query)
        await query.answer(tc.ALREADY_ON_PROTOCOL.format(name=name, id=runner_id, new=target.name))
        return
    if pressed.kind is Kind.PROTOCOL_PICK:
        await query.answer(tc.TOAST_CONFIRM)
        rule = deps.rules.symptoms.actions.protocol_switch.id
        text = tc.CONFIRM_PROTOCOL.format(
            name=name, id=runner_id, current=current.name, new=target.name, rule=rule
        )
        row = (
            Button(tc.BTN_CONFIRM, cb(Kind.PROTOCOL_CONFIRM, pressed.ref, pressed.value)),
            Button(tc.BTN_CANCEL, cb(Kind.PROTOCOL_CANCEL, pressed.ref, pressed.value)),
        )
        await context.bot.send_message(
            coach.telegram_user_id, text, reply_markup=markup(Prompt(text, (row,)))
        )
        return
    try:
        decision = await protocols.switch(
            deps, runner_id, target.id, coach=coach, expected_version=version
        )
    except protocols.ProtocolRefused as refused:
        await _drop_buttons(query)
        why = tc.ALREADY_HANDLED if str(refused) == "stale" else str(refused)
        await query.answer(why[:190], show_alert=True)
        return
    await _drop_buttons(query)
    await query.answer(tc.DONE_BUTTON.format(verb=tc.BTN_PROTOCOL.lower()))
    await context.bot.send_message(coach.telegram_user_id, _did(deps, name, runner_id, decision))


def _did(deps: Deps, name: str, runner_id: int, decision: Decision) -> str:
    state = decision.state
    proto = deps.rules.protocols[state.protocol_id]
    phase = proto.phase(state.phase_id)
    level = phase.levels[state.level].id if phase.levels else None
    return tc.DID_SWITCH.format(
        name=name,
        id=runner_id,
        new=proto.name,
        phase=phase.name,
        level=texts.level_label(deps.rules, proto.id, level),
        rules=", ".join(decision.rules),
    )


async def _name(deps: Deps, coach: coaches.CoachCtx, runner_id: int) -> str:
    stop = await coaches.runner_stop(deps, coach, runner_id)
    return stop.name


async def _drop_buttons(query: CallbackQuery) -> None:
    with contextlib.suppress(BadRequest):
        await query.edit_message_reply_markup(None)
