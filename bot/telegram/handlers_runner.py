"""The runner's sessions and check-ins: reminder buttons, post-session questions, the 24-hour
follow-up (or the watch check before running), phase gates, the symptom check at any time
(/pain, the "Report pain" keyboard button), habit questions, settings, pause/resume, export and
delete.

Every press is re-checked against the stored state: a button from a question that has moved on
answers "this question has closed" and changes nothing. Every answer is judged as it comes: a
red flag submits the flow at once, with the questions still unanswered left unasked.
"""

from __future__ import annotations

import logging
from typing import Any
from zoneinfo import ZoneInfo

from telegram import BotCommandScopeChat, InputFile, Update
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bot.conversation import checks, onboarding, questions
from bot.conversation.callbacks import Callback, Kind, cb
from bot.conversation.numbers import parse_int
from bot.conversation.prompts import Button, Prompt
from bot.i18n import NAMES, SUPPORTED, current, set_language
from bot.localised import texts, texts_coach
from bot.program.events import (
    ClearanceClaimed,
    Event,
    FollowupAnswered,
    GateAnswered,
    RunnerPaused,
    RunnerResumed,
    SessionReported,
    SettingsChanged,
    SymptomsReported,
)
from bot.program.plan import project
from bot.program.road import road
from bot.program.rules import Question
from bot.program.state import Outcome, Status
from bot.services import coaches, reminders, runners
from bot.telegram import handlers_onboarding, handlers_thread
from bot.telegram.coach_lookup import known_coach
from bot.telegram.context import deps_of
from bot.telegram.menus import runner_menu
from bot.telegram.render import (
    followup_questions,
    gate_question_list,
    post_questions,
    report_question_list,
    session_buttons,
    symptom_offer,
    yes_no,
)
from bot.telegram.ui import edit_or_send, markup, pressed_or_stale, report_keyboard

log = logging.getLogger(__name__)


async def on_callback(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Every inline button press of a runner lands here and is routed by its kind."""
    query = update.callback_query
    if query is None:
        return
    pressed = await pressed_or_stale(query)
    if pressed is None:
        return
    if pressed.kind is Kind.ONBOARD:
        if not await handlers_onboarding.on_answer(update, context, pressed, None):
            await query.answer(texts.STALE)
        return
    deps = deps_of(context)
    runner = await runners.find_runner(deps, query.from_user.id)
    if runner is None or runner.state is None:
        await query.answer(texts.NOT_ENROLLED, show_alert=True)
        return
    handler = _ROUTES.get(pressed.kind)
    if handler is None:
        await query.answer(texts.STALE)
        return
    await handler(update, context, runner, pressed)


async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Free text goes to whatever question is open; otherwise a short pointer to /help."""
    msg = update.message
    if msg is None or msg.text is None or update.effective_user is None:
        return
    if await handlers_thread.on_coach_text(update, context):  # a coach writing to a runner
        return
    if await handlers_onboarding.on_answer(update, context, None, msg.text):
        return
    deps = deps_of(context)
    runner = await runners.find_runner(deps, update.effective_user.id)
    if runner is None:
        if not await handlers_thread.coach_hint(update, context):
            await msg.reply_text(texts.NOT_ENROLLED)
        return
    user_id = update.effective_user.id
    dialog = await runners.load_dialog(deps, user_id)
    # The latest flow first, then the older ones still open: a question left unanswered (the
    # session slid, the follow-up closed) must not swallow every later message as "closed".
    others = [f for f in reversed(dialog.flows) if f != dialog.active]
    for flow in ([dialog.active] if dialog.active in dialog.flows else []) + others:
        if flow == "settings":
            await _settings_text(update, context, runner, msg.text)
            return
        kind, _, ref = flow.partition(":")
        if kind not in _CB_KIND or _questions_for(kind, ref, runner, deps, dialog.flows) is None:
            await runners.clear_flow(deps, user_id, flow)
            continue
        await _question_step(update, context, runner, kind, ref, None, msg.text)
        return
    if runner.state is not None and checks.looks_like_symptom(msg.text):
        offer = symptom_offer()
        await msg.reply_text(offer.text, reply_markup=markup(offer))
        return
    # Words for nobody's question: perhaps for the coach ("Send this to your coach?").
    await handlers_thread.offer(update, context, runner)


# --- sessions -------------------------------------------------------------------------------


async def _on_session(
    update: Update, context: ContextTypes.DEFAULT_TYPE, runner: runners.RunnerCtx, pressed: Callback
) -> None:
    deps = deps_of(context)
    query = update.callback_query
    assert query is not None and runner.state is not None
    state = runner.state
    today = runners.local_today(deps, state)
    seq = -1 if (n := parse_int(pressed.ref)) is None else n
    if not state.session_open(seq, today):  # the engine's own test; it re-checks on submit
        await query.answer(texts.STALE)
        return
    if pressed.value == "later":
        await _snooze(update, context, runner)
        return
    await query.answer()
    if query.message is not None:
        await query.edit_message_reply_markup(None)
    if pressed.value in ("skip", "move"):
        decision = await runners.apply_event(
            deps,
            runner.id,
            SessionReported(seq, Outcome.SKIPPED),
            actor="runner",
            report=(seq, Outcome.SKIPPED, None, None),
        )
        new = decision.state
        nxt = texts.next_of(new.next, today)
        said = texts.MOVED if pressed.value == "move" else texts.SKIPPED
        await context.bot.send_message(runner.chat_id, said.format(next=nxt))
        return
    outcome = Outcome.PARTIAL if pressed.value == "partial" else Outcome.DONE
    flow = f"post:{seq}"
    await runners.save_flow(
        deps, query.from_user.id, runner.id, flow, {"answers": {}, "outcome": outcome.value}
    )
    qs = post_questions(state, deps.rules)
    await edit_or_send(
        None, runner.chat_id, context.bot, questions.question_prompt(Kind.POST, str(seq), qs[0])
    )


async def _snooze(
    update: Update, context: ContextTypes.DEFAULT_TYPE, runner: runners.RunnerCtx
) -> None:
    """The reminder's "Later today": again later today, outside quiet hours; its buttons go from
    this message (the new one brings them). No slot left today: say so, keep the buttons."""
    deps = deps_of(context)
    query = update.callback_query
    assert query is not None and runner.state is not None
    due = await reminders.snooze(deps, runner.id, runner.state)
    if due is None:
        await query.answer(texts.NO_SLOT_TODAY, show_alert=True)
        return
    await query.answer()
    if query.message is not None:
        await query.edit_message_reply_markup(None)
    at = due.astimezone(ZoneInfo(runner.state.profile.timezone))
    await context.bot.send_message(runner.chat_id, texts.SNOOZED.format(time=f"{at:%H:%M}"))


# --- question flows: post-session, follow-up, gate, symptom check -------------------------------


def _questions_for(
    kind: str, ref: str, runner: runners.RunnerCtx, deps: Any, flows: dict[str, Any]
) -> list[Question] | None:
    """The questions of an open flow, or None when that flow has closed."""
    state = runner.state
    assert state is not None
    if kind == "post":
        ok = state.status is Status.ACTIVE and state.next is not None and str(state.next.seq) == ref
        return post_questions(state, deps.rules) if ok else None
    if kind == "followup":
        # The run's 24-hour follow-up, or the watch check after a session before running.
        seq = parse_int(ref)
        return (followup_questions(state, seq, deps.rules) or None) if seq is not None else None
    if kind == "pain":
        return report_question_list(state, deps.rules) if f"pain:{ref}" in flows else None
    if kind == "gate":
        proto = deps.rules.protocols[state.protocol_id]
        i = proto.index(state.phase_id)
        ahead = proto.phases[i + 1].id if i + 1 < len(proto.phases) else None
        if ref != ahead or state.status is not Status.ACTIVE:
            return None
        return gate_question_list(state, ref, deps.rules)
    return None


_KIND_OF = {Kind.POST: "post", Kind.FOLLOWUP: "followup", Kind.GATE: "gate", Kind.REPORT: "pain"}
_CB_KIND = {v: k for k, v in _KIND_OF.items()}
# Where the answers of each flow are recorded (the answers table's stage).
_STAGE = {"post": "post", "followup": "followup", "gate": "gate", "pain": "report"}


async def _on_question(
    update: Update, context: ContextTypes.DEFAULT_TYPE, runner: runners.RunnerCtx, pressed: Callback
) -> None:
    ref, _, qid = pressed.ref.rpartition(":")
    await _question_step(update, context, runner, _KIND_OF[pressed.kind], ref, qid, pressed.value)


async def _question_step(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    runner: runners.RunnerCtx,
    kind: str,
    ref: str,
    qid: str | None,
    raw: str,
) -> None:
    deps = deps_of(context)
    query = update.callback_query
    user = update.effective_user
    assert user is not None and runner.state is not None
    dialog = await runners.load_dialog(deps, user.id)
    qs = _questions_for(kind, ref, runner, deps, dialog.flows)
    flow = f"{kind}:{ref}"
    if qs is None:
        await runners.clear_flow(deps, user.id, flow)
        await _reply(update, texts.STALE)
        return
    data = dict(dialog.flows.get(flow, {"answers": {}}))
    answers: dict[str, int | bool] = dict(data.get("answers", {}))
    result = questions.accept(qs, answers, qid, raw)
    if result.stale:
        await _reply(update, texts.STALE)
        return
    if result.error:
        await _reply(update, result.error)
        if query is None:  # typed text: show the question again under the hint
            current = questions.next_question(qs, answers)
            if current is not None:
                prompt = questions.question_prompt(_CB_KIND[kind], ref, current)
                await edit_or_send(None, runner.chat_id, context.bot, prompt)
        return
    if query:
        await query.answer()
    answers = dict(result.data["answers"])  # type: ignore[call-overload]
    seq = parse_int(ref) if kind != "pain" else None
    answered = [q for q in qs if q.id in answers and q.id not in data.get("answers", {})]
    new_answers = {q.id: answers[q.id] for q in answered}
    stage = _STAGE[kind]
    # A red-flag answer acts at once: the flow is submitted with what is answered so far.
    if not result.done and not checks.red_flag_now(
        kind, answers, deps.rules, runner.state.protocol_id
    ):
        await runners.save_step(
            deps, user.id, runner.id, stage, seq, new_answers, flow, {**data, "answers": answers}
        )
        nxt = questions.next_question(qs, answers)
        assert nxt is not None
        prompt = questions.question_prompt(_CB_KIND[kind], ref, nxt)
        await edit_or_send(query.message if query else None, runner.chat_id, context.bot, prompt)
        return
    if query and query.message:
        await query.edit_message_reply_markup(None)
    # The last answer, the decision it leads to and the end of the flow: one transaction.
    event, report = _submitted(kind, ref, seq, data, answers)
    decision = await runners.apply_event(
        deps,
        runner.id,
        event,
        actor="runner",
        report=report,
        answers=(stage, seq, new_answers),
        close_flow=(user.id, flow),
    )
    await context.bot.send_message(
        runner.chat_id, texts.STALE if decision.stale else texts.SESSION_THANKS
    )


def _submitted(
    kind: str, ref: str, seq: int | None, data: dict[str, Any], answers: dict[str, int | bool]
) -> tuple[Event, tuple[int, Outcome, int | None, int | None] | None]:
    """The event a finished (or red-flagged) flow submits, and the session report with it."""
    if kind == "pain":
        return SymptomsReported(answers), None
    if kind == "post":
        assert seq is not None
        outcome = Outcome(str(data.get("outcome", "done")))
        pain = int(answers.get("pain_during", 0))
        rpe = int(answers["rpe"]) if "rpe" in answers else None
        return SessionReported(seq, outcome, pain, rpe), (seq, outcome, pain, rpe)
    if kind == "followup":
        assert seq is not None
        return FollowupAnswered(seq, answers), None
    return GateAnswered(ref, {k: bool(v) for k, v in answers.items()}), None


async def _on_habit(
    update: Update, context: ContextTypes.DEFAULT_TYPE, runner: runners.RunnerCtx, pressed: Callback
) -> None:
    deps = deps_of(context)
    query = update.callback_query
    assert query is not None
    _habit, _, qid = pressed.ref.rpartition(":")
    q = deps.rules.question_by_id.get(qid)
    if q is None:
        await query.answer(texts.STALE)
        return
    try:
        value = questions.parse_value(q, pressed.value)
    except ValueError:
        await query.answer(texts.STALE)
        return
    await runners.record_answers(deps, runner.id, "habit", None, {qid: value})
    await query.answer(texts.SESSION_THANKS)
    if query.message is not None:
        await query.edit_message_reply_markup(None)


# --- confirmations, settings ------------------------------------------------------------------


async def _on_confirm(
    update: Update, context: ContextTypes.DEFAULT_TYPE, runner: runners.RunnerCtx, pressed: Callback
) -> None:
    deps = deps_of(context)
    query = update.callback_query
    assert query is not None and runner.state is not None
    yes = pressed.value == "y"
    if pressed.ref == "delete":
        await query.answer()
        if yes:
            await runners.delete_runner(deps, runner.id, query.from_user.id)
            await query.edit_message_text(texts.DELETED)
        else:
            await query.edit_message_text(texts.DELETE_KEPT)
        return
    if pressed.ref == "review":
        await query.answer()
        if not yes or not runner.state.status.stopped:
            await query.edit_message_text(texts.FLAGGED_STATE if not yes else texts.STALE)
            return
        # "I've been seen" asks the coach to confirm; it lifts nothing. The notice that says
        # so (and whether anyone could be asked) follows from the agenda.
        decision = await runners.apply_event(
            deps, runner.id, RunnerResumed(clinician_reviewed=True), actor="runner"
        )
        await query.edit_message_text(texts.STALE if decision.stale else texts.REVIEW_NOTED)
        return
    if pressed.ref == "claim":
        decision = await runners.apply_event(deps, runner.id, ClearanceClaimed(), actor="runner")
        if decision.stale:
            await query.answer(texts.CLAIM_STALE)
        else:
            await query.answer(texts.SESSION_THANKS)
        if query.message is not None:
            await query.edit_message_reply_markup(None)
        return
    if pressed.ref == "pain" and yes:
        await query.answer()
        if query.message is not None:
            await query.edit_message_reply_markup(None)
        await _open_report(context, runner, query.from_user.id)
        return
    await query.answer(texts.STALE)


_SETTING_STEPS = {"days": "days", "time": "time", "tz": "tz"}


async def _on_settings(
    update: Update, context: ContextTypes.DEFAULT_TYPE, runner: runners.RunnerCtx, pressed: Callback
) -> None:
    deps = deps_of(context)
    query = update.callback_query
    assert query is not None and runner.state is not None
    user_id = query.from_user.id
    p = runner.state.profile
    if pressed.ref == "menu" and pressed.value == "lang":
        await query.answer()
        await edit_or_send(query.message, runner.chat_id, context.bot, _language_prompt())
        return
    if pressed.ref == "lang":
        await _language_chosen(update, context, runner, pressed.value)
    if pressed.ref == "timer":
        if pressed.value not in ("on", "off"):
            await query.answer(texts.STALE)
            return
        on = pressed.value == "on"
        await reminders.set_timer(deps, runner.id, on)  # the same answer if pressed twice
        await query.answer()
        if query.message is not None:
            await query.edit_message_reply_markup(None)
        await context.bot.send_message(
            runner.chat_id, texts.TIMER_NOW_ON if on else texts.TIMER_NOW_OFF
        )
        return
    if pressed.ref == "menu":
        step = _SETTING_STEPS.get(pressed.value)
        if step is None:
            await query.answer(texts.STALE)
            return
        data = {"step": step, "days": sorted(p.available_days)}
        await runners.save_flow(deps, user_id, runner.id, "settings", data)
        await query.answer()
        prompt = onboarding.prompt(step, data, deps.rules, deps.clock(), kind=Kind.SETTINGS)
        await edit_or_send(query.message, runner.chat_id, context.bot, prompt)
        return
    await _settings_input(update, context, runner, pressed.ref, pressed.value)


def _language_prompt() -> Prompt:
    buttons = tuple(Button(NAMES[lang], cb(Kind.SETTINGS, "lang", lang)) for lang in SUPPORTED)
    return Prompt(texts.ASK_LANGUAGE, (buttons,))


async def _language_chosen(
    update: Update, context: ContextTypes.DEFAULT_TYPE, runner: runners.RunnerCtx, lang: str
) -> None:
    query = update.callback_query
    assert query is not None
    if lang not in SUPPORTED:
        await query.answer(texts.STALE)
        return
    await runners.set_runner_language(deps_of(context), runner.id, lang)
    set_language(lang)  # the answer, and everything from now on, in the new language
    await query.answer()
    await _set_chat_menu(context, runner.chat_id, query.from_user.id)
    await context.bot.send_message(
        runner.chat_id,
        texts.LANGUAGE_SAVED.format(language=NAMES[lang]),
        reply_markup=report_keyboard(),
    )


async def _set_chat_menu(context: ContextTypes.DEFAULT_TYPE, chat_id: int, user_id: int) -> None:
    """The runner's own command menu in the language they chose: Telegram otherwise picks
    the menu by the phone's language. A coach's chat keeps the coach's menu."""
    if await coaches.find_coach(deps_of(context), user_id) is not None:
        return
    try:
        await context.bot.set_my_commands(runner_menu(), scope=BotCommandScopeChat(chat_id))
    except TelegramError as error:  # the choice is saved; the menu is a convenience
        log.warning("runner menu not set: %s", type(error).__name__)


async def _settings_text(
    update: Update, context: ContextTypes.DEFAULT_TYPE, runner: runners.RunnerCtx, text: str
) -> None:
    deps = deps_of(context)
    assert update.effective_user is not None
    dialog = await runners.load_dialog(deps, update.effective_user.id)
    step = str(dialog.flows.get("settings", {}).get("step", ""))
    await _settings_input(update, context, runner, step, text)


async def _settings_input(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    runner: runners.RunnerCtx,
    step: str,
    value: str,
) -> None:
    deps = deps_of(context)
    query = update.callback_query
    user = update.effective_user
    assert user is not None and runner.state is not None
    dialog = await runners.load_dialog(deps, user.id)
    data = dict(dialog.flows.get("settings", {}))
    if data.get("step") != step:
        await _reply(update, texts.STALE)
        return
    result = onboarding.accept(step, value, data, deps.rules, deps.clock())
    if result.error:
        await _reply(update, result.error)
        return
    if query:
        await query.answer()
    new = dict(result.data)
    finished = (step == "days" and new.get("days_done")) or (step in ("time", "tz") and step in new)
    if not finished:
        await runners.save_flow(deps, user.id, runner.id, "settings", new)
        prompt = onboarding.prompt(step, new, deps.rules, deps.clock(), kind=Kind.SETTINGS)
        await edit_or_send(query.message if query else None, runner.chat_id, context.bot, prompt)
        return
    chosen = new.get("days", [])
    assert isinstance(chosen, list)
    ev = SettingsChanged(
        timezone=str(new["tz"]) if step == "tz" else None,
        preferred_time=onboarding.parse_time(str(new["time"])) if step == "time" else None,
        available_days=frozenset(int(x) for x in chosen) if step == "days" else None,
    )
    if step == "tz":
        await runners.set_runner_timezone(deps, runner.id, str(new["tz"]))
    decision = await runners.apply_event(deps, runner.id, ev, actor="runner")
    await runners.clear_flow(deps, user.id, "settings")
    state = decision.state
    today = runners.local_today(deps, state)
    nxt = texts.next_of(state.next, today)
    await context.bot.send_message(
        runner.chat_id, texts.SETTINGS_SAVED.format(next=texts.NEXT.format(next=nxt))
    )


# --- commands -------------------------------------------------------------------------------


async def _enrolled(update: Update, context: ContextTypes.DEFAULT_TYPE) -> runners.RunnerCtx | None:
    deps = deps_of(context)
    user, msg = update.effective_user, update.message
    if user is None or msg is None:
        return None
    runner = await runners.find_runner(deps, user.id)
    if runner is None or runner.state is None:
        await msg.reply_text(texts.NOT_ENROLLED)
        return None
    return runner


async def cmd_today(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    runner = await _enrolled(update, context)
    if runner is None or runner.state is None or update.message is None:
        return
    deps = deps_of(context)
    state = runner.state
    today = runners.local_today(deps, state)
    keyboard = report_keyboard()  # a message has one markup: the session's buttons win
    if state.status is Status.PAUSED:
        await update.message.reply_text(texts.PAUSED_STATE, reply_markup=keyboard)
    elif state.status is not Status.ACTIVE:
        await update.message.reply_text(texts.FLAGGED_STATE, reply_markup=keyboard)
    elif state.next is not None and state.next.day == today:
        prompt = Prompt(texts.reminder(state.next.prescription), session_buttons(state.next.seq))
        await update.message.reply_text(prompt.text, reply_markup=markup(prompt))
    else:
        nxt = texts.next_of(state.next, today)
        await update.message.reply_text(
            texts.NO_SESSION_TODAY.format(next=nxt), reply_markup=keyboard
        )


async def cmd_pain(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/pain, or the "🩹 Report pain" keyboard button: the symptom check, at any time."""
    runner = await _enrolled(update, context)
    if runner is None or update.effective_user is None:
        return
    await _open_report(context, runner, update.effective_user.id)


async def _open_report(
    context: ContextTypes.DEFAULT_TYPE, runner: runners.RunnerCtx, user_id: int
) -> None:
    """Open a new symptom check (flow `pain:<n>`), closing any older one left unanswered."""
    deps = deps_of(context)
    assert runner.state is not None
    qs = report_question_list(runner.state, deps.rules)
    dialog = await runners.load_dialog(deps, user_id)
    for old in [f for f in dialog.flows if f.startswith("pain:")]:
        await runners.clear_flow(deps, user_id, old)
    ref = str(int(deps.clock().timestamp()))
    await runners.save_flow(deps, user_id, runner.id, f"pain:{ref}", {"answers": {}})
    prompt = questions.question_prompt(Kind.REPORT, ref, qs[0], texts.PAIN_INTRO)
    await edit_or_send(None, runner.chat_id, context.bot, prompt)


async def cmd_plan(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    runner = await _enrolled(update, context)
    if runner is None or runner.state is None or update.message is None:
        return
    deps = deps_of(context)
    today = runners.local_today(deps, runner.state)
    if runner.state.status is not Status.ACTIVE:
        await update.message.reply_text(
            texts.PAUSED_STATE if runner.state.status is Status.PAUSED else texts.FLAGGED_STATE
        )
        return
    await update.message.reply_text(
        texts.plan_lines(project(runner.state, deps.rules, today), today)
    )


async def cmd_status(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    runner = await _enrolled(update, context)
    if runner is None or update.message is None:
        return
    deps = deps_of(context)
    text = await runners.status_text(deps, runner)
    for part in texts.split_long(text):
        await update.message.reply_text(part)


async def cmd_history(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    runner = await _enrolled(update, context)
    if runner is None or update.message is None:
        return
    text = await runners.history_text(deps_of(context), runner)
    for part in texts.split_long(text):
        await update.message.reply_text(part)


async def cmd_path(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/path: the phases done and to come, the plateaus passed, a typical range with its
    source, and that the body decides."""
    runner = await _enrolled(update, context)
    if runner is None or runner.state is None or update.message is None:
        return
    deps = deps_of(context)
    today = runners.local_today(deps, runner.state)
    text = texts.path_text(road(runner.state, deps.rules, today))
    for part in texts.split_long(text):
        await update.message.reply_text(part)


async def cmd_settings(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    runner = await _enrolled(update, context)
    if runner is None or runner.state is None or update.message is None:
        return
    p = runner.state.profile
    timer = await reminders.timer_on(deps_of(context), runner.id)
    state = texts.TIMER_STATE_ON if timer else texts.TIMER_STATE_OFF
    switch = (
        Button(texts.BTN_TIMER_OFF, cb(Kind.SETTINGS, "timer", "off"))
        if timer
        else Button(texts.BTN_TIMER_ON, cb(Kind.SETTINGS, "timer", "on"))
    )
    lines = [
        texts.SETTINGS_LANGUAGE.format(language=NAMES[current()]),
        texts.SETTINGS_TIMER.format(state=state),
    ]
    overlay = runner.state.overlay
    if overlay is not None and overlay.weekdays is not None:  # the coach's days win over these
        lines.append(texts.SETTINGS_COACH_DAYS.format(days=texts.days_label(overlay.weekdays)))
    lines.append(
        texts.SETTINGS.format(
            days=texts.days_label(p.available_days), time=f"{p.preferred_time:%H:%M}", tz=p.timezone
        )
    )
    prompt = Prompt(
        "\n".join(lines),
        (
            (
                Button(texts.BTN_DAYS, cb(Kind.SETTINGS, "menu", "days")),
                Button(texts.BTN_TIME, cb(Kind.SETTINGS, "menu", "time")),
                Button(texts.BTN_TZ, cb(Kind.SETTINGS, "menu", "tz")),
            ),
            (switch,),
            (Button(texts.BTN_LANGUAGE, cb(Kind.SETTINGS, "menu", "lang")),),
        ),
    )
    await update.message.reply_text(prompt.text, reply_markup=markup(prompt))


async def cmd_pause(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    runner = await _enrolled(update, context)
    if runner is None or runner.state is None or update.message is None:
        return
    deps = deps_of(context)
    if runner.state.status is not Status.ACTIVE:
        await update.message.reply_text(
            texts.PAUSED_STATE if runner.state.status is Status.PAUSED else texts.FLAGGED_STATE
        )
        return
    await runners.apply_event(deps, runner.id, RunnerPaused(), actor="runner")
    await update.message.reply_text(texts.PAUSED)


async def cmd_resume(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    runner = await _enrolled(update, context)
    if runner is None or runner.state is None or update.message is None:
        return
    deps = deps_of(context)
    status = runner.state.status
    if status is Status.ACTIVE:
        await update.message.reply_text(texts.ALREADY_ACTIVE)
        return
    if status in (Status.RED_FLAG, Status.ESCALATED):
        prompt = Prompt(texts.NEED_REVIEW, yes_no(Kind.CONFIRM, "review"))
        await update.message.reply_text(prompt.text, reply_markup=markup(prompt))
        return
    decision = await runners.apply_event(deps, runner.id, RunnerResumed(), actor="runner")
    await update.message.reply_text(_resumed_text(deps, decision.state))


def _resumed_text(deps: Any, state: Any) -> str:
    today = runners.local_today(deps, state)
    nxt = texts.next_of(state.next, today)
    return texts.RESUMED.format(next=texts.NEXT.format(next=nxt))


async def cmd_export(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    runner = await _enrolled(update, context)
    if runner is None or update.message is None:
        return
    deps = deps_of(context)
    json_bytes, csv_bytes = await runners.export_files(deps, runner.id)
    await update.message.reply_document(
        InputFile(json_bytes, filename="boneload-export.json"),
        caption=texts.EXPORT_CAPTION.format(fmt="JSON"),
    )
    await update.message.reply_document(
        InputFile(csv_bytes, filename="boneload-sessions.csv"),
        caption=texts.EXPORT_CAPTION.format(fmt="CSV"),
    )


async def cmd_delete(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    runner = await _enrolled(update, context)
    if runner is None or update.message is None:
        return
    prompt = Prompt(texts.DELETE_CONFIRM, yes_no(Kind.CONFIRM, "delete"))
    await update.message.reply_text(prompt.text, reply_markup=markup(prompt))


async def cmd_help(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if update.message is None or update.effective_user is None:
        return
    deps = deps_of(context)
    runner = await runners.find_runner(deps, update.effective_user.id)
    enrolled = runner is not None and runner.state is not None
    if runner is None and await known_coach(context, update.effective_user.id) is not None:
        await update.message.reply_text(texts_coach.HELP_COACH)  # in the coach's language
        return
    await update.message.reply_text(
        texts.HELP, reply_markup=report_keyboard() if enrolled else None
    )


async def cmd_unknown(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if update.message is not None:
        await update.message.reply_text(texts.UNKNOWN_COMMAND)


async def _reply(update: Update, text: str) -> None:
    if update.callback_query is not None:
        await update.callback_query.answer(text)
    elif update.message is not None:
        await update.message.reply_text(text)


_ROUTES: dict[Kind, Any] = {
    Kind.SESSION: _on_session,
    Kind.POST: _on_question,
    Kind.FOLLOWUP: _on_question,
    Kind.GATE: _on_question,
    Kind.REPORT: _on_question,
    Kind.HABIT: _on_habit,
    Kind.CONFIRM: _on_confirm,
    Kind.SETTINGS: _on_settings,
}


async def cmd_unlink(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The runner stops sharing with their coach; pending alerts about them are withdrawn."""
    runner = await _enrolled(update, context)
    if runner is None or update.message is None:
        return
    from bot.services import coaches

    unlinked = await coaches.unlink_runner(deps_of(context), runner.id)
    await update.message.reply_text(texts.UNLINKED if unlinked else texts.NO_COACH)


async def on_other(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Stickers, photos, voice...: a short pointer instead of silence."""
    if update.message is not None:
        await update.message.reply_text(texts.NOT_TEXT)
