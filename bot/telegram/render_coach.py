"""Coach-facing rendering: alerts, the ways back from a stop and their confirmation, as
messages with one-tap buttons. The words come from `texts_coach`, what may be offered from
`services.coaches`; only the callback data is made here."""

from __future__ import annotations

from typing import Any

from bot.conversation.callbacks import Kind, cb
from bot.conversation.prompts import Button, Prompt
from bot.i18n import day_month_time
from bot.localised import texts_coach as tc
from bot.program.state import ProgramState
from bot.services import coaches
from bot.services.deps import Deps


async def render_coach(deps: Deps, item: Any, state: ProgramState | None) -> Prompt | None:
    view = await coaches.alert_view(deps, item, state)
    return alert_prompt(view) if view is not None else None


def alert_prompt(view: coaches.AlertView) -> Prompt:
    """The alert's own buttons, and under them always a way to write to the runner."""
    ref = f"{view.runner_id}.{view.version}"
    talk = message_rows(view.runner_id, reply=view.reply)
    if view.offer is coaches.Offer.STOP:
        rows = stop_rows(ref, view.choices, acknowledged=view.acknowledged)
        return Prompt(view.text, (*rows, *talk))
    if view.offer is coaches.Offer.CLEARANCE:
        return Prompt(view.text, (*clearance_rows(ref), *talk))
    return Prompt(view.text, talk)


def seen_rows(runner_id: int) -> tuple[tuple[Button, ...], ...]:
    """Under a notice in /alerts (nothing to decide): mark the runner's notices as seen."""
    return ((Button(tc.BTN_NOTICE_SEEN, cb(Kind.THREAD, runner_id, "d")),),)


def message_rows(runner_id: int, *, reply: bool = False) -> tuple[tuple[Button, ...], ...]:
    """ "Message runner" (or "Reply" under a runner's message): the coach's next text goes to
    them. The press names the runner only; who may write to them is checked on the press."""
    label = tc.BTN_REPLY if reply else tc.BTN_MESSAGE_RUNNER
    return ((Button(label, cb(Kind.THREAD, runner_id, "m")),),)


def resume_label(choice: coaches.ResumeChoice) -> str:
    rest = tc.rest_days(choice.rest_days)
    if choice.level is None:
        return tc.BTN_RESUME_PHASE.format(rest=rest)
    return tc.BTN_RESUME_AT.format(level=choice.level, rest=rest)


def stop_rows(
    ref: str, choices: tuple[coaches.ResumeChoice, ...], *, acknowledged: bool
) -> tuple[tuple[Button, ...], ...]:
    """Each button says what it does to the stop; none lifts it without a confirmation."""
    first = [Button(tc.BTN_KEEP_STOPPED, cb(Kind.COACH, ref, "hold"))]
    if not acknowledged:
        first.insert(0, Button(tc.BTN_ACK, cb(Kind.COACH, ref, "ack")))
    options = tuple((Button(resume_label(c), cb(Kind.RESUME, ref, c.option)),) for c in choices)
    return (tuple(first), *options)


def current_rows(stop: coaches.RunnerStop) -> tuple[tuple[Button, ...], ...]:
    """The buttons for what the runner waits on now, at the current version (none if nothing)."""
    ref = f"{stop.runner_id}.{stop.version}"
    if stop.status.stopped:
        return stop_rows(ref, stop.choices, acknowledged=stop.acknowledged)
    if stop.awaiting_clearance:
        return clearance_rows(ref)
    return ()


def clearance_rows(ref: str) -> tuple[tuple[Button, ...], ...]:
    k = Kind.CLEARANCE
    return ((Button(tc.BTN_CLEARED, cb(k, ref, "y")), Button(tc.BTN_NOT_YET, cb(k, ref, "n"))),)


def choose_prompt(stop: coaches.RunnerStop) -> Prompt:
    """`/clear <id>` on a stopped runner: the ways back, each one confirmed before it acts."""
    since = day_month_time(stop.since) if stop.since else tc.NONE
    text = tc.CHOOSE_RESUME.format(
        name=stop.name, id=stop.runner_id, status=tc.stop_word(stop.status.value), since=since
    )
    ref = f"{stop.runner_id}.{stop.version}"
    return Prompt(text, stop_rows(ref, stop.choices, acknowledged=stop.acknowledged))


def confirm_prompt(stop: coaches.RunnerStop, choice: coaches.ResumeChoice) -> Prompt:
    rest = tc.rest_days(choice.rest_days)
    if choice.level is None:
        text = tc.CONFIRM_RESUME_PHASE.format(
            name=stop.name, id=stop.runner_id, rest=rest, option=choice.option
        )
    else:
        text = tc.CONFIRM_RESUME_AT.format(
            name=stop.name, id=stop.runner_id, level=choice.level, rest=rest, option=choice.option
        )
    lifts = tc.CONFIRM_LIFTS.get(stop.status.value)
    if lifts is not None:
        text = f"{text}\n{lifts}"
    ref = f"{stop.runner_id}.{stop.version}"
    return Prompt(
        text,
        (
            (
                Button(tc.BTN_CONFIRM, cb(Kind.RESUME_CONFIRM, ref, choice.option)),
                Button(tc.BTN_CANCEL, cb(Kind.RESUME_CANCEL, ref, choice.option)),
            ),
        ),
    )


def resumed_text(
    stop: coaches.RunnerStop, choice: coaches.ResumeChoice, rules: tuple[str, ...]
) -> str:
    rest = tc.rest_days(choice.rest_days)
    joined = ", ".join(rules)
    if choice.level is None:
        return tc.DID_RESUME_PHASE.format(
            name=stop.name, id=stop.runner_id, rest=rest, rules=joined
        )
    return tc.DID_RESUME_AT.format(
        name=stop.name, id=stop.runner_id, level=choice.level, rest=rest, rules=joined
    )
